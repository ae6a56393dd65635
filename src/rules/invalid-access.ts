import type { RuleMeta } from './rule.js';

/** Found at run time only: the sanitizers and valgrind see accesses no static rule can pin down. */
export const invalidAccess: RuleMeta = {
  id: 'invalid-access',
  title: 'Memory read or written where the program must not (seen at run time)',
  severity: 'error',
  rationale:
    'AddressSanitizer and valgrind watch every access. Some of what they catch has no static counterpart: ' +
    'Go memory used after the garbage collector released it (use-after-poison, typically through unsafe ' +
    'pointers that outlived their object), a stack frame read after its function returned, an invalid ' +
    'read or write valgrind cannot attribute to a block, a branch on uninitialised C memory. `cgoguard test` ' +
    'reports them with the stacks the tool printed and the Go line that made the call.',
  bad: `p := unsafe.Pointer(&buf[0])
buf = nil
runtime.GC()
C.use(p) // the array is gone`,
  good: `var pin runtime.Pinner
pin.Pin(&buf[0])
defer pin.Unpin()
C.use(unsafe.Pointer(&buf[0]))`,
};
