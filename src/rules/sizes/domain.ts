// Sizes at the boundary: C writing more bytes than the buffer it is given
// holds (or writing without any bound into a Go buffer of known size), Go
// slices passed as elements of another size, and slices made over C memory
// longer than the allocation.
import type { CWrite } from '../../model/cdecls.js';
import { cSizeOf, cTypeString, resolveCType } from '../../model/ctypes.js';
import { tyString } from '../../model/types.js';
import { stripConversions, unparen } from '../../syntax/exprs.js';
import type { Expr } from '../../syntax/goast.js';
import type { CCall, CallExpr, DomainModule, Engine, MemoryView } from '../../flow/hooks.js';
import { objId, type State, type Val } from '../../flow/state.js';
import { plural } from '../rule.js';
import { cOverflow } from './c-overflow.js';
import { cSliceBounds } from './c-slice-bounds.js';
import { elementSize } from './element-size.js';
import { unboundedCWrite } from './unbounded-c-write.js';

export const sizes: DomainModule = {
  id: 'sizes',
  rules: [cOverflow.meta, unboundedCWrite.meta, elementSize.meta, cSliceBounds.meta],
  create: (engine) => new SizesDomain(engine),
};

class SizesDomain {
  constructor(private readonly x: Engine) {}

  beforeCCall(cc: CCall, st: State): void {
    cc.e.args.forEach((a, i) => {
      this.elementSize(cc.name, a);
      const w = cc.cfn?.writes.get(i);
      if (w) this.overflow(cc.name, cc.e, i, a, cc.args[i] ?? '?', st, cc.pos, w);
    });
  }

  /** A Go slice passed as a pointer to C elements of another size. */
  private elementSize(name: string, a: Expr): void {
    const { types, resolver, pkg } = this.x;
    // (*C.T)(unsafe.Pointer(&s[i])), or unsafe.Pointer(&s[0]) straight into a C.T* parameter.
    const x = unparen(a);
    if (x.k !== 'conv' && !(x.k === 'call' && x.args.length === 1 && types.isType(unparen(x.fun)))) return;
    const to = types.underlyingOf(x.k === 'conv' ? types.resolve(x.type) : types.typeOfTypeExpr(unparen((x as CallExpr).fun)));
    if (to.k !== 'pointer' || to.elem.k !== 'c') return;
    const inner = stripConversions(x.k === 'conv' ? x.x : (x as CallExpr).args[0]);
    if (inner.k !== 'unary' || inner.op !== '&') return;
    const el = unparen(inner.x);
    if (el.k !== 'index') return;
    const st = types.underlyingOf(types.exprType(el.x));
    const goElem = st.k === 'slice' || st.k === 'array' ? types.underlyingOf(st.elem) : undefined;
    if (!goElem || goElem.k !== 'basic') return;
    const goSize = resolver.sizeOf(goElem);
    const ct = pkg.cType(to.elem.name);
    // Elements are numbers (or pointers); a byte buffer handed over as a struct is a record, sized elsewhere (c-overflow).
    const kind = ct ? resolveCType(ct, pkg.c).k : undefined;
    if (kind !== 'prim' && kind !== 'enum' && kind !== 'ptr') return;
    const cSize = ct ? cSizeOf(ct, pkg.c) : undefined;
    if (goSize === undefined || cSize === undefined || goSize === cSize || to.elem.name === 'void') return;
    const d = { callee: `C.${name}`, name: this.x.src(el.x), goElem: tyString(goElem), goSize, cType: `C.${to.elem.name}`, cSize };
    this.x.report(`element-size:${a.pos}`, {
      rule: elementSize.meta,
      message: elementSize.message(d),
      pos: a.pos,
      end: a.end,
      trace: [this.x.step(a.pos, `${d.name} holds ${d.goElem} (${goSize} bytes each); C.${name} reads C.${to.elem.name} (${ct ? cTypeString(ct) : to.elem.name}, ${cSize} bytes)`)],
    });
  }

  /** C writes more bytes than the buffer it is given holds, or writes without any bound. */
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
    } else if (w.k === 'sized') {
      // sizeof(*p): bounded by the type C declares; of unknown size, it is the caller's type too.
      writes = w.type ? cSizeOf(w.type, this.x.pkg.c) : undefined;
      if (writes === undefined) return;
      definite = true;
    } else {
      writes = this.x.pkg.constInt(e.args[w.by]);
      definite = writes !== undefined;
    }
    if (definite && writes! <= buf.size) return;
    if (!definite && w.k === 'bounded') return; // bounded by an argument we cannot evaluate
    if (!definite && !buf.go) return; // an unbounded write into C memory is the C side's business
    const argName = this.x.argName(e, i);
    const rule = definite ? cOverflow : unboundedCWrite;
    this.x.report(`c-overflow:${pos}:${i}`, {
      rule: rule.meta,
      message: rule.message({ callee: `C.${name}`, arg: i + 1, name: argName, via: w.via, writes, size: buf.size, memory: buf.memory }),
      pos: a.pos,
      end: a.end,
      trace: [
        this.x.step(buf.site ?? a.pos, `${plural(buf.size, 'byte')} available: ${buf.memory}`),
        this.x.step(pos, definite ? `C.${name} writes ${plural(writes!, 'byte')} through ${argName} (${w.via})` : `C.${name} writes through ${argName} with no bound (${w.via})`),
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
        const k = this.x.pkg.constInt(el.index[0]);
        const t = this.x.types.underlyingOf(this.x.types.exprType(el.x));
        const es = t.k === 'slice' || t.k === 'array' ? this.x.resolver.sizeOf(t.elem) : undefined;
        if (k === undefined || es === undefined) return undefined;
        offset = k * es;
      }
    }
    const memory = o.kind === 'go' ? (o.global ? `Go global ${o.global}` : `Go buffer (${o.what === 'composite literal' ? 'literal' : o.what})`) : `C block (${o.what})`;
    return { size: o.bytes - offset, memory, site: o.site >= 0 ? o.site : undefined, go: o.kind === 'go' };
  }

  /** A Go slice over C memory longer than the allocation (unsafe.Slice, or a conversion to *[N]T sliced), or a copy out of it (C.GoBytes). */
  onView(view: MemoryView, st: State): void {
    const { how, p, elemType, n, pos, end, reads } = view;
    const id = objId(p);
    const o = id ? st.obj(id) : undefined;
    if (!o || o.kind !== 'c' || o.bytes === undefined || !elemType) return;
    const elems = this.x.pkg.constInt(n);
    const elemSize = this.x.resolver.sizeOf(elemType);
    if (elems === undefined || elemSize === undefined || elems * elemSize <= o.bytes) return;
    this.x.report(`c-slice-bounds:${pos}`, {
      rule: cSliceBounds.meta,
      message: cSliceBounds.message({ how, elems, elemSize, bytes: o.bytes, what: o.what, reads }),
      pos,
      end,
      trace: [this.x.step(o.site >= 0 ? o.site : pos, `${o.what} allocates ${plural(o.bytes, 'byte')}`), this.x.step(pos, reads ? `${how} reads ${plural(elems * elemSize, 'byte')} from it` : `${how} makes ${plural(elems, 'element')} of ${plural(elemSize, 'byte')} (${plural(elems * elemSize, 'byte')}) over it`)],
    });
  }
}
