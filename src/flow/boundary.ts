// Checks at the Go/C boundary that look at one call or conversion at a time:
// what C keeps, writes or is told about the memory it gets. They read the
// engine's state but do not change it.
import type { CFunc } from '../model/cmodel.js';
import type { CWrite } from '../model/csummary.js';
import type { Contract } from '../model/contracts.js';
import { cSizeOf, cTypeString } from '../model/ctypes.js';
import type { PackageModel } from '../model/program.js';
import type { FuncTypes, Resolver } from '../model/resolve.js';
import { tyString, type Ty } from '../model/types.js';
import type { Expr } from '../syntax/goast.js';
import { stripConversions, unparen } from '../syntax/exprs.js';
import { parseGoInt } from '../syntax/golit.js';
import type { FlowEvent } from './events.js';
import { describeGoPointer } from './gomemory.js';
import { objId, type State, type Step, type Val } from './state.js';

type CallExpr = Extract<Expr, { k: 'call' }>;

/** What the checks need from the engine. */
export interface BoundaryContext {
  types: FuncTypes;
  resolver: Resolver;
  pkg: PackageModel;
  src(e: { pos: number; end: number }): string;
  argName(call: CallExpr, i: number): string;
  step(pos: number, message: string): Step;
  addEvent(key: string, e: FlowEvent): void;
  varName(key: string): string;
}

export class BoundaryChecks {
  constructor(private readonly ctx: BoundaryContext) {}

  /**
   * One C call. Returns the argument indexes whose memory is a slice or
   * string header (reported here, so the contents check can skip them).
   */
  atCCall(name: string, e: CallExpr, args: Val[], st: State, pos: number, cfn: CFunc | undefined, contract: Contract | undefined): Set<number> {
    const headers = new Set<number>();
    e.args.forEach((a, i) => {
      const v = args[i] ?? '?';
      if (this.sliceHeader(name, a, i, pos)) headers.add(i);
      this.hiddenAsInteger(name, e, a, v, st, i);
      this.elementSize(name, a);
      const keeps = cfn?.retains.has(i) ? 'keeps it after the call returns' : contract?.takes.includes(i) ? `takes it (contract at ${contract.origin})` : undefined;
      if (keeps) this.keepsGoPointer(name, e, a, v, st, i, pos, keeps);
      const w = cfn?.writes.get(i);
      if (w) this.overflow(name, e, i, a, v, st, pos, w);
    });
    return headers;
  }

  /** Rule: the address of a slice or string header handed to C, which may rewrite pointer and length. */
  private sliceHeader(name: string, a: Expr, i: number, pos: number): boolean {
    const x = stripConversions(a);
    if (x.k !== 'unary' || x.op !== '&') return false;
    // A slice or string variable (or field), not an element of an array of them.
    const target = unparen(x.x);
    if (target.k !== 'ident' && target.k !== 'sel') return false;
    const t = this.ctx.types.underlyingOf(this.ctx.types.exprType(target));
    const of = t.k === 'slice' ? 'slice' : t.k === 'basic' && t.name === 'string' ? 'string' : undefined;
    if (!of) return false;
    const subject = this.ctx.src(x.x);
    this.ctx.addEvent(`slice-header:${pos}:${i}`, {
      kind: 'slice-header',
      callee: `C.${name}`,
      arg: i + 1,
      name: subject,
      of,
      pos: a.pos,
      end: a.end,
      trace: [this.ctx.step(a.pos, `&${subject} is the address of the ${of} header (${of === 'slice' ? 'pointer, length and capacity' : 'pointer and length'}), not of its data`)],
    });
    return true;
  }

  /** Rule: a Go pointer passed as an integer: the collector neither sees it nor keeps its target. */
  private hiddenAsInteger(name: string, e: CallExpr, a: Expr, v: Val, st: State, i: number): void {
    if (!this.hasUintptrConversion(a)) return;
    const target = describeGoPointer(st, v, (k) => this.ctx.varName(k));
    if (!target) return;
    this.ctx.addEvent(`hidden-pointer:${a.pos}`, {
      kind: 'hidden-pointer',
      how: 'as-integer',
      name: this.ctx.argName(e, i),
      callee: `C.${name}`,
      target,
      pos: a.pos,
      end: a.end,
      trace: [this.ctx.step(a.pos, `a pointer to ${target} is converted to an integer and passed to C.${name}`)],
    });
  }

  private hasUintptrConversion(a: Expr): boolean {
    let x = unparen(a);
    for (;;) {
      let inner: Expr | undefined;
      let to: Ty | undefined;
      if (x.k === 'conv') {
        inner = x.x;
        to = this.ctx.types.resolve(x.type);
      } else if (x.k === 'call' && x.args.length === 1 && this.ctx.types.isType(unparen(x.fun))) {
        inner = x.args[0];
        to = this.ctx.types.typeOfTypeExpr(unparen(x.fun));
      }
      if (!inner) return false;
      const u = to ? this.ctx.types.underlyingOf(to) : undefined;
      if (u?.k === 'basic' && u.name === 'uintptr') return true;
      x = unparen(inner);
    }
  }

  /** Rule: `unsafe.Pointer(h)` of a cgo.Handle (an integer, not an address). */
  handleToPointer(to: Ty, src: Expr, pos: number, end: number): void {
    if (to.k !== 'unsafeptr') return;
    let x = unparen(src);
    // Through uintptr(h): still the handle's integer.
    if (x.k === 'call' && x.args.length === 1 && this.ctx.types.isType(unparen(x.fun))) x = unparen(x.args[0]);
    if (x.k === 'conv') x = unparen(x.x);
    const t = this.ctx.types.exprType(x);
    if (t.k !== 'named' || t.pkg !== 'runtime/cgo' || t.name !== 'Handle') return;
    this.ctx.addEvent(`hidden-pointer:${pos}`, {
      kind: 'hidden-pointer',
      how: 'handle-to-pointer',
      name: this.ctx.src(x),
      pos,
      end,
      trace: [this.ctx.step(pos, `${this.ctx.src(x)} is a cgo.Handle, an integer; as unsafe.Pointer it is an invalid pointer`)],
    });
  }

  /** Rule: C keeps a Go pointer beyond the call (stores it, or a contract says it takes it). */
  private keepsGoPointer(name: string, e: CallExpr, a: Expr, v: Val, st: State, i: number, pos: number, how: string): void {
    const target = describeGoPointer(st, v, (k) => this.ctx.varName(k));
    if (!target) return;
    this.ctx.addEvent(`c-keeps-go-pointer:${pos}:${i}`, {
      kind: 'c-keeps-go-pointer',
      callee: `C.${name}`,
      arg: i + 1,
      argName: this.ctx.argName(e, i),
      target,
      how,
      pos: a.pos,
      end: a.end,
      trace: [this.ctx.step(a.pos, `${this.ctx.argName(e, i)} points to ${target}`), this.ctx.step(pos, `C.${name} ${how}`)],
    });
  }

  /** Rule: a Go slice passed as a pointer to C elements of another size. */
  private elementSize(name: string, a: Expr): void {
    // (*C.T)(unsafe.Pointer(&s[i])), or unsafe.Pointer(&s[0]) straight into a C.T* parameter.
    const x = unparen(a);
    if (x.k !== 'conv' && !(x.k === 'call' && x.args.length === 1 && this.ctx.types.isType(unparen(x.fun)))) return;
    const to = this.ctx.types.underlyingOf(x.k === 'conv' ? this.ctx.types.resolve(x.type) : this.ctx.types.typeOfTypeExpr(unparen((x as CallExpr).fun)));
    if (to.k !== 'pointer' || to.elem.k !== 'c') return;
    const inner = stripConversions(x.k === 'conv' ? x.x : (x as CallExpr).args[0]);
    if (inner.k !== 'unary' || inner.op !== '&') return;
    const el = unparen(inner.x);
    if (el.k !== 'index') return;
    const st = this.ctx.types.underlyingOf(this.ctx.types.exprType(el.x));
    const goElem = st.k === 'slice' || st.k === 'array' ? this.ctx.types.underlyingOf(st.elem) : undefined;
    if (!goElem || goElem.k !== 'basic') return;
    const goSize = this.ctx.resolver.sizeOf(goElem);
    const ct = this.ctx.pkg.cType(to.elem.name);
    const cSize = ct ? cSizeOf(ct, this.ctx.pkg.c) : undefined;
    if (goSize === undefined || cSize === undefined || goSize === cSize || to.elem.name === 'void') return;
    this.ctx.addEvent(`element-size:${a.pos}`, {
      kind: 'element-size',
      callee: `C.${name}`,
      name: this.ctx.src(el.x),
      goElem: tyString(goElem),
      goSize,
      cType: `C.${to.elem.name}`,
      cSize,
      pos: a.pos,
      end: a.end,
      trace: [this.ctx.step(a.pos, `${this.ctx.src(el.x)} holds ${tyString(goElem)} (${goSize} bytes each); C.${name} reads C.${to.elem.name} (${ct ? cTypeString(ct) : to.elem.name}, ${cSize} bytes)`)],
    });
  }

  /** Rule: C writes more bytes than the buffer it is given holds, or writes without any bound. */
  private overflow(name: string, e: CallExpr, i: number, a: Expr, v: Val, st: State, pos: number, w: CWrite): void {
    const buf = this.bufferOf(a, v, st);
    if (!buf) return;
    let writes: number | undefined;
    let definite = false;
    if (w.k === 'fixed') {
      writes = w.bytes;
      definite = true;
    } else if (w.k === 'unbounded') {
      writes = w.bytes;
      definite = w.bytes !== undefined;
    } else {
      writes = constInt(e.args[w.by]);
      definite = writes !== undefined;
    }
    if (definite && writes! <= buf.size) return;
    if (!definite && w.k === 'bounded') return; // bounded by an argument we cannot evaluate
    if (!definite && !buf.go) return; // an unbounded write into C memory is the C side's business
    const argName = this.ctx.argName(e, i);
    this.ctx.addEvent(`c-overflow:${pos}:${i}`, {
      kind: 'c-overflow',
      callee: `C.${name}`,
      arg: i + 1,
      name: argName,
      via: w.via,
      writes,
      size: buf.size,
      memory: buf.memory,
      definite,
      pos: a.pos,
      end: a.end,
      trace: [
        this.ctx.step(buf.site ?? a.pos, `${plural(buf.size, 'byte')} available: ${buf.memory}`),
        this.ctx.step(pos, definite ? `C.${name} writes ${plural(writes!, 'byte')} through ${argName} (${w.via})` : `C.${name} writes through ${argName} with no bound (${w.via})`),
      ],
    });
  }

  /** The bytes available behind an argument: a Go or C allocation of known size, minus the offset of &buf[k]. */
  private bufferOf(a: Expr, v: Val, st: State): { size: number; memory: string; site?: number; go: boolean } | undefined {
    const id = objId(v);
    const o = id ? st.obj(id) : undefined;
    if (!o || o.bytes === undefined) return undefined;
    let offset = 0;
    const x = stripConversions(a);
    if (x.k === 'unary' && x.op === '&') {
      const el = unparen(x.x);
      if (el.k === 'index') {
        const k = constInt(el.index[0]);
        const t = this.ctx.types.underlyingOf(this.ctx.types.exprType(el.x));
        const es = t.k === 'slice' || t.k === 'array' ? this.ctx.resolver.sizeOf(t.elem) : undefined;
        if (k === undefined || es === undefined) return undefined;
        offset = k * es;
      }
    }
    const memory = o.kind === 'go' ? (o.global ? `Go global ${o.global}` : `Go buffer (${o.what === 'composite literal' ? 'literal' : o.what})`) : `C block (${o.what})`;
    return { size: o.bytes - offset, memory, site: o.site >= 0 ? o.site : undefined, go: o.kind === 'go' };
  }

  /** Rule: a Go slice over C memory longer than the allocation (unsafe.Slice, or a conversion to *[N]T sliced). */
  sliceOverC(how: string, p: Val, elemType: Ty | undefined, n: Expr | undefined, st: State, pos: number, end: number): void {
    const id = objId(p);
    const o = id ? st.obj(id) : undefined;
    if (!o || o.kind !== 'c' || o.bytes === undefined || !elemType) return;
    const elems = constInt(n);
    const elemSize = this.ctx.resolver.sizeOf(elemType);
    if (elems === undefined || elemSize === undefined || elems * elemSize <= o.bytes) return;
    this.ctx.addEvent(`c-slice-bounds:${pos}`, {
      kind: 'c-slice-bounds',
      how,
      elems,
      elemSize,
      bytes: o.bytes,
      what: o.what,
      pos,
      end,
      trace: [this.ctx.step(o.site >= 0 ? o.site : pos, `${o.what} allocates ${plural(o.bytes, 'byte')}`), this.ctx.step(pos, `${how} makes ${plural(elems, 'element')} of ${plural(elemSize, 'byte')} (${plural(elems * elemSize, 'byte')}) over it`)],
    });
  }
}

export function plural(n: number, unit: string): string {
  return `${n} ${unit}${n === 1 ? '' : 's'}`;
}

/** The value of a constant integer expression (literals, conversions, + - * << of those). */
export function constInt(e: Expr | undefined): number | undefined {
  if (!e) return undefined;
  const x = unparen(e);
  switch (x.k) {
    case 'lit':
      if (x.kind !== 'int') return undefined;
      return parseGoInt(x.value);
    case 'conv':
      return constInt(x.x);
    case 'call':
      // C.size_t(16), C.int(n): conversions of a constant.
      return x.args.length === 1 && unparen(x.fun).k !== 'funclit' && /^(C\.\w+|u?int\d*|uintptr)$/.test(exprText(unparen(x.fun))) ? constInt(x.args[0]) : undefined;
    case 'binary': {
      const a = constInt(x.x);
      const b = constInt(x.y);
      if (a === undefined || b === undefined) return undefined;
      switch (x.op) {
        case '+':
          return a + b;
        case '-':
          return a - b;
        case '*':
          return a * b;
        case '<<':
          return b < 53 ? a * 2 ** b : undefined;
        default:
          return undefined;
      }
    }
    default:
      return undefined;
  }
}

function exprText(e: Expr): string {
  if (e.k === 'ident') return e.name;
  if (e.k === 'sel' && e.x.k === 'ident') return `${e.x.name}.${e.name}`;
  return '';
}
