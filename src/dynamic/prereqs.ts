// What each stage of `cgoguard test` needs, checked before anything runs, so
// a missing tool is named with what to install and the other stages still run.
import { spawnSync } from 'node:child_process';

export const STAGES = ['asan', 'cgocheck', 'cgocheck2', 'valgrind'] as const;
export type StageName = (typeof STAGES)[number];

export interface Toolchain {
  goVersion: [number, number];
  goroot: string;
  goos: string;
  goarch: string;
  cc: string;
}

export class MissingToolError extends Error {}

function run(cmd: string, args: string[]): string | undefined {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 30_000 });
  return r.status === 0 ? r.stdout : undefined;
}

/** Go and a C compiler: every stage builds cgo code. Throws with what to install. */
export function toolchain(): Toolchain {
  const env = run('go', ['env', 'GOVERSION', 'GOROOT', 'GOOS', 'GOARCH', 'CC']);
  if (env === undefined) throw new MissingToolError('cgoguard test needs the go command on PATH: install Go 1.21 or later (https://go.dev/dl/)');
  const [ver, goroot, goos, goarch, cc] = env.trim().split('\n');
  const m = /go(\d+)\.(\d+)/.exec(ver);
  const goVersion: [number, number] = m ? [Number(m[1]), Number(m[2])] : [1, 99]; // a development toolchain
  const compiler = (cc || 'gcc').split(/\s+/)[0];
  if (run(compiler, ['--version']) === undefined) {
    throw new MissingToolError(`cgoguard test needs a C compiler for cgo: "${compiler}" is not on PATH (install gcc: apt-get install gcc)`);
  }
  return { goVersion, goroot, goos, goarch, cc: compiler };
}

const atLeast = (v: [number, number], major: number, minor: number) => v[0] > major || (v[0] === major && v[1] >= minor);

/** Why a stage cannot run here, or undefined when it can. */
export function stageUnavailable(stage: StageName, t: Toolchain): string | undefined {
  switch (stage) {
    case 'asan': {
      if (!atLeast(t.goVersion, 1, 18)) return `go test -asan needs Go 1.18 or later (this is go${t.goVersion.join('.')})`;
      const ok = t.goos === 'linux' ? ['amd64', 'arm64', 'loong64', 'ppc64le', 'riscv64'].includes(t.goarch) : false;
      if (!ok) return `-asan is not supported on ${t.goos}/${t.goarch}`;
      const v = run(t.cc, ['-dumpversion']);
      const major = Number(/^(\d+)/.exec(v ?? '')?.[1] ?? 0);
      const isClang = /clang/.test(run(t.cc, ['--version']) ?? '');
      if (major && (isClang ? major < 9 : major < 7)) return `-asan needs gcc 7 or clang 9 or later (${t.cc} is version ${major})`;
      return undefined;
    }
    case 'cgocheck':
      return undefined;
    case 'cgocheck2':
      return atLeast(t.goVersion, 1, 21) ? undefined : `GOEXPERIMENT=cgocheck2 needs Go 1.21 or later (this is go${t.goVersion.join('.')})`;
    case 'valgrind':
      return run('valgrind', ['--version']) === undefined ? 'valgrind is not installed (apt-get install valgrind)' : undefined;
  }
}

/** Leak detection at exit is part of -asan since Go 1.25. */
export function asanFindsLeaks(t: Toolchain): boolean {
  return atLeast(t.goVersion, 1, 25);
}
