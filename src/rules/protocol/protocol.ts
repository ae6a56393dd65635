import type { Rule } from '../rule.js';

/** A handle used against its protocol (a contract's `not after` or `invalidates`). */
export interface ProtocolDetails {
  callee: string;
  name: string;
  after: string;
  how: 'not-after' | 'invalidated' | 'closed';
  /** closed: the method that hands the field to C untested, and one that tests it. */
  method?: string;
  careful?: string;
}

export const protocol: Rule<ProtocolDetails> = {
  meta: {
    id: 'protocol',
    title: 'A handle is used against its protocol',
    severity: 'error',
    rationale:
      'Libraries that hand out handles (a decompressor, a statement, a stream) expect calls in an order: ' +
      'create, use, finish, destroy. A contract can say that a function must not be called on a handle ' +
      'after another ("jpeg_read_header(cinfo) not after jpeg_finish_decompress"), or that after a call the ' +
      'handle may only be released ("invalidates"). Use after destroy and destroying twice are reported ' +
      'as use-after-free and double-free. Across methods: when Close releases a field and sets it to nil, ' +
      'and other methods test the field before handing it to C, a method that does not test it hands C a ' +
      'released or NULL handle when called after Close.',
    bad: `// cgoguard:contract jpeg_read_scanlines(cinfo, rows, n) not after jpeg_finish_decompress
C.jpeg_finish_decompress(&cinfo)
C.jpeg_read_scanlines(&cinfo, &row, 1)`,
    good: `C.jpeg_read_scanlines(&cinfo, &row, 1)
C.jpeg_finish_decompress(&cinfo)
C.jpeg_destroy_decompress(&cinfo)`,
  },
  message(e) {
    if (e.how === 'closed') return `${e.method} hands ${e.name} to C.${e.callee} without testing it for nil: ${e.after} releases it and sets it to nil, and ${e.careful} tests for that; C.${e.callee} dereferences it without a NULL test`;
    const why = e.how === 'invalidated' ? `${e.after} left it usable only for release` : `its contract forbids it after ${e.after}`;
    return `${e.callee} is called on ${e.name} after ${e.after}: ${why}`;
  },
};
