import type { FlowRule } from './rule.js';

export const leak: FlowRule = {
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
  check(e) {
    if (e.kind !== 'leak' || e.resource) return undefined;
    const from = `C memory from ${e.what}`;
    // Memory a contract gives its own releaser: name it.
    const freed = e.releasedBy ? `released by ${e.releasedBy.map((f) => `C.${f}`).join(' or ')}` : 'freed';
    switch (e.how) {
      case 'return':
        return { pos: e.pos, end: e.end, message: `${from} is not ${freed} on the path that returns at line ${e.atLine}` };
      case 'lost':
        return { pos: e.pos, end: e.end, message: `${from} is lost when ${e.name ?? 'its pointer'} is overwritten at line ${e.atLine}` };
      case 'scope':
        return { pos: e.pos, end: e.end, message: `${from} is not ${freed} before ${e.name ?? 'its variable'} goes out of scope at the end of the loop iteration` };
      case 'dropped':
        return { pos: e.pos, end: e.end, message: `${from} is never ${freed}: the pointer is not kept` };
      case 'realloc-failed':
        return { pos: e.pos, end: e.end, message: `when C.realloc fails, ${from} is lost: its only pointer was overwritten with the nil result` };
      case 'deferred-nil':
        return {
          pos: e.pos,
          end: e.end,
          message: `deferred call frees ${e.name} while it is still nil (arguments are evaluated at the defer statement); the memory assigned to ${e.name} later is never freed`,
        };
    }
  },
};
