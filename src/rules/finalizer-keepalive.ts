import type { FlowRule } from './rule.js';

export const finalizerKeepalive: FlowRule = {
  meta: {
    id: 'finalizer-keepalive',
    title: 'C memory freed by a finalizer is used without keeping its owner alive',
    severity: 'warning',
    rationale:
      'A finalizer (runtime.SetFinalizer) or cleanup (runtime.AddCleanup) that frees owner.ptr runs once owner ' +
      'is unreachable, and owner is unreachable right after its last use in a function, which can be the load ' +
      'of owner.ptr for a C call. The finalizer may then free the memory while C is still using it: a use after ' +
      'free that shows up rarely and under load. Keep the owner alive until C is done with ' +
      'runtime.KeepAlive(owner) after the call (or a deferred call that mentions it). A method with a value ' +
      'receiver works on a copy, which cannot keep the original alive.',
    bad: `func (b *CBuffer) Len() int {
	return int(C.measure(b.ptr)) // b may be finalized during the call
}`,
    good: `func (b *CBuffer) Len() int {
	n := C.measure(b.ptr)
	runtime.KeepAlive(b)
	return int(n)
}`,
  },
  check(e) {
    if (e.kind !== 'finalizer') return undefined;
    const what = `the ${e.by} set at line ${e.regLine}`;
    if (e.how === 'not-kept-alive') {
      return {
        pos: e.pos,
        end: e.end,
        message: `${e.owner}.${e.field} is passed to ${e.callee} but ${e.owner} is not used after the call: ${what} can free ${e.owner}.${e.field} while C uses it; add runtime.KeepAlive(${e.owner}) after the call`,
      };
    }
    if (e.how === 'value-receiver') {
      return {
        pos: e.pos,
        end: e.end,
        message: `${e.owner}.${e.field} is passed to ${e.callee} from a value receiver: ${e.owner} is a copy, so nothing keeps the original alive and ${what} can free ${e.field} during the call; use a pointer receiver and runtime.KeepAlive`,
      };
    }
    return undefined;
  },
};
