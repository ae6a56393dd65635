// Go memory as cgo's pointer rules see it: which values are Go pointers, and
// whether a piece of memory (an object, one of its fields, a variable) holds
// one. The runtime's cgocheck looks at the memory an argument points to; so
// does this, with the same granularity, over the objects the engine tracks.
import type { Resolver } from '../model/resolve.js';
import type { Ty } from '../model/types.js';
import { HEAP_STRING, fieldKey, objId, type Obj, type State, type Val } from './state.js';

/** What is wrong, for the message: where in the memory the Go pointer sits and what it points to. */
export interface GoPointerHit {
  /** Path inside the checked memory: "", ".p", "[1]", ".a[0]". */
  path: string;
  /** What the Go pointer points to: "new(C.int)", "a composite literal", "the variable i". */
  target: string;
}

/** Where the Pinner that pins local variable `varKey` (its address) is noted. */
export function pinnedVarKey(varKey: string): string {
  return `pinned:${varKey}`;
}

/** A Go pointer the runtime would check: to Go heap or stack, or to a global that holds pointers; not pinned. */
export function isGoPointer(st: State, v: Val): boolean {
  return describeGoPointer(st, v) !== undefined;
}

export function describeGoPointer(st: State, v: Val, names?: (varKey: string) => string): string | undefined {
  if (v === HEAP_STRING) return 'string data on the Go heap';
  if (v.startsWith('fn:')) return 'a Go function value';
  if (v.startsWith('a:')) return st.env.has(pinnedVarKey(v.slice(2))) ? undefined : `the Go variable ${names?.(v.slice(2)) ?? ''}`.trim();
  const id = objId(v);
  const o = id ? st.obj(id) : undefined;
  if (!o || o.kind !== 'go' || o.pinnedBy) return undefined;
  if (o.global && o.noPointers) return undefined;
  return goMemoryName(o);
}

export function goMemoryName(o: Obj): string {
  if (o.global) return `the global ${o.global}`;
  const t = o.goType;
  if (t?.k === 'map') return 'a Go map';
  if (t?.k === 'chan') return 'a Go channel';
  if (t?.k === 'slice') return 'a Go slice';
  switch (o.what) {
    case 'new':
      return 'memory from new';
    case 'make':
      return 'memory from make';
    case 'composite literal':
      return 'a composite literal';
    case 'variable':
      return 'a Go variable';
    default:
      return o.what.startsWith('Go memory') ? o.what : 'Go memory';
  }
}

/** Element and field types of a Go type, for walking memory of that type. */
export interface TypeView {
  fieldType(t: Ty | undefined, name: string): Ty | undefined;
  elemType(t: Ty | undefined): Ty | undefined;
  /** Values of this type live inline (structs, arrays): their contents are part of the enclosing memory. */
  isInline(t: Ty | undefined): boolean;
  /** Values of this type are never pointers (numbers, uintptr, bool). */
  isScalar(t: Ty | undefined): boolean;
}

export function typeView(r: Resolver): TypeView {
  const u = (t: Ty | undefined): Ty | undefined => (t && t.k === 'named' ? r.underlying(t) : t);
  return {
    fieldType: (t, name) => {
      if (!t) return undefined;
      return r.fieldType(t, name) ?? r.cFieldType(t, name);
    },
    elemType: (t) => {
      const x = u(t);
      if (!x) return undefined;
      if (x.k === 'array' || x.k === 'slice') return x.elem;
      if (x.k === 'pointer') {
        const e = u(x.elem);
        if (e?.k === 'array') return e.elem;
      }
      return undefined;
    },
    isInline: (t) => {
      const x = u(t);
      return !!x && (x.k === 'array' || x.k === 'struct' || (x.k === 'c' && r.isStruct(x)));
    },
    isScalar: (t) => {
      const x = u(t);
      if (!x) return false;
      if (x.k === 'basic') return !['string', 'error', 'any'].includes(x.name);
      if (x.k === 'c') return r.isCScalar(x);
      return false;
    },
  };
}

/**
 * The first Go pointer inside the memory of object `id` (all of it, or one
 * field), looking into inline structs and arrays but not through pointers.
 */
export function goPointerInObject(st: State, id: string, tv: TypeView, field?: string, names?: (k: string) => string): GoPointerHit | undefined {
  const o = st.obj(id);
  if (!o) return undefined;
  const prefix = `${id}|`;
  const entries: [string, Val][] = [];
  if (field !== undefined) {
    const v = st.env.get(fieldKey(id, field));
    if (v !== undefined) entries.push([field, v]);
  } else {
    for (const [k, v] of st.env) if (k.startsWith(prefix)) entries.push([k.slice(prefix.length), v]);
  }
  const seen = new Set<string>([id]);
  for (const [name, v] of entries.sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    const t = name.startsWith('#') ? tv.elemType(o.goType) : tv.fieldType(o.goType, name);
    const hit = goPointerInValue(st, v, t, tv, seen, names);
    if (hit) return { path: `${pathPart(name)}${hit.path}`, target: hit.target };
  }
  return undefined;
}

/** A Go pointer in a value of type t: the value itself, or inside it when it is an inline aggregate. */
export function goPointerInValue(st: State, v: Val, t: Ty | undefined, tv: TypeView, seen = new Set<string>(), names?: (k: string) => string): GoPointerHit | undefined {
  if (tv.isScalar(t)) return undefined;
  const id = objId(v);
  const o = id ? st.obj(id) : undefined;
  if (id && o?.kind === 'go' && (o.inline || tv.isInline(t)) && !o.global) {
    if (seen.has(id)) return undefined;
    seen.add(id);
    return goPointerInObject(st, id, tv, undefined, names);
  }
  const target = describeGoPointer(st, v, names);
  return target ? { path: '', target } : undefined;
}

function pathPart(name: string): string {
  if (name === '#*') return '[i]';
  if (name.startsWith('#')) return `[${name.slice(1)}]`;
  return `.${name}`;
}

/** Is `v` memory C allocated (ours, or handed out by a C function)? */
export function isCMemory(st: State, v: Val): boolean {
  const id = objId(v);
  return !!id && st.obj(id)?.kind === 'c';
}

/** Memory the analysis follows for ownership: C allocations and symbolic inputs. */
export function isTracked(st: State, v: Val): boolean {
  const id = objId(v);
  const k = id ? st.obj(id)?.kind : undefined;
  return k === 'c' || k === 'sym';
}
