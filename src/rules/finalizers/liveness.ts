// Whether a Go object is still reachable after a point of a function, read
// from the function's text: a later mention of the variable, a deferred call
// that mentions it, a loop that comes back to it, or a later mention of
// something that holds it (a struct or slice it was put into), or a store
// into a package-level variable or into what the caller passed in (a
// receiver's field) that keeps it beyond the function.
import { unparen } from '../../syntax/exprs.js';
import { NO_VAR, type Expr, type FuncIR, type Stmt } from '../../syntax/goast.js';
import { forEachChildExpr, walkStmts } from '../../syntax/walk.js';
import { forEachCall } from './registrations.js';

export class Liveness {
  /** Where each variable is mentioned. */
  private readonly refs = new Map<number, number[]>();
  private readonly loops: { pos: number; end: number }[] = [];
  /** Variables a deferred call mentions (KeepAlive, a receiver, an argument, a closure's capture): alive until the return. */
  private readonly deferred = new Set<number>();
  /** Variable → variables holding it (it was put into a struct, slice or map they hold). */
  private readonly holders = new Map<number, Set<number>>();
  /** Variables stored into a package-level variable: reachable for good. */
  private readonly kept = new Set<number>();

  /** @param inputs the receiver and parameters: what is stored into them lives on with the caller's objects. */
  constructor(fn: FuncIR, private readonly inputs: ReadonlySet<number> = new Set()) {
    const visit = (e: Expr): void => {
      if (e.k === 'ident' && e.v >= 0) this.refs.set(e.v, [...(this.refs.get(e.v) ?? []), e.pos]);
      if (e.k === 'funclit') walkStmts(e.fn.body, visit, onStmt);
      else forEachChildExpr(e, visit);
    };
    const onStmt = (s: Stmt): void => {
      if (s.k === 'for' || s.k === 'range') this.loops.push({ pos: s.pos, end: s.end });
      if (s.k === 'assign') s.lhs.forEach((l, i) => this.store(l, s.rhs.length === s.lhs.length ? s.rhs[i] : undefined));
      if (s.k === 'vardecl') s.vars.forEach((l, i) => this.store(l, s.values[i]));
    };
    walkStmts(fn.body, visit, onStmt);
    forEachCall(fn, (call, isDeferred) => {
      if (isDeferred) mentioned(call).forEach((v) => this.deferred.add(v));
    });
  }

  /** `h := T{f: v}`, `h.f = v`, `h[k] = v`, `h = append(h, v)`, `global = v`: what v is put into. */
  private store(lhs: Expr, rhs: Expr | undefined): void {
    if (!rhs) return;
    const root = rootOf(lhs);
    const into = root?.k === 'ident' ? root.v : undefined;
    // Into a field or element, or into a package-level variable, the value itself is held.
    const direct = unparen(lhs).k !== 'ident' || into === NO_VAR;
    for (const v of heldBy(rhs, direct)) {
      if (into === NO_VAR) this.kept.add(v);
      else if (into !== undefined && into >= 0 && into !== v) this.holders.set(v, new Set([...(this.holders.get(v) ?? []), into]));
    }
  }

  /** Is variable v (or what holds it) still needed after `at` (the end of a call that starts at `from`)? */
  aliveAfter(v: number, from: number, at: number, seen = new Set<number>()): boolean {
    if (seen.has(v)) return false;
    seen.add(v);
    if (this.deferred.has(v) || this.kept.has(v)) return true;
    if (seen.size > 1 && this.inputs.has(v)) return true;
    const refs = this.refs.get(v) ?? [];
    if (refs.some((p) => p > at)) return true;
    // A loop around the call comes back to a mention before it.
    if (this.loops.some((l) => l.pos <= from && at <= l.end && refs.some((p) => p >= l.pos && p <= l.end && (p < from || p > at)))) return true;
    return [...(this.holders.get(v) ?? [])].some((h) => this.aliveAfter(h, from, at, seen));
  }
}

/** The variables whose objects an assigned value holds: composite literal elements, `&v`, append's elements, and v itself when stored into a field or element. */
function heldBy(rhs: Expr, direct: boolean): number[] {
  const out: number[] = [];
  const visit = (e: Expr, inside: boolean): void => {
    e = unparen(e);
    if (e.k === 'ident' && e.v >= 0) {
      if (inside) out.push(e.v);
      return;
    }
    if (e.k === 'unary' && e.op === '&') return visit(e.x, inside);
    if (e.k === 'composite') return e.elts.forEach((el) => visit(el.value, true));
    if (e.k === 'call') {
      const f = unparen(e.fun);
      if (f.k === 'ident' && f.v === NO_VAR && f.name === 'append') e.args.slice(1).forEach((a) => visit(a, true));
    }
  };
  visit(rhs, direct);
  return out;
}

function rootOf(e: Expr): Expr | undefined {
  for (;;) {
    e = unparen(e);
    if (e.k === 'sel' || e.k === 'index') e = e.x;
    else if (e.k === 'unary' && e.op === '*') e = e.x;
    else return e.k === 'ident' ? e : undefined;
  }
}

export function mentioned(e: Expr): Set<number> {
  const out = new Set<number>();
  const visit = (x: Expr): void => {
    if (x.k === 'ident' && x.v >= 0) out.add(x.v);
    if (x.k === 'funclit') walkStmts(x.fn.body, visit);
    else forEachChildExpr(x, visit);
  };
  visit(e);
  return out;
}
