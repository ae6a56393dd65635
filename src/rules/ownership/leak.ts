import type { Rule } from '../rule.js';

/** How memory came to be lost, and what held it. */
export interface LeakDetails {
  /** return: not freed before returning; lost: the only pointer was overwritten;
   *  scope: a loop iteration ended with the only pointer in a variable declared inside it;
   *  dropped: the pointer was never kept; deferred-nil: a deferred free captured nil;
   *  realloc-failed: `p = C.realloc(p, n)` lost the old block on the failure path. */
  how: 'return' | 'lost' | 'scope' | 'dropped' | 'deferred-nil' | 'realloc-failed';
  what: string; // C.CString, newName (C.CString)
  name?: string; // variable that held it
  /** Its releasers, when a contract names others than free. */
  releasedBy?: string[];
  atLine: number;
  /** What the finding rests on that is not known (deferred-nil: who owns what the variable receives). */
  unsure?: string;
}

export const leak: Rule<LeakDetails> = {
  meta: {
    id: 'leak',
    title: 'C memory is not freed on some path',
    severity: 'error',
    rationale:
      'The Go garbage collector never frees C memory. Memory from C.CString, C.CBytes, C.malloc, ' +
      'C.calloc, C.realloc, C.strdup, or any C function whose contract says it returns owned memory ' +
      'must be released exactly once on every path, and the early returns on error paths are where ' +
      'it is usually forgotten. The rule follows each allocation through assignments, conversions, ' +
      'struct fields, deferred calls and the package\'s own helpers, and reports it when a path ' +
      'returns, overwrites the only pointer, or drops it without freeing. Memory whose ownership ' +
      'moves (returned, stored in a field, global, map, slice or channel, handed to a function that ' +
      'keeps or frees it, or to code the analysis cannot see) is not reported.',
    bad: `func greet(name string) error {
	cs := C.CString(name)
	if C.check(cs) != 0 {
		return errors.New("rejected") // cs leaks here
	}
	C.greet(cs)
	C.free(unsafe.Pointer(cs))
	return nil
}`,
    good: `func greet(name string) error {
	cs := C.CString(name)
	defer C.free(unsafe.Pointer(cs))
	if C.check(cs) != 0 {
		return errors.New("rejected")
	}
	C.greet(cs)
	return nil
}`,
  },
  message(e) {
    const from = `C memory from ${e.what}`;
    // Memory a contract gives its own releaser: name it.
    const freed = e.releasedBy ? `released by ${e.releasedBy.map((f) => `C.${f}`).join(' or ')}` : 'freed';
    switch (e.how) {
      case 'return':
        return `${from} is not ${freed} on the path that returns at line ${e.atLine}${e.unsure ? `, ${e.unsure}` : ''}`;
      case 'lost':
        return `${from} is lost when ${e.name ?? 'its pointer'} is overwritten at line ${e.atLine}${e.unsure ? `, ${e.unsure}` : ''}`;
      case 'scope':
        return `${from} is not ${freed} before ${e.name ?? 'its variable'} goes out of scope at the end of the loop iteration${e.unsure ? `, ${e.unsure}` : ''}`;
      case 'dropped':
        return `${from} is never ${freed}: the pointer is not kept${e.unsure ? `, ${e.unsure}` : ''}`;
      case 'realloc-failed':
        return `when C.realloc fails, ${from} is lost: its only pointer was overwritten with the nil result`;
      case 'deferred-nil':
        return `deferred call frees ${e.name} while it is still nil (arguments are evaluated at the defer statement); the memory assigned to ${e.name} later is never freed${e.unsure ? `, ${e.unsure}` : ''}`;
    }
  },
};
