import { cName, type Rule } from '../rule.js';

export interface MismatchedFreeDetails {
  name: string;
  what: string;
  by: string;
  expected: string[];
  via?: string;
}

export const mismatchedFree: Rule<MismatchedFreeDetails> = {
  meta: {
    id: 'mismatched-free',
    title: 'C memory released with the wrong function',
    severity: 'error',
    rationale:
      'Libraries that allocate memory for their callers usually require their own release function ' +
      '(sqlite3_free for sqlite3_mprintf, a destroy function for a create function). Releasing it ' +
      'with C.free, or with another library\'s function, uses the wrong allocator. Which releaser ' +
      'goes with which allocator comes from contracts: built in for libc, declared with ' +
      'cgoguard:contract directives, or listed in cgoguard.yaml.',
    bad: `// cgoguard:contract make_buf(n) returns owned released by free_buf
b := C.make_buf(64)
C.free(unsafe.Pointer(b))`,
    good: `b := C.make_buf(64)
C.free_buf(b)`,
  },
  message(e) {
    const expected = e.expected.map(cName).join(' or ');
    return `${e.name} comes from ${e.what} and must be released by ${expected}, not ${e.via ?? cName(e.by)}`;
  },
};
