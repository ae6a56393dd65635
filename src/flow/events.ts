// What the dataflow engine observes along a path. Rules turn these into
// findings with their own wording and severity.
import type { Resource, Step } from './state.js';

interface EventBase {
  /** Primary location: offsets in the analysed function's file. */
  pos: number;
  end: number;
  /** The path that makes it a bug, in order. */
  trace: Step[];
}

/** Set when the object is a cgo.Handle or a Pinner's pins rather than C memory. */
type ResourceField = { resource?: Resource };

export interface LeakEvent extends EventBase, ResourceField {
  kind: 'leak';
  /** return: not freed before returning; lost: the only pointer was overwritten;
   *  scope: a loop iteration ended with the only pointer in a variable declared inside it;
   *  dropped: the pointer was never kept; deferred-nil: a deferred free captured nil;
   *  realloc-failed: `p = C.realloc(p, n)` lost the old block on the failure path. */
  how: 'return' | 'lost' | 'scope' | 'dropped' | 'deferred-nil' | 'realloc-failed';
  what: string; // C.CString, newName (C.CString)
  name?: string; // variable that held it
  /** Its releasers, when a contract names others than free. */
  releasedBy?: string[];
  at: number; // offset of the return, reassignment or dropping expression
  atLine: number;
}

export interface DoubleFreeEvent extends EventBase, ResourceField {
  kind: 'double-free';
  name: string;
  what: string;
  firstLine: number;
  firstBy: string; // free, realloc, sqlite3_free
  firstVia?: string; // helper that freed it
  via?: string; // helper doing the second free
}

export interface UseAfterFreeEvent extends EventBase, ResourceField {
  kind: 'use-after-free';
  name: string;
  how: string; // passed to C.puts, read by C.GoString, dereferenced, ...
  freedLine: number;
  freedBy: string;
  freedVia?: string;
}

export interface FreeNonHeapEvent extends EventBase {
  kind: 'free-nonheap';
  name: string;
  by: string;
  memory: string; // Go memory (&x), Go memory (make)
  via?: string;
}

export interface MismatchedFreeEvent extends EventBase {
  kind: 'mismatched-free';
  name: string;
  what: string;
  by: string;
  expected: string[];
  via?: string;
}

/** Go memory holding a Go pointer passed to C (cgocheck's "Go pointer to unpinned Go pointer"). */
export interface GoPointerArgEvent extends EventBase {
  kind: 'go-pointer-arg';
  callee: string; // C.f1
  arg: number; // 1-based
  argName: string;
  memory: string; // what the argument points to
  path: string; // where in it the Go pointer is
  target: string; // what the Go pointer points to
  deferred: boolean;
}

/** A Go pointer written into C memory. */
export interface GoPointerStoreEvent extends EventBase {
  kind: 'go-pointer-store';
  dest: string;
  path: string;
  target: string;
  how: string; // "assigned", "copied"
}

/** An exported function hands a Go pointer to its C caller. */
export interface ExportGoPointerEvent extends EventBase {
  kind: 'export-go-pointer';
  fn: string;
  path: string;
  target: string;
}

/** C keeps (per its summary or contract) a Go pointer it was given. */
export interface CKeepsGoPointerEvent extends EventBase {
  kind: 'c-keeps-go-pointer';
  callee: string;
  arg: number;
  argName: string;
  target: string;
  how: string; // "stores it in a global", "takes it (contract)"
}

/** A Go pointer hidden as an integer, or an integer turned into a pointer. */
export interface HiddenPointerEvent extends EventBase {
  kind: 'hidden-pointer';
  how: 'as-integer' | 'handle-to-pointer';
  name: string;
  callee?: string;
  target?: string;
}

/** The address of a slice or string header passed to C. */
export interface SliceHeaderEvent extends EventBase {
  kind: 'slice-header';
  callee: string;
  arg: number;
  name: string;
  of: 'slice' | 'string';
}

/** C writes past the end of a buffer (definite), or without a bound (possible). */
export interface COverflowEvent extends EventBase {
  kind: 'c-overflow';
  callee: string;
  arg: number;
  name: string;
  via: string; // strcpy, memset, an indexed store
  writes?: number; // bytes written, when known
  size: number; // bytes available
  memory: string; // "make", "C.malloc"
  definite: boolean;
}

/** A Go slice passed to C as a pointer to elements of another size. */
export interface ElementSizeEvent extends EventBase {
  kind: 'element-size';
  callee: string;
  name: string;
  goElem: string;
  goSize: number;
  cType: string;
  cSize: number;
}

/** A Go slice made over C memory with more elements than the allocation holds. */
export interface CSliceBoundsEvent extends EventBase {
  kind: 'c-slice-bounds';
  how: string; // "unsafe.Slice", "a conversion to *[N]T"
  elems: number;
  elemSize: number;
  bytes: number;
  what: string; // C.malloc
}

/** A handle used against its protocol (a contract's `not after` or `invalidates`). */
export interface ProtocolEvent extends EventBase {
  kind: 'protocol';
  callee: string;
  name: string;
  after: string;
  how: 'not-after' | 'invalidated';
}

/** Memory a library only lends, released by the caller. */
export interface FreeBorrowedEvent extends EventBase {
  kind: 'free-borrowed';
  name: string;
  what: string;
  by: string;
}

export type FlowEvent =
  | LeakEvent
  | DoubleFreeEvent
  | UseAfterFreeEvent
  | FreeNonHeapEvent
  | MismatchedFreeEvent
  | GoPointerArgEvent
  | GoPointerStoreEvent
  | ExportGoPointerEvent
  | CKeepsGoPointerEvent
  | HiddenPointerEvent
  | SliceHeaderEvent
  | COverflowEvent
  | ElementSizeEvent
  | CSliceBoundsEvent
  | ProtocolEvent
  | FreeBorrowedEvent
  | FinalizerEvent
  | HandleToCEvent
  | PinnerCopyEvent;

/** A cgo.Handle handed to C in a package that never deletes a handle. */
export interface HandleToCEvent extends EventBase {
  kind: 'handle-to-c';
  name: string;
  callee: string;
}

/** A runtime.Pinner copied by value: the copies do not share what they pin. */
export interface PinnerCopyEvent extends EventBase {
  kind: 'pinner-copy';
  name: string;
  how: string;
}

/** C memory a finalizer or cleanup frees, used or handed over without regard for it. */
export interface FinalizerEvent extends EventBase {
  kind: 'finalizer';
  /** not-kept-alive: the owner is dead during the C call; value-receiver: the method works on a copy;
   *  released / taken: the field is released or handed to C while the finalizer still frees it. */
  how: 'not-kept-alive' | 'value-receiver' | 'released' | 'taken';
  owner: string;
  field: string;
  callee: string;
  /** What frees the field, and the line where it was registered. */
  by: 'finalizer' | 'cleanup';
  regLine: number;
}
