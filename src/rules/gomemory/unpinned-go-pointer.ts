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

/** A Go reference the runtime rejects by the type of what the argument reaches, whatever its value now. */
export interface ByTypeDetails {
  how: 'by-type';
  callee: string;
  arg: number;
  /** 'memory': the argument points to it; 'word': the argument is its first word. */
  reach: 'memory' | 'word';
  name: string; // "the variable m"
  kind: 'map' | 'chan' | 'func' | 'slice' | 'interface';
  path: string; // "", ".val", "[0]"
  behind?: 'slice' | 'pointer';
  /** The value is nil on this path (which the runtime lets pass, except for a map or channel in memory). */
  nil: boolean;
}

const KIND_NAMES = { map: 'map', chan: 'channel', func: 'func value', slice: 'slice', interface: 'interface value' } as const;

/** When the runtime rejects a reference of each kind in memory given to C. */
const WHEN_REJECTED = {
  map: 'even when it is nil',
  chan: 'even when it is nil',
  func: 'as soon as it holds a closure',
  slice: 'as soon as it refers to Go memory',
  interface: 'as soon as it holds a value',
} as const;

function byTypeMessage(e: ByTypeDetails): string {
  const kind = KIND_NAMES[e.kind];
  if (e.reach === 'memory') {
    const what = e.path ? `which holds a Go ${kind} at ${e.path}` : `a Go ${kind}`;
    return `argument ${e.arg} of ${e.callee} points to ${e.name}, ${what}: the runtime rejects it ${WHEN_REJECTED[e.kind]} (cgo: Go pointer to unpinned Go pointer)`;
  }
  const at = e.path ? ` at ${e.path}` : '';
  if (!e.behind) {
    const own = e.kind === 'func' ? 'the memory of a closure' : `the ${kind}'s own memory`;
    return `argument ${e.arg} of ${e.callee} is the first word of ${e.name}, the Go ${kind}${at}${e.nil ? ' (nil here)' : ''}: C gets a pointer to ${own}, which holds Go pointers${e.nil ? ', as soon as it is not nil' : ''} (cgo: Go pointer to unpinned Go pointer)`;
  }
  return `argument ${e.arg} of ${e.callee} is the first word of ${e.name}, the data of a ${e.behind === 'slice' ? 'slice' : 'pointer'} whose memory holds a Go ${kind}${e.path ? ` (at ${e.path})` : ''}: the runtime rejects it ${WHEN_REJECTED[e.kind]} (cgo: Go pointer to unpinned Go pointer)`;
}

export const unpinnedGoPointer: Rule<GoPointerArgDetails | ByTypeDetails> = {
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
      'a deferred call is checked when it runs. Passing a Go map, channel or function counts too. The ' +
      'runtime rejects a map or channel in memory given to C even when it is nil, and a slice, func ' +
      'value or interface as soon as it refers to Go memory: these are reported by type, as go vet ' +
      'does, with a low confidence while the value is known to be nil. *(*unsafe.Pointer)(unsafe.Pointer(&x)) ' +
      'passes x\'s first word: a slice\'s data, or the memory behind a map, channel or closure.',
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
    if ('how' in e) return byTypeMessage(e);
    const where = e.path ? ` at ${e.path}` : '';
    return `argument ${e.arg} of ${e.callee} points to ${e.memory}, which holds a Go pointer${where} to ${e.target}${e.deferred ? ' when the deferred call runs' : ''} (cgo: Go pointer to unpinned Go pointer)`;
  },
};
