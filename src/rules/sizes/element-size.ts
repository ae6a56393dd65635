import type { Rule } from '../rule.js';

/** A Go slice passed to C as a pointer to elements of another size. */
export interface ElementSizeDetails {
  callee: string;
  name: string;
  goElem: string;
  goSize: number;
  cType: string;
  cSize: number;
}

export const elementSize: Rule<ElementSizeDetails> = {
  meta: {
    id: 'element-size',
    title: 'A Go slice passed to C as elements of another size',
    severity: 'error',
    rationale:
      'Go\'s int and uint are 8 bytes on 64-bit platforms; C\'s int and unsigned int are 4. Passing ' +
      '&s[0] of a []int as *C.int makes C read each Go element as two C elements (and write half of one), ' +
      'so values and lengths come out wrong. Use a slice of the C type ([]C.int), or a Go type of the same ' +
      'size (int32).',
    bad: `xs := []int{1, 2, 3}
C.sum((*C.int)(unsafe.Pointer(&xs[0])), 3)`,
    good: `xs := []C.int{1, 2, 3}
C.sum(&xs[0], 3)`,
  },
  message(e) {
    return `${e.name} holds ${e.goElem} (${e.goSize} bytes each) but ${e.callee} is given *${e.cType} (${e.cSize} bytes each)`;
  },
};
