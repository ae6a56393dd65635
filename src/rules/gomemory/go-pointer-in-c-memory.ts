import type { Rule } from '../rule.js';

/** A Go pointer written into C memory. */
export interface GoPointerStoreDetails {
  dest: string;
  path: string;
  target: string;
  how: string; // "assigned", "copied"
}

export const goPointerInCMemory: Rule<GoPointerStoreDetails> = {
  meta: {
    id: 'go-pointer-in-c-memory',
    title: 'A Go pointer is stored in C memory',
    severity: 'error',
    rationale:
      'C memory is invisible to the garbage collector: a Go pointer stored there does not keep its target ' +
      'alive, and the target may move or be freed while C still holds the pointer. cgo forbids it ' +
      '(GOEXPERIMENT=cgocheck2 reports "unpinned Go pointer stored into non-Go memory") unless the target ' +
      'is pinned with runtime.Pinner. The rule looks at assignments through pointers to C memory, to its ' +
      'fields and elements, and at copy into it, following the stored value into inline structs and arrays.',
    bad: `p := (**C.char)(C.malloc(8))
*p = (*C.char)(unsafe.Pointer(&buf[0])) // Go memory`,
    good: `p := (**C.char)(C.malloc(8))
*p = C.CString(s) // C memory, freed by C`,
  },
  message(e) {
    const where = e.path ? ` at ${e.path}` : '';
    return `a Go pointer${where} to ${e.target} is ${e.how} into C memory (${e.dest}); pin it with runtime.Pinner or copy the data to C memory`;
  },
};
