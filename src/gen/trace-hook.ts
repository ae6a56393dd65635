// The indirection through which generated leak tests read the trace
// runtime's live counters: the generated file declares a nil function
// variable, and `cgoguard trace` adds (through its overlay) a test file to
// the package that points it at the runtime. Without the trace the file does
// not exist, and the generated tests build on their own.

/** The declaration a generated test file makes; its presence asks the trace for the hook. */
export const LIVE_COUNTER_DECLARATION = 'var cgoguardLiveC func() (bytes, objects int64)';

/** The name of the file the trace adds next to the generated one. */
export const HOOK_FILE = 'zz_cgoguard_live_test.go';

export function declaresLiveCounter(text: string): boolean {
  return text.split('\n').some((l) => l === LIVE_COUNTER_DECLARATION);
}

/** The added file: package `pkgName` (the generated tests are internal tests), importing the runtime. */
export function liveCounterHook(pkgName: string, runtimeImport: string): string {
  return `package ${pkgName}

import _cgoguardtrace "${runtimeImport}"

func init() {
	if _cgoguardtrace.Enabled {
		cgoguardLiveC = _cgoguardtrace.LiveC
	}
}
`;
}
