import type { Rule } from '../rule.js';

/** A handle used against its protocol (a contract's `not after` or `invalidates`). */
export interface ProtocolDetails {
  callee: string;
  name: string;
  after: string;
  how: 'not-after' | 'invalidated';
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
      'as use-after-free and double-free.',
    bad: `// cgoguard:contract jpeg_read_scanlines(cinfo, rows, n) not after jpeg_finish_decompress
C.jpeg_finish_decompress(&cinfo)
C.jpeg_read_scanlines(&cinfo, &row, 1)`,
    good: `C.jpeg_read_scanlines(&cinfo, &row, 1)
C.jpeg_finish_decompress(&cinfo)
C.jpeg_destroy_decompress(&cinfo)`,
  },
  message(e) {
    const why = e.how === 'invalidated' ? `${e.after} left it usable only for release` : `its contract forbids it after ${e.after}`;
    return `${e.callee} is called on ${e.name} after ${e.after}: ${why}`;
  },
};
