// The abstract state the interpreter carries along one path: what each
// variable and tracked field holds, the memory objects with their typestate,
// the deferred calls pushed so far, and the conditions known to hold.
//
// Values are short strings so states compare and hash cheaply:
//   'nil'  'nn' (non-nil, untracked)  '?' (unknown)  'b1' / 'b0' (booleans)
//   'hs' a string with its bytes on the Go heap
//   'o:ID' a tracked object (C allocation, Go allocation or symbolic input)
//   'a:LOC' the address of a local variable (Go memory)
//   'fn:N'  closure N of the function being analysed
//   'rc:..' a C call's status that decides which of its outputs exist (statusVal)
//
// An object's typestate (live, moved, freed, consumed) is the interpreter's:
// it marks memory moved when it leaves our view. Freeing is decided by the
// domain modules (src/rules/*/domain.ts), which keep their own facts about an
// object in fields they declare on ObjFacets.
import type { Ty } from '../model/types.js';
import type { Expr } from '../syntax/goast.js';
import type { TraceStep } from '../syntax/positions.js';

export type Val = string;
export const NIL = 'nil';
export const NONNIL = 'nn';
export const UNKNOWN_VAL = '?';
export const TRUE = 'b1';
export const FALSE = 'b0';
/** A non-empty string whose bytes live on the Go heap (its data pointer is a Go pointer). */
export const HEAP_STRING = 'hs';

/** A resolved trace step. */
export type Step = TraceStep;

export type ObjKind = 'c' | 'go' | 'sym';
export type ObjState = 'live' | 'freed' | 'moved' | 'consumed';

export interface FreeInfo {
  pos: number; // offset of the releasing call in the current file
  by: string; // C function that released it (free, sqlite3_free, realloc...)
  via?: string; // Go helper through which it happened
  steps: Step[];
}

/**
 * Facts a domain module keeps about an object, declared by that module
 * (`declare module '../../flow/state.js' { interface ObjFacets { ... } }`).
 * The interpreter copies them along with the object and never reads them.
 */
export interface ObjFacets {}

export interface Obj extends ObjFacets {
  kind: ObjKind;
  state: ObjState;
  /** What made it: "C.CString", "C.malloc", "newName (C.CString)", "make". */
  what: string;
  /** Offset of the allocating expression in the current file (-1 for inputs). */
  site: number;
  nullable: boolean;
  steps: Step[];
  freed?: FreeInfo;
  /** For symbolic inputs: the parameter path it stands for (p0, p1.f, r.f). */
  origin?: string;
  used?: boolean;
  /** Another object kept reachable through this one (the block a C.realloc result replaced). */
  revive?: string;
  /** End offset of the allocating expression. */
  siteEnd?: number;
  /** Length of the path trace when the object was made: later steps explain its fate. */
  traceAt?: number;
  /** Go storage whose fields unknown code may have rewritten: reads are unknown. */
  opaque?: boolean;
  /** The Go type of Go memory (for walking its fields and elements). */
  goType?: Ty;
  /** A value that lives inside whatever holds it (a struct or array value), not behind a pointer. */
  inline?: boolean;
  /** A package-level variable (its name); with noPointers, memory the runtime does not check. */
  global?: string;
  noPointers?: boolean;
  /** Size in bytes, when known (make with a constant length, C.malloc of a constant). */
  bytes?: number;
  /** The runtime.Pinner that pins this Go memory. */
  pinnedBy?: string;
  /** C memory held in Go storage that was given to this C function: it may have kept it. */
  lentTo?: string;
}

/** A resource with the lifecycle of C memory but another meaning ('handle', 'pinner'), named by the domain that makes it. */
export type Resource = string;

export interface DeferRec {
  pos: number;
  call: Extract<Expr, { k: 'call' }>; // the deferred call expression
  fnVal?: Val; // for closures and function values
  recv?: Val;
  args: Val[];
  /** For a deferred C call: what domain modules noted about its operands when the defer statement ran, by module id. */
  captured?: Map<string, unknown>;
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

  /** Sets a variable or field. An unknown variable is simply absent, which keeps states small. */
  assign(key: string, v: Val): void {
    if (v === UNKNOWN_VAL && !key.includes('|')) this.env.delete(key);
    else this.env.set(key, v);
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

  /**
   * Identifies the state for deduplication (the trace is left out). Entries
   * are hashed independently of their order, so no sorting is needed; a
   * collision could only merge two paths (fewer findings, never false ones).
   * `facets` adds what domain modules keep about an object that tells states apart.
   */
  key(facets?: (o: Obj) => string): string {
    let a = 0;
    let b = 0;
    const mix = (text: string) => {
      let h1 = 0x811c9dc5;
      let h2 = 0x1505;
      for (let i = 0; i < text.length; i++) {
        const c = text.charCodeAt(i);
        h1 = Math.imul(h1 ^ c, 0x01000193);
        h2 = (Math.imul(h2, 33) + c) | 0;
      }
      a = (a + h1) | 0;
      b ^= h2 + Math.imul(h1, 0x9e3779b1);
    };
    for (const [k, v] of this.env) mix(`${k}=${v}`);
    for (const [id, o] of this.objs) {
      mix(`${id}:${o.state}${o.nullable ? 'n' : ''}${o.used ? 'u' : ''}${o.opaque ? 'x' : ''}${o.inline ? 'i' : ''}${o.pinnedBy ? `p${o.pinnedBy}` : ''}${o.freed ? `/${o.freed.by}@${o.freed.pos}` : ''}${o.revive ? `^${o.revive}` : ''}${o.lentTo ? `~${o.lentTo}` : ''}${o.bytes !== undefined ? `#${o.bytes}` : ''}${facets?.(o) ?? ''}`);
    }
    for (const [k, v] of this.facts) mix(`${k}?${v ? 1 : 0}`);
    // Deferred calls run in order: hash them as a sequence.
    let d = '';
    for (const r of this.defers) d += `${r.pos}(${r.fnVal ?? ''}${r.recv ?? ''};${r.args.join(',')})`;
    return `${this.env.size}.${this.objs.size}.${this.facts.size}.${(a >>> 0).toString(36)}.${(b >>> 0).toString(36)}.${d}`;
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

/**
 * The status a C call returns when its contract makes outputs depend on it:
 * 'rc:IDS/IDS/IDS' lists the objects that exist only on success, then only on
 * failure, then the arguments it released that are still live on failure.
 */
export function statusVal(onSuccess: string[], onFailure: string[], keptOnFailure: string[] = []): Val {
  return `rc:${onSuccess.join('+')}/${onFailure.join('+')}${keptOnFailure.length ? `/${keptOnFailure.join('+')}` : ''}`;
}

export interface StatusOutputs {
  onSuccess: string[];
  onFailure: string[];
  keptOnFailure: string[];
}

export function statusOutputs(v: Val): StatusOutputs | undefined {
  if (!v.startsWith('rc:')) return undefined;
  const [s, f, k] = v.slice(3).split('/');
  const ids = (x: string | undefined) => (x ? x.split('+') : []);
  return { onSuccess: ids(s), onFailure: ids(f), keptOnFailure: ids(k) };
}

/**
 * Where a resource made inside Go storage is kept (a handle a C function
 * initialised in place), as a field of that storage no Go code can name.
 */
export function attachedKey(objectId: string): string {
  return `${objectId}|#handle`;
}

export function varKey(v: number): string {
  return `v${v}`;
}

/**
 * Objects reachable from variables, deferred calls and the extra roots. With
 * `addressed`, the address of a variable (`return &res`, `&T{p: &s}`) reaches
 * what that variable holds: the variable outlives the function then.
 */
export function reachable(st: State, extraRoots: Iterable<Val> = [], addressed?: State): Set<string> {
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
  const seenVars = new Set<string>();
  const stack: string[] = [];
  const push = (v: Val): void => {
    if (addressed && v.startsWith('a:v') && !seenVars.has(v)) {
      seenVars.add(v);
      const held = addressed.env.get(v.slice(2));
      if (held) push(held);
      return;
    }
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

/**
 * The join of two states, for functions analysed without path sensitivity:
 * values that differ become unknown (an object reference wins over nil and
 * untracked values), typestates take the weaker claim, facts must hold on
 * both sides. Monotone, so the fixpoint iteration ends.
 */
export function joinStates(a: State, b: State): State {
  const out = a.clone();
  for (const [k, v] of b.env) {
    const u = out.env.get(k);
    // An absent variable is unknown; an absent field still has its zero value.
    if (u === undefined) {
      if (k.includes('|')) out.env.set(k, v);
    } else if (u !== v) out.assign(k, joinVal(u, v));
  }
  for (const k of a.env.keys()) if (!k.includes('|') && !b.env.has(k)) out.env.delete(k);
  for (const [id, o] of b.objs) {
    const p = out.objs.get(id);
    if (!p) out.objs.set(id, o);
    else if (p !== o) out.objs.set(id, joinObj(p, o));
  }
  for (const [k, v] of a.facts) if (b.facts.get(k) !== v) out.facts.delete(k);
  for (const d of b.defers) {
    if (!out.defers.some((x) => x.pos === d.pos && x.fnVal === d.fnVal && x.recv === d.recv && x.args.join() === d.args.join())) out.defers.push(d);
  }
  out.dead = a.dead && b.dead;
  return out;
}

const isRef = (v: Val) => v.startsWith('o:') || v.startsWith('fn:') || v.startsWith('a:');

function joinVal(u: Val, v: Val): Val {
  if (u === UNKNOWN_VAL || v === UNKNOWN_VAL) return UNKNOWN_VAL;
  if (isRef(u) && isRef(v)) return UNKNOWN_VAL;
  if (isRef(u)) return u;
  if (isRef(v)) return v;
  return UNKNOWN_VAL;
}

function joinObj(p: Obj, o: Obj): Obj {
  if (p.state === o.state && !p.used === !o.used && !p.opaque === !o.opaque && p.nullable === o.nullable) return p;
  const rank: Record<ObjState, number> = { live: 0, consumed: 1, freed: 2, moved: 3 };
  const state = rank[o.state] > rank[p.state] ? o.state : p.state;
  return {
    ...p,
    state,
    freed: p.freed ?? o.freed,
    used: p.used || o.used,
    opaque: p.opaque || o.opaque,
    nullable: p.nullable || o.nullable,
  };
}

/**
 * What a struct field remembers: pointers (heap strings among them) and nil. Numbers, booleans and
 * untracked values would only multiply states without telling owners apart.
 */
export function fieldValue(v: Val): Val {
  return v === NIL || v === HEAP_STRING || v.startsWith('o:') || v.startsWith('fn:') || v.startsWith('a:') ? v : UNKNOWN_VAL;
}

export function nilEquality(a: Val, b: Val): boolean | undefined {
  if (a === NIL && b === NIL) return true;
  const definite = (v: Val) => v === NONNIL || v === HEAP_STRING || v.startsWith('a:') || v.startsWith('fn:');
  if ((a === NIL && definite(b)) || (b === NIL && definite(a))) return false;
  return undefined;
}

/** A copy of the state without local variables (for exit reachability: locals die). */
export function withoutLocals(st: State): State {
  const s = st.clone();
  for (const k of [...s.env.keys()]) if (!k.includes('|')) s.env.delete(k);
  s.defers = [];
  return s;
}
