import type { Rule } from '../rule.js';
import type { OverflowDetails } from './c-overflow.js';

export const unboundedCWrite: Rule<OverflowDetails> = {
  meta: {
    id: 'unbounded-c-write',
    title: 'C writes into a buffer without knowing its size',
    severity: 'warning',
    rationale:
      'The C function writes through the pointer with no bound it was given (strcpy, strcat, sprintf, or a ' +
      'length from elsewhere), into a buffer of a known, fixed size. Whether it overflows depends on data ' +
      'the analysis cannot see; passing the buffer\'s length and using a bounded call (snprintf, strncpy, ' +
      'memcpy with that length) removes the question.',
    bad: `buf := make([]byte, 32)
C.get_name((*C.char)(unsafe.Pointer(&buf[0]))) // strcpy inside`,
    good: `buf := make([]byte, 32)
C.get_name_n((*C.char)(unsafe.Pointer(&buf[0])), C.size_t(len(buf))) // snprintf inside`,
  },
  message(e) {
    return `${e.callee} writes through argument ${e.arg} with no bound (${e.via}), but ${e.name} points to a ${e.size}-byte ${e.memory}`;
  },
};
