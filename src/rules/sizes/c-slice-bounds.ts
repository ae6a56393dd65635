import { plural, type Rule } from '../rule.js';

/** A Go slice made over C memory with more elements than the allocation holds. */
export interface SliceBoundsDetails {
  how: string; // "unsafe.Slice", "a conversion to *[N]T"
  elems: number;
  elemSize: number;
  bytes: number;
  what: string; // C.malloc
  /** C.GoBytes or C.GoStringN: the bytes are read at once. */
  reads?: boolean;
  /** unsafe.Add or uintptr arithmetic: elems is a byte offset. */
  offset?: boolean;
}

export const cSliceBounds: Rule<SliceBoundsDetails> = {
  meta: {
    id: 'c-slice-bounds',
    title: 'A slice over C memory, or a copy out of it, is longer than the allocation',
    severity: 'error',
    rationale:
      'unsafe.Slice and the (*[1 << 30]T)(p)[:n:n] idiom make a Go slice of whatever length they are ' +
      'told; Go\'s bounds checks then trust it. A length larger than the C allocation lets ordinary Go ' +
      'indexing read and write past its end. C.GoBytes and C.GoStringN copy as many bytes as they are ' +
      'told, reading past the end at once. unsafe.Add(p, k) and uintptr(p) + k point k bytes in, and ' +
      'past the end there is nothing of the allocation left to point at. The rule compares the two when both are constants.',
    bad: `p := C.malloc(16)
b := unsafe.Slice((*byte)(p), 64)`,
    good: `const n = 64
p := C.malloc(n)
b := unsafe.Slice((*byte)(p), n)`,
  },
  message(e) {
    if (e.offset) return `${e.how} points ${plural(e.elems, 'byte')} into ${plural(e.bytes, 'byte')} allocated by ${e.what}: past the end of the allocation`;
    if (e.reads) return `${e.how} reads ${plural(e.elems * e.elemSize, 'byte')} from ${plural(e.bytes, 'byte')} allocated by ${e.what}`;
    return `${e.how} makes ${plural(e.elems, 'element')} of ${plural(e.elemSize, 'byte')} (${plural(e.elems * e.elemSize, 'byte')}) over ${plural(e.bytes, 'byte')} from ${e.what}`;
  },
};
