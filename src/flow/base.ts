// The interpreter's foundation: the function under analysis, its closures
// and control-flow graphs, budgets, names and positions, the registered
// domain modules, and the storage of variables. The interpreter is one class
// built in layers, one file each (base → memory → expressions → conditions →
// calls → interpreter), so that each layer reads on its own.
import type { FuncInfo, PackageModel } from '../model/program.js';
import { FuncTypes, type Resolver } from '../model/resolve.js';
import type { Ty } from '../model/types.js';
import { NO_VAR, type Expr, type FuncIR } from '../syntax/goast.js';
import { stripConversions } from '../syntax/exprs.js';
import { forEachChildExpr, walkStmts } from '../syntax/walk.js';
import { cHasPointers } from '../model/ctypes.js';
import { buildCFG, type CFG } from './cfg.js';
import { typeView, type TypeView } from './gomemory.js';
import type { CallExpr, DomainHooks, DomainModule, Engine, Report, ResourceKind, StoreIntoC } from './hooks.js';
import { FALSE, NIL, State, UNKNOWN_VAL, objId, objVal, varKey, type Obj, type Step, type Val } from './state.js';
import type { Summary, SummaryCase } from './summary.js';

export interface SummaryLookup {
  get(key: string): Summary | undefined;
}

export interface Budget {
  /** Block executions per function before it is given up. */
  maxSteps: number;
  /** Distinct states kept per block; more are dropped (the function becomes partial). */
  maxStatesPerBlock: number;
  maxInlineDepth: number;
}

export const DEFAULT_BUDGET: Budget = { maxSteps: 80000, maxStatesPerBlock: 48, maxInlineDepth: 3 };

export interface FunctionResult {
  reports: Report[];
  summary?: Summary;
  status: 'complete' | 'partial' | 'aborted';
}

export class BudgetExceeded extends Error {}

/** Picks among alternatives; the driver re-runs an instruction once per choice vector. */
export class Chooser {
  private idx = 0;
  private readonly sizes: number[] = [];
  constructor(private readonly vec: number[]) {}
  choose(n: number): number {
    const i = this.idx++;
    this.sizes[i] = n;
    return Math.min(this.vec[i] ?? 0, n - 1);
  }
  next(): number[] | undefined {
    const v = this.sizes.map((_, i) => this.vec[i] ?? 0);
    for (let i = v.length - 1; i >= 0; i--) {
      if (v[i] + 1 < this.sizes[i]) {
        v[i]++;
        return v.slice(0, i + 1);
      }
    }
    return undefined;
  }
}

/** A function frame: the top-level function or an inlined closure. */
export interface Frame {
  fn: FuncIR;
  depth: number;
}

/** A call's evaluated operands (also kept for deferred calls). */
export interface Operands {
  args: Val[];
  fnVal?: Val;
  recv?: Val;
  /** For C calls: what each module noted about the operands (captureOperands), by module id. */
  captured?: Map<string, unknown>;
}

const ALLOC_LIMIT = 4; // live objects per allocation site on one path

export abstract class FlowBase implements Engine {
  readonly types: FuncTypes;
  readonly gmem: TypeView;
  readonly pkg: PackageModel;
  /** The name C knows the function by, when it is exported with //export. */
  readonly exported: string | undefined;
  protected readonly cfgs = new Map<number, CFG>();
  protected readonly closures = new Map<number, FuncIR>();
  private readonly captured = new Map<number, Set<number>>();
  private readonly reports = new Map<string, Report>();
  protected readonly cases = new Map<string, SummaryCase>();
  private steps = 0;
  protected partial = false;
  protected readonly file;
  private readonly text: string;
  /** The modules' hooks, in registration order, and the modules' ids in the same order. */
  protected readonly hooks: DomainHooks[];
  protected readonly moduleIds: string[];
  /** Standard-library APIs a module interprets: the modules (by index) and whether the receiver is evaluated. */
  protected readonly apis = new Map<string, { modules: number[]; evalRecv: boolean }>();
  private readonly resources = new Map<string, ResourceKind>();
  private readonly provided = new Map<string, unknown>();
  /** What the modules' facts add to a state's identity. */
  protected readonly facetKey: ((o: Obj) => string) | undefined;

  /**
   * @param pathSensitive explore paths separately (needed where C memory is
   * allocated or freed); otherwise states are joined per block, which is
   * enough to summarise what a function does with its parameters.
   */
  constructor(
    readonly info: FuncInfo,
    readonly resolver: Resolver,
    protected readonly summaries: SummaryLookup,
    modules: readonly DomainModule[],
    protected readonly budget: Budget,
    protected readonly pathSensitive: boolean,
  ) {
    this.pkg = info.pkg;
    this.file = info.file;
    this.text = info.file.go.text;
    this.types = new FuncTypes(resolver, info);
    this.gmem = typeView(resolver);
    this.exported = info.decl.doc.map((c) => /^\/\/export\s+(\S+)/.exec(c.text)?.[1]).find(Boolean);
    modules.forEach((m, i) => {
      for (const [api, spec] of Object.entries(m.apis ?? {})) {
        const cur = this.apis.get(api);
        if (cur) cur.modules.push(i);
        else this.apis.set(api, { modules: [i], evalRecv: spec.evalRecv });
      }
      for (const [id, kind] of Object.entries(m.resources ?? {})) this.resources.set(id, kind);
    });
    // State identity is hashed on every step: one module's key is used as it is.
    const keyed = modules.flatMap((m) => (m.facetKey ? [m.facetKey] : []));
    this.facetKey = keyed.length <= 1 ? keyed[0] : (o) => keyed.map((k) => k(o)).join('');
    this.moduleIds = modules.map((m) => m.id);
    this.hooks = modules.map((m) => {
      const h = m.create(this);
      if (h.provides) this.provided.set(m.id, h.provides);
      return h;
    });
    this.indexClosures(info.decl.ir);
  }

  // ---------------------------------------------------------------- the modules

  resource(id: string): ResourceKind | undefined {
    return this.resources.get(id);
  }

  domain<T>(id: string): T | undefined {
    return this.provided.get(id) as T | undefined;
  }

  report(key: string, r: Report): void {
    if (!this.reports.has(key)) this.reports.set(key, r);
  }

  protected allReports(): Report[] {
    return [...this.reports.values()];
  }

  /** What the modules note about a C call's operands when they are evaluated. */
  protected captureOperands(e: CallExpr, args: Val[], st: State): Map<string, unknown> {
    const out = new Map<string, unknown>();
    this.hooks.forEach((h, i) => {
      if (h.captureOperands) out.set(this.moduleIds[i], h.captureOperands(e, args, st));
    });
    return out;
  }

  /** The object must be released by someone (some module owns it). */
  protected owned(o: Obj): boolean {
    return this.hooks.some((h) => h.owns?.(o));
  }

  /** An owned object became unreachable: the first module that takes charge of it reports. */
  protected lost(st: State, id: string, o: Obj, how: 'return' | 'lost' | 'scope' | 'dropped', at: number, name?: string): void {
    for (const h of this.hooks) if (h.onLost?.(st, id, o, { how, at, name })) return;
  }

  // ---------------------------------------------------------------- closures and graphs

  private indexClosures(fn: FuncIR): void {
    const visitExpr = (e: Expr): void => {
      if (e.k === 'funclit') {
        this.closures.set(e.fn.id, e.fn);
        this.indexClosures(e.fn);
        return;
      }
      forEachChildExpr(e, visitExpr);
    };
    walkStmts(fn.body, visitExpr);
  }

  /** Variables a closure uses that belong to an enclosing function. */
  protected capturedBy(id: number): Set<number> {
    let set = this.captured.get(id);
    if (set) return set;
    set = new Set();
    const fn = this.closures.get(id);
    const vars = this.info.decl.vars;
    const inner = new Set<number>([id]);
    const collectInner = (f: FuncIR) => {
      walkStmts(f.body, function visit(e: Expr): void {
        if (e.k === 'funclit') {
          inner.add(e.fn.id);
          collectInner(e.fn);
          return;
        }
        forEachChildExpr(e, visit);
      });
    };
    if (fn) {
      collectInner(fn);
      const s = set;
      const visit = (e: Expr): void => {
        if (e.k === 'ident' && e.v >= 0 && !inner.has(vars[e.v].fn)) s.add(e.v);
        if (e.k === 'funclit') {
          walkStmts(e.fn.body, visit);
          return;
        }
        forEachChildExpr(e, visit);
      };
      walkStmts(fn.body, visit, (s2) => {
        // Assignment targets and range variables are references too.
        const refs: Expr[] = [];
        if (s2.k === 'assign') refs.push(...s2.lhs);
        if (s2.k === 'range') {
          if (s2.key) refs.push(s2.key);
          if (s2.value) refs.push(s2.value);
        }
        if (s2.k === 'incdec') refs.push(s2.x);
        refs.forEach(visit);
      });
    }
    this.captured.set(id, set);
    return set;
  }

  protected cfg(fn: FuncIR): CFG {
    let c = this.cfgs.get(fn.id);
    if (!c) this.cfgs.set(fn.id, (c = buildCFG(fn)));
    return c;
  }

  // ---------------------------------------------------------------- budget

  /** Counts work against the function's budget. */
  protected tick(): void {
    if (++this.steps > this.budget.maxSteps) throw new BudgetExceeded();
  }

  /** A fresh object id for an allocation site, or undefined when the site has too many live objects. */
  allocId(st: State, base: string): string | undefined {
    if (!st.objs.has(base)) return base;
    for (let i = 1; i < ALLOC_LIMIT; i++) {
      const id = `${base}#${i}`;
      if (!st.objs.has(id)) return id;
    }
    this.partial = true;
    return undefined;
  }

  // ---------------------------------------------------------------- variables and types

  /** The zero value of variable v: struct variables get storage whose fields start nil. */
  protected zeroValue(st: State, v: number): Val {
    if (this.isStructVar(v)) return this.storage(st, v, false);
    return this.zeroOf(this.types.vars[v]);
  }

  protected zeroOf(t: Ty): Val {
    const u = this.types.underlyingOf(t);
    switch (u.k) {
      case 'basic':
        if (u.name === 'bool') return FALSE;
        if (u.name === 'error' || u.name === 'any') return NIL;
        return UNKNOWN_VAL;
      case 'pointer':
      case 'unsafeptr':
      case 'slice':
      case 'map':
      case 'chan':
      case 'func':
      case 'interface':
        return NIL;
      default:
        return UNKNOWN_VAL;
    }
  }

  /** Struct and array variables: values with storage of their own, whose fields or elements are followed. */
  isStructVar(v: number): boolean {
    const t = this.types.vars[v];
    return this.resolver.isStruct(t) || this.types.underlyingOf(t).k === 'array';
  }

  /**
   * The storage of a struct or array variable, as an object whose fields are
   * tracked; `&s` and `s` both refer to it. Storage made for a value of
   * unknown origin is opaque: its fields are unknown, not zero.
   */
  protected storage(st: State, v: number, opaque: boolean): Val {
    const cur = st.env.get(varKey(v));
    if (cur && objId(cur) && st.obj(objId(cur)!)) return cur;
    const id = this.allocId(st, `s${v}`);
    if (!id) return UNKNOWN_VAL;
    const t = this.types.vars[v];
    st.setObj(id, {
      kind: 'go',
      state: 'live',
      what: 'variable',
      site: this.info.decl.vars[v].pos,
      nullable: false,
      steps: [],
      opaque: opaque || undefined,
      goType: t,
      inline: true,
      bytes: this.goSize(t),
    });
    st.assign(varKey(v), objVal(id));
    return objVal(id);
  }

  /**
   * An input of an //export'ed function reached through a pointer parameter to
   * a C type (`s *C.stream_t`, or what its fields point to): C called the
   * function with memory of its own.
   */
  fromC(o: Obj | undefined): StoreIntoC['fromC'] {
    if (!this.exported || o?.kind !== 'sym' || !o.origin?.startsWith('p')) return undefined;
    const v = this.info.decl.ir.params[Number(o.origin.split('.')[0].slice(1))];
    const t = v === undefined ? undefined : this.types.underlyingOf(this.types.vars[v]);
    if (t?.k !== 'pointer' || this.types.underlyingOf(t.elem).k !== 'c') return undefined;
    return { param: this.info.decl.vars[v].name, fn: this.exported };
  }

  /** Does memory of this Go type hold pointers? Unknown counts as yes. */
  goHasPointers(t: Ty, depth = 0): boolean {
    if (depth > 6) return true;
    const u = this.types.underlyingOf(t);
    switch (u.k) {
      case 'basic':
        return ['string', 'error', 'any'].includes(u.name);
      case 'array':
        return this.goHasPointers(u.elem, depth + 1);
      case 'struct':
        return u.fields.some((f) => this.goHasPointers(f.type, depth + 1));
      case 'c': {
        const ct = this.info.pkg.cType(u.name);
        return ct ? cHasPointers(ct, this.info.pkg.c) !== false : true;
      }
      default:
        return true;
    }
  }

  goSize(t: Ty): number | undefined {
    return this.resolver.sizeOf(t);
  }

  protected isPackageRef(x: Expr): boolean {
    return x.k === 'ident' && x.v === NO_VAR && (x.name === 'C' || this.info.file.imports.has(x.name));
  }

  protected isCPointer(x: Expr): boolean {
    const t = this.types.exprType(x);
    return t.k === 'pointer' && t.elem.k === 'c';
  }

  // ---------------------------------------------------------------- names and positions

  src(e: { pos: number; end: number }): string {
    const s = this.text.slice(e.pos, e.end).replace(/\s+/g, ' ');
    return s.length > 60 ? `${s.slice(0, 57)}...` : s;
  }

  nameOf(e: Expr): string {
    return this.src(stripConversions(e));
  }

  argName(call: CallExpr, i: number): string {
    const a = call.args[i];
    return a ? this.nameOf(a) : `argument ${i + 1} of ${this.src(call.fun)}`;
  }

  line(pos: number): number {
    return this.file.lines.lineOf(pos);
  }

  step(pos: number, message: string): Step {
    const p = this.file.lines.position(pos);
    return { file: this.file.display, line: p.line, column: p.column, message };
  }

  varName(key: string): string {
    const v = Number(key.slice(1));
    return this.info.decl.vars[v]?.name ?? key;
  }

  // ---------------------------------------------------------------- layers above

  abstract escape(st: State, v: Val, deep?: boolean): void;
  abstract use(st: State, v: Val, how: string, name: string, pos: number, end: number): void;
  abstract peek(e: Expr, st: State): Val;
  abstract materialize(st: State, key: string, base: string): string | undefined;
}
