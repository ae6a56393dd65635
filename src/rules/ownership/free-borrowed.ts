import type { Rule } from '../rule.js';

export interface FreeBorrowedDetails {
  name: string;
  what: string;
  by: string;
}

export const freeBorrowed: Rule<FreeBorrowedDetails> = {
  meta: {
    id: 'free-borrowed',
    title: 'Memory a library lends is freed',
    severity: 'error',
    rationale:
      'Many C functions return pointers into memory they keep owning: sqlite3_errmsg, sqlite3_column_text, ' +
      'getenv, a struct field. The library frees or reuses it itself, so a free by the caller is a double ' +
      'free waiting to happen, and the pointer may dangle after the next call on the same object. Copy what ' +
      'you need (C.GoString) and leave the memory alone. Which results are lent comes from contracts ' +
      '("returns borrowed"), built in for libraries in packs such as sqlite3.',
    bad: `msg := C.sqlite3_errmsg(db)
defer C.free(unsafe.Pointer(msg))
return errors.New(C.GoString(msg))`,
    good: `return errors.New(C.GoString(C.sqlite3_errmsg(db)))`,
  },
  message(e) {
    return `${e.by} releases ${e.name}, which ${e.what} only lends: it is not the caller's to free`;
  },
};
