// The abstract state the interpreter carries along one path: what each
// variable and tracked field holds, the memory objects with their typestate,
// the deferred calls pushed so far, and the conditions known to hold.
//
// Values are short strings so states compare and hash cheaply:
//   'nil'  'nn' (non-nil, untracked)  '?' (unknown)  'b1' / 'b0' (booleans)
//   'o:ID' a tracked object (C allocation, Go allocation or symbolic input)
//   'a:LOC' the address of a local variable (Go memory)
//   'fn:N'  closure N of the function being analysed
import type { Expr } from '../syntax/goast.js';

export type Val = string;
export const NIL = 'nil';
export const NONNIL = 'nn';
export const UNKNOWN_VAL = '?';
export const TRUE = 'b1';
export const FALSE = 'b0';

export type ObjKind = 'c' | 'go' | 'sym';
export type ObjState = 'live' | 'freed' | 'moved' | 'consumed';

/** A resolved trace step. */
export interface Step {
  file: string;
  line: number;
  column: number;
  message: string;
}

export interface FreeInfo {
  pos: number; // offset of the releasing call in the current file
  by: string; // C function that released it (free, sqlite3_free, realloc...)
  via?: string; // Go helper through which it happened
  steps: Step[];
}

export interface Obj {
  kind: ObjKind;
  state: ObjState;
  /** What made it: "C.CString", "C.malloc", "newName (C.CString)", "make". */
  what: string;
  /** Offset of the allocating expression in the current file (-1 for inputs). */
  site: number;
  nullable: boolean;
  /** Functions allowed to release it; empty when not known. */
  releasedBy: string[];
  steps: Step[];
  freed?: FreeInfo;
  /** For symbolic inputs: the parameter path it stands for (p0, p1.f, r.f). */
  origin?: string;
  used?: boolean;
  /** For a C.realloc result: the block it replaced, revived if the result is nil. */
  revive?: string;
  borrowed?: boolean;
  /** End offset of the allocating expression. */
  siteEnd?: number;
  /** Length of the path trace when the object was made: later steps explain its fate. */
  traceAt?: number;
  /** Go storage whose fields unknown code may have rewritten: reads are unknown. */
  opaque?: boolean;
}

export interface DeferRec {
  pos: number;
  call: Extract<Expr, { k: 'call' }>; // the deferred call expression
  fnVal?: Val; // for closures and function values
  recv?: Val;
  args: Val[];
}

export class State {
  env: Map<string, Val>;
  objs: Map<string, Obj>;
  defers: DeferRec[];
  facts: Map<string, boolean>;
  trace: Step[];
  /** Set when a call ended the path (panic, os.Exit, a function that never returns). */
  dead = false;

  constructor(from?: State) {
    this.env = new Map(from?.env);
    this.objs = new Map(from?.objs);
    this.defers = from ? from.defers.slice() : [];
    this.facts = new Map(from?.facts);
    this.trace = from ? from.trace.slice() : [];
  }

  clone(): State {
    return new State(this);
  }

  obj(id: string): Obj | undefined {
    return this.objs.get(id);
  }

  setObj(id: string, o: Obj): void {
    this.objs.set(id, o);
  }

  updateObj(id: string, patch: Partial<Obj>): void {
    const o = this.objs.get(id);
    if (o) this.objs.set(id, { ...o, ...patch });
  }

  /** A string that identifies the state for deduplication (the trace is left out). */
  key(): string {
    const parts: string[] = [];
    for (const k of [...this.env.keys()].sort()) parts.push(`${k}=${this.env.get(k)}`);
    parts.push('|');
    for (const id of [...this.objs.keys()].sort()) {
      const o = this.objs.get(id)!;
      parts.push(`${id}:${o.state}${o.nullable ? 'n' : ''}${o.used ? 'u' : ''}${o.opaque ? 'x' : ''}${o.freed ? `/${o.freed.by}@${o.freed.pos}` : ''}${o.revive ? `^${o.revive}` : ''}`);
    }
    parts.push('|');
    for (const d of this.defers) parts.push(`${d.pos}(${d.fnVal ?? ''}${d.recv ?? ''};${d.args.join(',')})`);
    parts.push('|');
    for (const k of [...this.facts.keys()].sort()) parts.push(`${k}=${this.facts.get(k) ? 1 : 0}`);
    return parts.join(' ');
  }
}

export function objId(v: Val): string | undefined {
  return v.startsWith('o:') ? v.slice(2) : undefined;
}

export function objVal(id: string): Val {
  return `o:${id}`;
}

export function fieldKey(objectId: string, field: string): string {
  return `${objectId}|${field}`;
}

export function varKey(v: number): string {
  return `v${v}`;
}

/** Objects reachable from variables, deferred calls and the extra roots. */
export function reachable(st: State, extraRoots: Iterable<Val> = []): Set<string> {
  const fieldsOf = new Map<string, Val[]>();
  const roots: Val[] = [];
  for (const [k, v] of st.env) {
    const bar = k.indexOf('|');
    if (bar < 0) roots.push(v);
    else {
      const owner = k.slice(0, bar);
      let list = fieldsOf.get(owner);
      if (!list) fieldsOf.set(owner, (list = []));
      list.push(v);
    }
  }
  for (const d of st.defers) {
    roots.push(...d.args);
    if (d.recv) roots.push(d.recv);
  }
  roots.push(...extraRoots);
  const seen = new Set<string>();
  const stack: string[] = [];
  const push = (v: Val) => {
    const id = objId(v);
    if (id && !seen.has(id)) {
      seen.add(id);
      stack.push(id);
    }
  };
  roots.forEach(push);
  while (stack.length) {
    const id = stack.pop()!;
    const o = st.objs.get(id);
    if (o?.revive) push(objVal(o.revive));
    for (const v of fieldsOf.get(id) ?? []) push(v);
  }
  return seen;
}
