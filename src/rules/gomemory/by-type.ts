// What cgo's check rejects because of the type of the memory a pointer
// argument reaches, whatever that memory holds when the analysis looks: the
// runtime panics on a map or channel stored in it even when nil, and on a
// slice, func value or interface as soon as it refers to Go memory. `go vet`
// reports these shapes by type alone; here the value decides how sure the
// finding is (a nil the runtime lets pass makes it a low-confidence one).
//
// `*(*unsafe.Pointer)(unsafe.Pointer(&x))` passes x's first word, not x's
// address: a slice's data (fine for []int), the runtime's structure behind a
// map, channel or closure (not fine).
import type { Ty } from '../../model/types.js';
import { stripConversions, unparen } from '../../syntax/exprs.js';
import type { Expr } from '../../syntax/goast.js';
import type { Engine } from '../../flow/hooks.js';
import { NIL, UNKNOWN_VAL, fieldKey, objId, objVal, varKey, type State, type Val } from '../../flow/state.js';
import type { Confidence } from '../rule.js';

export type RefKind = 'map' | 'chan' | 'func' | 'slice' | 'interface';

/** A Go reference stored inline in memory of some type, and where (field names and '#0' for elements). */
export interface TypeReference {
  segs: string[];
  kind: RefKind;
}

/** What a pointer argument reaches, as types see it. */
export interface Reached {
  /** 'memory': C gets a pointer to memory of this type; 'word': C gets the first word of a variable of this type. */
  how: 'memory' | 'word';
  type: Ty;
  /** How the message names it: "the variable m", "s.items". */
  name: string;
  /** Where the value of the memory is tracked: an object, or one variable's word. */
  at?: { id: string } | { word: Val };
}

export interface ByTypeFinding {
  how: 'memory' | 'word';
  kind: RefKind;
  /** Where the reference sits: "", ".val", "[0]". */
  path: string;
  /** For the first word of a slice or pointer: the reference is in the memory it points to. */
  behind?: 'slice' | 'pointer';
  /** The reference is nil on this path. */
  nil: boolean;
  confidence: Confidence;
}

/** The first Go reference inline in memory of type t (maps and channels first: the runtime rejects them always). */
export function referenceIn(t: Ty, under: (t: Ty) => Ty): TypeReference | undefined {
  const found: TypeReference[] = [];
  const walk = (x: Ty, segs: string[], depth: number): void => {
    if (depth > 6 || found.length > 8) return;
    const u = under(x);
    switch (u.k) {
      case 'map':
      case 'chan':
      case 'func':
      case 'slice':
      case 'interface':
        found.push({ segs, kind: u.k });
        return;
      case 'basic':
        if (u.name === 'any' || u.name === 'error') found.push({ segs, kind: 'interface' });
        return;
      case 'struct':
        for (const f of u.fields) walk(f.type, [...segs, f.name], depth + 1);
        return;
      case 'array':
        if (u.len !== 0) walk(u.elem, [...segs, '#0'], depth + 1);
        return;
      default:
        return;
    }
  };
  walk(t, [], 0);
  return found.find((r) => r.kind === 'map' || r.kind === 'chan') ?? found[0];
}

/** The type of a variable's first word, and how it leads to more memory. */
function firstWordOf(t: Ty, under: (t: Ty) => Ty): { type: Ty; segs: string[] } | undefined {
  const segs: string[] = [];
  for (let depth = 0; depth < 8; depth++) {
    const u = under(t);
    if (u.k === 'struct' && u.fields.length) {
      segs.push(u.fields[0].name);
      t = u.fields[0].type;
    } else if (u.k === 'array' && u.len) {
      segs.push('#0');
      t = u.elem;
    } else if (u.k === 'struct' || u.k === 'array') return undefined;
    else return { type: t, segs };
  }
  return undefined;
}

export function pathText(segs: string[]): string {
  return segs.map((s) => (s.startsWith('#') ? `[${s.slice(1)}]` : `.${s}`)).join('');
}

/**
 * The value at a path inside tracked memory: NIL when it is known to be nil
 * (a local's zero value or a nil stored there), another value when known,
 * UNKNOWN_VAL when not.
 */
export function valueAt(st: State, at: Reached['at'], segs: string[]): Val {
  if (!at) return UNKNOWN_VAL;
  if ('word' in at) return segs.length ? UNKNOWN_VAL : at.word;
  let id = at.id;
  if (!segs.length) return objVal(id);
  for (const [i, seg] of segs.entries()) {
    const o = st.obj(id);
    if (!o || o.kind !== 'go' || o.opaque) return UNKNOWN_VAL;
    const v = st.env.get(fieldKey(id, seg)) ?? (seg.startsWith('#') ? st.env.get(fieldKey(id, '#*')) : undefined);
    // A field never written in local Go memory still has its zero value.
    if (v === undefined) return NIL;
    if (i === segs.length - 1) return v;
    const inner = objId(v);
    if (!inner) return UNKNOWN_VAL;
    id = inner;
  }
  return UNKNOWN_VAL;
}

/**
 * What a pointer argument reaches: `&x` (memory of x's type), the first word
 * `*(*unsafe.Pointer)(unsafe.Pointer(&x))`, or a pointer whose value is a
 * local variable or Go memory the analysis made.
 */
export function reachedBy(x: Engine, operand: Expr, v: Val, st: State): Reached | undefined {
  const e = unparen(operand);
  const vars = x.info.decl.vars;
  const addressOf = (y: Expr, how: 'memory' | 'word'): Reached | undefined => {
    y = unparen(y);
    const type = x.types.exprType(y);
    if (y.k === 'ident' && y.v >= 0) {
      const cur = st.env.get(varKey(y.v)) ?? UNKNOWN_VAL;
      const id = objId(cur);
      const at = id && x.isStructVar(y.v) && st.obj(id)?.kind === 'go' ? { id } : { word: cur };
      return { how, type, name: `the variable ${vars[y.v].name}`, at };
    }
    if (y.k === 'sel' || y.k === 'index' || y.k === 'composite') return { how, type, name: x.src(y) };
    return undefined;
  };
  if (e.k === 'unary' && e.op === '&') return addressOf(e.x, 'memory');
  if (e.k === 'unary' && e.op === '*') {
    const inner = stripConversions(e.x);
    if (inner.k === 'unary' && inner.op === '&') return addressOf(inner.x, 'word');
    return undefined;
  }
  if (v.startsWith('a:v')) {
    const n = Number(v.slice(3));
    const cur = st.env.get(varKey(n)) ?? UNKNOWN_VAL;
    return { how: 'memory', type: x.types.vars[n], name: `the variable ${vars[n].name}`, at: { word: cur } };
  }
  return undefined;
}

/** The reference cgo's check would reject in what the argument reaches, and how sure that is. */
export function referenceReached(x: Engine, r: Reached, st: State): ByTypeFinding | undefined {
  const under = (t: Ty) => x.types.underlyingOf(t);
  if (r.how === 'memory') {
    const ref = referenceIn(r.type, under);
    if (!ref) return undefined;
    const always = ref.kind === 'map' || ref.kind === 'chan';
    const v = valueAt(st, r.at, ref.segs);
    return { how: 'memory', kind: ref.kind, path: pathText(ref.segs), nil: v === NIL, confidence: always ? 'high' : v === NIL ? 'low' : 'medium' };
  }
  const word = firstWordOf(r.type, under);
  if (!word) return undefined;
  const u = under(word.type);
  const v = valueAt(st, r.at, word.segs);
  const path = pathText(word.segs);
  if (u.k === 'map' || u.k === 'chan' || u.k === 'func') {
    // Known to be a map or channel made here, or a closure: the runtime finds Go pointers behind it.
    const id = objId(v);
    const made = (id && st.obj(id)?.kind === 'go') || v.startsWith('fn:');
    return { how: 'word', kind: u.k, path, nil: v === NIL, confidence: made ? 'high' : v === NIL ? 'low' : 'medium' };
  }
  const behind = u.k === 'slice' ? u.elem : u.k === 'pointer' ? u.elem : undefined;
  if (!behind) return undefined;
  const ref = referenceIn(behind, under);
  if (!ref) return undefined;
  return { how: 'word', kind: ref.kind, path: path + (u.k === 'slice' ? '[i]' : '') + pathText(ref.segs), behind: u.k === 'slice' ? 'slice' : 'pointer', nil: v === NIL, confidence: v === NIL ? 'low' : 'medium' };
}
