import type { Rule } from '../rule.js';

/** An exported function hands a Go pointer to its C caller. */
export interface ExportGoPointerDetails {
  fn: string;
  path: string;
  target: string;
}

export const exportGoPointer: Rule<ExportGoPointerDetails> = {
  meta: {
    id: 'export-go-pointer',
    title: 'An exported Go function returns a Go pointer to C',
    severity: 'error',
    rationale:
      'A function exported with //export is called from C, and what it returns belongs to C afterwards. ' +
      'Returning a Go pointer (or a string, map or struct holding one) leaves C with memory the garbage ' +
      'collector may move or free; the runtime panics with "result of Go function called from cgo is ' +
      'unpinned Go pointer". Return C memory (C.CString, C.malloc) instead.',
    bad: `//export Name
func Name() *C.char { b := []byte("x\\x00"); return (*C.char)(unsafe.Pointer(&b[0])) }`,
    good: `//export Name
func Name() *C.char { return C.CString("x") } // the C caller frees it`,
  },
  message(e) {
    const where = e.path ? ` at ${e.path}` : '';
    return `${e.fn} is exported to C and returns a Go pointer${where} to ${e.target}`;
  },
};
