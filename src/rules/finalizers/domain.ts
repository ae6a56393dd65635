// Lifetimes of C memory owned by a Go object with a finalizer or cleanup.
//
// A finalizer that frees `o.ptr` runs once `o` is unreachable, and the
// compiler considers `o` dead right after its last use, which may be the load
// of `o.ptr` for a C call: the finalizer can then free the memory while C
// still reads it. A package-level pass: find what each type's finalizers and
// cleanups free (registrations.ts), then look at every C call that is handed
// one of those fields, and warn only where the owner can be dead after it.
import type { FuncInfo } from '../../model/program.js';
import { stripConversions, unparen } from '../../syntax/exprs.js';
import { NO_VAR, type Expr } from '../../syntax/goast.js';
import { walkStmts } from '../../syntax/walk.js';
import type { DomainModule, Report } from '../../flow/hooks.js';
import type { Step } from '../../flow/state.js';
import type { Confidence } from '../rule.js';
import { finalizerKeepalive, type FinalizerDetails } from './finalizer-keepalive.js';
import { checkFileDescriptors } from './file-descriptors.js';
import { finalizerStillSet } from './finalizer-still-set.js';
import { Liveness } from './liveness.js';
import { missingFinalizer } from './missing-finalizer.js';
import { checkWrappers } from './wrappers.js';
import { Registrations, forEachCall, localsSetOnce, runtimeCall, type CallExpr, type Registration } from './registrations.js';

export const finalizers: DomainModule = {
  id: 'finalizers',
  rules: [finalizerKeepalive.meta, finalizerStillSet.meta, missingFinalizer.meta],
  create: () => ({}),
  packageCheck: {
    trigger: /\b(SetFinalizer|AddCleanup)\b|\.Fd\(\)/,
    // Callers of the package's helpers tell whether an owner outlives a call inside them.
    everyBody: true,
    run: (funcs, resolver) => {
      const regs = new Registrations(funcs, resolver);
      return [...new LifetimePass(funcs, regs).run(), ...checkWrappers(funcs, regs), ...checkFileDescriptors(funcs, regs)];
    },
  },
};

/** Where an owner comes from: a local variable, or an input of the function (a callers' question). */
type Owner = { local: true } | { local: false; exported: boolean; input: 'recv' | number };

class LifetimePass {
  private readonly out: { fn: FuncInfo; report: Report }[] = [];
  private readonly liveness = new Map<FuncInfo, Liveness>();

  constructor(
    private readonly funcs: FuncInfo[],
    private readonly regs: Registrations,
  ) {}

  run(): { fn: FuncInfo; report: Report }[] {
    if (!this.regs.byType.size) return [];
    const finalizing = this.regs.finalizing();
    for (const f of this.funcs) if (!finalizing.has(f)) this.checkFunction(f);
    return this.out;
  }

  private livenessOf(f: FuncInfo): Liveness {
    let l = this.liveness.get(f);
    if (!l) this.liveness.set(f, (l = new Liveness(f.decl.ir, new Set([...(f.decl.recv ? [f.decl.recv.v] : []), ...f.decl.ir.params]))));
    return l;
  }

  private checkFunction(f: FuncInfo): void {
    if (!f.decl.bodyConverted) return;
    const types = this.regs.typesOf(f);
    const live = this.livenessOf(f);
    const cleared = new Set<number>();
    let stopped = false;
    const stored = new Map<string, number[]>(); // "v.f" -> positions of assignments
    forEachCall(f.decl.ir, (call) => {
      const a0 = call.args[0] && stripConversions(call.args[0]);
      if (runtimeCall(f, call) === 'SetFinalizer' && a0?.k === 'ident' && call.args[1] && unparen(call.args[1]).k === 'nil') cleared.add(a0.v);
      const fun = unparen(call.fun);
      // A cleanup handle stopped: ownership accounted for.
      if (fun.k === 'sel' && fun.name === 'Stop' && call.args.length === 0) stopped = true;
    });
    forEachAssignedField(f, (v, field, pos) => stored.set(`${v}.${field}`, [...(stored.get(`${v}.${field}`) ?? []), pos]));
    // `p := r.ptr`: passing p passes the field.
    const aliases = localsSetOnce(f.decl.ir, (r) => {
      const x = stripConversions(r);
      return x.k === 'sel' ? fieldRef(x) : undefined;
    });
    forEachCall(
      f.decl.ir,
      (call) => {
        const callee = this.regs.cCallee(call);
        if (!callee) return;
        // A release guessed from a name never makes a finding of its own (git_reference_delete deletes on disk).
        const released = new Set(this.regs.releasedArgs(call, false).map((r) => r.arg));
        const taken = new Set(this.regs.takenArgs(call));
        // One finding per owner and call, naming every field of it the call is given.
        const notKept = new Map<number, { fields: string[]; reg: Registration; first: Expr }>();
        call.args.forEach((arg) => {
          const a = stripConversions(arg);
          const ref = a.k === 'sel' ? fieldRef(a) : a.k === 'ident' ? aliases.get(a.v)?.value : undefined;
          if (!ref) return;
          const v = ref.v;
          const vt = types.vars[v];
          const ptrOwner = this.regs.namedPointee(vt);
          const valOwner = this.regs.namedOf(vt);
          const reg = this.regs.byType.get(ptrOwner ?? valOwner ?? '');
          if (!reg || !reg.fields.has(ref.field)) return;
          const name = f.decl.vars[v].name;
          const base = { owner: name, field: ref.field, callee: `C.${callee}`, by: reg.kind, regLine: reg.file.lines.lineOf(reg.pos), regFile: reg.file === f.file ? undefined : reg.file.display };
          if (released.has(arg) || taken.has(arg)) {
            if (!ptrOwner) return;
            const laterStore = (stored.get(`${v}.${ref.field}`) ?? []).some((p) => p > call.end);
            if (cleared.has(v) || stopped || laterStore) return;
            const how = released.has(arg) ? 'released' : 'taken';
            this.emit(f, call, { ...base, how }, [this.regStep(reg, ref.field), this.step(f, call.pos, `C.${callee} ${how === 'released' ? 'releases' : 'takes'} ${name}.${ref.field} while the ${reg.kind} is still set`)]);
            return;
          }
          if (valOwner && f.decl.recv?.v === v) {
            this.emit(f, call, { ...base, how: 'value-receiver' }, [this.regStep(reg, ref.field), this.step(f, call.pos, `${name} is a copy: nothing keeps the original alive while C.${callee} uses ${name}.${ref.field}`)]);
            return;
          }
          if (!ptrOwner || live.aliveAfter(v, call.pos, call.end)) return;
          const prev = notKept.get(v);
          if (prev) prev.fields.push(ref.field);
          else notKept.set(v, { fields: [ref.field], reg, first: a });
        });
        for (const [v, { fields, reg, first }] of notKept) this.notKeptAlive(f, call, callee, v, fields, reg, first);
      },
      this.regs.literals,
    );
  }

  /** The owner is dead after the call in this function: a finding, as sure as where the owner comes from allows. */
  private notKeptAlive(f: FuncInfo, call: CallExpr, callee: string, v: number, fields: string[], reg: Registration, first: Expr): void {
    const owner = this.ownerOf(f, v);
    let confidence: Confidence = 'high';
    let why = '';
    if (!owner.local) {
      if (owner.exported) {
        // Callers outside the package decide: most keep the owner.
        confidence = 'low';
        why = `; ${f.decl.vars[v].name} comes from the caller, who may keep it alive`;
      } else {
        const sites = this.callSites(f, owner.input);
        // Every caller in the package keeps what it passes alive after the call (or nothing calls it).
        if (sites.every((s) => s.keeps)) return;
        confidence = 'medium';
      }
    }
    if ([...fields].some((x) => reg.fields.get(x)?.guessed)) {
      confidence = confidence === 'high' ? 'medium' : confidence;
      why += `; the ${reg.kind} frees it with a C function named like a releaser`;
    }
    const name = f.decl.vars[v].name;
    const [field, ...others] = fields;
    const d: FinalizerDetails = { how: 'not-kept-alive', owner: name, field, others: others.length ? others : undefined, callee: `C.${callee}`, by: reg.kind, regLine: reg.file.lines.lineOf(reg.pos), regFile: reg.file === f.file ? undefined : reg.file.display, why };
    this.emit(f, call, d, [this.regStep(reg, fields[0]), this.step(f, first.pos, `${name}.${fields[0]} is loaded here: ${name} is not used after this`), this.step(f, call.pos, `the ${reg.kind} may run during C.${callee}`)], confidence);
  }

  /** A local variable, or the function's receiver or parameter i, and whether callers outside the package can pass it. */
  private ownerOf(f: FuncInfo, v: number): Owner {
    const input = f.decl.recv?.v === v ? 'recv' : f.decl.ir.params.indexOf(v);
    if (input === -1) return { local: true };
    return { local: false, exported: /^\p{Lu}/u.test(f.name), input };
  }

  /** The package's calls of f, and whether each keeps the owner it passes (receiver or parameter i) alive after the call. */
  private callSites(f: FuncInfo, input: 'recv' | number): { keeps: boolean }[] {
    const out: { keeps: boolean }[] = [];
    for (const g of this.funcs) {
      if (!g.decl.bodyConverted) continue;
      const types = this.regs.typesOf(g);
      forEachCall(g.decl.ir, (call) => {
        const fun = unparen(call.fun);
        let arg: Expr | undefined;
        if (f.recvType) {
          if (fun.k !== 'sel' || fun.name !== f.name) return;
          const rt = types.exprType(fun.x);
          const named = rt.k === 'pointer' ? rt.elem : rt;
          if (named.k !== 'named' || named.name !== f.recvType) return;
          arg = input === 'recv' ? fun.x : call.args[input];
        } else {
          if (fun.k !== 'ident' || fun.v !== NO_VAR || fun.name !== f.name || input === 'recv') return;
          arg = call.args[input];
        }
        const x = arg && stripConversions(arg);
        const root = x?.k === 'unary' && x.op === '&' ? unparen(x.x) : x;
        out.push({ keeps: root?.k === 'ident' && root.v >= 0 && this.livenessOf(g).aliveAfter(root.v, call.pos, call.end) });
      });
    }
    return out;
  }

  private emit(f: FuncInfo, call: CallExpr, d: FinalizerDetails, trace: Step[], confidence: Confidence = 'high'): void {
    const rule = d.how === 'released' || d.how === 'taken' ? finalizerStillSet : finalizerKeepalive;
    this.out.push({ fn: f, report: { rule: rule.meta, message: rule.message(d), pos: call.pos, end: call.end, trace, confidence } });
  }

  private regStep(reg: Registration, field: string): Step {
    const p = reg.file.lines.position(reg.pos);
    return { file: reg.file.display, line: p.line, column: p.column, message: `the ${reg.kind} registered here frees .${field}` };
  }

  private step(f: FuncInfo, pos: number, message: string): Step {
    const p = f.file.lines.position(pos);
    return { file: f.file.display, line: p.line, column: p.column, message };
  }
}

/** `v.f = ...` assignments of the function: the variable, the field and where. */
function forEachAssignedField(f: FuncInfo, visit: (v: number, field: string, pos: number) => void): void {
  walkStmts(f.decl.ir.body, () => {}, (s) => {
    if (s.k !== 'assign') return;
    for (const l of s.lhs) {
      const x = unparen(l);
      if (x.k === 'sel' && x.x.k === 'ident' && x.x.v >= 0) visit(x.x.v, x.name, x.pos);
    }
  });
}

/** `r.ptr`, `r.handle.ptr` (an embedded struct's field): the variable it is read through, and the field. */
function fieldRef(e: Expr & { k: 'sel' }): { v: number; field: string } | undefined {
  let x = unparen(e.x);
  while (x.k === 'sel') x = unparen(x.x);
  return x.k === 'ident' && x.v >= 0 ? { v: x.v, field: e.name } : undefined;
}
