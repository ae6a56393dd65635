import type { Rule } from '../rule.js';

/** Go memory holding a Go pointer passed to C (cgocheck's "Go pointer to unpinned Go pointer"). */
export interface GoPointerArgDetails {
  callee: string; // C.f1
  arg: number; // 1-based
  memory: string; // what the argument points to
  path: string; // where in it the Go pointer is
  target: string; // what the Go pointer points to
  deferred: boolean;
}

export const unpinnedGoPointer: Rule<GoPointerArgDetails> = {
  meta: {
    id: 'unpinned-go-pointer',
    title: 'Go memory holding a Go pointer is passed to C',
    severity: 'error',
    rationale:
      'cgo lets Go pass C a pointer to Go memory only if that memory holds no Go pointers (unless they ' +
      'are pinned with runtime.Pinner): the garbage collector cannot see what C does with them. The ' +
      'runtime checks this at every call and panics with "cgo argument has Go pointer to unpinned Go ' +
      'pointer". The rule applies the runtime\'s own granularity: &s.f checks the field, &a[i] the ' +
      'whole array or slice backing array, &x the variable, a pointer the whole object it points to, and ' +
      'a deferred call is checked when it runs. Passing a Go map, channel or function counts too.',
    bad: `type node struct{ next *node }
n := &C.struct_list{head: new(C.int)}
C.walk(n) // n holds a Go pointer`,
    good: `var p runtime.Pinner
head := new(C.int)
p.Pin(head)
defer p.Unpin()
C.walk(&C.struct_list{head: head})`,
  },
  message(e) {
    const where = e.path ? ` at ${e.path}` : '';
    return `argument ${e.arg} of ${e.callee} points to ${e.memory}, which holds a Go pointer${where} to ${e.target}${e.deferred ? ' when the deferred call runs' : ''} (cgo: Go pointer to unpinned Go pointer)`;
  },
};
