import type { Rule } from '../rule.js';

/** The address of a slice or string header passed to C. */
export interface SliceHeaderDetails {
  callee: string;
  arg: number;
  name: string;
  of: 'slice' | 'string';
}

export const sliceHeader: Rule<SliceHeaderDetails> = {
  meta: {
    id: 'slice-header',
    title: 'The address of a slice or string header is passed to C',
    severity: 'error',
    rationale:
      'unsafe.Pointer(&s) of a slice is the address of its header (data pointer, length, capacity), not of ' +
      'its elements. C code that takes it for the data reads the header as bytes, and C code that writes ' +
      'through it rewrites the pointer and length Go relies on: later indexing goes out of bounds. Pass ' +
      '&s[0] (or unsafe.SliceData(s)) and len(s) instead.',
    bad: `s := make([]byte, 4, 8)
C.fill(unsafe.Pointer(&s), 16)`,
    good: `s := make([]byte, 16)
C.fill(unsafe.Pointer(&s[0]), C.size_t(len(s)))`,
  },
  message(e) {
    return `argument ${e.arg} of ${e.callee} is the address of the ${e.of} header of ${e.name}, not of its data: pass ${e.of === 'slice' ? `&${e.name}[0]` : `unsafe.StringData(${e.name})`} and its length`;
  },
};
