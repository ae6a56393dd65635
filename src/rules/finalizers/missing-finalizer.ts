import type { Rule } from '../rule.js';

/** A wrapper made without the finalizer its other constructors set. */
export interface MissingFinalizerDetails {
  type: string;
  field: string;
  /** The C function the field's memory comes from. */
  from: string;
  /** A function that sets the finalizer on the values it makes, and where it does. */
  other: string;
  otherAt: string;
}

export const missingFinalizer: Rule<MissingFinalizerDetails> = {
  meta: {
    id: 'missing-finalizer',
    title: 'A wrapper holding C memory is made without the finalizer its other constructors set',
    severity: 'warning',
    rationale:
      'A Go type that wraps C memory and frees it in a finalizer relies on every constructor setting that ' +
      'finalizer. A value made by a constructor that forgets it holds the same kind of C memory, and nothing ' +
      'frees that memory unless every caller remembers to call the release method. The rule compares the ' +
      'constructors of one type: where one sets the finalizer, a value made elsewhere with fresh C memory in ' +
      'the field the finalizer frees, and no finalizer, is reported (medium confidence: the value may be ' +
      'released by hand, or meant to borrow).',
    bad: `func newRepo(p *C.repo) *Repo {
	r := &Repo{ptr: p}
	runtime.SetFinalizer(r, (*Repo).Free)
	return r
}

func Open(path *C.char) *Repo {
	return &Repo{ptr: C.repo_open(path)} // no finalizer
}`,
    good: `func Open(path *C.char) *Repo {
	return newRepo(C.repo_open(path))
}`,
  },
  message(e) {
    return `${e.type} made here holds C memory from ${e.from} in .${e.field} but gets no finalizer, while ${e.other} (${e.otherAt}) sets one on the ${e.type} values it makes: nothing frees the memory unless the caller releases it`;
  },
};
