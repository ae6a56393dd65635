import type { Rule } from '../rule.js';

export interface UseAfterFreeDetails {
  name: string;
  how: string; // passed to C.puts, read by C.GoString, dereferenced, ...
  freedLine: number;
  freedBy: string;
  freedVia?: string;
  taken?: boolean; // freedBy took it over rather than freeing it
}

export const useAfterFree: Rule<UseAfterFreeDetails> = {
  meta: {
    id: 'use-after-free',
    title: 'C memory is used after it was freed',
    severity: 'error',
    rationale:
      'After C.free (or any release) the block may be reused by the next allocation, so reading it ' +
      'returns garbage and writing it corrupts someone else\'s data. The rule reports a freed ' +
      'pointer that is passed to C, dereferenced, indexed, read with C.GoString, C.GoBytes or ' +
      'unsafe.Slice, or whose field is read, including memory freed by a deferred call inside a ' +
      'helper before the helper returns it, and memory handed to a function that took it over ' +
      '(a contract\'s `takes`, a destructor given with it), which may free it at any time.',
    bad: `func name(p *C.struct_person) string {
	C.free(unsafe.Pointer(p.name))
	return C.GoString(p.name) // read after free
}`,
    good: `func name(p *C.struct_person) string {
	s := C.GoString(p.name)
	C.free(unsafe.Pointer(p.name))
	return s
}`,
  },
  message(e) {
    if (e.taken) return `${e.name} is ${e.how} after C.${e.freedBy} took it over at line ${e.freedLine}`;
    const by = e.freedBy === 'realloc' ? ' (released by C.realloc)' : e.freedVia ? ` by ${e.freedVia}` : '';
    return `${e.name} is ${e.how} after being freed at line ${e.freedLine}${by}`;
  },
};
