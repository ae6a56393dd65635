// Expressions and assignments: the value each expression evaluates to, the
// Go memory literals and struct variables make, and what an assignment does
// to variables, fields and elements.
import { isStringType } from '../model/types.js';
import type { Ty } from '../model/types.js';
import { resolveCType } from '../model/ctypes.js';
import { unparen } from '../syntax/exprs.js';
import { parseGoInt } from '../syntax/golit.js';
import { BLANK_VAR, NO_VAR, type Expr } from '../syntax/goast.js';
import type { Instr } from './cfg.js';
import { isGoPointer, isTracked } from './gomemory.js';
import type { CallExpr, MemoryView, StoreIntoC } from './hooks.js';
import { Memory } from './memory.js';
import type { Chooser, Frame } from './base.js';
import {
  FALSE,
  HEAP_STRING,
  NIL,
  NONNIL,
  TRUE,
  UNKNOWN_VAL,
  fieldKey,
  fieldValue,
  nilEquality,
  objId,
  objVal,
  varKey,
  type Obj,
  type State,
  type Val,
} from './state.js';

export abstract class Expressions extends Memory {
  abstract call(e: CallExpr, st: State, ch: Chooser, frame: Frame, want: number): Val[];
  protected abstract noteSum(l: Expr, r: Expr, st: State): void;

  protected eval(e: Expr, st: State, ch: Chooser, frame: Frame): Val {
    switch (e.k) {
      case 'ident':
        if (e.v >= 0) {
          const cur = st.env.get(varKey(e.v)) ?? UNKNOWN_VAL;
          return !objId(cur) && cur !== NIL && this.isStructVar(e.v) ? this.storage(st, e.v, true) : cur;
        }
        if (e.v === NO_VAR) {
          if (e.name === 'true') return TRUE;
          if (e.name === 'false') return FALSE;
          return this.globalStorage(st, e.name);
        }
        return UNKNOWN_VAL;
      case 'nil':
        return NIL;
      case 'bool':
        return e.value ? TRUE : FALSE;
      case 'lit':
        return e.kind === 'string' ? NONNIL : UNKNOWN_VAL;
      case 'iota':
      case 'type':
      case 'bad':
        return UNKNOWN_VAL;
      case 'paren':
        return this.eval(e.x, st, ch, frame);
      case 'funclit':
        return `fn:${e.fn.id}`;
      case 'conv': {
        const to = this.types.resolve(e.type);
        this.converted(to, e.x, e.pos, e.end);
        return this.convert(to, this.eval(e.x, st, ch, frame));
      }
      case 'sel': {
        if (this.isPackageRef(e.x)) return UNKNOWN_VAL;
        const base = this.eval(e.x, st, ch, frame);
        const id = this.addressedObject(st, base);
        if (!id) return UNKNOWN_VAL;
        const o = st.obj(id)!;
        if (o.kind === 'c' || (o.kind === 'sym' && this.isCPointer(e.x))) this.use(st, base, `field ${e.name} read`, this.nameOf(e.x), e.pos, e.end);
        // A field read through a Go pointer would have panicked on nil: past it, the pointer is not nil.
        const xt = this.types.exprType(e.x);
        if (o.nullable && objId(base) === id && xt.k === 'pointer' && this.resolver.fieldType(xt, e.name)) st.updateObj(id, { nullable: false });
        const ft = this.types.exprType(e);
        return (this.gmem.isInline(ft) && this.inlineField(st, id, e.name, ft)) || this.readField(st, id, e.name, ft);
      }
      case 'unary': {
        const x = unparen(e.x);
        if (e.op === '&') {
          if (x.k === 'ident' && x.v >= 0) {
            if (this.isStructVar(x.v)) return this.eval(x, st, ch, frame);
            const cur = st.env.get(varKey(x.v)) ?? UNKNOWN_VAL;
            return cur.startsWith('a:') ? cur : `a:${varKey(x.v)}`;
          }
          if (x.k === 'composite') {
            const v = this.eval(x, st, ch, frame);
            const id = objId(v);
            if (id) st.updateObj(id, { inline: false });
            return v;
          }
          if (x.k === 'index') {
            const base = this.eval(x.x, st, ch, frame);
            x.index.forEach((i) => this.eval(i, st, ch, frame));
            return this.derived(st, base);
          }
          if (x.k === 'sel') {
            if (this.isPackageRef(x.x)) return NONNIL;
            const base = this.eval(x.x, st, ch, frame);
            const id = this.addressedObject(st, base);
            if (!id) return NONNIL;
            // &s.opts of a struct field: that field's own storage, so that &s.a and &s.b stay apart.
            const ft = this.types.exprType(x);
            return (this.mayBeInline(ft) && this.inlineField(st, id, x.name, ft)) || base;
          }
          this.eval(x, st, ch, frame);
          return NONNIL;
        }
        const v = this.eval(e.x, st, ch, frame);
        if (e.op === '*') {
          this.use(st, v, 'dereferenced', this.nameOf(e.x), e.pos, e.end);
          if (v.startsWith('a:v')) return st.env.get(v.slice(2)) ?? UNKNOWN_VAL;
          // *p of Go memory: the memory's value, whose contents are followed through the object.
          const id = objId(v);
          const o = id ? st.obj(id) : undefined;
          if (o?.kind !== 'go') return UNKNOWN_VAL;
          // A struct or array read as one word (*(*unsafe.Pointer)(unsafe.Pointer(&s))): its first word.
          const rt = this.types.exprType(e);
          if (o.inline && o.goType && rt.k !== 'unknown' && !this.gmem.isInline(rt)) return this.firstWord(st, id!);
          return v;
        }
        if (e.op === '!') return v === TRUE ? FALSE : v === FALSE ? TRUE : UNKNOWN_VAL;
        return UNKNOWN_VAL;
      }
      case 'binary': {
        const a = this.eval(e.x, st, ch, frame);
        const b = this.eval(e.y, st, ch, frame);
        if (e.op === '==' || e.op === '!=') {
          const eq = nilEquality(a, b);
          if (eq !== undefined) return (eq === (e.op === '==')) ? TRUE : FALSE;
        }
        if (e.op === '&&') return a === FALSE || b === FALSE ? FALSE : a === TRUE && b === TRUE ? TRUE : UNKNOWN_VAL;
        if (e.op === '||') return a === TRUE || b === TRUE ? TRUE : a === FALSE && b === FALSE ? FALSE : UNKNOWN_VAL;
        // Concatenating strings (not two constants) builds a string on the heap.
        if (e.op === '+' && isStringType(this.types.exprType(e)) && !(unparen(e.x).k === 'lit' && unparen(e.y).k === 'lit')) return HEAP_STRING;
        // uintptr(p) + k: an address k bytes into what p points to.
        if (e.op === '+' && objId(a) && this.types.underlyingOf(this.types.exprType(e)).k === 'basic') this.viewed({ how: `${this.src(e.x)} + ${this.src(e.y)}`, p: a, elemType: undefined, n: e.y, pos: e.pos, end: e.end, offset: true }, st);
        return UNKNOWN_VAL;
      }
      case 'index': {
        const base = this.eval(e.x, st, ch, frame);
        e.index.forEach((i) => this.eval(i, st, ch, frame));
        this.use(st, base, 'indexed', this.nameOf(e.x), e.pos, e.end);
        return UNKNOWN_VAL;
      }
      case 'slice': {
        const base = this.eval(e.x, st, ch, frame);
        for (const p of [e.lo, e.hi, e.max]) if (p) this.eval(p, st, ch, frame);
        this.use(st, base, 'sliced', this.nameOf(e.x), e.pos, e.end);
        // (*[1 << 30]T)(p)[:n:n] over C memory.
        const xt = this.types.underlyingOf(this.types.exprType(e.x));
        const arr = xt.k === 'pointer' ? this.types.underlyingOf(xt.elem) : undefined;
        if (arr?.k === 'array') this.viewed({ how: 'slicing a *[N]T conversion', p: base, elemType: arr.elem, n: e.max ?? e.hi, pos: e.pos, end: e.end }, st);
        return this.derived(st, base);
      }
      case 'assert':
        return this.eval(e.x, st, ch, frame);
      case 'composite':
        return this.composite(e, st, ch, frame);
      case 'call': {
        const vals = this.call(e, st, ch, frame, 1);
        return vals[0] ?? UNKNOWN_VAL;
      }
    }
  }

  /** The first word of a struct or array in Go memory: its first field or element, inside inline fields. */
  private firstWord(st: State, id: string): Val {
    for (let depth = 0; depth < 8; depth++) {
      const t = this.types.underlyingOf(st.obj(id)?.goType ?? { k: 'unknown' });
      const first = t.k === 'struct' ? t.fields[0] : t.k === 'array' && t.len ? { name: '#0', type: t.elem } : undefined;
      if (!first) return UNKNOWN_VAL;
      const inner = this.gmem.isInline(first.type) ? objId(this.inlineField(st, id, first.name, first.type) ?? '') : undefined;
      if (!inner) return this.readField(st, id, first.name, first.type);
      id = inner;
    }
    return UNKNOWN_VAL;
  }

  protected converted(to: Ty, x: Expr, pos: number, end: number): void {
    for (const h of this.hooks) h.onConversion?.(to, x, pos, end);
  }

  protected viewed(view: MemoryView, st: State): void {
    for (const h of this.hooks) h.onView?.(view, st);
  }

  private composite(e: Extract<Expr, { k: 'composite' }>, st: State, ch: Chooser, frame: Frame, outer?: Ty): Val {
    const declared = e.type ? this.types.resolve(e.type) : outer;
    const t = declared ? this.types.underlyingOf(declared) : undefined;
    const isStruct = !!t && this.resolver.isStruct(t);
    const isList = t?.k === 'array' || t?.k === 'slice';
    const id = this.allocId(st, `g${e.pos}`);
    const names = isStruct && t ? this.structFieldNames(t) : [];
    // Elided element types (`[]T{{...}}`) come from the enclosing literal.
    const elemType = (i: number, key?: Expr): Ty | undefined => {
      if (isList && t && (t.k === 'array' || t.k === 'slice')) return t.elem;
      const name = key?.k === 'ident' ? key.name : names[i];
      return declared && name ? this.gmem.fieldType(declared, name) : undefined;
    };
    const vals = e.elts.map((el, i) => (el.value.k === 'composite' && !el.value.type ? this.composite(el.value, st, ch, frame, elemType(i, el.key)) : this.eval(el.value, st, ch, frame)));
    if (!id) {
      vals.forEach((v) => this.escape(st, v));
      return NONNIL;
    }
    let bytes: number | undefined;
    if (t?.k === 'array' && t.len !== undefined) bytes = this.goSize(t);
    else if (t?.k === 'slice') {
      // A slice literal has as many elements as its highest index says.
      const es = this.goSize(t.elem);
      let next = 0;
      let len: number | undefined = 0;
      for (const el of e.elts) {
        const k = el.key ? (el.key.k === 'lit' && el.key.kind === 'int' ? parseGoInt(el.key.value) : undefined) : next;
        if (k === undefined || len === undefined) len = undefined;
        else {
          next = k + 1;
          len = Math.max(len, next);
        }
      }
      if (es !== undefined && len !== undefined) bytes = es * len;
    }
    st.setObj(id, {
      kind: 'go',
      state: 'live',
      what: 'composite literal',
      site: e.pos,
      nullable: false,
      steps: [],
      goType: declared,
      // A struct or array value, C's included even when its fields are unknown (C has no reference types).
      inline: isStruct || t?.k === 'array' || t?.k === 'c' || undefined,
      bytes,
    });
    e.elts.forEach((el, i) => {
      let field: string | undefined;
      if (isStruct && el.key?.k === 'ident') field = el.key.name;
      else if (isStruct && !el.key) field = names[i];
      else if (isList) field = el.key ? (el.key.k === 'lit' && el.key.kind === 'int' ? `#${el.key.value}` : '#*') : `#${i}`;
      if (field) st.env.set(fieldKey(id, field), fieldValue(vals[i]));
      else this.escape(st, vals[i]);
    });
    return objVal(id);
  }

  /** Field names in order, for positional struct literals (Go structs and C structs). */
  private structFieldNames(t: Ty): string[] {
    if (t.k === 'struct') return t.fields.map((f) => f.name);
    if (t.k === 'c') {
      const ct = this.info.pkg.cType(t.name);
      const r = ct ? resolveCType(ct, this.info.pkg.c) : undefined;
      if (r?.k === 'struct') return (r.fields ?? []).map((f) => f.name);
    }
    return [];
  }

  /** Resolves the object behind an expression used as a struct base (for field stores). */
  protected baseObject(x: Expr, st: State, ch: Chooser, frame: Frame, materialize: boolean): string | undefined {
    x = unparen(x);
    if (x.k === 'ident' && x.v >= 0) {
      const key = varKey(x.v);
      const cur = this.eval(x, st, ch, frame);
      const id = objId(cur);
      if (id && st.obj(id)) return id;
      if (materialize && cur === UNKNOWN_VAL) return this.materialize(st, key, `U${x.v}`);
      return undefined;
    }
    const v = this.eval(x, st, ch, frame);
    return this.addressedObject(st, v);
  }

  /** Evaluates an expression list against `want` targets (a single call may yield a tuple). */
  protected evalList(list: Expr[], want: number, st: State, ch: Chooser, frame: Frame): Val[] {
    if (list.length === 1 && want > 1) {
      const e = unparen(list[0]);
      if (e.k === 'call') return this.call(e, st, ch, frame, want);
      const v = this.eval(e, st, ch, frame);
      // v, ok := m[k] / x.(T) / <-ch
      return [v, UNKNOWN_VAL];
    }
    return list.map((e) => this.eval(e, st, ch, frame));
  }

  // ---------------------------------------------------------------- assignments

  protected assign(instr: Extract<Instr, { k: 'assign' }>, st: State, ch: Chooser, frame: Frame): void {
    const { lhs, rhs, op } = instr;
    if (op !== '=' && op !== ':=' && op !== 'var') {
      // x op= y: the result is a number or a string, never a tracked pointer.
      this.eval(rhs[0], st, ch, frame);
      this.assignTo(lhs[0], UNKNOWN_VAL, st, ch, frame, instr.pos);
      return;
    }
    let vals: Val[];
    if (rhs.length === 0) {
      vals = lhs.map((l) => {
        if (l.k !== 'ident' || l.v < 0) return UNKNOWN_VAL;
        st.env.delete(varKey(l.v)); // a fresh variable, not the previous iteration's storage
        return this.zeroValue(st, l.v);
      });
    } else {
      vals = this.evalList(rhs, lhs.length, st, ch, frame);
    }
    lhs.forEach((l, i) => {
      // `x := ...` inside a loop declares a fresh x each iteration: the old one went out of scope.
      if (instr.define && l.k === 'ident' && l.v >= 0 && this.info.decl.vars[l.v].pos === l.pos) this.setVar(st, l.v, vals[i] ?? UNKNOWN_VAL, instr.pos, l, true);
      else this.assignTo(l, vals[i] ?? UNKNOWN_VAL, st, ch, frame, instr.pos, rhs.length === lhs.length ? rhs[i] : undefined);
    });
    if (lhs.length === 1 && rhs.length === 1) this.noteSum(lhs[0], rhs[0], st);
  }

  /** @param src the assigned expression, when known (a struct or array value copied whole, `*p`, is followed into) */
  protected assignTo(l: Expr, v: Val, st: State, ch: Chooser, frame: Frame, pos: number, src?: Expr): void {
    l = unparen(l);
    switch (l.k) {
      case 'ident':
        if (l.v === BLANK_VAR) return;
        if (l.v >= 0) {
          this.setVar(st, l.v, v, pos, l);
          return;
        }
        // A package-level variable: ownership leaves the function.
        this.escape(st, v);
        return;
      case 'sel': {
        const base = this.baseObject(l.x, st, ch, frame, true);
        const owner = base ? st.obj(base) : undefined;
        this.storedIntoC(owner, { value: v, target: l, dest: `${this.nameOf(l.x)}.${l.name}`, pos, how: 'assigned', src }, st);
        // Fields are followed in Go storage and in the caller's structs (parameters);
        // a pointer stored into C memory or memory of unknown origin belongs to that memory now.
        if (!base || !owner || owner.kind === 'c' || (owner.kind === 'sym' && !owner.origin)) {
          this.escape(st, v);
          return;
        }
        const key = fieldKey(base, l.name);
        const old = st.env.get(key);
        st.env.set(key, fieldValue(v));
        // A pointer overwritten in a struct field may have other owners: treat it as moved.
        if (old && old !== v) this.escape(st, old, false);
        return;
      }
      case 'unary':
        if (l.op === '*') {
          const p = this.eval(l.x, st, ch, frame);
          if (p.startsWith('a:v')) {
            this.setVar(st, Number(p.slice(3)), v, pos);
            return;
          }
          this.use(st, p, 'written through', this.nameOf(l.x), pos, l.end);
          this.storedIntoC(st.obj(objId(p) ?? ''), { value: v, target: l, dest: this.src(l), pos, how: 'assigned', src }, st);
        }
        this.escape(st, v);
        return;
      case 'index': {
        const base = this.eval(l.x, st, ch, frame);
        const keys = l.index.map((i) => this.eval(i, st, ch, frame));
        // A key stored into a map is kept by the map (a registry of handles: `handles[p] = v`).
        if (this.types.underlyingOf(this.types.exprType(l.x)).k === 'map') keys.forEach((k) => this.escape(st, k));
        this.use(st, base, 'written through', this.nameOf(l.x), pos, l.end);
        this.storedIntoC(st.obj(objId(base) ?? ''), { value: v, target: l, dest: this.src(l), pos, how: 'assigned', src }, st);
        const id = objId(base);
        const o = id ? st.obj(id) : undefined;
        // Elements of Go slices and arrays are followed for Go pointers; C memory put there has left our hands.
        if (id && o?.kind === 'go' && !o.opaque && !isTracked(st, v)) {
          const idx = l.index[0];
          const key = fieldKey(id, idx?.k === 'lit' && idx.kind === 'int' ? `#${idx.value}` : '#*');
          const prev = st.env.get(key);
          // `a[i] = *p`: a copy of p's memory, holding a Go pointer only where that memory does.
          const s = src && unparen(src);
          const copied = s?.k === 'unary' && s.op === '*' ? this.copiedValue(st, v) : v;
          if (!(key.endsWith('#*') && prev && isGoPointer(st, prev))) st.env.set(key, fieldValue(copied));
          return;
        }
        this.escape(st, v);
        return;
      }
      default:
        this.eval(l, st, ch, frame);
        this.escape(st, v);
    }
  }

  /** The value `*p` copies out of Go memory: none of its own when that memory holds no Go pointer we know of. */
  private copiedValue(st: State, v: Val): Val {
    const id = objId(v);
    if (!id || st.obj(id)?.kind !== 'go') return v;
    for (const [k, fv] of st.env) if (k.startsWith(`${id}|`) && isGoPointer(st, fv)) return v;
    return UNKNOWN_VAL;
  }

  /** A store into memory `dest` is: told to the modules when that is C memory, or what C passed an //export'ed function. */
  private storedIntoC(dest: Obj | undefined, store: Omit<StoreIntoC, 'fromC'>, st: State): void {
    const fromC = dest?.kind === 'c' ? undefined : this.fromC(dest);
    if (dest?.kind !== 'c' && !fromC) return;
    for (const h of this.hooks) h.onStoreIntoC?.({ ...store, ...(fromC ? { fromC } : {}) }, st);
  }
}

