import type { Rule } from '../rule.js';

/** A length in elements where C's declaration asks for bytes, or the reverse. */
export interface LengthUnitsDetails {
  callee: string;
  param: string;
  /** The length as the Go code writes it. */
  given: string;
  /** What the length counts: its elements, or bytes. */
  counts: 'elements' | 'bytes';
  /** The slice it measures, and the size of its elements. */
  slice: string;
  elemSize: number;
}

export const lengthUnits: Rule<LengthUnitsDetails> = {
  meta: {
    id: 'length-units',
    title: 'A length in elements passed where C wants bytes, or the reverse',
    severity: 'error',
    rationale:
      'len(s) counts elements. A C function whose declaration names its length in bytes (size_t nbytes) ' +
      'reads or writes only part of a slice of 2-, 4- or 8-byte elements when given len(s); one that counts ' +
      'elements (int n_elems, size_t nmemb) reads past the end when given a byte count. The rule goes by ' +
      'the parameter name in the C declaration, so a finding is medium confidence.',
    bad: `// void write_samples(const int16_t *buf, size_t nbytes);
C.write_samples((*C.int16_t)(&samples[0]), C.size_t(len(samples)))`,
    good: `C.write_samples((*C.int16_t)(&samples[0]), C.size_t(len(samples)*2))`,
  },
  message(e) {
    return e.counts === 'elements'
      ? `${e.given} counts the ${e.elemSize}-byte elements of ${e.slice}, but ${e.callee}'s ${e.param} is a length in bytes`
      : `${e.given} counts bytes, but ${e.callee}'s ${e.param} is a count of elements (${e.slice} has ${e.elemSize}-byte elements)`;
  },
};
