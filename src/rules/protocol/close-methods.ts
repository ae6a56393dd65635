// Use after close across methods: a type's closing method releases a field
// and sets it to nil, most other methods test the field for nil before handing
// it to C, and a few hand it to a C function whose body dereferences it
// untested. Calling such a method after Close crashes C on a NULL handle. The deviant method is reported, with the closing
// method's sites and a method that does test, since the test is what shows
// the type means to survive calls after Close. A syntactic check over the
// converted bodies of each type's pointer-receiver methods.
import { looksLikeReleaser } from '../../model/cnames.js';
import type { FuncInfo } from '../../model/program.js';
import { cgoName, stripConversions, unparen } from '../../syntax/exprs.js';
import type { Expr, Stmt } from '../../syntax/goast.js';
import { forEachChildExpr, walkStmts } from '../../syntax/walk.js';
import type { Report } from '../../flow/hooks.js';
import type { Step } from '../../flow/state.js';
import { protocol } from './protocol.js';

interface Site {
  pos: number;
  end: number;
  callee?: string;
  /** The C function dereferences the argument without testing it for NULL (its body says so). */
  derefs?: boolean;
}

/** What one method does with the fields of its receiver. */
interface MethodFacts {
  fn: FuncInfo;
  released: Map<string, Site>;
  setNil: Map<string, Site>;
  tested: Set<string>;
  passed: Map<string, Site>;
}

export function checkUseAfterClose(funcs: FuncInfo[]): { fn: FuncInfo; report: Report }[] {
  const byType = new Map<string, MethodFacts[]>();
  for (const f of funcs) {
    if (!f.recvType || !f.ptrRecv || !f.decl.recv || !f.decl.bodyConverted) continue;
    const list = byType.get(f.recvType) ?? [];
    list.push(factsOf(f));
    byType.set(f.recvType, list);
  }
  const out: { fn: FuncInfo; report: Report }[] = [];
  for (const methods of byType.values()) {
    for (const closer of methods) {
      for (const [field, release] of closer.released) {
        const cleared = closer.setNil.get(field);
        if (!cleared) continue;
        const users = methods.filter((m) => m !== closer && m.passed.has(field) && !m.released.has(field));
        const careful = users.filter((m) => m.tested.has(field));
        const untested = users.filter((m) => !m.tested.has(field));
        // The deviant methods, by "bugs as deviant behaviour": where most methods test the field,
        // the few that do not are the mistake; where most do not, the type never meant to survive Close.
        if (careful.length < 2 || careful.length <= untested.length) continue;
        // Only where C surely crashes on NULL: a library that rejects NULL with an error is no memory bug.
        const careless = untested.filter((m) => m.passed.get(field)!.derefs && /^\p{Lu}/u.test(m.fn.name));
        for (const m of careless) out.push({ fn: m.fn, report: report(m, field, m.passed.get(field)!, closer, release, cleared, careful[0]) });
      }
    }
  }
  return out;
}

function report(m: MethodFacts, field: string, use: Site, closer: MethodFacts, release: Site, cleared: Site, careful: MethodFacts): Report {
  const fieldIn = (x: MethodFacts) => `${x.fn.decl.vars[x.fn.decl.recv!.v].name}.${field}`;
  const name = fieldIn(m);
  const step = (fn: FuncInfo, pos: number, message: string): Step => {
    const p = fn.file.lines.position(pos);
    return { file: fn.file.display, line: p.line, column: p.column, message };
  };
  return {
    rule: protocol.meta,
    message: protocol.message({ callee: use.callee ?? 'C', name, after: closer.fn.display, how: 'closed', method: m.fn.display, careful: careful.fn.display }),
    confidence: 'medium',
    pos: use.pos,
    end: use.end,
    trace: [
      step(closer.fn, release.pos, `${closer.fn.display} releases ${fieldIn(closer)} with C.${release.callee}`),
      step(closer.fn, cleared.pos, `and sets ${fieldIn(closer)} to nil`),
      step(careful.fn, careful.passed.get(field)!.pos, `${careful.fn.display} tests ${fieldIn(careful)} for nil before handing it to C`),
      step(m.fn, use.pos, `${m.fn.display} hands ${name} to C.${use.callee} untested; C.${use.callee}'s body dereferences it without a NULL test`),
    ],
  };
}

function factsOf(f: FuncInfo): MethodFacts {
  const recv = f.decl.recv!.v;
  const facts: MethodFacts = { fn: f, released: new Map(), setNil: new Map(), tested: new Set(), passed: new Map() };
  /** `r.F`, seen through conversions and `&`: the field it names. */
  const fieldOf = (e: Expr | undefined): string | undefined => {
    if (!e) return undefined;
    let x = stripConversions(e);
    if (x.k === 'unary' && x.op === '&') x = unparen(x.x);
    return x.k === 'sel' && x.x.k === 'ident' && x.x.v === recv ? x.name : undefined;
  };
  const isNil = (e: Expr) => unparen(e).k === 'nil';
  const visitExpr = (e: Expr): void => {
    if (e.k === 'binary' && (e.op === '==' || e.op === '!=')) {
      const field = isNil(e.y) ? fieldOf(e.x) : isNil(e.x) ? fieldOf(e.y) : undefined;
      if (field) facts.tested.add(field);
    }
    const callee = e.k === 'call' ? cgoName(e.fun) : undefined;
    if (e.k === 'call' && callee) {
      const releases = f.pkg.contract(callee)?.releases ?? [];
      const body = f.pkg.cFunc(callee);
      e.args.forEach((a, i) => {
        const field = fieldOf(a);
        if (!field) return;
        const site = { pos: a.pos, end: a.end, callee };
        if (releases.includes(i) || looksLikeReleaser(callee) || body?.frees.has(i)) {
          if (!facts.released.has(field)) facts.released.set(field, site);
        } else if (!facts.passed.has(field)) facts.passed.set(field, { ...site, derefs: !!body?.derefs?.has(i) });
      });
    }
    if (e.k === 'funclit') walkStmts(e.fn.body, visitExpr, visitStmt);
    else forEachChildExpr(e, visitExpr);
  };
  const visitStmt = (s: Stmt): void => {
    if (s.k !== 'assign' || s.op !== '=') return;
    s.lhs.forEach((l, i) => {
      const field = fieldOf(l);
      const r = s.rhs[i];
      if (field && r && isNil(r) && !facts.setNil.has(field)) facts.setNil.set(field, { pos: s.pos, end: s.end });
    });
  };
  walkStmts(f.decl.ir.body, visitExpr, visitStmt);
  return facts;
}
