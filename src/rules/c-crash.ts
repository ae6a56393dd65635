import type { RuleMeta } from './rule.js';

/** Found at run time only: a fatal signal while C code ran. */
export const cCrash: RuleMeta = {
  id: 'c-crash',
  title: 'The program died of a signal inside C code (seen at run time)',
  severity: 'error',
  rationale:
    'A SIGSEGV, SIGBUS or SIGFPE that arrives during cgo execution kills the whole Go program; the runtime ' +
    'prints the goroutine that made the C call. `cgoguard test` reports the crash at the Go line of that ' +
    'call, with the goroutine\'s stack, so the C function and its arguments can be checked.',
  bad: `C.parse(nil) // C dereferences its argument`,
  good: `if p == nil {
	return errNoInput
}
C.parse(p)`,
};
