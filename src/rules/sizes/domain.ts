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
import { lengthUnits } from './length-units.js';
import { unboundedCWrite } from './unbounded-c-write.js';

export const sizes: DomainModule = {
  id: 'sizes',
  rules: [cOverflow.meta, unboundedCWrite.meta, elementSize.meta, cSliceBounds.meta, lengthUnits.meta],
  create: (engine) => new SizesDomain(engine),
};

class SizesDomain {
  constructor(private readonly x: Engine) {}

  beforeCCall(cc: CCall, st: State): void {
    cc.e.args.forEach((a, i) => {
      this.elementSize(cc.name, a);
      this.lengthUnits(cc, i, a);
      const w = cc.cfn?.writes.get(i);
      if (w) this.overflow(cc.name, cc.e, i, a, cc.args[i] ?? '?', st, cc.pos, w);
    });
  }

  /** `len(s)` given to a parameter the C declaration names in bytes (or `len(s)*k` to one named in elements). */
  private lengthUnits(cc: CCall, i: number, a: Expr): void {
    const param = cc.cfn?.params[i]?.name;
    if (!param) return;
    const bytesWanted = BYTES_PARAM.test(param);
    if (!bytesWanted && !ELEMENTS_PARAM.test(param)) return;
    const x = stripConversions(a);
    // len(s), or len(s) * k with k the size of s's elements.
    const lenOf = (e: Expr) => {
      const c = unparen(e);
      return c.k === 'call' && c.args.length === 1 && unparen(c.fun).k === 'ident' && (unparen(c.fun) as { name: string }).name === 'len' ? c.args[0] : undefined;
    };
    const times = x.k === 'binary' && x.op === '*' ? (lenOf(x.x) ? { s: lenOf(x.x)!, k: x.y } : lenOf(x.y) ? { s: lenOf(x.y)!, k: x.x } : undefined) : undefined;
    const measured = bytesWanted ? lenOf(x) : times?.s;
    if (!measured) return;
    const t = this.x.types.underlyingOf(this.x.types.exprType(measured));
    const elem = t.k === 'slice' || t.k === 'array' ? t.elem : undefined;
    const elemSize = elem ? this.x.resolver.sizeOf(elem) : undefined;
    if (elemSize === undefined || elemSize <= 1) return;
    if (!bytesWanted && this.x.pkg.constInt(stripConversions(times!.k)) !== elemSize && !/Sizeof/.test(this.x.src(times!.k))) return;
    const d = { callee: `C.${cc.name}`, param, given: this.x.src(x), counts: bytesWanted ? ('elements' as const) : ('bytes' as const), slice: this.x.src(measured), elemSize };
    this.x.report(`length-units:${a.pos}`, {
      rule: lengthUnits.meta,
      message: lengthUnits.message(d),
      confidence: 'medium',
      pos: a.pos,
      end: a.end,
      trace: [this.x.step(a.pos, `C.${cc.name} declares ${param}: ${bytesWanted ? 'a length in bytes' : 'a count of elements'}, going by its name`), this.x.step(a.pos, `${d.given} is ${bytesWanted ? `a count of ${plural(elemSize, 'byte')} elements` : 'a count of bytes'}`)],
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
    const { how, p, elemType, n, pos, end, reads, offset } = view;
    const id = objId(p);
    const o = id ? st.obj(id) : undefined;
    if (!o || o.kind !== 'c' || o.bytes === undefined) return;
    if (offset) {
      // One past the end is an end marker; beyond it, nothing of the allocation is left to point at.
      const off = this.x.pkg.constInt(n);
      if (off === undefined || off <= o.bytes) return;
      this.x.report(`c-slice-bounds:${pos}`, {
        rule: cSliceBounds.meta,
        message: cSliceBounds.message({ how, elems: off, elemSize: 1, bytes: o.bytes, what: o.what, offset: true }),
        pos,
        end,
        trace: [this.x.step(o.site >= 0 ? o.site : pos, `${o.what} allocates ${plural(o.bytes, 'byte')}`), this.x.step(pos, `${how} points ${plural(off, 'byte')} into it, past its end`)],
      });
      return;
    }
    if (!elemType) return;
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

/** C parameter names that say the length is in bytes (nbytes, size_in_bytes, buf_bytes), or in elements (n_elems, nmemb). */
const BYTES_PARAM = /^(n_?bytes|num_?bytes|nbyte|byte_?(len|length|count|size)|(size|len|length)_?in_?bytes|\w+_bytes)$/i;
const ELEMENTS_PARAM = /^(n_?elems?|n_?elements|num_?elem(ent)?s|elem(ent)?_?count|nmemb|n_?items|num_?items|item_?count|n_?samples|num_?samples|sample_?count)$/i;
