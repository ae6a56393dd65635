import type { FlowRule } from './rule.js';

export const unpinnedGoPointer: FlowRule = {
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
  check(e) {
    if (e.kind !== 'go-pointer-arg') return undefined;
    const where = e.path ? ` at ${e.path}` : '';
    return {
      pos: e.pos,
      end: e.end,
      message: `argument ${e.arg} of ${e.callee} points to ${e.memory}, which holds a Go pointer${where} to ${e.target}${e.deferred ? ' when the deferred call runs' : ''} (cgo: Go pointer to unpinned Go pointer)`,
    };
  },
};
