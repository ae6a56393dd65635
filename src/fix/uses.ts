// How a function uses a variable after a point, as far as the syntax tells:
// handed to C, read by cgo's copying helpers, compared with nil, released,
// or anything else (stored, returned, captured, reassigned, given to Go
// code). A fix that moves a release must not cross any use of the last kind.
import type { Expr, FuncIR, Stmt, VarId } from '../syntax/goast.js';
import { forEachChildExpr } from '../syntax/walk.js';
import { cCallee, childLists, unwrapPointer } from './source.js';

export type UseKind = 'c-argument' | 'copied' | 'nil-check' | 'released' | 'other';

export interface Use {
  kind: UseKind;
  pos: number;
  /** The statement it is part of (the innermost). */
  stmt: Stmt;
}

/** cgo's helpers that copy C memory into Go memory. */
const COPYING = new Set(['GoString', 'GoStringN', 'GoBytes']);

/**
 * Every mention of variable `v` in `fn` (closures included) as a use.
 * `releasers` are the C functions that release it (free and the contract's).
 */
export function usesOf(fn: FuncIR, v: VarId, releasers: ReadonlySet<string>): Use[] {
  const out: Use[] = [];
  const visitExpr = (e: Expr, parents: Expr[], stmt: Stmt, inClosure: boolean): void => {
    if (e.k === 'ident' && e.v === v) {
      out.push({ kind: inClosure ? 'other' : classify(e, parents, releasers), pos: e.pos, stmt });
      return;
    }
    if (e.k === 'funclit') {
      for (const s of e.fn.body) visitStmt(s, true);
      return;
    }
    forEachChildExpr(e, (c) => visitExpr(c, [...parents, e], stmt, inClosure));
  };
  const visitStmt = (s: Stmt, inClosure: boolean): void => {
    const roots: Expr[] = [];
    switch (s.k) {
      case 'assign':
        // A variable on the left is written: never a use a fix can move across.
        for (const l of s.lhs) {
          if (l.k === 'ident' && l.v === v) out.push({ kind: 'other', pos: l.pos, stmt: s });
          else roots.push(l);
        }
        roots.push(...s.rhs);
        break;
      case 'vardecl':
        roots.push(...s.values);
        break;
      case 'go':
      case 'defer':
      case 'send':
        // What leaves with a goroutine, a deferred call or a channel is not for a fix to free.
        for (const e of s.k === 'send' ? [s.value, s.ch] : [s.call]) visitExpr(e, [], s, true);
        break;
      case 'return':
        // `return p` hands it on (a use of the last kind); `return C.GoString(p)` only copies it.
        roots.push(...s.results);
        break;
      default:
        roots.push(...ownExprsOf(s));
    }
    for (const e of roots) visitExpr(e, [], s, inClosure);
    if (s.k === 'for' && s.post) visitStmt(s.post, inClosure);
    for (const { body } of childLists(s)) for (const c of body) visitStmt(c, inClosure);
  };
  for (const s of fn.body) visitStmt(s, false);
  return out;
}

function classify(e: Expr, parents: Expr[], releasers: ReadonlySet<string>): UseKind {
  // Climb through parentheses and pointer conversions to what receives the value.
  let i = parents.length - 1;
  let child: Expr = e;
  while (i >= 0 && unwrapPointer(parents[i]) === unwrapPointer(child) && parents[i] !== child) {
    child = parents[i];
    i--;
  }
  const p = parents[i];
  if (!p) return 'other';
  if (p.k === 'binary' && (p.op === '==' || p.op === '!=') && (p.x.k === 'nil' || p.y.k === 'nil')) return 'nil-check';
  if (p.k === 'call' && p.args.includes(child)) {
    const callee = cCallee(p);
    if (callee === undefined) return 'other';
    if (releasers.has(callee)) return 'released';
    if (COPYING.has(callee)) return 'copied';
    return 'c-argument';
  }
  return 'other';
}

function ownExprsOf(s: Stmt): Expr[] {
  switch (s.k) {
    case 'expr':
      return [s.x];
    case 'incdec':
      return [s.x];
    case 'if':
      return [s.cond];
    case 'for':
      return s.cond ? [s.cond] : [];
    case 'range':
      return s.x ? [s.x] : [];
    case 'switch':
      return [...(s.tag ? [s.tag] : []), ...s.cases.flatMap((c) => c.exprs ?? [])];
    case 'typeswitch':
      return [s.x];
    default:
      return [];
  }
}
