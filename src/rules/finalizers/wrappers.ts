// Constructors of a finalized wrapper that forget the finalizer: where some
// function sets a finalizer (or cleanup) on the values of type T it makes,
// another that builds a T with fresh C memory (a C function known to return
// owned memory) in a field that finalizer frees, and sets none, leaves that
// memory to whoever remembers to release it by hand.
import type { FuncInfo } from '../../model/program.js';
import { stripConversions, unparen } from '../../syntax/exprs.js';
import type { Expr } from '../../syntax/goast.js';
import { forEachChildExpr, walkStmts } from '../../syntax/walk.js';
import type { Report } from '../../flow/hooks.js';
import type { Step } from '../../flow/state.js';
import { missingFinalizer } from './missing-finalizer.js';
import { forEachCall, localsSetOnce, type Registrations } from './registrations.js';

export function checkWrappers(funcs: FuncInfo[], regs: Registrations): { fn: FuncInfo; report: Report }[] {
  const out: { fn: FuncInfo; report: Report }[] = [];
  if (!regs.byType.size) return out;
  const finalizing = regs.finalizing();
  for (const f of funcs) {
    if (!f.decl.bodyConverted || finalizing.has(f)) continue;
    const types = regs.typesOf(f);
    /** `C.f(...)` where f is known to hand out memory the caller owns: f. */
    const ownedFrom = (e: Expr): string | undefined => {
      const x = stripConversions(e);
      const name = x.k === 'call' ? regs.cCallee(x) : undefined;
      const owned = name !== undefined && (f.pkg.contract(name)?.returns?.kind === 'owned' || f.pkg.cFunc(name)?.returns === 'owned');
      return owned ? `C.${name}` : undefined;
    };
    const made = localsSetOnce(f.decl.ir, ownedFrom);
    // Functions it calls by name: one that sets the finalizer (`r.init()`) sets it for this one too.
    const calls = new Set<string>();
    forEachCall(f.decl.ir, (call) => {
      const fun = unparen(call.fun);
      if (fun.k === 'ident' || fun.k === 'sel') calls.add(fun.name);
    });
    const setsIt = (setIn: Map<FuncInfo, number>) => setIn.has(f) || [...setIn.keys()].some((g) => calls.has(g.name));
    const visit = (e: Expr): void => {
      if (e.k === 'composite' && e.type) {
        const owner = regs.namedOf(types.resolve(e.type));
        const reg = owner ? regs.byType.get(owner) : undefined;
        if (reg && !setsIt(reg.setIn)) {
          for (const el of e.elts) {
            const key = el.key && unparen(el.key);
            if (key?.k !== 'ident' || !reg.fields.has(key.name)) continue;
            const v = stripConversions(el.value);
            const local = v.k === 'ident' ? made.get(v.v) : undefined;
            const from = ownedFrom(v) ?? local?.value;
            if (!from) continue;
            const [other, at] = [...reg.setIn][0];
            const typeName = owner!.slice(owner!.lastIndexOf('.') + 1);
            const step = (fn: FuncInfo, pos: number, message: string): Step => {
              const p = fn.file.lines.position(pos);
              return { file: fn.file.display, line: p.line, column: p.column, message };
            };
            const otherAt = `${other.file.display}:${other.file.lines.lineOf(at)}`;
            out.push({
              fn: f,
              report: {
                rule: missingFinalizer.meta,
                message: missingFinalizer.message({ type: typeName, field: key.name, from, other: other.display, otherAt }),
                confidence: 'medium',
                pos: e.pos,
                end: e.end,
                trace: [step(other, at, `${other.display} sets the ${reg.kind} that frees .${key.name}`), step(f, local?.pos ?? el.value.pos, `${from} hands out memory the caller owns`), step(f, e.pos, `${f.display} makes a ${typeName} with it and sets no ${reg.kind}`)],
              },
            });
            break;
          }
        }
      }
      if (e.k === 'funclit') walkStmts(e.fn.body, visit);
      else forEachChildExpr(e, visit);
    };
    walkStmts(f.decl.ir.body, visit);
  }
  return out;
}
