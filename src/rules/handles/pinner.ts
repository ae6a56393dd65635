import type { Rule } from '../rule.js';

export type PinnerDetails =
  /** The pins of a local Pinner were not released (what: "p.Pin"). */
  | { kind: 'lost'; what: string; how: 'return' | 'lost' | 'scope' | 'dropped'; atLine: number }
  /** A Pinner copied by value: the copies do not share what they pin. */
  | { kind: 'copied'; name: string; how: string };

export const pinner: Rule<PinnerDetails> = {
  meta: {
    id: 'pinner',
    title: 'A runtime.Pinner is left pinning, or copied',
    severity: 'error',
    rationale:
      'Memory pinned with runtime.Pinner stays pinned until Unpin. A Pinner that goes out of scope still ' +
      'pinning makes the runtime panic when the garbage collector finds it ("found leaking pinned pointer; ' +
      'forgot to call Unpin()?"), and until then the memory cannot move or be freed. Unpin on every path ' +
      '(defer p.Unpin() right after declaring it). A Pinner must not be copied: a copy made before the first ' +
      'Pin does not share what the original pins, so one of them is never unpinned.',
    bad: `var p runtime.Pinner
p.Pin(&buf[0])
if C.start(unsafe.Pointer(&buf[0])) != 0 {
	return errStart // still pinned
}
p.Unpin()`,
    good: `var p runtime.Pinner
defer p.Unpin()
p.Pin(&buf[0])`,
  },
  message(e) {
    if (e.kind === 'copied') return `runtime.Pinner ${e.name} is copied (${e.how}): pass a *runtime.Pinner instead`;
    const who = e.what.replace(/\.Pin$/, '');
    if (e.how === 'return') return `${who} still pins memory on the path that returns at line ${e.atLine}: call ${who}.Unpin()`;
    return `${who} still pins memory when it goes out of scope: call ${who}.Unpin()`;
  },
};
