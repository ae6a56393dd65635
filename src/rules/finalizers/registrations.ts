// What each type's finalizers and cleanups free: runtime.SetFinalizer(x, fn)
// and runtime.AddCleanup(x, fn, x.f), read from the functions they run, and
// the C calls of the package that release or take over memory.
import type { FuncInfo, Located } from '../../model/program.js';
import { looksLikeReleaser } from '../../model/cnames.js';
import { FuncTypes, type Resolver } from '../../model/resolve.js';
import type { Ty } from '../../model/types.js';
import { cgoName, stripConversions, unparen } from '../../syntax/exprs.js';
import { NO_VAR, type Expr, type FuncIR, type Stmt } from '../../syntax/goast.js';
import { forEachChildExpr, walkStmts } from '../../syntax/walk.js';

export type CallExpr = Extract<Expr, { k: 'call' }>;

/** What the finalizers and cleanups registered for one type free. */
export interface Registration {
  /** Fields of the object they release, and whether the release is only guessed from a C function's name. */
  fields: Map<string, { guessed: boolean }>;
  kind: 'finalizer' | 'cleanup';
  file: Located;
  pos: number;
  /** The functions that run at finalization (their bodies are not checked). */
  runs: Set<FuncInfo>;
  /** The functions that set it, and where each first does. */
  setIn: Map<FuncInfo, number>;
}

/** An argument a C call releases; `guessed` when only the function's name says so. */
export interface Release {
  arg: Expr;
  guessed: boolean;
}

export class Registrations {
  /** By owner type (importPath.Name). */
  readonly byType = new Map<string, Registration>();
  /** Function literals registered as finalizers or cleanups: they run at finalization. */
  readonly literals = new Set<FuncIR>();
  private readonly types = new Map<FuncInfo, FuncTypes>();

  constructor(
    funcs: FuncInfo[],
    readonly r: Resolver,
  ) {
    for (const f of funcs) forEachCall(f.decl.ir, (call) => this.registration(f, call));
  }

  typesOf(f: FuncInfo): FuncTypes {
    let t = this.types.get(f);
    if (!t) this.types.set(f, (t = new FuncTypes(this.r, f)));
    return t;
  }

  /** The functions that run at finalization. */
  finalizing(): Set<FuncInfo> {
    return new Set([...this.byType.values()].flatMap((r) => [...r.runs]));
  }

  private registration(f: FuncInfo, call: CallExpr): void {
    const which = runtimeCall(f, call);
    if (which === 'SetFinalizer' && call.args.length === 2) {
      const fin = this.funcValue(f, call.args[1]);
      if (!fin) return;
      const owner = this.namedPointee(fin.paramType) ?? this.namedPointee(this.typesOf(f).exprType(call.args[0]));
      if (!owner) return;
      const fields = this.releasedFields(fin.info, fin.ir, fin.param, fin.runs);
      if (fields.size) this.add(owner, fields, 'finalizer', f, call.pos, fin.runs);
    } else if (which === 'AddCleanup' && call.args.length === 3) {
      const owner = this.namedPointee(this.typesOf(f).exprType(call.args[0]));
      const arg = stripConversions(call.args[2]);
      const obj = stripConversions(call.args[0]);
      if (!owner || arg.k !== 'sel' || arg.x.k !== 'ident' || obj.k !== 'ident' || arg.x.v !== obj.v || arg.x.v < 0) return;
      const fin = this.funcValue(f, call.args[1]);
      const release = fin && this.releaseOfParam(fin.ir, fin.param);
      if (!fin || !release) return;
      this.add(owner, new Map([[arg.name, release]]), 'cleanup', f, call.pos, fin.runs);
    }
  }

  private add(owner: string, fields: Registration['fields'], kind: Registration['kind'], f: FuncInfo, pos: number, runs: Set<FuncInfo>): void {
    const prev = this.byType.get(owner);
    if (!prev) {
      this.byType.set(owner, { fields, kind, file: f.file, pos, runs, setIn: new Map([[f, pos]]) });
      return;
    }
    if (!prev.setIn.has(f)) prev.setIn.set(f, pos);
    for (const [name, how] of fields) prev.fields.set(name, { guessed: (prev.fields.get(name)?.guessed ?? true) && how.guessed });
    runs.forEach((x) => prev.runs.add(x));
  }

  /** The function a finalizer or cleanup argument denotes: a literal, a package function or a method expression. */
  private funcValue(f: FuncInfo, e: Expr): { info: FuncInfo; ir: FuncIR; param: number; paramType: Ty; runs: Set<FuncInfo> } | undefined {
    const x = unparen(e);
    if (x.k === 'funclit') {
      const param = x.fn.params[0];
      if (param === undefined) return undefined;
      this.literals.add(x.fn);
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
  private releasedFields(f: FuncInfo, fn: FuncIR, param: number, runs: Set<FuncInfo>): Registration['fields'] {
    const out: Registration['fields'] = new Map();
    const note = (name: string, guessed: boolean) => out.set(name, { guessed: (out.get(name)?.guessed ?? true) && guessed });
    forEachCall(fn, (call) => {
      for (const { arg, guessed } of this.releasedArgs(call, true)) {
        const a = stripConversions(arg);
        if (a.k === 'sel' && a.x.k === 'ident' && a.x.v === param) note(a.name, guessed);
      }
      const fun = unparen(call.fun);
      if (fun.k !== 'sel' || fun.x.k !== 'ident' || fun.x.v !== param || param < 0) return;
      const pt = this.typesOf(f).vars[param];
      const owner = pt?.k === 'pointer' ? pt.elem : pt;
      const m = owner?.k === 'named' && owner.pkg === this.r.pkg.importPath ? this.r.pkg.lookupMethod(owner.name, fun.name) : undefined;
      if (m?.decl.bodyConverted && m.decl.recv && !runs.has(m)) {
        runs.add(m);
        for (const [name, how] of this.releasedFields(m, m.decl.ir, m.decl.recv.v, runs)) note(name, how.guessed);
      }
    });
    return out;
  }

  private releaseOfParam(fn: FuncIR, param: number): { guessed: boolean } | undefined {
    let found: { guessed: boolean } | undefined;
    forEachCall(fn, (call) => {
      for (const { arg, guessed } of this.releasedArgs(call, true)) {
        const a = stripConversions(arg);
        if (a.k === 'ident' && a.v === param) found = { guessed: (found?.guessed ?? true) && guessed };
      }
    });
    return found;
  }

  /** The C function a call calls, if it is one. */
  cCallee(call: CallExpr): string | undefined {
    const name = cgoName(call.fun);
    return name !== undefined && this.r.cName(name) === 'func' ? name : undefined;
  }

  /**
   * Arguments a C call releases: by contract, by its body, or libc's free; with
   * `guesses`, also every argument of a function only named like a releaser.
   */
  releasedArgs(call: CallExpr, guesses: boolean): Release[] {
    const name = this.cCallee(call);
    if (!name) return [];
    if (name === 'free') return call.args.slice(0, 1).map((arg) => ({ arg, guessed: false }));
    const contract = this.r.pkg.contract(name);
    const cfn = this.r.pkg.cFunc(name);
    const known = new Set<number>([...(contract?.releases ?? []), ...(cfn?.frees ?? [])]);
    const guessed = guesses && !contract && !cfn?.defined && looksLikeReleaser(name);
    return call.args.flatMap((arg, i): Release[] => (known.has(i) ? [{ arg, guessed: false }] : guessed ? [{ arg, guessed: true }] : []));
  }

  /** Arguments whose ownership a C call takes (contract `takes`, or a destructor given with them). */
  takenArgs(call: CallExpr): Expr[] {
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

  namedPointee(t: Ty | undefined): string | undefined {
    return t?.k === 'pointer' ? this.namedOf(t.elem) : undefined;
  }

  namedOf(t: Ty | undefined): string | undefined {
    return t?.k === 'named' && t.pkg === this.r.pkg.importPath ? `${t.pkg}.${t.name}` : undefined;
  }
}

export function runtimeCall(f: FuncInfo, call: CallExpr): string | undefined {
  const fun = unparen(call.fun);
  if (fun.k !== 'sel' || fun.x.k !== 'ident' || fun.x.v !== NO_VAR) return undefined;
  return f.file.imports.get(fun.x.name) === 'runtime' ? fun.name : undefined;
}

/** Every call in a function, closures included, and whether it is the call of a defer statement. */
export function forEachCall(fn: FuncIR, visit: (call: CallExpr, deferred: boolean) => void, skip?: ReadonlySet<FuncIR>): void {
  const deferred = new Set<Expr>();
  const visitExpr = (e: Expr): void => {
    if (e.k === 'call') visit(e, deferred.has(e));
    if (e.k === 'funclit') {
      if (!skip?.has(e.fn)) walkStmts(e.fn.body, visitExpr, visitStmt);
    } else forEachChildExpr(e, visitExpr);
  };
  const visitStmt = (s: Stmt): void => {
    if (s.k === 'defer') deferred.add(s.call);
  };
  walkStmts(fn.body, visitExpr, visitStmt);
}

/**
 * Locals defined once, with `:=`, to a value `pick` recognises (`p := r.ptr`, `fd := f.Fd()`), and
 * where that value is: passing the local passes what it was set to.
 */
export function localsSetOnce<T>(fn: FuncIR, pick: (rhs: Expr) => T | undefined): Map<number, { value: T; pos: number }> {
  const sets = new Map<number, number>();
  const found = new Map<number, { value: T; pos: number }>();
  walkStmts(fn.body, () => {}, (s) => {
    if (s.k !== 'assign') return;
    s.lhs.forEach((l, i) => {
      const x = unparen(l);
      if (x.k !== 'ident' || x.v < 0) return;
      sets.set(x.v, (sets.get(x.v) ?? 0) + 1);
      const r = s.lhs.length === s.rhs.length ? s.rhs[i] : undefined;
      const value = r && s.define ? pick(r) : undefined;
      if (value !== undefined) found.set(x.v, { value, pos: r!.pos });
    });
  });
  for (const v of [...found.keys()]) if (sets.get(v) !== 1) found.delete(v);
  return found;
}
