import { cName, type Rule } from '../rule.js';

export interface FreeNonHeapDetails {
  name: string;
  by: string;
  memory: string; // Go memory (&x), Go memory (make)
  via?: string;
}

export const freeNonHeap: Rule<FreeNonHeapDetails> = {
  meta: {
    id: 'free-nonheap',
    title: 'C.free of memory that C did not allocate',
    severity: 'error',
    rationale:
      'C.free may only release memory from the C allocator. Passing it a Go pointer (the address of ' +
      'a variable, the first element of a Go slice, a composite literal, memory from new or make) ' +
      'corrupts the C heap, and the Go garbage collector still owns that memory.',
    bad: `buf := make([]byte, 64)
C.fill((*C.char)(unsafe.Pointer(&buf[0])), 64)
C.free(unsafe.Pointer(&buf[0])) // Go memory`,
    good: `buf := make([]byte, 64)
C.fill((*C.char)(unsafe.Pointer(&buf[0])), 64)
// the garbage collector frees buf`,
  },
  message(e) {
    return `${e.via ?? cName(e.by)} releases ${e.name}, which is ${e.memory}: only memory allocated by C may be freed`;
  },
};
