import type { Rule } from '../rule.js';

/** What went wrong with a handle: the shapes of the ownership domain's findings, and a handle given to C. */
export type HandleDetails =
  | { kind: 'lost'; what: string; how: 'return' | 'lost' | 'scope' | 'dropped'; name?: string; atLine: number }
  | { kind: 'deleted-twice'; name: string; firstLine: number }
  | { kind: 'used-after-delete'; name: string; how: string; freedLine: number }
  | { kind: 'to-c'; callee: string };

export const cgoHandle: Rule<HandleDetails> = {
  meta: {
    id: 'cgo-handle',
    title: 'A cgo.Handle is not deleted, deleted twice, or used after Delete',
    severity: 'error',
    rationale:
      'cgo.NewHandle keeps its value reachable in a global table until Delete is called: a handle never ' +
      'deleted leaks the value (and whatever C memory it owns) for the life of the process. A handle deleted ' +
      'twice, or read with Value after Delete, panics at run time, or worse returns another value once the ' +
      'number is reused. A handle handed to C is deleted later by the Go code C calls back into, so the ' +
      'package must delete handles somewhere; one that never does leaks every handle it gives C.',
    bad: `h := cgo.NewHandle(cb)
if err := start(); err != nil {
	return err // h is never deleted
}
C.run(C.uintptr_t(h))
h.Delete()`,
    good: `h := cgo.NewHandle(cb)
defer h.Delete()
if err := start(); err != nil {
	return err
}
C.run(C.uintptr_t(h))`,
  },
  message(e) {
    switch (e.kind) {
      case 'lost': {
        const from = `the cgo.Handle from ${e.what}`;
        if (e.how === 'return') return `${from} is not deleted on the path that returns at line ${e.atLine}`;
        if (e.how === 'lost') return `${from} is lost when ${e.name ?? 'it'} is overwritten at line ${e.atLine}, without Delete`;
        if (e.how === 'scope') return `${from} is not deleted before ${e.name ?? 'its variable'} goes out of scope at the end of the loop iteration`;
        return `${from} is never deleted: it is not kept`;
      }
      case 'deleted-twice':
        return `${e.name} is deleted twice: already deleted at line ${e.firstLine}`;
      case 'used-after-delete':
        return `${e.name} is ${e.how} after Delete at line ${e.freedLine}`;
      case 'to-c':
        return `the cgo.Handle passed to ${e.callee} is never deleted: no code in the package calls Delete`;
    }
  },
};
