import { plural } from '../flow/boundary.js';
import type { FlowRule } from './rule.js';

export const cSliceBounds: FlowRule = {
  meta: {
    id: 'c-slice-bounds',
    title: 'A slice over C memory is longer than the allocation',
    severity: 'error',
    rationale:
      'unsafe.Slice and the (*[1 << 30]T)(p)[:n:n] idiom make a Go slice of whatever length they are ' +
      'told; Go\'s bounds checks then trust it. A length larger than the C allocation lets ordinary Go ' +
      'indexing read and write past its end. The rule compares the two when both are constants.',
    bad: `p := C.malloc(16)
b := unsafe.Slice((*byte)(p), 64)`,
    good: `const n = 64
p := C.malloc(n)
b := unsafe.Slice((*byte)(p), n)`,
  },
  check(e) {
    if (e.kind !== 'c-slice-bounds') return undefined;
    return { pos: e.pos, end: e.end, message: `${e.how} makes ${plural(e.elems, 'element')} of ${plural(e.elemSize, 'byte')} (${plural(e.elems * e.elemSize, 'byte')}) over ${plural(e.bytes, 'byte')} from ${e.what}` };
  },
};
