// Go memory passed to C, under cgo's pointer rules: Go memory holding
// unpinned Go pointers given to C, C keeping a Go pointer after the call, Go
// pointers stored into C memory or returned by exported functions, pointers
// hidden as integers, and slice or string headers passed where their data was
// meant. Pinning with runtime.Pinner makes Go memory legal to pass and keep.
import type { Ty } from '../../model/types.js';
import { stripConversions, unparen } from '../../syntax/exprs.js';
import type { Expr } from '../../syntax/goast.js';
import type { ApiCall, CCall, CallExpr, DomainModule, Engine, StoreIntoC, SummaryCall, SummaryTarget } from '../../flow/hooks.js';
import { describeGoPointer, goMemoryName, goPointerInObject, goPointerInValue, pinnedVarKey } from '../../flow/gomemory.js';
import { NIL, UNKNOWN_VAL, fieldKey, objId, objVal, varKey, type Obj, type State, type Val } from '../../flow/state.js';
import type { Effect } from '../../flow/summary.js';
import { reachedBy, referenceReached } from './by-type.js';
import { cKeepsGoPointer } from './c-keeps-go-pointer.js';
import { exportGoPointer } from './export-go-pointer.js';
import { goPointerInCMemory } from './go-pointer-in-c-memory.js';
import { hiddenPointer } from './hidden-pointer.js';
import { sliceHeader } from './slice-header.js';
import { unpinnedGoPointer } from './unpinned-go-pointer.js';

/** The Go memory a pointer argument points to: an object (or one field of it), or one variable's word. */
type Region = { id: string; field?: string; name?: string } | { word: Val; name: string; type: Ty };

export const GOMEMORY = 'gomemory';

export const goMemory: DomainModule = {
  id: GOMEMORY,
  rules: [unpinnedGoPointer.meta, goPointerInCMemory.meta, exportGoPointer.meta, cKeepsGoPointer.meta, hiddenPointer.meta, sliceHeader.meta],
  apis: { 'runtime.Pinner.*': { evalRecv: false } },
  create: (engine) => new GoMemoryDomain(engine),
};

class GoMemoryDomain {
  constructor(private readonly x: Engine) {}

  /** cgo checks what a C call's pointer arguments point to when the call is made (a deferred call: when deferred). */
  captureOperands(e: CallExpr, args: Val[], st: State): (Region | undefined)[] {
    return args.map((v, i) => this.argRegion(e.args[i], v, st));
  }

  beforeCCall(cc: CCall, st: State): void {
    const headers = new Set<number>();
    cc.e.args.forEach((a, i) => {
      const v = cc.args[i] ?? UNKNOWN_VAL;
      if (this.sliceHeader(cc.name, a, i, cc.pos)) headers.add(i);
      this.hiddenAsInteger(cc.name, cc.e, a, v, st, i);
      const keeps = cc.cfn?.retains.has(i) ? 'keeps it after the call returns' : cc.contract?.takes.includes(i) ? `takes it (contract at ${cc.contract.origin})` : undefined;
      if (keeps) this.keepsGoPointer(cc.name, cc.e, a, v, st, i, cc.pos, keeps);
    });
    const regions = cc.captured.get(GOMEMORY) as (Region | undefined)[] | undefined;
    const flagged = new Set(headers);
    regions?.forEach((r, i) => {
      if (r && !headers.has(i) && this.checkGoPointerArg(st, r, cc.name, i, cc.e, cc.pos)) flagged.add(i);
    });
    cc.e.args.forEach((_, i) => {
      if (!flagged.has(i)) this.checkByType(st, cc, i);
    });
  }

  /** A map or channel (always), or a slice, func value or interface (once it refers to Go memory), in what C is given. */
  private checkByType(st: State, cc: CCall, i: number): void {
    const a = cc.e.args[i];
    const operand = this.checkedOperand(a);
    const reached = operand && reachedBy(this.x, operand, cc.args[i] ?? UNKNOWN_VAL, st);
    const f = reached && referenceReached(this.x, reached, st);
    if (!reached || !f) return;
    const d = { how: 'by-type' as const, callee: `C.${cc.name}`, arg: i + 1, reach: f.how, name: reached.name, kind: f.kind, path: f.path, behind: f.behind, nil: f.nil };
    this.x.report(`go-pointer-arg:${cc.pos}:${i}`, {
      rule: unpinnedGoPointer.meta,
      message: unpinnedGoPointer.message(d),
      confidence: f.confidence,
      pos: a.pos,
      end: a.end,
      trace: [
        this.x.step(a.pos, f.how === 'word' ? `${this.x.src(a)} reads the first word of ${reached.name}` : `${this.x.argName(cc.e, i)} points to ${reached.name}`),
        this.x.step(cc.pos, f.nil && f.confidence === 'low' ? `the Go ${f.kind} there is nil on this path, which the runtime lets pass; any other value it rejects` : `cgo's check at this call rejects the Go ${f.kind}${f.path ? ` at ${f.path}` : ''}`),
      ],
    });
  }

  /** The pointer operand cgo checks, under its conversions; undefined when it checks nothing (a C pointer type without pointers). */
  private checkedOperand(e: Expr): Expr | undefined {
    const { types } = this.x;
    let x = unparen(e);
    for (;;) {
      let inner: Expr | undefined;
      let to: Ty | undefined;
      if (x.k === 'conv') {
        inner = x.x;
        to = types.resolve(x.type);
      } else if (x.k === 'call' && x.args.length === 1 && types.isType(unparen(x.fun))) {
        inner = x.args[0];
        to = types.typeOfTypeExpr(unparen(x.fun));
      }
      if (!inner) return x;
      const u = to ? types.underlyingOf(to) : undefined;
      if (u?.k === 'pointer' && u.elem.k === 'c' && !this.x.goHasPointers(u.elem)) return undefined;
      x = unparen(inner);
    }
  }

  /**
   * What cgo's check looks at for a pointer argument: the memory it points to.
   * `&s.f` checks the field, `&a[i]` the whole array, `&x` the variable, a
   * pointer the whole object; a C pointer type whose pointee holds no pointers
   * is not checked at all.
   */
  private argRegion(e: Expr, v: Val, st: State): Region | undefined {
    const { types } = this.x;
    const x = this.checkedOperand(e);
    if (!x) return undefined;
    const goObject = (val: Val): string | undefined => {
      const id = objId(val);
      return id && st.obj(id)?.kind === 'go' ? id : undefined;
    };
    const vars = this.x.info.decl.vars;
    if (x.k === 'unary' && x.op === '&') {
      const y = unparen(x.x);
      if (y.k === 'ident' && y.v >= 0) {
        const cur = st.env.get(varKey(y.v)) ?? UNKNOWN_VAL;
        const id = goObject(cur);
        if (id && this.x.isStructVar(y.v)) return { id, name: `the variable ${vars[y.v].name}` };
        return { word: cur, name: `the variable ${vars[y.v].name}`, type: types.vars[y.v] };
      }
      if (y.k === 'sel') {
        const id = goObject(this.x.peek(y.x, st));
        return id ? { id, field: y.name } : undefined;
      }
      if (y.k === 'index') {
        const id = goObject(this.x.peek(y.x, st));
        return id ? { id } : undefined;
      }
    }
    if (x.k === 'call' && x.args[0] && unparen(x.fun).k === 'sel' && this.x.src(unparen(x.fun)) === 'unsafe.SliceData') {
      const id = goObject(this.x.peek(x.args[0], st));
      return id ? { id } : undefined;
    }
    // Otherwise the argument's value is the pointer, if it is one: structs go to C by value, unchecked.
    const t = types.underlyingOf(types.exprType(e));
    if (t.k !== 'pointer' && t.k !== 'unsafeptr' && t.k !== 'unknown') return undefined;
    const id = goObject(v);
    if (id) return { id };
    if (v.startsWith('a:v')) {
      const n = Number(v.slice(3));
      return { word: st.env.get(v.slice(2)) ?? UNKNOWN_VAL, name: `the variable ${vars[n].name}`, type: types.vars[n] };
    }
    return undefined;
  }

  /** Go memory passed to C must not hold Go pointers (that are not pinned). */
  private checkGoPointerArg(st: State, r: Region, callee: string, i: number, e: CallExpr, pos: number): boolean {
    const names = (k: string) => this.x.varName(k);
    const hit = 'id' in r ? goPointerInObject(st, r.id, this.x.gmem, r.field, names) : goPointerInValue(st, r.word, r.type, this.x.gmem, undefined, names);
    if (!hit) return false;
    const memory = 'id' in r ? `${r.field ? `field ${r.field} of ` : ''}${r.name ?? goMemoryName(st.obj(r.id)!)}` : r.name;
    if ('id' in r && r.field && hit.path.startsWith(`.${r.field}`)) hit.path = hit.path.slice(r.field.length + 1);
    const deferred = pos !== e.pos;
    const argName = this.x.argName(e, i);
    this.x.report(`go-pointer-arg:${pos}:${i}`, {
      rule: unpinnedGoPointer.meta,
      message: unpinnedGoPointer.message({ callee: `C.${callee}`, arg: i + 1, memory, path: hit.path, target: hit.target, deferred }),
      pos: e.args[i]?.pos ?? pos,
      end: e.args[i]?.end ?? e.end,
      trace: [
        this.x.step(e.args[i]?.pos ?? pos, `${argName} points to ${memory}`),
        this.x.step(pos, `${deferred ? 'when the deferred call runs, ' : ''}it holds a Go pointer${hit.path ? ` at ${hit.path}` : ''} to ${hit.target}`),
      ],
    });
    return true;
  }

  /** A store into C memory: a Go pointer in the stored value is a bug (cgocheck2 reports it). */
  onStoreIntoC(store: StoreIntoC, st: State): void {
    const { value: v, target, dest, pos, how, src, fromC } = store;
    // `*n` and struct or array literals are values: what is stored is their contents.
    const s = src ? unparen(src) : undefined;
    const whole = !!s && ((s.k === 'unary' && s.op === '*') || s.k === 'composite');
    const id = objId(v);
    const names = (k: string) => this.x.varName(k);
    const hit =
      whole && id && st.obj(id)?.kind === 'go'
        ? goPointerInObject(st, id, this.x.gmem, undefined, names)
        : goPointerInValue(st, v, this.x.types.exprType(target), this.x.gmem, undefined, names);
    if (!hit) return;
    this.x.report(`go-pointer-store:${pos}`, {
      rule: goPointerInCMemory.meta,
      message: goPointerInCMemory.message({ dest, path: hit.path, target: hit.target, how }),
      // C's memory unless Go passed memory of its own through C to the callback.
      confidence: fromC ? 'medium' : 'high',
      pos,
      end: target.end,
      trace: [
        ...(fromC ? [this.x.step(this.x.info.decl.pos, `${fromC.param} is what C passes to ${fromC.fn} (//export): C memory`)] : []),
        this.x.step(pos, `${dest} is C memory; the value ${how} here holds a Go pointer${hit.path ? ` at ${hit.path}` : ''} to ${hit.target}`),
      ],
    });
  }

  /** A Go pointer the function stored in a field of an input: its callers find it there. */
  summarizeField(_st: State, _id: string, o: Obj, path: string): Effect | undefined {
    if (o.kind !== 'go' || o.pinnedBy || o.global || o.inline) return undefined;
    return { k: 'set-go', path, what: o.what, goType: o.goType };
  }

  /** A callee stored a Go pointer in a field of what it was given: a store into C memory when that is C's. */
  applyEffect(eff: Effect, target: SummaryTarget, call: SummaryCall, st: State): boolean {
    if (eff.k !== 'set-go') return false;
    const { owner, field } = target;
    if (!owner || !field) return true;
    const key = fieldKey(owner, field);
    const old = st.env.get(key);
    if (old) this.x.escape(st, old, false);
    const id = this.x.allocId(st, `g${call.pos}.${field}`);
    if (!id) {
      st.env.set(key, UNKNOWN_VAL);
      return true;
    }
    const go: Obj = { kind: 'go', state: 'live', what: eff.what, site: call.pos, nullable: false, steps: [], goType: eff.goType };
    st.setObj(id, go);
    st.env.set(key, objVal(id));
    const o = st.obj(owner);
    const fromC = o?.kind === 'c' ? undefined : this.x.fromC(o);
    if (o?.kind !== 'c' && !fromC) return true;
    const what = goMemoryName(go);
    const how = `assigned by ${call.display}`;
    this.x.report(`go-pointer-store:${call.pos}:${field}`, {
      rule: goPointerInCMemory.meta,
      message: goPointerInCMemory.message({ dest: target.name, path: '', target: what, how }),
      confidence: fromC ? 'medium' : 'high',
      pos: call.pos,
      end: call.e.end,
      trace: [
        ...(fromC ? [this.x.step(this.x.info.decl.pos, `${fromC.param} is what C passes to ${fromC.fn} (//export): C memory`)] : []),
        this.x.step(call.pos, `${target.name} is C memory; ${call.display} stores a Go pointer to ${what} there`),
      ],
    });
    return true;
  }

  /** Copying into C memory: the elements copied must not be Go pointers. */
  onCopyIntoC(e: CallExpr, src: Val, st: State, pos: number): void {
    const hit = goPointerInObject(st, objId(src)!, this.x.gmem, undefined, (k) => this.x.varName(k));
    if (!hit) return;
    const dest = this.x.src(e.args[0]);
    this.x.report(`go-pointer-store:${pos}`, {
      rule: goPointerInCMemory.meta,
      message: goPointerInCMemory.message({ dest, path: hit.path, target: hit.target, how: 'copied' }),
      pos,
      end: e.end,
      trace: [this.x.step(pos, `${dest} is C memory; copy writes a Go pointer${hit.path ? ` (element ${hit.path})` : ''} to ${hit.target} into it`)],
    });
  }

  /** A function exported to C must not return Go pointers (nor memory holding them). */
  atExit(st: State, results: Val[], pos: number): void {
    if (!this.x.exported) return;
    const types = this.x.resolver.funcSignature(this.x.info).results;
    results.forEach((v, i) => {
      const hit = goPointerInValue(st, v, types[i], this.x.gmem, undefined, (k) => this.x.varName(k));
      if (!hit) return;
      this.x.report(`export-go-pointer:${pos}:${i}`, {
        rule: exportGoPointer.meta,
        message: exportGoPointer.message({ fn: this.x.exported!, path: hit.path, target: hit.target }),
        pos,
        end: pos,
        trace: [this.x.step(pos, `returns ${results.length > 1 ? `result ${i + 1}, ` : ''}a Go pointer${hit.path ? ` at ${hit.path}` : ''} to ${hit.target}, to C`)],
      });
    });
  }

  /** runtime.Pinner: pinned Go memory may be passed to C and stored in C memory. */
  apiCall(call: ApiCall, st: State): Val[] | undefined {
    const pinner = this.x.src(call.recvExpr!);
    const op = call.api.slice(call.api.lastIndexOf('.') + 1);
    if (op === 'Pin') {
      const a0 = call.args[0];
      const id = objId(a0 ?? NIL);
      if (id && st.obj(id)?.kind === 'go') st.updateObj(id, { pinnedBy: pinner });
      else if (a0?.startsWith('a:v')) {
        // The variable's address is pinned (a Pinner in a struct field too: v.pinner.Pin(&h)).
        st.env.set(pinnedVarKey(a0.slice(2)), pinner);
        this.x.escape(st, a0);
      }
    } else if (op === 'Unpin') {
      for (const [id, o] of st.objs) if (o.pinnedBy === pinner) st.setObj(id, { ...o, pinnedBy: undefined });
      for (const [k, v] of [...st.env]) if (k.startsWith('pinned:') && v === pinner) st.env.delete(k);
    }
    return undefined;
  }

  /** The address of a slice or string header handed to C, which may rewrite pointer and length. */
  private sliceHeader(name: string, a: Expr, i: number, pos: number): boolean {
    const x = stripConversions(a);
    if (x.k !== 'unary' || x.op !== '&') return false;
    // A slice or string variable (or field), not an element of an array of them.
    const target = unparen(x.x);
    if (target.k !== 'ident' && target.k !== 'sel') return false;
    const t = this.x.types.underlyingOf(this.x.types.exprType(target));
    const of = t.k === 'slice' ? 'slice' : t.k === 'basic' && t.name === 'string' ? 'string' : undefined;
    if (!of) return false;
    const subject = this.x.src(x.x);
    this.x.report(`slice-header:${pos}:${i}`, {
      rule: sliceHeader.meta,
      message: sliceHeader.message({ callee: `C.${name}`, arg: i + 1, name: subject, of }),
      pos: a.pos,
      end: a.end,
      trace: [this.x.step(a.pos, `&${subject} is the address of the ${of} header (${of === 'slice' ? 'pointer, length and capacity' : 'pointer and length'}), not of its data`)],
    });
    return true;
  }

  /** A Go pointer passed as an integer: the collector neither sees it nor keeps its target. */
  private hiddenAsInteger(name: string, e: CallExpr, a: Expr, v: Val, st: State, i: number): void {
    if (!this.hasUintptrConversion(a)) return;
    const target = describeGoPointer(st, v, (k) => this.x.varName(k));
    if (!target) return;
    this.x.report(`hidden-pointer:${a.pos}`, {
      rule: hiddenPointer.meta,
      message: hiddenPointer.message({ how: 'as-integer', name: this.x.argName(e, i), callee: `C.${name}`, target }),
      pos: a.pos,
      end: a.end,
      trace: [this.x.step(a.pos, `a pointer to ${target} is converted to an integer and passed to C.${name}`)],
    });
  }

  private hasUintptrConversion(a: Expr): boolean {
    const { types } = this.x;
    const isUintptr = (t: Ty | undefined) => {
      const u = t ? types.underlyingOf(t) : undefined;
      return u?.k === 'basic' && u.name === 'uintptr';
    };
    let x = unparen(a);
    for (;;) {
      let inner: Expr | undefined;
      let to: Ty | undefined;
      if (x.k === 'conv') {
        inner = x.x;
        to = types.resolve(x.type);
      } else if (x.k === 'call' && x.args.length === 1 && types.isType(unparen(x.fun))) {
        inner = x.args[0];
        to = types.typeOfTypeExpr(unparen(x.fun));
      }
      // The innermost value itself a uintptr (converted earlier: `user := uintptr(unsafe.Pointer(&p))`).
      if (!inner) return isUintptr(types.exprType(x));
      const u = to ? types.underlyingOf(to) : undefined;
      if (isUintptr(u)) return true;
      x = unparen(inner);
    }
  }

  /** `unsafe.Pointer(h)` of a cgo.Handle (an integer, not an address). */
  onConversion(to: Ty, src: Expr, pos: number, end: number): void {
    if (to.k !== 'unsafeptr') return;
    const { types } = this.x;
    let x = unparen(src);
    // Through uintptr(h): still the handle's integer.
    if (x.k === 'call' && x.args.length === 1 && types.isType(unparen(x.fun))) x = unparen(x.args[0]);
    if (x.k === 'conv') x = unparen(x.x);
    const t = types.exprType(x);
    if (t.k !== 'named' || t.pkg !== 'runtime/cgo' || t.name !== 'Handle') return;
    const name = this.x.src(x);
    this.x.report(`hidden-pointer:${pos}`, {
      rule: hiddenPointer.meta,
      message: hiddenPointer.message({ how: 'handle-to-pointer', name }),
      pos,
      end,
      trace: [this.x.step(pos, `${name} is a cgo.Handle, an integer; as unsafe.Pointer it is an invalid pointer`)],
    });
  }

  /** C keeps a Go pointer beyond the call (stores it, or a contract says it takes it). */
  private keepsGoPointer(name: string, e: CallExpr, a: Expr, v: Val, st: State, i: number, pos: number, how: string): void {
    const target = describeGoPointer(st, v, (k) => this.x.varName(k));
    if (!target) return;
    const argName = this.x.argName(e, i);
    this.x.report(`c-keeps-go-pointer:${pos}:${i}`, {
      rule: cKeepsGoPointer.meta,
      message: cKeepsGoPointer.message({ callee: `C.${name}`, arg: i + 1, argName, target, how }),
      pos: a.pos,
      end: a.end,
      trace: [this.x.step(a.pos, `${argName} points to ${target}`), this.x.step(pos, `C.${name} ${how}`)],
    });
  }
}
