import type { Rule } from '../rule.js';

/** C memory a finalizer or cleanup frees, used or handed over without regard for it. */
export interface FinalizerDetails {
  /** not-kept-alive: the owner is dead during the C call; value-receiver: the method works on a copy;
   *  released / taken: the field is released or handed to C while the finalizer still frees it. */
  how: 'not-kept-alive' | 'value-receiver' | 'released' | 'taken' | 'descriptor';
  owner: string;
  field: string;
  /** Other fields of the owner the same call is given (one finding for them all). */
  others?: string[];
  callee: string;
  /** What frees the field, and the line where it was registered. */
  by: 'finalizer' | 'cleanup';
  regLine: number;
  /** The file it was registered in, when not the finding's own. */
  regFile?: string;
  /** Why the finding is less than sure ("; o comes from the caller, who may keep it alive"). */
  why?: string;
}

export const finalizerKeepalive: Rule<FinalizerDetails> = {
  meta: {
    id: 'finalizer-keepalive',
    title: 'C memory freed by a finalizer is used without keeping its owner alive',
    severity: 'warning',
    precision: 'medium',
    rationale:
      'A finalizer (runtime.SetFinalizer) or cleanup (runtime.AddCleanup) that frees owner.ptr runs once owner ' +
      'is unreachable, and owner is unreachable right after its last use in a function, which can be the load ' +
      'of owner.ptr for a C call. The finalizer may then free the memory while C is still using it: a use after ' +
      'free that shows up rarely and under load. Keep the owner alive until C is done with ' +
      'runtime.KeepAlive(owner) after the call (or a deferred call that mentions it). A method with a value ' +
      'receiver works on a copy, which cannot keep the original alive. The same holds for an *os.File whose ' +
      'f.Fd() C is given: the os package closes the descriptor in a finalizer.',
    bad: `func (b *CBuffer) Len() int {
	return int(C.measure(b.ptr)) // b may be finalized during the call
}`,
    good: `func (b *CBuffer) Len() int {
	n := C.measure(b.ptr)
	runtime.KeepAlive(b)
	return int(n)
}`,
  },
  message(e) {
    if (e.how === 'descriptor') {
      return `${e.owner}.Fd() is passed to ${e.callee} but ${e.owner} is not used after the call: the *os.File's finalizer can close the descriptor while C uses it; add runtime.KeepAlive(${e.owner}) after the call${e.why ?? ''}`;
    }
    const what = registered(e);
    if (e.how === 'value-receiver') {
      return `${e.owner}.${e.field} is passed to ${e.callee} from a value receiver: ${e.owner} is a copy, so nothing keeps the original alive and ${what} can free ${e.field} during the call; use a pointer receiver and runtime.KeepAlive`;
    }
    const given = [e.field, ...(e.others ?? [])].map((f) => `${e.owner}.${f}`).join(' and ');
    const freed = e.others?.length ? 'them' : given;
    return `${given} ${e.others?.length ? 'are' : 'is'} passed to ${e.callee} but ${e.owner} is not used after the call: ${what} can free ${freed} while C uses it; add runtime.KeepAlive(${e.owner}) after the call${e.why ?? ''}`;
  },
};

/** "the finalizer set at line 25", or at file:line when it was set in another file. */
export function registered(e: FinalizerDetails): string {
  return `the ${e.by} set at ${e.regFile ? `${e.regFile}:${e.regLine}` : `line ${e.regLine}`}`;
}
