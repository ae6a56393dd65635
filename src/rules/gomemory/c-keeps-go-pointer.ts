import type { Rule } from '../rule.js';

/** C keeps (per its summary or contract) a Go pointer it was given. */
export interface CKeepsGoPointerDetails {
  callee: string;
  arg: number;
  argName: string;
  target: string;
  how: string; // "stores it in a global", "takes it (contract)"
}

export const cKeepsGoPointer: Rule<CKeepsGoPointerDetails> = {
  meta: {
    id: 'c-keeps-go-pointer',
    title: 'C keeps a Go pointer after the call returns',
    severity: 'error',
    rationale:
      'A Go pointer passed to C is valid only for the duration of the call: afterwards the garbage ' +
      'collector may move or free what it points to. When the C function stores the pointer (in a global, ' +
      'or in memory reachable from elsewhere, as its body or contract shows) and uses it later, it uses ' +
      'memory Go no longer guarantees. Pin the memory with runtime.Pinner for as long as C holds it, pass a ' +
      'cgo.Handle instead, or copy the data into C memory.',
    bad: `/*
static char *saved;
static void remember(char *s) { saved = s; }
*/
buf := make([]byte, 16)
C.remember((*C.char)(unsafe.Pointer(&buf[0])))`,
    good: `C.remember(C.CString(s)) // C memory, released by C`,
  },
  message(e) {
    return `${e.callee} ${e.how}: argument ${e.arg} (${e.argName}) is a Go pointer to ${e.target}`;
  },
};
