import type { Rule } from '../rule.js';

/** A Go pointer hidden as an integer, or an integer turned into a pointer. */
export interface HiddenPointerDetails {
  how: 'as-integer' | 'handle-to-pointer';
  name: string;
  callee?: string;
  target?: string;
}

export const hiddenPointer: Rule<HiddenPointerDetails> = {
  meta: {
    id: 'hidden-pointer',
    title: 'A pointer hidden in an integer, or an integer used as a pointer',
    severity: 'error',
    rationale:
      'A Go pointer converted to uintptr and passed to C is invisible to the garbage collector: nothing ' +
      'keeps the memory alive, and the stack it may live on can move during the call. The other way ' +
      'round, a cgo.Handle is an integer key, not an address: converting it to unsafe.Pointer makes a ' +
      'pointer to nothing (and go vet\'s unsafeptr check may not see it). Pass the pointer itself (its ' +
      'memory must then follow the pointer rules), or pass the handle as C.uintptr_t.',
    bad: `C.process(C.uintptr_t(uintptr(unsafe.Pointer(&cfg))))

h := cgo.NewHandle(v)
C.register(unsafe.Pointer(h))`,
    good: `C.process((*C.config)(unsafe.Pointer(&cfg)))

h := cgo.NewHandle(v)
C.register(C.uintptr_t(h))`,
  },
  message(e) {
    if (e.how === 'as-integer') return `a Go pointer to ${e.target} is passed to ${e.callee} as an integer: the garbage collector does not see it`;
    return `${e.name} is a cgo.Handle (an integer key), not a pointer: pass it as C.uintptr_t, not unsafe.Pointer`;
  },
};
