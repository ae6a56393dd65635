// What the dynamic tools report, before it is tied to Go source: one record
// per error (sanitizer report, runtime panic or throw, fatal signal, valgrind
// error), with its stacks as the tool printed them.

import type { StackFrame } from '../findings/finding.js';

/** One frame of a stack: a function, and where it is when the tool knew. */
export type Frame = StackFrame;

export interface Stack {
  /** What the stack shows: "access", "allocated", "freed", "goroutine", ... */
  title: string;
  frames: Frame[];
}

export type DynamicTool = 'asan' | 'lsan' | 'cgocheck' | 'signal' | 'valgrind';

export interface DynamicReport {
  tool: DynamicTool;
  /** The tool's own name for the error: heap-use-after-free, Direct leak, Leak_DefinitelyLost, SIGSEGV... */
  kind: string;
  /** The finding rule it becomes (a static rule id where the class is the same). */
  rule: string;
  message: string;
  bytes?: number;
  objects?: number;
  /** Leaks: definitely lost (direct) rather than possibly or indirectly. */
  definite?: boolean;
  stacks: Stack[];
}

/** Where parsing stopped being sure: a report cut short, a line it did not understand. */
export interface ParseResult {
  reports: DynamicReport[];
  problems: string[];
}

/** A cgo stub: `_cgo_<hash>_Cfunc_<name>` in C, `pkg._Cfunc_<name>` in Go. */
export function cgoStubName(fn: string): string | undefined {
  const m = /(?:^|[._])_?Cfunc_(\w+)$/.exec(fn);
  if (!m) return undefined;
  // C.malloc is compiled as _CMalloc; C.CString and C.CBytes allocate through it too.
  return m[1] === '_CMalloc' || m[1] === '_Cmalloc' ? 'malloc' : m[1];
}
