import type { Rule } from '../rule.js';
import { registered, type FinalizerDetails } from './finalizer-keepalive.js';

export const finalizerStillSet: Rule<FinalizerDetails> = {
  meta: {
    id: 'finalizer-still-set',
    title: 'C memory is released or handed to C while a finalizer still frees it',
    severity: 'error',
    rationale:
      'When a finalizer or cleanup frees owner.ptr, every other release of owner.ptr must also retire the ' +
      'finalizer: a Close that frees the memory, or a call that hands ownership to C, leaves the finalizer to ' +
      'free it a second time when owner is collected. Clear the finalizer (runtime.SetFinalizer(owner, nil), ' +
      'or Stop on the cleanup handle) or set the field to nil so the finalizer sees nothing to free.',
    bad: `func (b *CBuffer) Close() {
	C.free(unsafe.Pointer(b.ptr)) // the finalizer frees it again later
}`,
    good: `func (b *CBuffer) Close() {
	runtime.SetFinalizer(b, nil)
	C.free(unsafe.Pointer(b.ptr))
}`,
  },
  message(e) {
    const what = registered(e);
    const fix = e.by === 'cleanup' ? `stop the cleanup or set ${e.owner}.${e.field} = nil` : `call runtime.SetFinalizer(${e.owner}, nil) or set ${e.owner}.${e.field} = nil`;
    if (e.how === 'released') return `${e.callee} releases ${e.owner}.${e.field}, but ${what} frees it again: ${fix}`;
    return `${e.callee} takes ownership of ${e.owner}.${e.field}, but ${what} still frees it: ${fix}`;
  },
};
