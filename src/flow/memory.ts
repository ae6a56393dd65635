// The interpreter's memory operations: reading and naming values without
// effects, uses, escapes to code the analysis cannot see, assignments to
// variables, and collecting what no path can reach any more. Whether a use
// or a loss is a bug is the domain modules' business (hooks onUse, onLost).
import type { Ty } from '../model/types.js';
import { unparen } from '../syntax/exprs.js';
import { NO_VAR, type Expr } from '../syntax/goast.js';
import { FlowBase } from './base.js';
import {
  HEAP_STRING,
  NIL,
  NONNIL,
  UNKNOWN_VAL,
  attachedKey,
  fieldKey,
  objId,
  objVal,
  reachable,
  varKey,
  type State,
  type Val,
} from './state.js';
import { mayHoldPointer } from '../model/types.js';
import { resolveCType } from '../model/ctypes.js';

export abstract class Memory extends FlowBase {
  /**
   * Ownership leaves our view: whatever `v` reaches is no longer ours to free.
   * Code we cannot see may also rewrite the fields of Go storage it reaches
   * (`rewrite`); a function whose summary we replay did not, beyond what its
   * summary says, so what is known of the fields stays.
   */
  escape(st: State, v: Val, deep = true, rewrite = true): void {
    const seen = new Set<string>();
    const work: Val[] = [v];
    while (work.length) {
      const cur = work.pop()!;
      if (seen.has(cur)) continue;
      seen.add(cur);
      if (cur.startsWith('fn:')) {
        // A closure that escapes takes the variables it captures along.
        for (const cv of this.capturedBy(Number(cur.slice(3)))) {
          const val = st.env.get(varKey(cv));
          if (val) work.push(val);
        }
        continue;
      }
      if (cur.startsWith('a:v')) {
        const n = Number(cur.slice(3));
        for (const h of this.hooks) if (h.escapesWithAddress) work.push(...h.escapesWithAddress(st, n));
        this.havocVar(st, n);
        continue;
      }
      const id = objId(cur);
      const o = id ? st.obj(id) : undefined;
      if (!id || !o) continue;
      if ((o.kind === 'c' || o.kind === 'sym') && o.state === 'live') st.setObj(id, { ...o, state: 'moved' });
      if (!deep) continue;
      // Go storage, an input, or a C struct holding memory Go stored there: the unknown code may
      // read and rewrite its fields (the Arrow C data interface's stream->release(stream) frees private_data).
      const prefix = `${id}|`;
      for (const [k, fv] of [...st.env]) {
        if (!k.startsWith(prefix)) continue;
        work.push(fv);
        if (rewrite && o.kind !== 'c') st.env.delete(k);
      }
      if (rewrite && o.kind !== 'c') st.setObj(id, { ...st.obj(id)!, opaque: true });
    }
  }

  /** Code we cannot see may have written this variable. */
  protected havocVar(st: State, v: number): void {
    const key = varKey(v);
    const old = st.env.get(key);
    this.dropFacts(st, v);
    if (old === undefined) return;
    const id = objId(old);
    const o = id ? st.obj(id) : undefined;
    if (o?.kind === 'go') {
      this.havocFields(st, old);
      return;
    }
    if (old.startsWith('a:')) return;
    if (o && (o.kind === 'c' || o.kind === 'sym') && o.state === 'live') st.setObj(id!, { ...o, state: 'moved' });
    st.assign(key, UNKNOWN_VAL);
  }

  /**
   * Code we cannot see was given Go struct storage: it may rewrite the fields.
   * Given to C function `lentTo` (an options struct, mostly read), the C memory
   * the fields hold stays the program's, marked lent: C may have kept it.
   */
  protected havocFields(st: State, v: Val, lentTo?: string, seen = new Set<string>()): void {
    const id = objId(v) ?? (v.startsWith('a:v') ? objId(st.env.get(v.slice(2)) ?? '') : undefined);
    const o = id ? st.obj(id) : undefined;
    if (!id || o?.kind !== 'go' || seen.has(id)) return;
    seen.add(id);
    for (const [k, fv] of [...st.env]) {
      if (!k.startsWith(`${id}|`) || k === attachedKey(id)) continue;
      const fid = objId(fv);
      const fo = fid ? st.obj(fid) : undefined;
      // A struct field stored inline: C may rewrite its fields too.
      if (fo?.kind === 'go' && fo.inline) this.havocFields(st, fv, lentTo, seen);
      if (lentTo && fo?.kind === 'c' && fo.state === 'live') {
        if (!fo.lentTo) st.setObj(fid!, { ...fo, lentTo });
        continue;
      }
      // The field may be overwritten; the memory it held may still be referenced elsewhere.
      if (fo && fo.state === 'live' && (fo.kind === 'c' || fo.kind === 'sym')) {
        const elsewhere = [...st.env].some(([k2, v2]) => k2 !== k && v2 === fv);
        if (!elsewhere) st.setObj(fid!, { ...fo, state: 'moved' });
      }
    }
  }

  use(st: State, v: Val, how: string, name: string, pos: number, end: number): void {
    const id = objId(v);
    if (!id) return;
    const o = st.obj(id);
    if (!o) return;
    for (const h of this.hooks) h.onUse?.(st, id, o, how, name, pos, end);
    if (o.state === 'freed' || o.state === 'consumed') return;
    // What a function does with its inputs goes into its summary.
    if (o.kind === 'sym' && o.origin && !o.used) st.setObj(id, { ...o, used: true });
  }

  /** Assigns a local variable; an owned object it held and nothing else reaches is lost. */
  protected setVar(st: State, v: number, val: Val, pos: number, target?: Expr, declares = false): void {
    const key = varKey(v);
    const old = st.env.get(key);
    st.assign(key, val);
    this.dropFacts(st, v);
    const id = old ? objId(old) : undefined;
    if (!id || old === val) return;
    const o = st.obj(id);
    if (!o || !this.owned(o)) return;
    if (reachable(st).has(id)) return;
    this.lost(st, id, o, declares ? 'scope' : 'lost', pos, target ? this.nameOf(target) : this.info.decl.vars[v].name);
    st.objs.delete(id);
  }

  protected dropFacts(st: State, v: number): void {
    if (!st.facts.size) return;
    const tag = `v${v},`;
    for (const k of [...st.facts.keys()]) if (k.includes(tag)) st.facts.delete(k);
  }

  /** Unreachable objects after an instruction: owned ones among them are lost. */
  protected collect(st: State, pos: number): void {
    if (st.objs.size === 0) return;
    const live = reachable(st);
    let dropped = false;
    for (const [id, o] of st.objs) {
      if (live.has(id)) continue;
      if (o.kind === 'sym' && o.origin) continue; // inputs stay for the summary
      if (this.owned(o)) this.lost(st, id, o, 'dropped', pos);
      st.objs.delete(id);
      dropped = true;
    }
    if (dropped) {
      for (const k of [...st.env.keys()]) {
        const bar = k.indexOf('|');
        if (bar >= 0 && !st.objs.has(k.slice(0, bar))) st.env.delete(k);
      }
    }
  }

  // ---------------------------------------------------------------- objects and fields

  /** The object whose fields `x.f` addresses, for a base value. */
  protected addressedObject(st: State, base: Val): string | undefined {
    const id = objId(base);
    return id && st.obj(id) ? id : undefined;
  }

  /**
   * Field `field` of object `id` as an object of its own, when it is a struct or
   * array stored inline: its fields are followed at their full path (s.opts.paths),
   * and the summary of a function given `&p.opts` speaks of p0.opts. Undefined when
   * the field holds something else already, or lives in C memory.
   */
  protected inlineField(st: State, id: string, field: string, t: Ty): Val | undefined {
    const key = fieldKey(id, field);
    const cur = st.env.get(key);
    const o = st.obj(id)!;
    if (cur !== undefined) {
      const cid = objId(cur);
      const c = cid ? st.obj(cid) : undefined;
      if (c?.inline) return cur;
      // A field first read through a summary or as a value, of a type not known here: its storage.
      if (c?.kind === 'sym' && o.origin && c.origin === `${o.origin}.${field}`) {
        st.setObj(cid!, { ...c, inline: true, nullable: false });
        return cur;
      }
      return undefined;
    }
    if (o.kind === 'c' || (o.kind === 'sym' && !o.origin)) return undefined;
    const sid = this.allocId(st, `${id}.${field}`);
    if (!sid) return undefined;
    const origin = o.origin ? `${o.origin}.${field}` : undefined;
    st.setObj(sid, { kind: o.kind, state: 'live', what: origin ?? o.what, site: o.site, nullable: false, steps: [], origin, goType: t, inline: true, opaque: o.opaque, bytes: this.goSize(t) });
    st.env.set(key, objVal(sid));
    return objVal(sid);
  }

  /** A struct or array type, or one not known (a C type whose header could not be read): its value may live inline. */
  protected mayBeInline(t: Ty): boolean {
    const u = this.types.underlyingOf(t);
    if (u.k === 'unknown' || this.gmem.isInline(t)) return true;
    if (u.k !== 'c') return false;
    const ct = this.info.pkg.cType(u.name);
    return !ct || resolveCType(ct, this.info.pkg.c).k === 'struct' || resolveCType(ct, this.info.pkg.c).k === 'named';
  }

  protected readField(st: State, id: string, field: string, t: Ty): Val {
    const key = fieldKey(id, field);
    const cur = st.env.get(key);
    if (cur !== undefined) return cur;
    const o = st.obj(id)!;
    if (o.kind === 'go') return o.opaque ? UNKNOWN_VAL : this.zeroOf(t);
    if (o.kind === 'sym' && o.origin && !o.opaque && o.origin.split('.').length <= 2 && (t.k === 'unknown' || mayHoldPointer(t))) {
      const fid = this.allocId(st, `${id}.${field}`);
      if (!fid) return UNKNOWN_VAL;
      st.setObj(fid, { kind: 'sym', state: 'live', what: `${o.origin}.${field}`, site: -1, nullable: true, steps: [], origin: `${o.origin}.${field}` });
      st.env.set(key, objVal(fid));
      return objVal(fid);
    }
    return UNKNOWN_VAL;
  }

  materialize(st: State, key: string, base: string): string | undefined {
    const id = this.allocId(st, base);
    if (!id) return undefined;
    st.setObj(id, { kind: 'sym', state: 'live', what: 'value', site: -1, nullable: true, steps: [] });
    st.env.set(key, objVal(id));
    return id;
  }

  peek(e: Expr, st: State): Val {
    e = unparen(e);
    switch (e.k) {
      case 'ident':
        if (e.v >= 0) return st.env.get(varKey(e.v)) ?? UNKNOWN_VAL;
        return e.v === NO_VAR ? this.globalStorage(st, e.name) : UNKNOWN_VAL;
      case 'sel': {
        const b = objId(this.peek(e.x, st));
        return b ? (st.env.get(fieldKey(b, e.name)) ?? UNKNOWN_VAL) : UNKNOWN_VAL;
      }
      case 'index': {
        const b = objId(this.peek(e.x, st));
        const i = e.index[0];
        return b && i?.k === 'lit' && i.kind === 'int' ? (st.env.get(fieldKey(b, `#${i.value}`)) ?? UNKNOWN_VAL) : UNKNOWN_VAL;
      }
      case 'slice':
      case 'conv':
        return this.peek(e.x, st);
      default:
        return UNKNOWN_VAL;
    }
  }

  /** The variable (or call) a selector, index or slice expression starts from. */
  protected rootOf(e: Expr): Expr {
    for (;;) {
      e = unparen(e);
      if (e.k === 'sel' || e.k === 'index' || e.k === 'slice' || e.k === 'conv') e = e.x;
      else return e;
    }
  }

  /**
   * A package-level array or struct variable, as Go memory: the runtime treats
   * pointers to it as Go pointers only when its type holds pointers.
   */
  protected globalStorage(st: State, name: string): Val {
    const g = this.info.pkg.globals.get(name);
    if (!g || g.decl.isConst) return UNKNOWN_VAL;
    const te = g.decl.type ?? g.decl.literalType;
    const t = te ? this.resolver.resolveType(te, g.file) : undefined;
    if (!t || !this.gmem.isInline(t)) return UNKNOWN_VAL;
    const id = `G:${name}`;
    if (!st.obj(id)) {
      st.setObj(id, { kind: 'go', state: 'live', what: 'global', site: -1, nullable: false, steps: [], goType: t, global: name, noPointers: !this.goHasPointers(t) || undefined, bytes: this.goSize(t) });
    }
    return objVal(id);
  }

  /** Pointer arithmetic or slicing keeps pointing into the same allocation. */
  protected derived(st: State, base: Val): Val {
    const id = objId(base);
    if (id && st.obj(id)) return base;
    if (base.startsWith('a:')) return base;
    return base === NIL ? NIL : UNKNOWN_VAL;
  }

  protected convert(to: Ty, v: Val): Val {
    const u = this.types.underlyingOf(to);
    if (u.k === 'basic') {
      // string(b) of a byte slice copies it to the heap.
      if (u.name === 'string') return v === HEAP_STRING || objId(v) ? HEAP_STRING : NONNIL;
      // A pointer hidden in a uintptr is still the same memory (it may be converted back and freed).
      if (u.name === 'uintptr' && (objId(v) || v.startsWith('a:'))) return v;
      return UNKNOWN_VAL;
    }
    if (u.k === 'c' && u.name === 'uintptr_t' && (objId(v) || v.startsWith('a:'))) return v;
    if (u.k === 'slice' && v !== NIL && !objId(v)) return NONNIL;
    return v;
  }
}
