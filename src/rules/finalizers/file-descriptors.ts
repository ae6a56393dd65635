// An *os.File's descriptor given to C: the os package sets a finalizer on
// every *os.File that closes the descriptor once the File is unreachable, and
// the File is unreachable right after its last use, which can be the f.Fd()
// whose result C is given. The descriptor may then be closed (and reused by
// another open) while C still reads or writes it.
import type { FuncInfo } from '../../model/program.js';
import type { Ty } from '../../model/types.js';
import { stripConversions, unparen } from '../../syntax/exprs.js';
import { NO_VAR, type Expr } from '../../syntax/goast.js';
import { walkStmts } from '../../syntax/walk.js';
import type { Report } from '../../flow/hooks.js';
import type { Step } from '../../flow/state.js';
import { finalizerKeepalive } from './finalizer-keepalive.js';
import { Liveness } from './liveness.js';
import { forEachCall, localsSetOnce, type Registrations } from './registrations.js';

const OS_OPENERS = new Set(['Open', 'Create', 'OpenFile', 'NewFile', 'CreateTemp']);

const isOsFile = (t: Ty): boolean => t.k === 'pointer' && t.elem.k === 'named' && t.elem.pkg === 'os' && t.elem.name === 'File';

export function checkFileDescriptors(funcs: FuncInfo[], regs: Registrations): { fn: FuncInfo; report: Report }[] {
  const out: { fn: FuncInfo; report: Report }[] = [];
  for (const f of funcs) {
    if (!f.decl.bodyConverted || !/\.Fd\(\)/.test(f.file.go.text.slice(f.decl.pos, f.decl.end))) continue;
    const types = regs.typesOf(f);
    // Variables the os package's constructors define (`f, err := os.Open(p)`): the standard library's types are not read.
    const opened = new Set<number>();
    walkStmts(f.decl.ir.body, () => {}, (s) => {
      if (s.k !== 'assign' || !s.define || s.rhs.length !== 1) return;
      const r = unparen(s.rhs[0]);
      const fun = r.k === 'call' ? unparen(r.fun) : undefined;
      const first = unparen(s.lhs[0]);
      if (fun?.k === 'sel' && fun.x.k === 'ident' && fun.x.v === NO_VAR && f.file.imports.get(fun.x.name) === 'os' && OS_OPENERS.has(fun.name) && first.k === 'ident' && first.v >= 0) opened.add(first.v);
    });
    /** `f.Fd()`, through conversions: the *os.File variable. */
    const fileOf = (e: Expr): number | undefined => {
      const x = stripConversions(e);
      if (x.k !== 'call' || x.args.length) return undefined;
      const fun = unparen(x.fun);
      if (fun.k !== 'sel' || fun.name !== 'Fd') return undefined;
      const owner = unparen(fun.x);
      return owner.k === 'ident' && owner.v >= 0 && (opened.has(owner.v) || isOsFile(types.exprType(owner))) ? owner.v : undefined;
    };
    // `fd := f.Fd()`: passing fd passes f's descriptor.
    const aliases = localsSetOnce(f.decl.ir, fileOf);
    const live = new Liveness(f.decl.ir, new Set([...(f.decl.recv ? [f.decl.recv.v] : []), ...f.decl.ir.params]));
    forEachCall(f.decl.ir, (call) => {
      const callee = regs.cCallee(call);
      if (!callee) return;
      for (const arg of call.args) {
        const x = stripConversions(arg);
        const alias = x.k === 'ident' ? aliases.get(x.v) : undefined;
        const file = fileOf(arg) ?? alias?.value;
        if (file === undefined || live.aliveAfter(file, call.pos, call.end)) continue;
        const name = f.decl.vars[file].name;
        const input = f.decl.recv?.v === file || f.decl.ir.params.includes(file);
        const step = (pos: number, message: string): Step => {
          const p = f.file.lines.position(pos);
          return { file: f.file.display, line: p.line, column: p.column, message };
        };
        out.push({
          fn: f,
          report: {
            rule: finalizerKeepalive.meta,
            message: finalizerKeepalive.message({ how: 'descriptor', owner: name, field: 'Fd()', callee: `C.${callee}`, by: 'finalizer', regLine: 0, why: input ? `; ${name} comes from the caller, who may keep it alive` : '' }),
            pos: call.pos,
            end: call.end,
            confidence: input ? 'low' : 'high',
            trace: [
              step(alias?.pos ?? arg.pos, `${name}.Fd() is taken here`),
              step(call.pos, `${name} is not used after C.${callee}: the os package's finalizer may close the descriptor during the call`),
            ],
          },
        });
        break;
      }
    });
  }
  return out;
}
