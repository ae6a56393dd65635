// Generic walks over the Go syntax tree.
import type { Expr, Stmt } from './goast.js';

/** Calls f on each direct sub-expression of e (not into closure bodies). */
export function forEachChildExpr(e: Expr, f: (x: Expr) => void): void {
  switch (e.k) {
    case 'sel':
    case 'paren':
    case 'unary':
    case 'assert':
    case 'conv':
      f(e.x);
      break;
    case 'call':
      f(e.fun);
      e.args.forEach(f);
      break;
    case 'binary':
      f(e.x);
      f(e.y);
      break;
    case 'index':
      f(e.x);
      e.index.forEach(f);
      break;
    case 'slice':
      f(e.x);
      if (e.lo) f(e.lo);
      if (e.hi) f(e.hi);
      if (e.max) f(e.max);
      break;
    case 'composite':
      for (const el of e.elts) {
        if (el.key && el.key.k !== 'ident') f(el.key);
        f(el.value);
      }
      break;
    default:
      break;
  }
}

/** Visits the expressions of statements (not into closure bodies, which visitExpr sees as funclit). */
export function walkStmts(stmts: Stmt[], visitExpr: (e: Expr) => void, visitStmt?: (s: Stmt) => void): void {
  const visit = (s: Stmt): void => {
    visitStmt?.(s);
    switch (s.k) {
      case 'expr':
        visitExpr(s.x);
        break;
      case 'assign':
        s.lhs.forEach(visitExpr);
        s.rhs.forEach(visitExpr);
        break;
      case 'vardecl':
        s.values.forEach(visitExpr);
        break;
      case 'incdec':
        visitExpr(s.x);
        break;
      case 'send':
        visitExpr(s.ch);
        visitExpr(s.value);
        break;
      case 'block':
        s.body.forEach(visit);
        break;
      case 'if':
        if (s.init) visit(s.init);
        visitExpr(s.cond);
        s.then.forEach(visit);
        if (s.else) visit(s.else);
        break;
      case 'for':
        if (s.init) visit(s.init);
        if (s.cond) visitExpr(s.cond);
        if (s.post) visit(s.post);
        s.body.forEach(visit);
        break;
      case 'range':
        if (s.x) visitExpr(s.x);
        s.body.forEach(visit);
        break;
      case 'switch':
        if (s.init) visit(s.init);
        if (s.tag) visitExpr(s.tag);
        for (const c of s.cases) {
          c.exprs?.forEach(visitExpr);
          c.body.forEach(visit);
        }
        break;
      case 'typeswitch':
        if (s.init) visit(s.init);
        visitExpr(s.x);
        for (const c of s.cases) c.body.forEach(visit);
        break;
      case 'select':
        for (const c of s.cases) {
          if (c.comm) visit(c.comm);
          c.body.forEach(visit);
        }
        break;
      case 'go':
      case 'defer':
        visitExpr(s.call);
        break;
      case 'return':
        s.results.forEach(visitExpr);
        break;
      case 'labeled':
        visit(s.stmt);
        break;
      default:
        break;
    }
  };
  stmts.forEach(visit);
}
