// Lifetimes of C memory owned by a Go object with a finalizer or cleanup.
//
// A finalizer that frees `o.ptr` runs once `o` is unreachable, and the
// compiler considers `o` dead right after its last use, which may be the load
// of `o.ptr` for a C call: the finalizer can then free the memory while C
// still reads it. A package-level pass: find what each type's finalizers and
// cleanups free, then look at every C call that is handed one of those fields.
import type { FuncInfo, Located } from '../../model/program.js';
import { looksLikeReleaser } from '../../model/cmodel.js';
import { FuncTypes, type Resolver } from '../../model/resolve.js';
import type { Ty } from '../../model/types.js';
import { stripConversions, unparen } from '../../syntax/exprs.js';
import { NO_VAR, type Expr, type FuncIR, type Stmt } from '../../syntax/goast.js';
import { forEachChildExpr, walkStmts } from '../../syntax/walk.js';
import type { DomainModule, Report } from '../../flow/hooks.js';
import type { Step } from '../../flow/state.js';
import { finalizerKeepalive, type FinalizerDetails } from './finalizer-keepalive.js';
import { finalizerStillSet } from './finalizer-still-set.js';

type CallExpr = Extract<Expr, { k: 'call' }>;

/** What the finalizers and cleanups registered for one type free. */
interface Registration {
  /** Fields of the object they release. */
  fields: Set<string>;
  kind: 'finalizer' | 'cleanup';
  file: Located;
  pos: number;
  /** The functions that run at finalization (their bodies are not checked). */
  runs: Set<FuncInfo>;
}

export const finalizers: DomainModule = {
  id: 'finalizers',
  rules: [finalizerKeepalive.meta, finalizerStillSet.meta],
  create: () => ({}),
  packageCheck: {
    trigger: /\b(SetFinalizer|AddCleanup)\b/,
    run: (funcs, resolver) => new LifetimePass(funcs, resolver).run(),
  },
};

class LifetimePass {
  private readonly regs = new Map<string, Registration>();
  private readonly types = new Map<FuncInfo, FuncTypes>();
  private readonly out: { fn: FuncInfo; report: Report }[] = [];
  /** Function literals registered as finalizers or cleanups: they run at finalization. */
  private readonly finalizerLiterals = new Set<FuncIR>();

  constructor(
    private readonly funcs: FuncInfo[],
    private readonly r: Resolver,
  ) {}

  run(): { fn: FuncInfo; report: Report }[] {
    for (const f of this.funcs) this.forEachCall(f.decl.ir, (call) => this.registration(f, call));
    if (!this.regs.size) return [];
    const finalizing = new Set([...this.regs.values()].flatMap((r) => [...r.runs]));
    for (const f of this.funcs) if (!finalizing.has(f)) this.checkFunction(f);
    return this.out;
  }

  private typesOf(f: FuncInfo): FuncTypes {
    let t = this.types.get(f);
    if (!t) this.types.set(f, (t = new FuncTypes(this.r, f)));
    return t;
  }

  /** Every call in a function, closures included, and whether it is the call of a defer statement. */
  private forEachCall(fn: FuncIR, visit: (call: CallExpr, deferred: boolean) => void, skip?: ReadonlySet<FuncIR>): void {
    const deferred = new Set<Expr>();
    const visitExpr = (e: Expr): void => {
      if (e.k === 'call') visit(e, deferred.has(e));
      if (e.k === 'funclit') {
        if (!skip?.has(e.fn)) walkStmts(e.fn.body, visitExpr, visitStmt);
      }
      else forEachChildExpr(e, visitExpr);
    };
    const visitStmt = (s: Stmt): void => {
      if (s.k === 'defer') deferred.add(s.call);
    };
    walkStmts(fn.body, visitExpr, visitStmt);
  }

  // ------------------------------------------------------------ registrations

  /** runtime.SetFinalizer(x, fn) and runtime.AddCleanup(x, fn, x.f). */
  private registration(f: FuncInfo, call: CallExpr): void {
    const which = this.runtimeCall(f, call);
    if (which === 'SetFinalizer' && call.args.length === 2) {
      const fin = this.funcValue(f, call.args[1]);
      if (!fin) return;
      const owner = this.namedPointee(fin.paramType) ?? this.namedPointee(this.typesOf(f).exprType(call.args[0]));
      if (!owner) return;
      const fields = this.releasedFields(fin.info, fin.ir, fin.param, fin.runs);
      if (fields.size) this.addRegistration(owner, fields, 'finalizer', f, call.pos, fin.runs);
    } else if (which === 'AddCleanup' && call.args.length === 3) {
      const owner = this.namedPointee(this.typesOf(f).exprType(call.args[0]));
      const arg = stripConversions(call.args[2]);
      const obj = stripConversions(call.args[0]);
      if (!owner || arg.k !== 'sel' || arg.x.k !== 'ident' || obj.k !== 'ident' || arg.x.v !== obj.v || arg.x.v < 0) return;
      const fin = this.funcValue(f, call.args[1]);
      if (!fin || !this.releasesParam(fin.ir, fin.param)) return;
      this.addRegistration(owner, new Set([arg.name]), 'cleanup', f, call.pos, fin.runs);
    }
  }

  private addRegistration(owner: string, fields: Set<string>, kind: Registration['kind'], f: FuncInfo, pos: number, runs: Set<FuncInfo>): void {
    const prev = this.regs.get(owner);
    if (prev) {
      fields.forEach((x) => prev.fields.add(x));
      runs.forEach((x) => prev.runs.add(x));
    } else this.regs.set(owner, { fields, kind, file: f.file, pos, runs });
  }

  private runtimeCall(f: FuncInfo, call: CallExpr): string | undefined {
    const fun = unparen(call.fun);
    if (fun.k !== 'sel' || fun.x.k !== 'ident' || fun.x.v !== NO_VAR) return undefined;
    return f.file.imports.get(fun.x.name) === 'runtime' ? fun.name : undefined;
  }

  /** The function a finalizer or cleanup argument denotes: a literal, a package function or a method expression. */
  private funcValue(f: FuncInfo, e: Expr): { info: FuncInfo; ir: FuncIR; param: number; paramType: Ty; runs: Set<FuncInfo> } | undefined {
    const x = unparen(e);
    if (x.k === 'funclit') {
      const param = x.fn.params[0];
      if (param === undefined) return undefined;
      this.finalizerLiterals.add(x.fn);
      return { info: f, ir: x.fn, param, paramType: this.typesOf(f).vars[param], runs: new Set() };
    }
    let target: FuncInfo | undefined;
    if (x.k === 'ident' && x.v === NO_VAR) target = this.r.pkg.funcs.get(x.name);
    if (x.k === 'sel') {
      // (*T).m
      let t = unparen(x.x);
      if (t.k === 'unary' && t.op === '*') t = unparen(t.x);
      if (t.k === 'type' && t.type.k === 'pointer' && t.type.elem.k === 'name') target = this.r.pkg.lookupMethod(t.type.elem.name, x.name);
      else if (t.k === 'ident' && t.v === NO_VAR) target = this.r.pkg.lookupMethod(t.name, x.name);
    }
    if (!target?.decl.bodyConverted) return undefined;
    const param = target.decl.recv?.v ?? target.decl.ir.params[0];
    if (param === undefined) return undefined;
    return { info: target, ir: target.decl.ir, param, paramType: this.typesOf(target).vars[param], runs: new Set([target]) };
  }

  /**
   * Fields of `param` the function releases, directly or through a method of
   * the package it calls on param (added to `runs`: it runs at finalization).
   */
  private releasedFields(f: FuncInfo, fn: FuncIR, param: number, runs: Set<FuncInfo>): Set<string> {
    const out = new Set<string>();
    this.forEachCall(fn, (call) => {
      for (const arg of this.releasedArgs(call)) {
        const a = stripConversions(arg);
        if (a.k === 'sel' && a.x.k === 'ident' && a.x.v === param) out.add(a.name);
      }
      const fun = unparen(call.fun);
      if (fun.k !== 'sel' || fun.x.k !== 'ident' || fun.x.v !== param || param < 0) return;
      const pt = this.typesOf(f).vars[param];
      const owner = pt?.k === 'pointer' ? pt.elem : pt;
      const m = owner?.k === 'named' && owner.pkg === this.r.pkg.importPath ? this.r.pkg.lookupMethod(owner.name, fun.name) : undefined;
      if (m?.decl.bodyConverted && m.decl.recv && !runs.has(m)) {
        runs.add(m);
        this.releasedFields(m, m.decl.ir, m.decl.recv.v, runs).forEach((x) => out.add(x));
      }
    });
    return out;
  }

  private releasesParam(fn: FuncIR, param: number): boolean {
    let found = false;
    this.forEachCall(fn, (call) => {
      for (const arg of this.releasedArgs(call)) {
        const a = stripConversions(arg);
        if (a.k === 'ident' && a.v === param) found = true;
      }
    });
    return found;
  }

  /** The C function a call calls, if it is one. */
  private cCallee(call: CallExpr): string | undefined {
    const fun = unparen(call.fun);
    if (fun.k === 'sel' && fun.x.k === 'ident' && fun.x.v === NO_VAR && fun.x.name === 'C' && this.r.cName(fun.name) === 'func') return fun.name;
    return undefined;
  }

  /** Arguments a C call releases (by contract, by its body, or by libc's free). */
  private releasedArgs(call: CallExpr): Expr[] {
    const name = this.cCallee(call);
    if (!name) return [];
    if (name === 'free') return call.args.slice(0, 1);
    const contract = this.r.pkg.contract(name);
    const cfn = this.r.pkg.cFunc(name);
    const idx = new Set<number>([...(contract?.releases ?? []), ...(cfn?.frees ?? [])]);
    if (!contract && !cfn?.defined && looksLikeReleaser(name)) call.args.forEach((_, i) => idx.add(i));
    return call.args.filter((_, i) => idx.has(i));
  }

  /** Arguments whose ownership a C call takes (contract `takes`, or a destructor given with them). */
  private takenArgs(call: CallExpr): Expr[] {
    const name = this.cCallee(call);
    const contract = name ? this.r.pkg.contract(name) : undefined;
    if (!contract) return [];
    const idx = new Set(contract.takes);
    for (const t of contract.takesWithDestructor) {
      const d = call.args[t.destructor] && stripConversions(call.args[t.destructor]);
      if (d && d.k === 'sel' && d.x.k === 'ident' && d.x.name === 'C') idx.add(t.param);
    }
    return call.args.filter((_, i) => idx.has(i));
  }

  private namedPointee(t: Ty | undefined): string | undefined {
    return t?.k === 'pointer' ? this.namedOf(t.elem) : undefined;
  }

  private namedOf(t: Ty | undefined): string | undefined {
    return t?.k === 'named' && t.pkg === this.r.pkg.importPath ? `${t.pkg}.${t.name}` : undefined;
  }

  // ------------------------------------------------------------ checks

  private checkFunction(f: FuncInfo): void {
    if (!f.decl.bodyConverted) return;
    const types = this.typesOf(f);
    const refs = this.references(f.decl.ir);
    const loops = this.loops(f.decl.ir);
    const keptAlive = new Set<number>();
    const cleared = new Set<number>();
    let stopped = false;
    const stored = new Map<string, number[]>(); // "v.f" -> positions of assignments
    this.forEachCall(f.decl.ir, (call, deferred) => {
      const which = this.runtimeCall(f, call);
      const a0 = call.args[0] && stripConversions(call.args[0]);
      // A deferred call holds what it mentions (KeepAlive, a receiver, an argument, a closure's capture) until the function returns.
      if (deferred) this.mentioned(call).forEach((v) => keptAlive.add(v));
      if (which === 'SetFinalizer' && a0?.k === 'ident' && call.args[1] && unparen(call.args[1]).k === 'nil') cleared.add(a0.v);
      const fun = unparen(call.fun);
      // A cleanup handle stopped: ownership accounted for.
      if (fun.k === 'sel' && fun.name === 'Stop' && call.args.length === 0) stopped = true;
    });
    walkStmts(f.decl.ir.body, () => {}, (s) => {
      if (s.k !== 'assign') return;
      for (const l of s.lhs) {
        const x = unparen(l);
        if (x.k === 'sel' && x.x.k === 'ident' && x.x.v >= 0) stored.set(`${x.x.v}.${x.name}`, [...(stored.get(`${x.x.v}.${x.name}`) ?? []), x.pos]);
      }
    });
    this.forEachCall(f.decl.ir, (call) => {
      const callee = this.cCallee(call);
      if (!callee) return;
      const released = new Set(this.releasedArgs(call));
      const taken = new Set(this.takenArgs(call));
      call.args.forEach((arg) => {
        const a = stripConversions(arg);
        if (a.k !== 'sel' || a.x.k !== 'ident' || a.x.v < 0) return;
        const v = a.x.v;
        const vt = types.vars[v];
        const ptrOwner = this.namedPointee(vt);
        const valOwner = this.namedOf(vt);
        const reg = this.regs.get(ptrOwner ?? valOwner ?? '');
        if (!reg || !reg.fields.has(a.name)) return;
        const name = f.decl.vars[v].name;
        const regStep = this.regStep(reg, a.name);
        const callStep = (msg: string) => this.step(f, call.pos, msg);
        if (released.has(arg) || taken.has(arg)) {
          if (!ptrOwner) return;
          const laterStore = (stored.get(`${v}.${a.name}`) ?? []).some((p) => p > call.end);
          if (cleared.has(v) || stopped || laterStore) return;
          this.emit(f, call, {
            how: released.has(arg) ? 'released' : 'taken',
            owner: name,
            field: a.name,
            callee: `C.${callee}`,
            by: reg.kind,
            regLine: reg.file.lines.lineOf(reg.pos),
            regFile: reg.file === f.file ? undefined : reg.file.display,
            trace: [regStep, callStep(`C.${callee} ${released.has(arg) ? 'releases' : 'takes'} ${name}.${a.name} while the ${reg.kind} is still set`)],
          });
          return;
        }
        if (valOwner && f.decl.recv?.v === v) {
          this.emit(f, call, {
            how: 'value-receiver',
            owner: name,
            field: a.name,
            callee: `C.${callee}`,
            by: reg.kind,
            regLine: reg.file.lines.lineOf(reg.pos),
            regFile: reg.file === f.file ? undefined : reg.file.display,
            trace: [regStep, callStep(`${name} is a copy: nothing keeps the original alive while C.${callee} uses ${name}.${a.name}`)],
          });
          return;
        }
        if (!ptrOwner || keptAlive.has(v)) return;
        const usedAfter = (refs.get(v) ?? []).some((p) => p > call.end);
        const inLoop = loops.some((l) => l.pos <= call.pos && call.end <= l.end && (refs.get(v) ?? []).some((p) => p >= l.pos && p <= l.end && (p < call.pos || p > call.end)));
        if (usedAfter || inLoop) return;
        this.emit(f, call, {
          how: 'not-kept-alive',
          owner: name,
          field: a.name,
          callee: `C.${callee}`,
          by: reg.kind,
          regLine: reg.file.lines.lineOf(reg.pos),
            regFile: reg.file === f.file ? undefined : reg.file.display,
          trace: [regStep, this.step(f, a.pos, `${name}.${a.name} is loaded here: ${name} is not used after this`), callStep(`the ${reg.kind} may run during C.${callee}`)],
        });
      });
    }, this.finalizerLiterals);
  }

  private emit(f: FuncInfo, call: CallExpr, e: FinalizerDetails & { trace: Step[] }): void {
    const rule = e.how === 'released' || e.how === 'taken' ? finalizerStillSet : finalizerKeepalive;
    this.out.push({ fn: f, report: { rule: rule.meta, message: rule.message(e), pos: call.pos, end: call.end, trace: e.trace } });
  }

  private regStep(reg: Registration, field: string): Step {
    const p = reg.file.lines.position(reg.pos);
    return { file: reg.file.display, line: p.line, column: p.column, message: `the ${reg.kind} registered here frees .${field}` };
  }

  private step(f: FuncInfo, pos: number, message: string): Step {
    const p = f.file.lines.position(pos);
    return { file: f.file.display, line: p.line, column: p.column, message };
  }

  private mentioned(e: Expr): Set<number> {
    const out = new Set<number>();
    const visit = (x: Expr): void => {
      if (x.k === 'ident' && x.v >= 0) out.add(x.v);
      if (x.k === 'funclit') walkStmts(x.fn.body, visit);
      else forEachChildExpr(x, visit);
    };
    visit(e);
    return out;
  }

  /** Positions where each variable is mentioned, closures included. */
  private references(fn: FuncIR): Map<number, number[]> {
    const out = new Map<number, number[]>();
    const visit = (e: Expr): void => {
      if (e.k === 'ident' && e.v >= 0) out.set(e.v, [...(out.get(e.v) ?? []), e.pos]);
      if (e.k === 'funclit') walkStmts(e.fn.body, visit);
      else forEachChildExpr(e, visit);
    };
    walkStmts(fn.body, visit);
    return out;
  }

  private loops(fn: FuncIR): { pos: number; end: number }[] {
    const out: { pos: number; end: number }[] = [];
    const visitExpr = (e: Expr): void => {
      if (e.k === 'funclit') walkStmts(e.fn.body, visitExpr, visitStmt);
      else forEachChildExpr(e, visitExpr);
    };
    const visitStmt = (s: Stmt): void => {
      if (s.k === 'for' || s.k === 'range') out.push({ pos: s.pos, end: s.end });
    };
    walkStmts(fn.body, visitExpr, visitStmt);
    return out;
  }
}
