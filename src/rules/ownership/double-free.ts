import type { Rule } from '../rule.js';

export interface DoubleFreeDetails {
  name: string;
  firstLine: number;
  firstBy: string; // free, realloc, sqlite3_free
  firstVia?: string; // helper that freed it
  via?: string; // helper doing the second free
  firstTaken?: boolean; // firstBy took it over (a contract's takes, a destructor) rather than freeing it
}

export const doubleFree: Rule<DoubleFreeDetails> = {
  meta: {
    id: 'double-free',
    title: 'C memory is freed twice',
    severity: 'error',
    rationale:
      'Freeing a block twice corrupts the C allocator\'s state: the program may crash far from the ' +
      'bug or hand the same memory to two owners. The rule reports a release of memory that is ' +
      'already released on the same path: two C.free calls, a free by a helper and again by its ' +
      'caller, a deferred free of memory freed earlier, a free of the old pointer after ' +
      'C.realloc moved the block, and a free of memory handed to a function that took it over ' +
      '(a contract\'s `takes`, or a destructor such as C.free given with it to sqlite3_bind_text).',
    bad: `func resize(p unsafe.Pointer, n int) unsafe.Pointer {
	q := C.realloc(p, C.size_t(n))
	if q == nil {
		return nil
	}
	C.free(p) // realloc already released p
	return q
}`,
    good: `func resize(p unsafe.Pointer, n int) unsafe.Pointer {
	q := C.realloc(p, C.size_t(n))
	if q == nil {
		C.free(p) // realloc failed: p is still ours
		return nil
	}
	return q
}`,
  },
  message(e) {
    if (e.firstTaken) return `${e.name} ${e.via ? `is freed by ${e.via}` : 'is freed'} after C.${e.firstBy} took it over at line ${e.firstLine}, which releases it itself`;
    const first = e.firstBy === 'realloc' ? `C.realloc released it at line ${e.firstLine}` : `already freed at line ${e.firstLine}${e.firstVia ? ` by ${e.firstVia}` : ''}`;
    const verb = e.via ? `is freed again by ${e.via}` : 'is freed twice';
    return `${e.name} ${verb}: ${first}`;
  },
};
