// Calls: which function a call reaches, and what it does. Go functions of
// the package replay their summaries, closures are inlined, builtins and the
// unsafe package are interpreted here, and C calls go through the domain
// modules' hooks (what C is given, what it frees or keeps, what it returns).
import { argumentEffects } from '../knowledge/arguments.js';
import { isError, type Ty } from '../model/types.js';
import { parseGoInt } from '../syntax/golit.js';
import { stripConversions, unparen } from '../syntax/exprs.js';
import { NO_VAR, type Expr } from '../syntax/goast.js';
import type { Chooser, Frame, Operands } from './base.js';
import { Conditions } from './conditions.js';
import { isCMemory, isTracked } from './gomemory.js';
import type { CallExpr, CCall, SummaryCall, SummaryTarget } from './hooks.js';
import { HEAP_STRING, NIL, NONNIL, TRUE, FALSE, UNKNOWN_VAL, fieldKey, fieldValue, objId, objVal, statusOutputs, statusVal, varKey, type State, type Val } from './state.js';
import type { Summary } from './summary.js';

type Callee =
  | { k: 'conv'; to: Ty }
  | { k: 'builtin'; name: string }
  | { k: 'cgo'; name: string }
  | { k: 'unsafe'; name: string }
  | { k: 'runtime'; name: string }
  | { k: 'closure'; id: number }
  | { k: 'func'; key: string; display: string; recv?: Expr }
  | { k: 'pure' }
  /** A standard-library API a module interprets. */
  | { k: 'api'; api: string; modules: number[]; recv?: Expr; evalRecv: boolean }
  | { k: 'unknown'; recv?: Expr };

/** Standard library functions that return a new string on the Go heap. */
const HEAP_STRING_FUNCS = new Set([
  'strings.Repeat', 'strings.Join', 'strings.ToUpper', 'strings.ToLower', 'strings.ReplaceAll', 'strings.Replace',
  'strings.Title', 'fmt.Sprint', 'fmt.Sprintf', 'fmt.Sprintln', 'strconv.Quote', 'strconv.QuoteToASCII',
]);

/** Standard packages whose functions neither keep nor free what they are given. */
const PURE_PACKAGES = new Set(['fmt', 'strings', 'strconv', 'errors', 'bytes', 'unicode', 'unicode/utf8', 'math', 'sort', 'slices', 'log', 'time', 'testing']);

const BUILTINS = new Set(['new', 'make', 'append', 'len', 'cap', 'copy', 'delete', 'panic', 'recover', 'print', 'println', 'close', 'clear', 'min', 'max', 'complex', 'real', 'imag']);

export abstract class Calls extends Conditions {
  protected abstract runFrame(frame: Frame, start: State, onExit: (st: State, pos: number) => void): void;

  call(e: CallExpr, st: State, ch: Chooser, frame: Frame, want: number): Val[] {
    const f = unparen(e.fun);
    const callee = this.callee(f);
    let fnVal: Val | undefined;
    let recv: Val | undefined;
    const evalRecv = callee.k === 'func' || callee.k === 'unknown' || (callee.k === 'api' && callee.evalRecv);
    if (callee.k === 'closure') fnVal = `fn:${callee.id}`;
    else if (f.k === 'ident' && f.v >= 0) fnVal = st.env.get(varKey(f.v)) ?? UNKNOWN_VAL;
    else if (evalRecv && callee.recv) recv = this.eval(callee.recv, st, ch, frame);
    else if (callee.k === 'unknown' && f.k !== 'ident' && f.k !== 'sel') fnVal = this.eval(f, st, ch, frame);
    const args = e.args.map((a) => this.eval(a, st, ch, frame));
    for (const h of this.hooks) h.beforeCall?.(e, st);
    const resolved: Callee = fnVal?.startsWith('fn:') ? { k: 'closure', id: Number(fnVal.slice(3)) } : callee;
    const captured = resolved.k === 'cgo' ? this.captureOperands(e, args, st) : undefined;
    return this.applyCall(e, st, ch, frame, want, { args, fnVal, recv, captured }, e.pos, resolved);
  }

  private callee(f: Expr): Callee {
    if (this.types.isType(f)) return { k: 'conv', to: this.types.typeOfTypeExpr(f) };
    if (f.k === 'funclit') return { k: 'closure', id: f.fn.id };
    if (f.k === 'ident') {
      if (f.v >= 0) return { k: 'unknown' };
      const local = this.info.pkg.funcs.get(f.name);
      if (local) return { k: 'func', key: local.key, display: local.display };
      if (BUILTINS.has(f.name)) return { k: 'builtin', name: f.name };
      return { k: 'unknown' };
    }
    if (f.k === 'sel') {
      if (f.x.k === 'ident' && f.x.v === NO_VAR) {
        const imp = this.info.file.imports.get(f.x.name);
        // `C` is cgo's pseudo-package unless the file names another import C (`import C "fmt"`).
        if (f.x.name === 'C' && !imp) return { k: 'cgo', name: f.name };
        if (imp === 'unsafe') return { k: 'unsafe', name: f.name };
        if (imp === 'runtime') return { k: 'runtime', name: f.name };
        if (imp) {
          const key = `${imp}.${f.name}`;
          const api = this.apis.get(key);
          if (api) return { k: 'api', api: key, modules: api.modules, evalRecv: api.evalRecv };
          if (this.summaries.get(key)) return { k: 'func', key, display: `${f.x.name}.${f.name}` };
          if (PURE_PACKAGES.has(imp)) return { k: 'pure' };
          return { k: 'unknown' };
        }
      }
      const rt = this.types.exprType(f.x);
      const rtu = rt.k === 'pointer' ? rt.elem : rt;
      if (rtu.k === 'named' && rtu.pkg) {
        const api = this.apis.get(`${rtu.pkg}.${rtu.name}.${f.name}`) ?? this.apis.get(`${rtu.pkg}.${rtu.name}.*`);
        if (api) return { k: 'api', api: `${rtu.pkg}.${rtu.name}.${f.name}`, modules: api.modules, recv: f.x, evalRecv: api.evalRecv };
      }
      const m = this.resolver.method(rt, f.name);
      if (m) return { k: 'func', key: m.key, display: m.info?.display ?? f.name, recv: f.x };
      if (isError(rt) && f.name === 'Error') return { k: 'pure' };
      return { k: 'unknown', recv: f.x };
    }
    return { k: 'unknown' };
  }

  /** Applies a call whose operands are already evaluated (also used for deferred calls). */
  protected applyCall(e: CallExpr, st: State, ch: Chooser, frame: Frame, want: number, ops: Operands, pos: number, known?: Callee): Val[] {
    const { args, recv } = ops;
    let fnVal = ops.fnVal;
    const f = unparen(e.fun);
    const callee = known ?? (fnVal?.startsWith('fn:') ? ({ k: 'closure', id: Number(fnVal.slice(3)) } as Callee) : this.callee(f));
    const unknownResults = () => new Array(Math.max(want, 1)).fill(UNKNOWN_VAL);
    switch (callee.k) {
      case 'conv':
        if (e.args[0]) this.converted(callee.to, e.args[0], e.pos, e.end);
        return [this.convert(callee.to, args[0] ?? UNKNOWN_VAL)];
      case 'builtin':
        return this.builtin(callee.name, e, args, st, pos);
      case 'cgo': {
        const r = this.cCall(callee.name, e, args, st, pos, ops.captured ?? new Map());
        // `p, err := C.f()`: err is set when the call failed, and then the owned result is not there.
        const id = want === 2 && r.length === 1 ? objId(r[0]) : undefined;
        if (id && st.obj(id)?.kind === 'c' && st.obj(id)?.nullable) return [r[0], statusVal([id], [])];
        return r;
      }
      case 'unsafe':
        return this.unsafeCall(callee.name, e, args, st, pos);
      case 'runtime':
        if (callee.name === 'SetFinalizer' || callee.name === 'AddCleanup') args.forEach((a) => this.escape(st, a));
        return unknownResults();
      case 'closure': {
        if (fnVal === undefined && callee.k === 'closure') fnVal = `fn:${callee.id}`;
        const id = Number(fnVal!.slice(3));
        return this.inlineClosure(id, args, st, ch, frame, want);
      }
      case 'func': {
        const s = this.summaries.get(callee.key);
        if (!s) break;
        const r = this.applySummary(s, callee.display, e, args, recv, st, ch, pos, want);
        // `getError(ret)`: an error made from a C status is nil exactly when the status says success.
        const statuses = args.filter((a) => statusOutputs(a));
        return s.results.length === 1 && isError(s.results[0]) && statuses.length === 1 ? statuses : r;
      }
      case 'api': {
        let result: Val[] | undefined;
        for (const i of callee.modules) {
          const r = this.hooks[i].apiCall?.({ api: callee.api, e, args, recv, recvExpr: callee.recv, pos }, st);
          result ??= r;
        }
        return result ?? unknownResults();
      }
      case 'pure':
        if (f.k === 'sel' && f.x.k === 'ident' && (f.name === 'New' || f.name === 'Errorf')) return [NONNIL];
        if (f.k === 'sel' && f.x.k === 'ident' && HEAP_STRING_FUNCS.has(`${f.x.name}.${f.name}`)) return [HEAP_STRING];
        return unknownResults();
      case 'unknown':
        break;
    }
    // Code we cannot see: everything handed to it may be kept or freed there.
    if (fnVal) this.escape(st, fnVal);
    if (recv) this.escape(st, recv);
    args.forEach((a) => this.escape(st, a));
    return unknownResults();
  }

  private builtin(name: string, e: CallExpr, args: Val[], st: State, pos: number): Val[] {
    switch (name) {
      case 'new':
      case 'make': {
        const id = this.allocId(st, `g${pos}`);
        if (!id) return [NONNIL];
        const t = e.args[0] ? this.types.typeOfTypeExpr(e.args[0]) : undefined;
        const u = t ? this.types.underlyingOf(t) : undefined;
        // make([]T, n) with a constant n: n elements; new([N]T): the array.
        let bytes: number | undefined;
        const n = e.args[1]?.k === 'lit' && e.args[1].kind === 'int' ? parseGoInt(e.args[1].value) : undefined;
        if (name === 'make' && u?.k === 'slice' && n !== undefined) {
          const es = this.goSize(u.elem);
          if (es !== undefined) bytes = n * es;
        } else if (name === 'new' && t) bytes = this.goSize(t);
        st.setObj(id, { kind: 'go', state: 'live', what: name, site: pos, nullable: false, steps: [], goType: t, bytes });
        return [objVal(id)];
      }
      case 'append':
        return [this.append(e, args, st, pos)];
      case 'copy': {
        this.use(st, args[0] ?? NIL, 'written by copy', this.argName(e, 0), pos, e.end);
        this.use(st, args[1] ?? NIL, 'read by copy', this.argName(e, 1), pos, e.end);
        const dst = e.args[0] ? this.rootOf(e.args[0]) : undefined;
        if (dst && objId(args[1] ?? NIL) && isCMemory(st, this.peek(dst, st))) for (const h of this.hooks) h.onCopyIntoC?.(e, args[1], st, pos);
        return [UNKNOWN_VAL];
      }
      default:
        return [UNKNOWN_VAL];
    }
  }

  /**
   * append: Go memory. Grown from nil by a known number of elements, its length
   * is known; the Go pointers appended stay in it (cgo checks them), while C
   * memory and inputs appended leave our hands, as when stored by index.
   */
  private append(e: CallExpr, args: Val[], st: State, pos: number): Val {
    const base = args[0] ?? UNKNOWN_VAL;
    const added = args.slice(1);
    const baseId = objId(base);
    const baseObj = baseId ? st.obj(baseId) : undefined;
    if (baseObj && baseObj.kind !== 'go') {
      added.forEach((a) => this.escape(st, a));
      return base;
    }
    let id = baseObj ? baseId : undefined;
    if (!id && base === NIL) {
      id = this.allocId(st, `g${pos}`);
      const t = this.types.exprType(e);
      const es = t.k !== 'unknown' ? this.gmem.elemType(t) : undefined;
      const size = es && !e.ellipsis ? this.goSize(es) : undefined;
      if (id) st.setObj(id, { kind: 'go', state: 'live', what: 'append', site: pos, nullable: false, steps: [], goType: t.k !== 'unknown' ? t : undefined, bytes: size !== undefined ? size * added.length : undefined });
    } else if (id) st.updateObj(id, { bytes: undefined });
    if (!id) {
      added.forEach((a) => this.escape(st, a));
      return base === NIL ? NONNIL : base;
    }
    added.forEach((a, i) => {
      const keep = !e.ellipsis && !isTracked(st, a);
      if (!keep) this.escape(st, a);
      else if (a !== UNKNOWN_VAL) st.env.set(fieldKey(id!, base === NIL ? `#${i}` : '#*'), fieldValue(a));
    });
    return objVal(id);
  }

  private unsafeCall(name: string, e: CallExpr, args: Val[], st: State, pos: number): Val[] {
    switch (name) {
      case 'Slice': {
        this.use(st, args[0] ?? NIL, 'wrapped by unsafe.Slice', this.argName(e, 0), pos, e.end);
        const pt = e.args[0] ? this.types.underlyingOf(this.types.exprType(e.args[0])) : undefined;
        this.viewed({ how: 'unsafe.Slice', p: args[0] ?? NIL, elemType: pt?.k === 'pointer' ? pt.elem : undefined, n: e.args[1], pos, end: e.end }, st);
        return [this.derived(st, args[0] ?? NIL)];
      }
      case 'String':
        this.use(st, args[0] ?? NIL, 'read by unsafe.String', this.argName(e, 0), pos, e.end);
        return [NONNIL];
      case 'Add':
        this.viewed({ how: 'unsafe.Add', p: args[0] ?? NIL, elemType: undefined, n: e.args[1], pos, end: e.end, offset: true }, st);
        return [this.derived(st, args[0] ?? NIL)];
      case 'StringData':
      case 'SliceData':
        return [this.derived(st, args[0] ?? NIL)];
      default:
        return [UNKNOWN_VAL];
    }
  }

  /** A call of C.name: cgo's own helpers, then any C function through the modules' hooks. */
  private cCall(name: string, e: CallExpr, args: Val[], st: State, pos: number, captured: ReadonlyMap<string, unknown>): Val[] {
    for (const h of this.hooks) {
      const r = h.cgoBuiltin?.(name, e, args, st, pos);
      if (r) return r;
    }
    const a0 = args[0] ?? UNKNOWN_VAL;
    if (name === 'GoString' || name === 'GoStringN' || name === 'GoBytes') {
      this.use(st, a0, `read by C.${name}`, this.argName(e, 0), pos, e.end);
      // GoBytes and GoStringN read n bytes from p.
      if (name !== 'GoString') this.viewed({ how: `C.${name}`, p: a0, elemType: { k: 'basic', name: 'uint8' }, n: e.args[1], pos, end: e.end, reads: true }, st);
      // A copy on the Go heap.
      return [name === 'GoBytes' ? NONNIL : HEAP_STRING];
    }
    const kind = this.resolver.cName(name);
    if (kind === 'type' || kind === 'value') return [this.convert({ k: 'c', name }, a0)];
    const contract = this.info.pkg.contract(name);
    const cfn = this.info.pkg.cFunc(name);
    const targets = args.map((v) => {
      for (const h of this.hooks) {
        const t = h.callTarget?.(st, v);
        if (t !== undefined) return t;
      }
      return v;
    });
    const cc: CCall = { name, e, pos, args, targets, contract, cfn, effects: argumentEffects(name, contract, cfn, e.args, this.resolver), captured };
    for (const h of this.hooks) h.beforeCCall?.(cc, st);
    targets.forEach((v, i) => {
      if (this.hooks.some((h) => h.transferArg?.(cc, i, st))) return;
      this.use(st, v, `passed to C.${name}`, this.argName(e, i), pos, e.end);
      // C may write through pointers to Go variables and struct storage.
      if (v.startsWith('a:v')) this.havocVar(st, Number(v.slice(3)));
      else this.havocFields(st, v, `C.${name}`);
    });
    for (const h of this.hooks) h.afterCCall?.(cc, st);
    for (const h of this.hooks) {
      const r = h.cCallResult?.(cc, st);
      if (r) return r;
    }
    return [UNKNOWN_VAL];
  }

  /** Replays a callee's summary: one case is chosen per path. */
  private applySummary(s: Summary, display: string, e: CallExpr, args: Val[], recv: Val | undefined, st: State, ch: Chooser, pos: number, want: number): Val[] {
    if (s.cases.length === 0) {
      st.dead = true;
      return new Array(Math.max(want, 1)).fill(UNKNOWN_VAL);
    }
    // Only the ways of returning the arguments allow (a case needing p0 nil is not taken with &x).
    const feasible = s.cases.filter((k) => (k.needs ?? []).every((n) => this.mayBe(st, n.path === 'r' ? recv : s.variadic && Number(n.path.slice(1)) >= s.params.length - 1 ? undefined : args[Number(n.path.slice(1))], n.nil)));
    const pool = feasible.length ? feasible : s.cases;
    const c = pool[ch.choose(pool.length)];
    // The case taken says what the arguments were: `if p == nil { return nil }` taken means p was nil here.
    if (feasible.length) {
      for (const n of c.needs ?? []) {
        if (n.path === 'r') continue;
        const id = objId(args[Number(n.path.slice(1))] ?? UNKNOWN_VAL);
        const o = id ? st.obj(id) : undefined;
        if (!o || o.kind === 'go') continue;
        // A deferred call already holds it: it is released whatever it was, and the defer keeps what it captured.
        const deferred = st.defers.some((d) => d.args.includes(objVal(id!)) || d.recv === objVal(id!));
        if (n.nil && o.nullable && !deferred) this.becomesNil(st, id!);
        else if (!n.nil && o.nullable) st.updateObj(id!, { nullable: false });
      }
    }
    const argFor = (path: string): SummaryTarget | undefined => {
      const root = path.split('.')[0];
      if (root === 'r') {
        const x = (unparen(e.fun) as { x?: Expr }).x;
        return recv !== undefined && x ? { val: recv, name: this.nameOf(x), loc: x } : undefined;
      }
      const i = Number(root.slice(1));
      if (s.variadic && i >= s.params.length - 1) return undefined; // variadic tail: not tracked
      return args[i] !== undefined ? { val: args[i], name: this.argName(e, i), loc: e.args[i] } : undefined;
    };
    const resolvePath = (path: string): SummaryTarget | undefined => {
      let cur: SummaryTarget | undefined = argFor(path);
      if (!cur) return undefined;
      const fields = path.split('.').slice(1);
      for (const [n, field] of fields.entries()) {
        let id: string | undefined = this.addressedObject(st, cur.val);
        if (!id && cur.val === UNKNOWN_VAL && cur.loc) {
          // An unknown variable gets an identity once: effects and results of the call meet there.
          const loc = stripConversions(cur.loc);
          if (loc.k === 'ident' && loc.v >= 0) id = this.addressedObject(st, st.env.get(varKey(loc.v)) ?? UNKNOWN_VAL) ?? this.materialize(st, varKey(loc.v), `U${loc.v}`);
        }
        if (!id) return undefined;
        // A field the path goes through holds fields of its own: its storage (p0.opts.paths).
        const through: Val | undefined = n < fields.length - 1 ? this.inlineField(st, id, field, { k: 'unknown' }) : undefined;
        let val: Val = through ?? this.readField(st, id, field, { k: 'unknown' });
        if (val === UNKNOWN_VAL) {
          const fid = this.materialize(st, fieldKey(id, field), `${id}.${field}`);
          if (fid) val = objVal(fid);
        }
        cur = { val, name: `${cur.name}.${field}`, owner: id, field };
      }
      return cur;
    };
    const sc: SummaryCall = { display, e, pos };
    for (const eff of c.effects) {
      const target = resolvePath(eff.path);
      if (!target) continue;
      switch (eff.k) {
        case 'moved':
          this.escape(st, target.val, true, false);
          break;
        case 'used':
          this.use(st, target.val, `used by ${display}`, target.name, pos, e.end);
          break;
        case 'set':
          if (target.owner && target.field) {
            const key = fieldKey(target.owner, target.field);
            const old = st.env.get(key);
            if (old) this.escape(st, old, false);
            st.env.set(key, eff.value === 'nil' ? NIL : UNKNOWN_VAL);
          }
          break;
        default:
          for (const h of this.hooks) if (h.applyEffect?.(eff, target, sc, st)) break;
      }
    }
    const out: Val[] = c.results.map((r) => {
      switch (r.k) {
        case 'nil':
          return NIL;
        case 'nonnil':
          return NONNIL;
        case 'go': {
          const id = this.allocId(st, `r${pos}`);
          if (!id) return NONNIL;
          st.setObj(id, { kind: 'go', state: 'live', what: `Go memory returned by ${display}`, site: pos, nullable: false, steps: [], goType: r.goType, noPointers: r.noPointers, bytes: r.bytes });
          for (const f of r.fields ?? []) {
            const fv = f.what === 'string' ? HEAP_STRING : this.allocId(st, `${id}.${f.name}`);
            if (!fv) continue;
            if (fv !== HEAP_STRING) st.setObj(fv, { kind: 'go', state: 'live', what: f.what, site: pos, nullable: false, steps: [], goType: f.goType });
            st.env.set(fieldKey(id, f.name), fv === HEAP_STRING ? fv : objVal(fv));
          }
          return objVal(id);
        }
        case 'bool':
          return r.v ? TRUE : FALSE;
        case 'unknown':
          return UNKNOWN_VAL;
        case 'param':
          return resolvePath(r.path)?.val ?? UNKNOWN_VAL;
        case 'same':
          return UNKNOWN_VAL; // filled in below, from the result it repeats
        default:
          for (const h of this.hooks) {
            const v = h.applyResult?.(r, sc, st);
            if (v !== undefined) return v;
          }
          return UNKNOWN_VAL;
      }
    });
    c.results.forEach((r, i) => {
      if (r.k === 'same') out[i] = out[r.as] ?? UNKNOWN_VAL;
    });
    while (out.length < want) out.push(UNKNOWN_VAL);
    return out;
  }

  /** Whether a value may be nil (or, with nil false, may be non-nil). */
  private mayBe(st: State, v: Val | undefined, nil: boolean): boolean {
    if (v === undefined || v === UNKNOWN_VAL) return true;
    if (v === NIL) return nil;
    if (!nil) return true;
    if (v === NONNIL || v === HEAP_STRING || v === TRUE || v === FALSE || v.startsWith('a:') || v.startsWith('fn:')) return false;
    const o = objId(v) ? st.obj(objId(v)!) : undefined;
    return !o || (o.kind !== 'go' && o.nullable);
  }

  private inlineClosure(id: number, args: Val[], st: State, ch: Chooser, frame: Frame, want: number): Val[] {
    const fn = this.closures.get(id);
    if (!fn || frame.depth >= this.budget.maxInlineDepth) {
      this.escape(st, `fn:${id}`);
      args.forEach((a) => this.escape(st, a));
      return new Array(Math.max(want, 1)).fill(UNKNOWN_VAL);
    }
    const entry = st.clone();
    const outerDefers = entry.defers;
    entry.defers = [];
    fn.params.forEach((v, i) => entry.assign(varKey(v), args[i] ?? UNKNOWN_VAL));
    for (const v of fn.results) entry.assign(varKey(v), this.zeroValue(entry, v));
    const exits: State[] = [];
    this.runFrame({ fn, depth: frame.depth + 1 }, entry, (exit) => exits.push(exit));
    if (!exits.length) {
      st.dead = true;
      return new Array(Math.max(want, 1)).fill(UNKNOWN_VAL);
    }
    const chosen = exits[ch.choose(exits.length)];
    const results = fn.results.map((v) => chosen.env.get(varKey(v)) ?? UNKNOWN_VAL);
    // Continue the caller's path from the closure's exit state.
    st.env = chosen.env;
    st.objs = chosen.objs;
    st.facts = chosen.facts;
    st.trace = chosen.trace;
    st.defers = outerDefers;
    for (const v of [...fn.params, ...fn.results]) st.env.delete(varKey(v));
    while (results.length < want) results.push(UNKNOWN_VAL);
    return results;
  }
}
