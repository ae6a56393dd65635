// runtime.Pinner values copied: by assignment, as a call argument or as a
// result. A syntactic check over converted bodies, with the function's types.
import type { FuncInfo } from '../../model/program.js';
import { FuncTypes, type Resolver } from '../../model/resolve.js';
import type { Ty } from '../../model/types.js';
import { unparen } from '../../syntax/exprs.js';
import type { Expr, Stmt } from '../../syntax/goast.js';
import { forEachChildExpr, walkStmts } from '../../syntax/walk.js';
import type { Report } from '../../flow/hooks.js';
import { pinner } from './pinner.js';

const isPinner = (t: Ty): boolean => t.k === 'named' && t.pkg === 'runtime' && t.name === 'Pinner';

/** Copies of Pinner values in the given functions. */
export function checkPinnerCopies(funcs: FuncInfo[], resolver: Resolver): { fn: FuncInfo; report: Report }[] {
  const out: { fn: FuncInfo; report: Report }[] = [];
  for (const f of funcs) {
    if (!f.decl.bodyConverted || !/\bPinner\b/.test(f.file.go.text)) continue;
    const types = new FuncTypes(resolver, f);
    const text = f.file.go.text;
    const copied = (e: Expr, how: string) => {
      const x = unparen(e);
      // Only values that already exist are copies: a composite literal or a call result is not.
      if ((x.k !== 'ident' && x.k !== 'sel' && x.k !== 'index' && !(x.k === 'unary' && x.op === '*')) || !isPinner(types.exprType(x))) return;
      const p = f.file.lines.position(x.pos);
      const name = text.slice(x.pos, x.end);
      out.push({
        fn: f,
        report: {
          rule: pinner.meta,
          message: pinner.message({ kind: 'copied', name, how }),
          pos: x.pos,
          end: x.end,
          trace: [{ file: f.file.display, line: p.line, column: p.column, message: `${name} is copied here (${how})` }],
        },
      });
    };
    const visitExpr = (e: Expr): void => {
      if (e.k === 'call') {
        const fun = unparen(e.fun);
        const name = text.slice(fun.pos, fun.end);
        if (!types.isType(fun)) e.args.forEach((a) => copied(a, `passed by value to ${name}`));
      }
      if (e.k === 'funclit') walkStmts(e.fn.body, visitExpr, visitStmt);
      else forEachChildExpr(e, visitExpr);
    };
    const visitStmt = (s: Stmt): void => {
      if (s.k === 'assign' && (s.op === '=' || s.op === ':=')) s.rhs.forEach((r) => copied(r, 'assigned'));
      if (s.k === 'vardecl') s.values.forEach((r) => copied(r, 'assigned'));
      if (s.k === 'return') s.results.forEach((r) => copied(r, 'returned'));
    };
    walkStmts(f.decl.ir.body, visitExpr, visitStmt);
  }
  return out;
}
