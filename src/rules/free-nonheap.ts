import type { FlowRule } from './rule.js';

export const freeNonHeap: FlowRule = {
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
  check(e) {
    if (e.kind !== 'free-nonheap') return undefined;
    const who = e.via ?? (e.by === 'free' ? 'C.free' : `C.${e.by}`);
    return { pos: e.pos, end: e.end, message: `${who} releases ${e.name}, which is ${e.memory}: only memory allocated by C may be freed` };
  },
};
