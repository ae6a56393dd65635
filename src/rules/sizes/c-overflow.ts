import { plural, type Rule } from '../rule.js';

/** C writes past the end of a buffer (definite), or without a bound (possible). */
export interface OverflowDetails {
  callee: string;
  arg: number;
  name: string;
  via: string; // strcpy, memset, an indexed store
  writes?: number; // bytes written, when known
  size: number; // bytes available
  memory: string; // "make", "C.malloc"
}

export const cOverflow: Rule<OverflowDetails> = {
  meta: {
    id: 'c-overflow',
    title: 'C writes past the end of a buffer',
    severity: 'error',
    rationale:
      'C functions do not know the length of the Go buffer they are given unless they are told. A ' +
      'function that copies a string with strcpy, formats with sprintf, or fills a fixed number of bytes ' +
      'writes past the end of a smaller buffer, corrupting whatever lies after it on the Go heap (AddressSanitizer ' +
      'reports it as use-after-poison, with no Go line). The rule uses what the C body (in the preamble or ' +
      'the package\'s .c files) writes through each argument; when both sizes are known constants the ' +
      'overflow is definite and the message gives both.',
    bad: `/*
void greet(char *p) { strcpy(p, "overflow!"); }
*/
buf := make([]byte, 5)
C.greet((*C.char)(unsafe.Pointer(&buf[0])))`,
    good: `/*
void greet(char *p, size_t n) { snprintf(p, n, "%s", "overflow!"); }
*/
buf := make([]byte, 16)
C.greet((*C.char)(unsafe.Pointer(&buf[0])), C.size_t(len(buf)))`,
  },
  message(e) {
    return `${e.callee} writes ${plural(e.writes!, 'byte')} through argument ${e.arg} (${e.via}), but ${e.name} points to a ${e.size}-byte ${e.memory}`;
  },
};
