// The dataflow engine: interprets a function's CFG over abstract states,
// path by path (states are deduplicated per block), tracking each memory
// object's typestate. It reports typestate violations as events and, at
// each normal exit, records a summary case for callers.
import { looksLikeReleaser } from '../model/cmodel.js';
import type { Contract } from '../model/contracts.js';
import type { FuncInfo } from '../model/program.js';
import { FuncTypes, type Resolver } from '../model/resolve.js';
import { forEachChildExpr, walkStmts } from '../syntax/walk.js';
import { isError, isStringType, mayHoldPointer, type Ty } from '../model/types.js';
import { cHasPointers, resolveCType } from '../model/ctypes.js';
import { parseGoInt } from '../syntax/golit.js';
import { goMemoryName, goPointerInObject, goPointerInValue, isCMemory, isGoPointer, typeView, type TypeView } from './gomemory.js';
import { BoundaryChecks, constInt } from './boundary.js';
import { decodeGoString } from '../syntax/golit.js';
import { BLANK_VAR, NO_VAR, type Expr, type FuncIR } from '../syntax/goast.js';
import { buildCFG, mayFork, type CFG, type Instr } from './cfg.js';
import { stripConversions, unparen } from '../syntax/exprs.js';
import type { FlowEvent } from './events.js';
import {
  FALSE,
  NIL,
  HEAP_STRING,
  NONNIL,
  State,
  TRUE,
  UNKNOWN_VAL,
  describeGo,
  fieldKey,
  fieldValue,
  joinStates,
  nilEquality,
  withoutLocals,
  objId,
  objVal,
  reachable,
  varKey,
  handleKey,
  statusOutputs,
  statusVal,
  type DeferRec,
  type Obj,
  type Region,
  type Step,
  type Resource,
  type Val,
} from './state.js';
import { caseKey, limitCases, type Effect, type ResultAbs, type Summary, type SummaryCase } from './summary.js';

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

export const DEFAULT_BUDGET: Budget = { maxSteps: 20000, maxStatesPerBlock: 48, maxInlineDepth: 3 };

export interface FunctionResult {
  events: FlowEvent[];
  summary?: Summary;
  status: 'complete' | 'partial' | 'aborted';
}

class BudgetExceeded extends Error {}

/** Picks among alternatives; the driver re-runs an instruction once per choice vector. */
class Chooser {
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
interface Frame {
  fn: FuncIR;
  depth: number;
}

type CallExpr = Extract<Expr, { k: 'call' }>;

/** A call's evaluated operands (also kept for deferred calls). */
interface Operands {
  args: Val[];
  fnVal?: Val;
  recv?: Val;
  /** For C calls: the memory each argument points to, as cgo's check sees it. */
  regions?: (Region | undefined)[];
}

type Callee =
  | { k: 'conv'; to: Ty }
  | { k: 'builtin'; name: string }
  | { k: 'cgo'; name: string }
  | { k: 'unsafe'; name: string }
  | { k: 'runtime'; name: string }
  | { k: 'closure'; id: number }
  | { k: 'func'; key: string; display: string; recv?: Expr }
  | { k: 'pure' }
  | { k: 'pinner'; op: string; recv: Expr }
  | { k: 'handle'; op: string; recv?: Expr }
  | { k: 'unknown'; recv?: Expr };

/** Standard library functions that return a new string on the Go heap. */
const HEAP_STRING_FUNCS = new Set([
  'strings.Repeat', 'strings.Join', 'strings.ToUpper', 'strings.ToLower', 'strings.ReplaceAll', 'strings.Replace',
  'strings.Title', 'fmt.Sprint', 'fmt.Sprintf', 'fmt.Sprintln', 'strconv.Quote', 'strconv.QuoteToASCII',
]);

/** Standard packages whose functions neither keep nor free what they are given. */
const PURE_PACKAGES = new Set(['fmt', 'strings', 'strconv', 'errors', 'bytes', 'unicode', 'unicode/utf8', 'math', 'sort', 'slices', 'log', 'time', 'testing']);

const ALLOC_LIMIT = 4; // live objects per allocation site on one path

export class FunctionAnalyzer {
  private readonly types: FuncTypes;
  private readonly cfgs = new Map<number, CFG>();
  private readonly closures = new Map<number, FuncIR>();
  private readonly captured = new Map<number, Set<number>>();
  private readonly events = new Map<string, FlowEvent>();
  private readonly cases = new Map<string, SummaryCase>();
  private steps = 0;
  private partial = false;
  private readonly file;
  private readonly text: string;
  private readonly gmem: TypeView;
  /** The name C knows the function by, when it is exported with //export. */
  private readonly exported: string | undefined;
  private readonly boundary: BoundaryChecks;

  /**
   * @param pathSensitive explore paths separately (needed where C memory is
   * allocated or freed); otherwise states are joined per block, which is
   * enough to summarise what a function does with its parameters.
   */
  constructor(
    private readonly info: FuncInfo,
    private readonly resolver: Resolver,
    private readonly summaries: SummaryLookup,
    private readonly budget: Budget = DEFAULT_BUDGET,
    private readonly pathSensitive = true,
  ) {
    this.file = info.file;
    this.text = info.file.go.text;
    this.types = new FuncTypes(resolver, info);
    this.gmem = typeView(resolver);
    this.boundary = new BoundaryChecks({
      types: this.types,
      resolver,
      pkg: info.pkg,
      src: (e) => this.src(e),
      argName: (c, i) => this.argName(c, i),
      step: (p, m) => this.step(p, m),
      addEvent: (k, e) => this.addEvent(k, e),
      varName: (k) => this.varName(k),
    });
    this.exported = info.decl.doc.map((c) => /^\/\/export\s+(\S+)/.exec(c.text)?.[1]).find(Boolean);
    this.indexClosures(info.decl.ir);
  }

  run(): FunctionResult {
    const ir = this.info.decl.ir;
    const sig = this.resolver.funcSignature(this.info);
    try {
      const st = this.entryState(ir);
      this.runFrame({ fn: ir, depth: 0 }, st, (exit, pos) => this.topExit(exit, pos));
    } catch (e) {
      if (e instanceof BudgetExceeded) return { events: [], status: 'aborted' };
      throw e;
    }
    const cases = limitCases([...this.cases.values()]);
    return {
      events: [...this.events.values()],
      status: this.partial ? 'partial' : 'complete',
      summary: {
        key: this.info.key,
        display: this.info.display,
        cases,
        params: sig.params,
        results: sig.results,
        variadic: ir.variadic,
        partial: this.partial,
      },
    };
  }

  // ---------------------------------------------------------------- setup

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
  private capturedBy(id: number): Set<number> {
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

  private cfg(fn: FuncIR): CFG {
    let c = this.cfgs.get(fn.id);
    if (!c) this.cfgs.set(fn.id, (c = buildCFG(fn)));
    return c;
  }

  private entryState(ir: FuncIR): State {
    const st = new State();
    const vars = this.info.decl.vars;
    if (this.info.decl.recv) {
      const v = this.info.decl.recv.v;
      if (vars[v].name !== '_') this.bindInput(st, v, 'R', 'r');
    }
    ir.params.forEach((v, i) => {
      if (vars[v].name !== '_') this.bindInput(st, v, `P${i}`, `p${i}`);
    });
    for (const v of ir.results) st.assign(varKey(v), this.zeroValue(st, v));
    return st;
  }

  private bindInput(st: State, v: number, id: string, origin: string): void {
    const t = this.types.vars[v];
    if (t.k !== 'unknown' && !mayHoldPointer(t)) {
      st.assign(varKey(v), UNKNOWN_VAL);
      return;
    }
    st.setObj(id, { kind: 'sym', state: 'live', what: origin, site: -1, nullable: true, releasedBy: [], steps: [], origin });
    st.env.set(varKey(v), objVal(id));
  }

  /** The zero value of variable v: struct variables get storage whose fields start nil. */
  private zeroValue(st: State, v: number): Val {
    if (this.isStructVar(v)) return this.storage(st, v, false);
    return this.zeroOf(this.types.vars[v]);
  }

  private zeroOf(t: Ty): Val {
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
  private isStructVar(v: number): boolean {
    const t = this.types.vars[v];
    return this.resolver.isStruct(t) || this.types.underlyingOf(t).k === 'array';
  }

  /**
   * The storage of a struct or array variable, as an object whose fields are
   * tracked; `&s` and `s` both refer to it. Storage made for a value of
   * unknown origin is opaque: its fields are unknown, not zero.
   */
  private storage(st: State, v: number, opaque: boolean): Val {
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
      releasedBy: [],
      steps: [],
      opaque: opaque || undefined,
      goType: t,
      inline: true,
      bytes: this.goSize(t),
    });
    st.assign(varKey(v), objVal(id));
    return objVal(id);
  }

  // ---------------------------------------------------------------- driver

  /**
   * Explores a frame's CFG from `start`. `onExit` receives each state that
   * returns normally (after the frame's deferred calls ran).
   */
  private runFrame(frame: Frame, start: State, onExit: (st: State, pos: number) => void): void {
    const cfg = this.cfg(frame.fn);
    const seen = new Map<number, Set<string>>();
    const queue: [number, State][] = [];
    // Without path sensitivity: one joined state per block, iterated to a fixpoint.
    const joined = new Map<number, State>();
    const push = (block: number, st: State) => {
      if (!this.pathSensitive) {
        const old = joined.get(block);
        const next = old ? joinStates(old, st) : st;
        if (old && next.key() === old.key()) return;
        joined.set(block, next);
        if (!queue.some(([b]) => b === block)) queue.push([block, next]);
        return;
      }
      let s = seen.get(block);
      if (!s) seen.set(block, (s = new Set()));
      const key = st.key();
      if (s.has(key)) return;
      if (s.size >= this.budget.maxStatesPerBlock) {
        this.partial = true;
        return;
      }
      s.add(key);
      queue.push([block, st]);
    };
    push(cfg.entry, start);
    while (queue.length) {
      const [bid, queued] = queue.shift()!;
      this.tick();
      const block = cfg.blocks[bid];
      const st0 = this.pathSensitive ? queued : joined.get(bid)!.clone();
      let states = [st0];
      for (const instr of block.instrs) {
        const next: State[] = [];
        for (const st of states) next.push(...this.exec(instr, st, frame));
        states = next.filter((s) => !s.dead);
        if (states.length > 1) states = this.pathSensitive ? this.distinct(states) : [states.reduce(joinStates)];
        if (!states.length) break;
      }
      for (const st of states) {
        const term = block.term;
        switch (term.k) {
          case 'jump':
            push(term.to, st);
            break;
          case 'choice': {
            const once = term.rangeOver && this.rangesAtLeastOnce(term.rangeOver, st);
            for (const to of once ? term.to.slice(0, 1) : term.to) push(to, st.clone());
            break;
          }
          case 'cond':
            for (const [s, ok] of this.branch(term.cond, st, frame)) push(ok ? term.t : term.f, s);
            break;
          case 'return':
            for (const s of this.runDefers(st, frame, term.pos)) if (!s.dead) onExit(s, term.pos);
            break;
          case 'panic':
          case 'none':
            break;
        }
      }
    }
  }

  /**
   * Runs one instruction, once per combination of choices its calls offer.
   * `pre` belongs to the caller, who gives it up: an instruction without
   * calls cannot fork and runs on it in place.
   */
  private exec(instr: Instr, pre: State, frame: Frame): State[] {
    const run = (st: State, ch: Chooser) => {
      this.execInstr(instr, st, ch, frame);
      if (frame.depth === 0 && !st.dead) this.collect(st, instr.pos);
    };
    if (!mayFork(instr)) {
      this.tick();
      run(pre, new Chooser([]));
      return [pre];
    }
    return this.withChoices(pre, run);
  }

  private withChoices(pre: State, run: (st: State, ch: Chooser) => void): State[] {
    const out: State[] = [];
    let vector: number[] | undefined = [];
    for (let guard = 0; vector && guard < 24; guard++) {
      this.tick();
      const st = pre.clone();
      const ch: Chooser = new Chooser(vector);
      run(st, ch);
      out.push(st);
      vector = ch.next();
    }
    if (vector) this.partial = true;
    return out.length > 1 ? this.distinct(out) : out;
  }

  /** Counts work against the function's budget. */
  private tick(): void {
    if (++this.steps > this.budget.maxSteps) throw new BudgetExceeded();
  }

  /** Drops states equal to an earlier one, and keeps at most the per-block limit. */
  private distinct(states: State[]): State[] {
    const seen = new Set<string>();
    const out: State[] = [];
    for (const st of states) {
      const k = `${st.dead}${st.key()}`;
      if (seen.has(k)) continue;
      seen.add(k);
      if (out.length >= this.budget.maxStatesPerBlock) {
        this.partial = true;
        break;
      }
      out.push(st);
    }
    return out;
  }

  // ---------------------------------------------------------------- instructions

  private execInstr(instr: Instr, st: State, ch: Chooser, frame: Frame): void {
    switch (instr.k) {
      case 'eval':
        this.eval(instr.x, st, ch, frame);
        break;
      case 'assign':
        this.assign(instr, st, ch, frame);
        break;
      case 'incdec':
        this.eval(instr.x, st, ch, frame);
        break;
      case 'send': {
        this.eval(instr.ch, st, ch, frame);
        const v = this.eval(instr.value, st, ch, frame);
        this.escape(st, v);
        break;
      }
      case 'defer':
        this.pushDefer(instr.call, instr.pos, st, ch, frame);
        break;
      case 'go': {
        const call = instr.call;
        if (call.k === 'call') {
          const fv = call.fun.k === 'funclit' ? `fn:${call.fun.fn.id}` : this.eval(call.fun, st, ch, frame);
          this.escape(st, fv);
          for (const a of call.args) this.escape(st, this.eval(a, st, ch, frame));
        } else {
          this.eval(call, st, ch, frame);
        }
        break;
      }
      case 'range':
        for (const e of [instr.key, instr.value]) {
          if (!e) continue;
          if (instr.define && e.k === 'ident' && e.v >= 0) this.setVar(st, e.v, UNKNOWN_VAL, instr.pos, e);
          else this.assignTo(e, UNKNOWN_VAL, st, ch, frame, instr.pos);
        }
        break;
      case 'bind':
        this.setVar(st, instr.v, this.eval(instr.x, st, ch, frame), instr.pos);
        break;
      case 'results': {
        const vals = this.evalList(instr.results, frame.fn.results.length, st, ch, frame);
        frame.fn.results.forEach((v, i) => st.assign(varKey(v), vals[i] ?? UNKNOWN_VAL));
        break;
      }
    }
  }

  private assign(instr: Extract<Instr, { k: 'assign' }>, st: State, ch: Chooser, frame: Frame): void {
    const { lhs, rhs, op } = instr;
    if (op !== '=' && op !== ':=' && op !== 'var') {
      // x op= y: the result is a number or a string, never a tracked pointer.
      this.eval(rhs[0], st, ch, frame);
      this.assignTo(lhs[0], UNKNOWN_VAL, st, ch, frame, instr.pos);
      return;
    }
    let vals: Val[];
    if (rhs.length === 0) {
      vals = lhs.map((l) => {
        if (l.k !== 'ident' || l.v < 0) return UNKNOWN_VAL;
        st.env.delete(varKey(l.v)); // a fresh variable, not the previous iteration's storage
        return this.zeroValue(st, l.v);
      });
    } else {
      vals = this.evalList(rhs, lhs.length, st, ch, frame);
    }
    lhs.forEach((l, i) => {
      // `x := ...` inside a loop declares a fresh x each iteration: the old one went out of scope.
      if (instr.define && l.k === 'ident' && l.v >= 0 && this.info.decl.vars[l.v].pos === l.pos) this.setVar(st, l.v, vals[i] ?? UNKNOWN_VAL, instr.pos, l, true);
      else this.assignTo(l, vals[i] ?? UNKNOWN_VAL, st, ch, frame, instr.pos, rhs.length === lhs.length ? rhs[i] : undefined);
    });
    if (lhs.length === 1 && rhs.length === 1) this.noteSum(lhs[0], rhs[0], st);
  }

  /**
   * Whether a range over x enters its body at least once: x is a C
   * allocation's own elements (an empty allocation is not worth a report, and
   * skipping the loop would leave every pointer it stores unseen), or a
   * condition that held says len(x) > 0.
   */
  private rangesAtLeastOnce(x: Expr, st: State): boolean {
    if (x.k === 'ident' && x.v >= 0) {
      const id = objId(st.env.get(varKey(x.v)) ?? '');
      const o = id ? st.obj(id) : undefined;
      if (o?.kind === 'c' && o.state === 'live') return true;
    }
    const key = this.lenFactKey(x);
    return key !== undefined && st.facts.get(key) === true;
  }

  /** The fact that x has elements (true) or none (false), for an x a fact can be kept about. */
  private lenFactKey(x: Expr): string | undefined {
    const k = this.factKey(x);
    return k && `${k}#len`;
  }

  /**
   * `n := a + b`: kept as a fact (until n, a or b is assigned again) so that
   * signs carry across it: with n > 0 and a <= 0, b > 0 (see knownPositive).
   */
  private noteSum(l: Expr, r: Expr, st: State): void {
    l = unparen(l);
    if (l.k !== 'ident' || l.v < 0) return;
    const terms: number[] = [];
    const collect = (x: Expr): boolean => {
      x = unparen(x);
      if (x.k === 'binary' && x.op === '+') return collect(x.x) && collect(x.y);
      if (x.k === 'ident' && x.v >= 0 && x.v !== l.v) return terms.push(x.v) > 0;
      return false;
    };
    if (!collect(r) || terms.length < 2) return;
    st.facts.set(`${[l.v, ...terms].map((v) => `v${v},`).join('')}#sum:${l.v}=${terms.join('+')}`, true);
  }

  /**
   * Whether local v is known to be positive (true), known to be zero or
   * negative (false), or not known: from a sign test on it, or from a sum it
   * is the total or a term of, when the other terms' signs are known.
   */
  private knownPositive(st: State, v: number): boolean | undefined {
    const direct = (x: number) => st.facts.get(signKey(x));
    const known = direct(v);
    if (known !== undefined) return known;
    for (const [k, holds] of st.facts) {
      const m = holds && /#sum:(\d+)=([\d+]+)$/.exec(k);
      if (!m) continue;
      const total = Number(m[1]);
      const terms = m[2].split('+').map(Number);
      // Every term <= 0: the total is <= 0.
      if (total === v && terms.every((t) => direct(t) === false)) return false;
      // The total > 0 and every other term <= 0: this term is > 0.
      if (terms.includes(v) && direct(total) === true && terms.every((t) => t === v || direct(t) === false)) return true;
    }
    return undefined;
  }

  /** Evaluates an expression list against `want` targets (a single call may yield a tuple). */
  private evalList(list: Expr[], want: number, st: State, ch: Chooser, frame: Frame): Val[] {
    if (list.length === 1 && want > 1) {
      const e = unparen(list[0]);
      if (e.k === 'call') return this.call(e, st, ch, frame, want);
      const v = this.eval(e, st, ch, frame);
      // v, ok := m[k] / x.(T) / <-ch
      return [v, UNKNOWN_VAL];
    }
    return list.map((e) => this.eval(e, st, ch, frame));
  }

  /** @param src the assigned expression, when known (a struct or array value copied whole, `*p`, is followed into) */
  private assignTo(l: Expr, v: Val, st: State, ch: Chooser, frame: Frame, pos: number, src?: Expr): void {
    l = unparen(l);
    switch (l.k) {
      case 'ident':
        if (l.v === BLANK_VAR) return;
        if (l.v >= 0) {
          this.setVar(st, l.v, v, pos, l);
          return;
        }
        // A package-level variable: ownership leaves the function.
        this.escape(st, v);
        return;
      case 'sel': {
        const base = this.baseObject(l.x, st, ch, frame, true);
        const owner = base ? st.obj(base) : undefined;
        if (owner?.kind === 'c') this.storeIntoC(st, v, l, `${this.nameOf(l.x)}.${l.name}`, pos, 'assigned', src);
        // Fields are followed in Go storage and in the caller's structs (parameters);
        // a pointer stored into C memory or memory of unknown origin belongs to that memory now.
        if (!base || !owner || owner.kind === 'c' || (owner.kind === 'sym' && !owner.origin)) {
          this.escape(st, v);
          return;
        }
        const key = fieldKey(base, l.name);
        const old = st.env.get(key);
        st.env.set(key, fieldValue(v));
        // A pointer overwritten in a struct field may have other owners: treat it as moved.
        if (old && old !== v) this.escape(st, old, false);
        return;
      }
      case 'unary':
        if (l.op === '*') {
          const p = this.eval(l.x, st, ch, frame);
          if (p.startsWith('a:v')) {
            this.setVar(st, Number(p.slice(3)), v, pos);
            return;
          }
          this.use(st, p, 'written through', this.nameOf(l.x), pos, l.end);
          if (isCMemory(st, p)) this.storeIntoC(st, v, l, this.src(l), pos, 'assigned', src);
        }
        this.escape(st, v);
        return;
      case 'index': {
        const base = this.eval(l.x, st, ch, frame);
        l.index.forEach((i) => this.eval(i, st, ch, frame));
        this.use(st, base, 'written through', this.nameOf(l.x), pos, l.end);
        if (isCMemory(st, base)) this.storeIntoC(st, v, l, this.src(l), pos, 'assigned', src);
        const id = objId(base);
        const o = id ? st.obj(id) : undefined;
        // Elements of Go slices and arrays are followed for Go pointers; C memory put there has left our hands.
        if (id && o?.kind === 'go' && !o.opaque && !isTracked(st, v)) {
          const idx = l.index[0];
          const key = fieldKey(id, idx?.k === 'lit' && idx.kind === 'int' ? `#${idx.value}` : '#*');
          const prev = st.env.get(key);
          if (!(key.endsWith('#*') && prev && isGoPointer(st, prev))) st.env.set(key, fieldValue(v));
          return;
        }
        this.escape(st, v);
        return;
      }
      default:
        this.eval(l, st, ch, frame);
        this.escape(st, v);
    }
  }

  /**
   * What cgo's check looks at for a pointer argument: the memory it points to.
   * `&s.f` checks the field, `&a[i]` the whole array, `&x` the variable, a
   * pointer the whole object; a C pointer type whose pointee holds no pointers
   * is not checked at all.
   */
  private argRegion(e: Expr, v: Val, st: State): Region | undefined {
    let x = unparen(e);
    for (;;) {
      let inner: Expr | undefined;
      let to: Ty | undefined;
      if (x.k === 'conv') {
        inner = x.x;
        to = this.types.resolve(x.type);
      } else if (x.k === 'call' && x.args.length === 1 && this.types.isType(unparen(x.fun))) {
        inner = x.args[0];
        to = this.types.typeOfTypeExpr(unparen(x.fun));
      }
      if (!inner) break;
      const u = to ? this.types.underlyingOf(to) : undefined;
      if (u?.k === 'pointer' && u.elem.k === 'c' && !this.goHasPointers(u.elem)) return undefined;
      x = unparen(inner);
    }
    const goObject = (val: Val): string | undefined => {
      const id = objId(val);
      return id && st.obj(id)?.kind === 'go' ? id : undefined;
    };
    if (x.k === 'unary' && x.op === '&') {
      const y = unparen(x.x);
      if (y.k === 'ident' && y.v >= 0) {
        const cur = st.env.get(varKey(y.v)) ?? UNKNOWN_VAL;
        const id = goObject(cur);
        if (id && this.isStructVar(y.v)) return { id, name: `the variable ${this.info.decl.vars[y.v].name}` };
        return { word: cur, name: `the variable ${this.info.decl.vars[y.v].name}`, type: this.types.vars[y.v] };
      }
      if (y.k === 'sel') {
        const id = goObject(this.peek(y.x, st));
        return id ? { id, field: y.name } : undefined;
      }
      if (y.k === 'index') {
        const id = goObject(this.peek(y.x, st));
        return id ? { id } : undefined;
      }
    }
    if (x.k === 'call' && x.args[0] && unparen(x.fun).k === 'sel' && this.src(unparen(x.fun)) === 'unsafe.SliceData') {
      const id = goObject(this.peek(x.args[0], st));
      return id ? { id } : undefined;
    }
    // Otherwise the argument's value is the pointer, if it is one: structs go to C by value, unchecked.
    const t = this.types.underlyingOf(this.types.exprType(e));
    if (t.k !== 'pointer' && t.k !== 'unsafeptr' && t.k !== 'unknown') return undefined;
    const id = goObject(v);
    if (id) return { id };
    if (v.startsWith('a:v')) {
      const n = Number(v.slice(3));
      return { word: st.env.get(v.slice(2)) ?? UNKNOWN_VAL, name: `the variable ${this.info.decl.vars[n].name}`, type: this.types.vars[n] };
    }
    return undefined;
  }

  /** The variable (or call) a selector, index or slice expression starts from. */
  private rootOf(e: Expr): Expr {
    for (;;) {
      e = unparen(e);
      if (e.k === 'sel' || e.k === 'index' || e.k === 'slice' || e.k === 'conv') e = e.x;
      else return e;
    }
  }

  /**
   * runtime.Pinner: pinned Go memory may be passed to C and stored in C memory.
   * A local Pinner's pins are a resource of their own, released by Unpin.
   */
  private pinner(op: string, recv: Expr, args: Val[], st: State, pos: number, end: number): void {
    const pinner = this.src(recv);
    const r = unparen(recv);
    // Only a Pinner declared here is ours to unpin (not a parameter, a field or a pointer).
    const local = r.k === 'ident' && r.v >= 0 && !this.info.decl.ir.params.includes(r.v) && isPinnerType(this.types.vars[r.v]);
    const key = local ? pinsKey(r.v) : undefined;
    if (op === 'Pin') {
      const id = objId(args[0] ?? NIL);
      if (id && st.obj(id)?.kind === 'go') st.updateObj(id, { pinnedBy: pinner });
      else if (args[0]?.startsWith('a:v')) this.escape(st, args[0]);
      const pins = key ? objId(st.env.get(key) ?? '') : undefined;
      if (key && !(pins && st.obj(pins)?.state === 'live')) {
        const steps = [this.step(pos, `${pinner}.Pin pins memory here`)];
        st.assign(key, this.newC(st, pos, end, `${pinner}.Pin`, { nullable: false, releasedBy: ['Unpin'], steps, resource: 'pinner' }));
      }
    } else if (op === 'Unpin') {
      for (const [id, o] of st.objs) if (o.pinnedBy === pinner) st.setObj(id, { ...o, pinnedBy: undefined });
      const pins = key ? objId(st.env.get(key) ?? '') : undefined;
      const o = pins ? st.obj(pins) : undefined;
      if (o) st.setObj(pins!, { ...o, state: 'moved' });
    }
  }

  /** cgo.NewHandle, Handle.Delete and Handle.Value: a handle is made, deleted once, and not used after. */
  private cgoHandle(op: string, e: CallExpr, args: Val[], recv: Val | undefined, st: State, pos: number): Val[] | undefined {
    const name = e.fun.k === 'sel' ? this.src(e.fun.x) : 'the handle';
    switch (op) {
      case 'New':
        // The value is kept by the handle table until Delete.
        args.forEach((a) => this.escape(st, a));
        return [this.newC(st, pos, e.end, 'cgo.NewHandle', { nullable: false, releasedBy: ['Delete'], steps: [this.step(pos, 'cgo.NewHandle makes a handle here')], resource: 'handle' })];
      case 'Delete':
        if (recv && objId(recv)) this.release(st, recv, { by: 'Delete', name, pos, end: e.end });
        return undefined;
      case 'Value':
        if (recv) this.use(st, recv, 'read with Value', name, pos, e.end);
        return undefined;
    }
    return undefined;
  }

  /** A handle given to C: C hands it back later to Go code that deletes it (checked when the handle's last reference goes). */
  private handleToC(st: State, id: string, e: CallExpr, i: number, pos: number): void {
    const o = st.obj(id)!;
    if (!o.toC) st.setObj(id, { ...o, toC: { callee: this.src(e.fun), name: this.argName(e, i), step: this.step(pos, `${this.src(e.fun)} receives it`) } });
  }

  /** The value of a simple expression (names, fields, constant indexes), without effects. */
  private peek(e: Expr, st: State): Val {
    e = unparen(e);
    switch (e.k) {
      case 'ident':
        if (e.v >= 0) return st.env.get(varKey(e.v)) ?? UNKNOWN_VAL;
        return e.v === NO_VAR ? this.globalStorage(st, e.name) : UNKNOWN_VAL;
      case 'sel': {
        const b = objId(this.peek(e.x, st));
        return b ? (st.env.get(fieldKey(b, e.name)) ?? UNKNOWN_VAL) : UNKNOWN_VAL;
      }
      case 'index': {
        const b = objId(this.peek(e.x, st));
        const i = e.index[0];
        return b && i?.k === 'lit' && i.kind === 'int' ? (st.env.get(fieldKey(b, `#${i.value}`)) ?? UNKNOWN_VAL) : UNKNOWN_VAL;
      }
      case 'slice':
      case 'conv':
        return this.peek(e.x, st);
      default:
        return UNKNOWN_VAL;
    }
  }

  /** Rule: Go memory passed to C must not hold Go pointers (that are not pinned). */
  private checkGoPointerArg(st: State, r: Region, callee: string, i: number, e: CallExpr, pos: number): void {
    const names = (k: string) => this.varName(k);
    const hit = 'id' in r ? goPointerInObject(st, r.id, this.gmem, r.field, names) : goPointerInValue(st, r.word, r.type, this.gmem, undefined, names);
    if (!hit) return;
    const memory = 'id' in r ? `${r.field ? `field ${r.field} of ` : ''}${r.name ?? goMemoryName(st.obj(r.id)!)}` : r.name;
    if ('id' in r && r.field && hit.path.startsWith(`.${r.field}`)) hit.path = hit.path.slice(r.field.length + 1);
    const deferred = pos !== e.pos;
    this.addEvent(`go-pointer-arg:${pos}:${i}`, {
      kind: 'go-pointer-arg',
      callee: `C.${callee}`,
      arg: i + 1,
      argName: this.argName(e, i),
      memory,
      path: hit.path,
      target: hit.target,
      deferred,
      pos: e.args[i]?.pos ?? pos,
      end: e.args[i]?.end ?? e.end,
      trace: [
        this.step(e.args[i]?.pos ?? pos, `${this.argName(e, i)} points to ${memory}`),
        this.step(pos, `${deferred ? 'when the deferred call runs, ' : ''}it holds a Go pointer${hit.path ? ` at ${hit.path}` : ''} to ${hit.target}`),
      ],
    });
  }

  /** A store into C memory: a Go pointer in the stored value is a bug (cgocheck2 reports it). */
  private storeIntoC(st: State, v: Val, target: Expr, dest: string, pos: number, how: string, src?: Expr): void {
    // `*n` and struct or array literals are values: what is stored is their contents.
    const s = src ? unparen(src) : undefined;
    const whole = !!s && ((s.k === 'unary' && s.op === '*') || s.k === 'composite');
    const id = objId(v);
    const hit =
      whole && id && st.obj(id)?.kind === 'go'
        ? goPointerInObject(st, id, this.gmem, undefined, (k) => this.varName(k))
        : goPointerInValue(st, v, this.types.exprType(target), this.gmem, undefined, (k) => this.varName(k));
    if (!hit) return;
    this.addEvent(`go-pointer-store:${pos}`, {
      kind: 'go-pointer-store',
      dest,
      path: hit.path,
      target: hit.target,
      how,
      pos,
      end: target.end,
      trace: [this.step(pos, `${dest} is C memory; the value ${how} here holds a Go pointer${hit.path ? ` at ${hit.path}` : ''} to ${hit.target}`)],
    });
  }

  private varName(key: string): string {
    const v = Number(key.slice(1));
    return this.info.decl.vars[v]?.name ?? key;
  }

  /** Assigns a local variable; an owned C pointer it held and nothing else keeps is leaked. */
  private setVar(st: State, v: number, val: Val, pos: number, target?: Expr, declares = false): void {
    const key = varKey(v);
    const old = st.env.get(key);
    st.assign(key, val);
    this.dropFacts(st, v);
    const id = old ? objId(old) : undefined;
    if (!id || old === val) return;
    const o = st.obj(id);
    if (!o || !owned(o)) return;
    if (reachable(st).has(id)) return;
    this.leak(st, id, o, declares ? 'scope' : 'lost', pos, target ? this.nameOf(target) : this.info.decl.vars[v].name);
    st.objs.delete(id);
  }

  private dropFacts(st: State, v: number): void {
    if (!st.facts.size) return;
    const tag = `v${v},`;
    for (const k of [...st.facts.keys()]) if (k.includes(tag)) st.facts.delete(k);
  }

  // ---------------------------------------------------------------- defers

  private pushDefer(call: Expr, pos: number, st: State, ch: Chooser, frame: Frame): void {
    call = unparen(call);
    if (call.k !== 'call') {
      this.eval(call, st, ch, frame);
      return;
    }
    const rec: DeferRec = { pos, call, args: [] };
    const f = unparen(call.fun);
    if (f.k === 'funclit') rec.fnVal = `fn:${f.fn.id}`;
    else if (f.k === 'ident' && f.v >= 0) rec.fnVal = st.env.get(varKey(f.v)) ?? UNKNOWN_VAL;
    else if (f.k === 'sel' && !this.isPackageRef(f.x)) rec.recv = this.eval(f.x, st, ch, frame);
    rec.args = call.args.map((a) => this.eval(a, st, ch, frame));
    // cgo evaluates what a deferred C call's arguments point to now, and checks it when the call runs.
    if (f.k === 'sel' && f.x.k === 'ident' && f.x.v === NO_VAR && f.x.name === 'C') rec.regions = rec.args.map((v, i) => this.argRegion(call.args[i], v, st));
    // The same deferred call with the same values (a defer in a loop over
    // untracked values) adds nothing the analysis can tell apart.
    const same = st.defers.some((d) => d.pos === rec.pos && d.fnVal === rec.fnVal && d.recv === rec.recv && d.args.join() === rec.args.join());
    if (!same) st.defers.push(rec);
  }

  /** Runs the frame's deferred calls, last first; may fork. */
  private runDefers(st: State, frame: Frame, retPos: number): State[] {
    let states = [st];
    while (states.some((s) => s.defers.length > 0)) {
      const next: State[] = [];
      for (const s of states) {
        const rec = s.defers.pop();
        if (!rec) {
          next.push(s);
          continue;
        }
        next.push(
          ...this.withChoices(s, (s2, ch) => {
            this.checkDeferredNil(rec, s2);
            this.applyCall(rec.call, s2, ch, frame, 1, rec, rec.pos);
            if (frame.depth === 0 && !s2.dead) this.collect(s2, retPos);
          }),
        );
      }
      states = this.distinct(next.filter((s) => !s.dead));
    }
    return states;
  }

  /** `defer C.free(p)` while p is nil, with p assigned afterwards: the later value is never freed. */
  private checkDeferredNil(rec: DeferRec, st: State): void {
    const releaser = this.releaserName(rec.call);
    if (!releaser) return;
    rec.call.args.forEach((a, i) => {
      if (rec.args[i] !== NIL) return;
      const base = stripConversions(a);
      if (base.k !== 'ident' || base.v < 0) return;
      const now = st.env.get(varKey(base.v)) ?? UNKNOWN_VAL;
      if (now === NIL) return;
      const id = objId(now);
      const o = id ? st.obj(id) : undefined;
      if (o && (o.kind === 'go' || o.state !== 'live')) return;
      const name = this.info.decl.vars[base.v].name;
      this.addEvent(`leak:deferred-nil:${rec.pos}`, {
        kind: 'leak',
        how: 'deferred-nil',
        what: o?.what ?? name,
        name,
        pos: rec.pos,
        end: rec.call.end,
        at: rec.pos,
        atLine: this.line(rec.pos),
        trace: [
          this.step(rec.pos, `deferred ${this.src(rec.call)} evaluates ${name} now, while it is nil`),
          ...(o ? o.steps : []),
          this.step(this.info.decl.ir.bodyEnd, `at return the deferred call frees nil; the value assigned to ${name} later is not freed`),
        ],
      });
      if (id && o) st.updateObj(id, { state: 'moved' });
    });
  }

  private releaserName(call: CallExpr): string | undefined {
    const f = unparen(call.fun);
    if (f.k === 'sel' && f.x.k === 'ident' && f.x.v === NO_VAR && f.x.name === 'C') {
      if (f.name === 'free' || this.info.pkg.contract(f.name)?.releases.length || this.info.pkg.cFunc(f.name)?.frees.size || looksLikeReleaser(f.name)) return f.name;
    }
    return undefined;
  }

  // ---------------------------------------------------------------- exits

  /** A normal return of the analysed function: leaks, then a summary case. */
  private topExit(st: State, pos: number): void {
    const ir = this.info.decl.ir;
    const results = ir.results.map((v) => st.env.get(varKey(v)) ?? UNKNOWN_VAL);
    const inputs: Val[] = [];
    for (const [id, o] of st.objs) if (o.kind === 'sym' && o.origin) inputs.push(objVal(id));
    const keep = reachable(withoutLocals(st), [...results, ...inputs]);
    // Returning from main ends the process: what is still allocated then is not a leak.
    const exitsProcess = this.info.pkg.name === 'main' && this.info.key.endsWith('.main') && !this.info.recvType;
    for (const [id, o] of st.objs) {
      if (exitsProcess || !owned(o) || keep.has(id)) continue;
      this.leak(st, id, o, 'return', pos);
    }
    if (this.exported) this.checkExportResults(st, results, pos);
    this.recordCase(st, results);
  }

  /** Rule: a function exported to C must not return Go pointers (nor memory holding them). */
  private checkExportResults(st: State, results: Val[], pos: number): void {
    const types = this.resolver.funcSignature(this.info).results;
    results.forEach((v, i) => {
      const hit = goPointerInValue(st, v, types[i], this.gmem, undefined, (k) => this.varName(k));
      if (!hit) return;
      this.addEvent(`export-go-pointer:${pos}:${i}`, {
        kind: 'export-go-pointer',
        fn: this.exported!,
        path: hit.path,
        target: hit.target,
        pos,
        end: pos,
        trace: [this.step(pos, `returns ${results.length > 1 ? `result ${i + 1}, ` : ''}a Go pointer${hit.path ? ` at ${hit.path}` : ''} to ${hit.target}, to C`)],
      });
    });
  }

  private recordCase(st: State, results: Val[]): void {
    const effects: Effect[] = [];
    /** New C memory stored in a field of an input, by object: the caller finds it there. */
    const storedAt = new Map<string, string>();
    for (const [id, o] of st.objs) {
      if (o.kind !== 'sym' || !o.origin) continue;
      const path = o.origin;
      if (o.state === 'freed' && o.freed) effects.push({ k: 'freed', path, by: o.freed.by, steps: o.freed.steps });
      else if (o.state === 'moved') effects.push({ k: 'moved', path });
      else if (o.used) effects.push({ k: 'used', path, how: 'used', steps: [] });
      // Fields of inputs written by the function.
      for (const [k, v] of st.env) {
        if (!k.startsWith(`${id}|`)) continue;
        const field = k.slice(id.length + 1);
        const fid = objId(v);
        const fo = fid ? st.obj(fid) : undefined;
        if (fo?.kind === 'sym' && fo.origin === `${path}.${field}`) continue;
        if (v === NIL) effects.push({ k: 'set', path: `${path}.${field}`, value: 'nil' });
        else if (fo?.kind === 'c' && fo.state === 'live') {
          effects.push({ k: 'set-owned', path: `${path}.${field}`, what: fo.what, releasedBy: fo.releasedBy, steps: fo.steps, resource: fo.resource });
          storedAt.set(fid!, `${path}.${field}`);
        } else effects.push({ k: 'set', path: `${path}.${field}`, value: 'unknown' });
      }
    }
    const resAbs: ResultAbs[] = results.map((v, i) => {
      const first = results.indexOf(v);
      if (first < i && objId(v)) return { k: 'same', as: first };
      // Returned and also stored in an input (`r.err = C.CString(..); return r.err`): one block, not two.
      const at = storedAt.get(objId(v) ?? '');
      return at ? { k: 'param', path: at } : this.abstractResult(st, v);
    });
    const c: SummaryCase = { results: resAbs, effects };
    this.cases.set(caseKey(c), c);
  }

  private abstractResult(st: State, v: Val): ResultAbs {
    if (v === NIL) return { k: 'nil' };
    if (v === TRUE || v === FALSE) return { k: 'bool', v: v === TRUE };
    if (v.startsWith('a:v')) {
      const t = this.types.vars[Number(v.slice(3))];
      return { k: 'go', goType: t, noPointers: t ? !this.goHasPointers(t) : undefined, bytes: t ? this.goSize(t) : undefined };
    }
    if (v === NONNIL || v.startsWith('a:') || v.startsWith('fn:')) return { k: 'nonnil' };
    const id = objId(v);
    const o = id ? st.obj(id) : undefined;
    if (!o) return { k: 'unknown' };
    if (o.kind === 'go') return o.global || o.pinnedBy ? { k: 'nonnil' } : { k: 'go', goType: o.goType, noPointers: o.noPointers, bytes: o.bytes };
    if (o.kind === 'sym') {
      if (o.origin && o.state !== 'freed') return { k: 'param', path: o.origin };
      if (o.state === 'freed' && o.freed) return { k: 'freed', what: o.what, by: o.freed.by, steps: [...o.steps, ...o.freed.steps] };
      return { k: 'unknown' };
    }
    if (owned(o)) return { k: 'owned', what: o.what, releasedBy: o.releasedBy, nullable: o.nullable, steps: o.steps, resource: o.resource };
    if (o.state === 'freed' && o.freed) return { k: 'freed', what: o.what, by: o.freed.by, steps: [...o.steps, ...o.freed.steps] };
    return { k: 'unknown' };
  }

  /** Unreachable objects after an instruction: owned C memory among them has leaked. */
  private collect(st: State, pos: number): void {
    if (st.objs.size === 0) return;
    const live = reachable(st);
    let dropped = false;
    for (const [id, o] of st.objs) {
      if (live.has(id)) continue;
      if (o.kind === 'sym' && o.origin) continue; // inputs stay for the summary
      if (owned(o)) this.leak(st, id, o, 'dropped', pos);
      st.objs.delete(id);
      dropped = true;
    }
    if (dropped) {
      for (const k of [...st.env.keys()]) {
        const bar = k.indexOf('|');
        if (bar >= 0 && !st.objs.has(k.slice(0, bar))) st.env.delete(k);
      }
    }
  }

  private leak(st: State, id: string, o: Obj, how: 'return' | 'lost' | 'scope' | 'dropped', at: number, name?: string): void {
    if (o.site < 0) return;
    if (o.toC) {
      // Only a package that deletes handles somewhere can delete the ones it gave C.
      if (packageDeletesHandles(this.info.pkg)) return;
      this.addEvent(`handle-to-c:${o.site}`, {
        kind: 'handle-to-c',
        name: o.toC.name,
        callee: o.toC.callee,
        pos: o.site,
        end: o.siteEnd ?? o.site,
        trace: [...o.steps, o.toC.step, this.step(at, 'no code in the package calls Delete on a handle')],
      });
      return;
    }
    const pathSteps = st.trace.slice(o.traceAt ?? 0).slice(-6);
    const release = o.resource === 'handle' ? 'deleting it' : o.resource === 'pinner' ? 'unpinning' : 'freeing it';
    const final =
      how === 'return'
        ? this.step(at, `returns here without ${release}`)
        : how === 'lost'
          ? this.step(at, `${name ?? 'the pointer'} is overwritten here; the previous allocation is lost`)
          : how === 'scope'
            ? this.step(at, `the next iteration declares a new ${name ?? 'variable'}; the previous one is gone`)
            : this.step(at, 'the pointer is not kept: nothing can free it');
    this.addEvent(`leak:${o.site}`, {
      kind: 'leak',
      resource: o.resource,
      how,
      what: o.what,
      releasedBy: o.releasedBy.some((f) => f !== 'free') ? o.releasedBy : undefined,
      name,
      pos: o.site,
      end: o.siteEnd ?? o.site,
      at,
      atLine: this.line(at),
      trace: [...o.steps, ...pathSteps, final],
    });
    void id;
  }

  private addEvent(key: string, e: FlowEvent): void {
    if (!this.events.has(key)) this.events.set(key, e);
  }

  // ---------------------------------------------------------------- conditions

  /** The states in which `cond` is true and false (infeasible sides left out). */
  private branch(cond: Expr, pre: State, frame: Frame): [State, boolean][] {
    const out: [State, boolean][] = [];
    const states = this.withChoices(pre, (st, ch) => {
      const r = this.evalCond(cond, st, ch, frame);
      (st as State & { _cond?: CondResult })._cond = r;
    });
    for (const st of states) {
      if (st.dead) continue;
      const r = (st as State & { _cond?: CondResult })._cond!;
      delete (st as State & { _cond?: CondResult })._cond;
      const both = r.t !== false && r.f !== false;
      if (r.t !== false) {
        const s = both ? st.clone() : st;
        if (r.t) r.t(s);
        if (both) this.noteBranch(s, cond, true);
        out.push([s, true]);
      }
      if (r.f !== false) {
        const s = st;
        if (r.f) r.f(s);
        if (both) this.noteBranch(s, cond, false);
        out.push([s, false]);
      }
    }
    return out;
  }

  private noteBranch(st: State, cond: Expr, value: boolean): void {
    let hasLive = false;
    for (const o of st.objs.values()) if (o.kind === 'c' && o.state === 'live') hasLive = true;
    if (hasLive) st.trace.push(this.step(cond.pos, `${this.src(cond)} is ${value}`));
  }

  private evalCond(cond: Expr, st: State, ch: Chooser, frame: Frame): CondResult {
    const e = unparen(cond);
    if (e.k === 'binary' && (e.op === '==' || e.op === '!=')) {
      const xNil = unparen(e.x).k === 'nil';
      const yNil = unparen(e.y).k === 'nil';
      if (xNil !== yNil) {
        const operand = xNil ? e.y : e.x;
        const r = this.nilTest(operand, st, ch, frame);
        return e.op === '==' ? r : { t: r.f, f: r.t };
      }
    }
    if (e.k === 'binary' && (e.op === '==' || e.op === '!=')) {
      const status = this.isSuccessCode(e.y) ? e.x : this.isSuccessCode(e.x) ? e.y : undefined;
      if (status) {
        const v = this.eval(status, st, ch, frame);
        const outputs = statusOutputs(v);
        const r: CondResult = outputs
          ? {
              t: (s) => outputs.onFailure.forEach((id) => s.obj(id) && this.becomesNil(s, id)),
              f: (s) => outputs.onSuccess.forEach((id) => s.obj(id) && this.becomesNil(s, id)),
            }
          : this.factCond(e, st);
        return e.op === '==' || !outputs ? r : { t: r.f, f: r.t };
      }
    }
    const lt = lenTest(e);
    if (lt) {
      // Whether x has elements is one fact whatever the form of the test, so
      // that repeats agree and a range over x knows it (rangesAtLeastOnce).
      this.eval(e, st, ch, frame);
      const key = this.lenFactKey(lt.x);
      const known = key === undefined ? undefined : st.facts.get(key);
      if (known !== undefined) return decided(known === lt.nonEmptyWhenTrue);
      const id = lt.x.k === 'ident' && lt.x.v >= 0 ? objId(st.env.get(varKey(lt.x.v)) ?? '') : undefined;
      const learn = (nonEmpty: boolean) => (s: State) => {
        if (key) s.facts.set(key, nonEmpty);
        // An empty C allocation is not worth a report.
        const o = !nonEmpty && id ? s.obj(id) : undefined;
        if (o?.kind === 'c' && o.state === 'live') s.setObj(id!, { ...o, empty: true });
      };
      return { t: learn(lt.nonEmptyWhenTrue), f: learn(!lt.nonEmptyWhenTrue) };
    }
    const sign = signTest(e);
    if (sign) {
      this.eval(e, st, ch, frame);
      const known = this.knownPositive(st, sign.v);
      if (known !== undefined) return decided(known === sign.positive);
      return { t: (s) => s.facts.set(signKey(sign.v), sign.positive), f: (s) => s.facts.set(signKey(sign.v), !sign.positive) };
    }
    const fact = this.factKey(e);
    if (fact && st.facts.has(fact)) {
      this.eval(e, st, ch, frame);
      return decided(st.facts.get(fact)!);
    }
    const v = this.eval(e, st, ch, frame);
    if (v === TRUE || v === FALSE) return decided(v === TRUE);
    const loc = unparen(e);
    const refine = (b: boolean) => (s: State) => {
      if (loc.k === 'ident' && loc.v >= 0) s.assign(varKey(loc.v), b ? TRUE : FALSE);
      if (fact) s.facts.set(fact, b);
    };
    return { t: refine(true), f: refine(false) };
  }

  /** A condition already evaluated: what is known of it, and what each side learns. */
  private factCond(e: Expr, st: State): CondResult {
    const fact = this.factKey(e);
    if (fact && st.facts.has(fact)) return decided(st.facts.get(fact)!);
    return { t: fact ? (s) => s.facts.set(fact, true) : undefined, f: fact ? (s) => s.facts.set(fact, false) : undefined };
  }

  /** 0, or a C constant named like a success code (SQLITE_OK, Z_OK). */
  private isSuccessCode(x: Expr): boolean {
    const e = stripConversions(x);
    if (e.k === 'lit') return parseGoInt(e.value) === 0;
    return e.k === 'sel' && e.x.k === 'ident' && e.x.v === NO_VAR && e.x.name === 'C' && /(^|_)OK$/.test(e.name);
  }

  /** `x == nil`: true side and false side. */
  private nilTest(x: Expr, st: State, ch: Chooser, frame: Frame): CondResult {
    const v = this.eval(x, st, ch, frame);
    if (v === NIL) return decided(true);
    const outputs = statusOutputs(v);
    // A cgo errno result: nil on success.
    if (outputs) {
      return {
        t: (s) => outputs.onFailure.forEach((id) => s.obj(id) && this.becomesNil(s, id)),
        f: (s) => outputs.onSuccess.forEach((id) => s.obj(id) && this.becomesNil(s, id)),
      };
    }
    if (v === NONNIL || v.startsWith('a:') || v.startsWith('fn:') || v === TRUE || v === FALSE) return decided(false);
    const id = objId(v);
    if (id) {
      const o = st.obj(id);
      if (!o) return { t: undefined, f: undefined };
      if (o.kind === 'go' || !o.nullable) return decided(false);
      return {
        t: (s) => this.becomesNil(s, id),
        f: (s) => s.updateObj(id, { nullable: false }),
      };
    }
    const loc = stripConversions(x);
    if (loc.k === 'ident' && loc.v >= 0) {
      return { t: (s) => s.assign(varKey(loc.v), NIL), f: (s) => s.assign(varKey(loc.v), NONNIL) };
    }
    return { t: undefined, f: undefined };
  }

  /** On the path where an allocation's result is nil, there is nothing to free. */
  private becomesNil(st: State, id: string): void {
    const o = st.obj(id);
    for (const [k, v] of st.env) if (v === objVal(id)) st.env.set(k, NIL);
    for (const d of st.defers) {
      d.args = d.args.map((a) => (a === objVal(id) ? NIL : a));
      if (d.recv === objVal(id)) d.recv = NIL;
    }
    st.objs.delete(id);
    if (o?.revive) {
      const old = st.obj(o.revive);
      if (old && old.state === 'consumed') {
        st.setObj(o.revive, { ...old, state: 'live', freed: undefined });
        if (!reachable(st).has(o.revive) && old.freed) {
          const at = old.freed.pos;
          this.addEvent(`leak:realloc:${at}`, {
            kind: 'leak',
            how: 'realloc-failed',
            what: old.what,
            pos: at,
            end: o.siteEnd ?? at,
            at,
            atLine: this.line(at),
            trace: [...old.steps, this.step(at, 'the C.realloc result replaces the only pointer to the old block'), ...st.trace.slice(o.traceAt ?? 0).slice(-3)],
          });
          st.objs.delete(o.revive);
        }
      }
    }
  }

  /** A key for a side-effect-free condition over local variables, so correlated branches agree. */
  private factKey(e: Expr): string | undefined {
    const vars = new Set<number>();
    const pure = (x: Expr): boolean => {
      switch (x.k) {
        case 'ident':
          if (x.v >= 0) vars.add(x.v);
          return x.v !== BLANK_VAR;
        case 'lit':
        case 'nil':
        case 'bool':
          return true;
        case 'paren':
          return pure(x.x);
        case 'unary':
          return x.op !== '<-' && x.op !== '*' && pure(x.x);
        case 'binary':
          return pure(x.x) && pure(x.y);
        case 'sel':
          return pure(x.x);
        case 'call': {
          const f = unparen(x.fun);
          return f.k === 'ident' && f.v === NO_VAR && (f.name === 'len' || f.name === 'cap') && x.args.every(pure);
        }
        default:
          return false;
      }
    };
    if (!pure(e) || vars.size === 0) return undefined;
    return `${[...vars].map((v) => `v${v},`).join('')}#${this.src(e)}`;
  }

  // ---------------------------------------------------------------- expressions

  private eval(e: Expr, st: State, ch: Chooser, frame: Frame): Val {
    switch (e.k) {
      case 'ident':
        if (e.v >= 0) {
          const cur = st.env.get(varKey(e.v)) ?? UNKNOWN_VAL;
          return !objId(cur) && cur !== NIL && this.isStructVar(e.v) ? this.storage(st, e.v, true) : cur;
        }
        if (e.v === NO_VAR) {
          if (e.name === 'true') return TRUE;
          if (e.name === 'false') return FALSE;
          return this.globalStorage(st, e.name);
        }
        return UNKNOWN_VAL;
      case 'nil':
        return NIL;
      case 'bool':
        return e.value ? TRUE : FALSE;
      case 'lit':
        return e.kind === 'string' ? NONNIL : UNKNOWN_VAL;
      case 'iota':
      case 'type':
      case 'bad':
        return UNKNOWN_VAL;
      case 'paren':
        return this.eval(e.x, st, ch, frame);
      case 'funclit':
        return `fn:${e.fn.id}`;
      case 'conv': {
        const to = this.types.resolve(e.type);
        this.boundary.handleToPointer(to, e.x, e.pos, e.end);
        return this.convert(to, this.eval(e.x, st, ch, frame));
      }
      case 'sel': {
        if (this.isPackageRef(e.x)) return UNKNOWN_VAL;
        const base = this.eval(e.x, st, ch, frame);
        const id = this.addressedObject(st, base);
        if (!id) return UNKNOWN_VAL;
        const o = st.obj(id)!;
        if (o.kind === 'c' || (o.kind === 'sym' && this.isCPointer(e.x))) this.use(st, base, `field ${e.name} read`, this.nameOf(e.x), e.pos, e.end);
        return this.readField(st, id, e.name, this.types.exprType(e));
      }
      case 'unary': {
        const x = unparen(e.x);
        if (e.op === '&') {
          if (x.k === 'ident' && x.v >= 0) {
            if (this.isStructVar(x.v)) return this.eval(x, st, ch, frame);
            const cur = st.env.get(varKey(x.v)) ?? UNKNOWN_VAL;
            return cur.startsWith('a:') ? cur : `a:${varKey(x.v)}`;
          }
          if (x.k === 'composite') {
            const v = this.eval(x, st, ch, frame);
            const id = objId(v);
            if (id) st.updateObj(id, { inline: false });
            return v;
          }
          if (x.k === 'index') {
            const base = this.eval(x.x, st, ch, frame);
            x.index.forEach((i) => this.eval(i, st, ch, frame));
            return this.derived(st, base);
          }
          if (x.k === 'sel') {
            if (this.isPackageRef(x.x)) return NONNIL;
            const base = this.eval(x.x, st, ch, frame);
            return this.addressedObject(st, base) ? base : NONNIL;
          }
          this.eval(x, st, ch, frame);
          return NONNIL;
        }
        const v = this.eval(e.x, st, ch, frame);
        if (e.op === '*') {
          this.use(st, v, 'dereferenced', this.nameOf(e.x), e.pos, e.end);
          if (v.startsWith('a:v')) return st.env.get(v.slice(2)) ?? UNKNOWN_VAL;
          // *p of Go memory: the memory's value, whose contents are followed through the object.
          const id = objId(v);
          if (id && st.obj(id)?.kind === 'go') return v;
          return UNKNOWN_VAL;
        }
        if (e.op === '!') return v === TRUE ? FALSE : v === FALSE ? TRUE : UNKNOWN_VAL;
        return UNKNOWN_VAL;
      }
      case 'binary': {
        const a = this.eval(e.x, st, ch, frame);
        const b = this.eval(e.y, st, ch, frame);
        if (e.op === '==' || e.op === '!=') {
          const eq = nilEquality(a, b);
          if (eq !== undefined) return (eq === (e.op === '==')) ? TRUE : FALSE;
        }
        if (e.op === '&&') return a === FALSE || b === FALSE ? FALSE : a === TRUE && b === TRUE ? TRUE : UNKNOWN_VAL;
        if (e.op === '||') return a === TRUE || b === TRUE ? TRUE : a === FALSE && b === FALSE ? FALSE : UNKNOWN_VAL;
        // Concatenating strings (not two constants) builds a string on the heap.
        if (e.op === '+' && isStringType(this.types.exprType(e)) && !(unparen(e.x).k === 'lit' && unparen(e.y).k === 'lit')) return HEAP_STRING;
        return UNKNOWN_VAL;
      }
      case 'index': {
        const base = this.eval(e.x, st, ch, frame);
        e.index.forEach((i) => this.eval(i, st, ch, frame));
        this.use(st, base, 'indexed', this.nameOf(e.x), e.pos, e.end);
        return UNKNOWN_VAL;
      }
      case 'slice': {
        const base = this.eval(e.x, st, ch, frame);
        for (const p of [e.lo, e.hi, e.max]) if (p) this.eval(p, st, ch, frame);
        this.use(st, base, 'sliced', this.nameOf(e.x), e.pos, e.end);
        // (*[1 << 30]T)(p)[:n:n] over C memory.
        const xt = this.types.underlyingOf(this.types.exprType(e.x));
        const arr = xt.k === 'pointer' ? this.types.underlyingOf(xt.elem) : undefined;
        if (arr?.k === 'array') this.boundary.sliceOverC('slicing a *[N]T conversion', base, arr.elem, e.max ?? e.hi, st, e.pos, e.end);
        return this.derived(st, base);
      }
      case 'assert':
        return this.eval(e.x, st, ch, frame);
      case 'composite':
        return this.composite(e, st, ch, frame);
      case 'call': {
        const vals = this.call(e, st, ch, frame, 1);
        return vals[0] ?? UNKNOWN_VAL;
      }
    }
  }

  /**
   * A package-level array or struct variable, as Go memory: the runtime treats
   * pointers to it as Go pointers only when its type holds pointers.
   */
  private globalStorage(st: State, name: string): Val {
    const g = this.info.pkg.globals.get(name);
    if (!g || g.decl.isConst) return UNKNOWN_VAL;
    const te = g.decl.type ?? g.decl.literalType;
    const t = te ? this.resolver.resolveType(te, g.file) : undefined;
    if (!t || !this.gmem.isInline(t)) return UNKNOWN_VAL;
    const id = `G:${name}`;
    if (!st.obj(id)) {
      st.setObj(id, { kind: 'go', state: 'live', what: 'global', site: -1, nullable: false, releasedBy: [], steps: [], goType: t, global: name, noPointers: !this.goHasPointers(t) || undefined, bytes: this.goSize(t) });
    }
    return objVal(id);
  }

  /** Does memory of this Go type hold pointers? Unknown counts as yes. */
  private goHasPointers(t: Ty, depth = 0): boolean {
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

  /** Pointer arithmetic or slicing keeps pointing into the same allocation. */
  private derived(st: State, base: Val): Val {
    const id = objId(base);
    if (id && st.obj(id)) return base;
    if (base.startsWith('a:')) return base;
    return base === NIL ? NIL : UNKNOWN_VAL;
  }

  private convert(to: Ty, v: Val): Val {
    const u = this.types.underlyingOf(to);
    if (u.k === 'basic') {
      // string(b) of a byte slice copies it to the heap.
      if (u.name === 'string') return v === HEAP_STRING || objId(v) ? HEAP_STRING : NONNIL;
      // A pointer hidden in a uintptr is still the same memory (it may be converted back and freed).
      if (u.name === 'uintptr' && objId(v)) return v;
      return UNKNOWN_VAL;
    }
    if (u.k === 'c' && u.name === 'uintptr_t' && objId(v)) return v;
    if (u.k === 'slice' && v !== NIL && !objId(v)) return NONNIL;
    return v;
  }

  private composite(e: Extract<Expr, { k: 'composite' }>, st: State, ch: Chooser, frame: Frame, outer?: Ty): Val {
    const declared = e.type ? this.types.resolve(e.type) : outer;
    const t = declared ? this.types.underlyingOf(declared) : undefined;
    const isStruct = !!t && this.resolver.isStruct(t);
    const isList = t?.k === 'array' || t?.k === 'slice';
    const id = this.allocId(st, `g${e.pos}`);
    const names = isStruct && t ? this.structFieldNames(t) : [];
    // Elided element types (`[]T{{...}}`) come from the enclosing literal.
    const elemType = (i: number, key?: Expr): Ty | undefined => {
      if (isList && t && (t.k === 'array' || t.k === 'slice')) return t.elem;
      const name = key?.k === 'ident' ? key.name : names[i];
      return declared && name ? this.gmem.fieldType(declared, name) : undefined;
    };
    const vals = e.elts.map((el, i) => (el.value.k === 'composite' && !el.value.type ? this.composite(el.value, st, ch, frame, elemType(i, el.key)) : this.eval(el.value, st, ch, frame)));
    if (!id) {
      vals.forEach((v) => this.escape(st, v));
      return NONNIL;
    }
    let bytes: number | undefined;
    if (t?.k === 'array' && t.len !== undefined) bytes = this.goSize(t);
    st.setObj(id, {
      kind: 'go',
      state: 'live',
      what: 'composite literal',
      site: e.pos,
      nullable: false,
      releasedBy: [],
      steps: [],
      goType: declared,
      inline: isStruct || t?.k === 'array' || undefined,
      bytes,
    });
    e.elts.forEach((el, i) => {
      let field: string | undefined;
      if (isStruct && el.key?.k === 'ident') field = el.key.name;
      else if (isStruct && !el.key) field = names[i];
      else if (isList) field = el.key ? (el.key.k === 'lit' && el.key.kind === 'int' ? `#${el.key.value}` : '#*') : `#${i}`;
      if (field) st.env.set(fieldKey(id, field), fieldValue(vals[i]));
      else this.escape(st, vals[i]);
    });
    return objVal(id);
  }

  /** Field names in order, for positional struct literals (Go structs and C structs). */
  private structFieldNames(t: Ty): string[] {
    if (t.k === 'struct') return t.fields.map((f) => f.name);
    if (t.k === 'c') {
      const ct = this.info.pkg.cType(t.name);
      const r = ct ? resolveCType(ct, this.info.pkg.c) : undefined;
      if (r?.k === 'struct') return (r.fields ?? []).map((f) => f.name);
    }
    return [];
  }

  private goSize(t: Ty): number | undefined {
    return this.resolver.sizeOf(t);
  }

  /** The object whose fields `x.f` addresses, for a base value. */
  private addressedObject(st: State, base: Val): string | undefined {
    const id = objId(base);
    return id && st.obj(id) ? id : undefined;
  }

  /** Resolves the object behind an expression used as a struct base (for field stores). */
  private baseObject(x: Expr, st: State, ch: Chooser, frame: Frame, materialize: boolean): string | undefined {
    x = unparen(x);
    if (x.k === 'ident' && x.v >= 0) {
      const key = varKey(x.v);
      const cur = this.eval(x, st, ch, frame);
      const id = objId(cur);
      if (id && st.obj(id)) return id;
      if (materialize && cur === UNKNOWN_VAL) return this.materialize(st, key, `U${x.v}`);
      return undefined;
    }
    const v = this.eval(x, st, ch, frame);
    return this.addressedObject(st, v);
  }

  private readField(st: State, id: string, field: string, t: Ty): Val {
    const key = fieldKey(id, field);
    const cur = st.env.get(key);
    if (cur !== undefined) return cur;
    const o = st.obj(id)!;
    if (o.kind === 'go') return o.opaque ? UNKNOWN_VAL : this.zeroOf(t);
    if (o.kind === 'sym' && o.origin && !o.opaque && o.origin.split('.').length <= 2 && (t.k === 'unknown' || mayHoldPointer(t))) {
      const fid = this.allocId(st, `${id}.${field}`);
      if (!fid) return UNKNOWN_VAL;
      st.setObj(fid, { kind: 'sym', state: 'live', what: `${o.origin}.${field}`, site: -1, nullable: true, releasedBy: [], steps: [], origin: `${o.origin}.${field}` });
      st.env.set(key, objVal(fid));
      return objVal(fid);
    }
    return UNKNOWN_VAL;
  }

  /** Gives an unknown value at `key` an identity, so later frees and uses of it can be matched. */
  private materialize(st: State, key: string, base: string): string | undefined {
    const id = this.allocId(st, base);
    if (!id) return undefined;
    st.setObj(id, { kind: 'sym', state: 'live', what: 'value', site: -1, nullable: true, releasedBy: [], steps: [] });
    st.env.set(key, objVal(id));
    return id;
  }

  /** A fresh object id for an allocation site, or undefined when the site has too many live objects. */
  private allocId(st: State, base: string): string | undefined {
    if (!st.objs.has(base)) return base;
    for (let i = 1; i < ALLOC_LIMIT; i++) {
      const id = `${base}#${i}`;
      if (!st.objs.has(id)) return id;
    }
    this.partial = true;
    return undefined;
  }

  private isPackageRef(x: Expr): boolean {
    return x.k === 'ident' && x.v === NO_VAR && (x.name === 'C' || this.info.file.imports.has(x.name));
  }

  private isCPointer(x: Expr): boolean {
    const t = this.types.exprType(x);
    return t.k === 'pointer' && t.elem.k === 'c';
  }

  // ---------------------------------------------------------------- calls

  private call(e: CallExpr, st: State, ch: Chooser, frame: Frame, want: number): Val[] {
    const f = unparen(e.fun);
    const callee = this.callee(f, e);
    let fnVal: Val | undefined;
    let recv: Val | undefined;
    if (callee.k === 'closure') fnVal = `fn:${callee.id}`;
    else if (f.k === 'ident' && f.v >= 0) fnVal = st.env.get(varKey(f.v)) ?? UNKNOWN_VAL;
    else if ((callee.k === 'func' || callee.k === 'unknown' || callee.k === 'handle') && callee.recv) recv = this.eval(callee.recv, st, ch, frame);
    else if (callee.k === 'unknown' && f.k !== 'ident' && f.k !== 'sel') fnVal = this.eval(f, st, ch, frame);
    const args = e.args.map((a) => this.eval(a, st, ch, frame));
    // A Pinner passed by value shares what it pins with the callee, which may unpin it.
    for (const a of e.args) {
      const x = unparen(a);
      const pins = x.k === 'ident' && x.v >= 0 ? st.env.get(pinsKey(x.v)) : undefined;
      if (pins) this.escape(st, pins);
    }
    const resolved: Callee = fnVal?.startsWith('fn:') ? { k: 'closure', id: Number(fnVal.slice(3)) } : callee;
    const regions = resolved.k === 'cgo' ? args.map((v, i) => this.argRegion(e.args[i], v, st)) : undefined;
    return this.applyCall(e, st, ch, frame, want, { args, fnVal, recv, regions }, e.pos, resolved);
  }

  private callee(f: Expr, e: CallExpr): Callee {
    if (this.types.isType(f)) return { k: 'conv', to: this.types.typeOfTypeExpr(f) };
    if (f.k === 'funclit') return { k: 'closure', id: f.fn.id };
    if (f.k === 'ident') {
      if (f.v >= 0) return { k: 'unknown' };
      const local = this.info.pkg.funcs.get(f.name);
      if (local) return { k: 'func', key: local.key, display: local.display };
      if (BUILTINS.has(f.name)) return { k: 'builtin', name: f.name };
      return { k: 'unknown' };
    }
    if (f.k === 'sel') {
      if (f.x.k === 'ident' && f.x.v === NO_VAR) {
        if (f.x.name === 'C') return { k: 'cgo', name: f.name };
        const imp = this.info.file.imports.get(f.x.name);
        if (imp === 'unsafe') return { k: 'unsafe', name: f.name };
        if (imp === 'runtime') return { k: 'runtime', name: f.name };
        if (imp === 'runtime/cgo' && f.name === 'NewHandle') return { k: 'handle', op: 'New' };
        if (imp) {
          const key = `${imp}.${f.name}`;
          if (this.summaries.get(key)) return { k: 'func', key, display: `${f.x.name}.${f.name}` };
          if (PURE_PACKAGES.has(imp)) return { k: 'pure' };
          return { k: 'unknown' };
        }
      }
      const rt = this.types.exprType(f.x);
      const rtu = rt.k === 'pointer' ? rt.elem : rt;
      if (rtu.k === 'named' && rtu.pkg === 'runtime' && rtu.name === 'Pinner') return { k: 'pinner', op: f.name, recv: f.x };
      if (rtu.k === 'named' && rtu.pkg === 'runtime/cgo' && rtu.name === 'Handle') return { k: 'handle', op: f.name, recv: f.x };
      const m = this.resolver.method(rt, f.name);
      if (m) return { k: 'func', key: m.key, display: m.info?.display ?? f.name, recv: f.x };
      if (isError(rt) && (f.name === 'Error')) return { k: 'pure' };
      return { k: 'unknown', recv: f.x };
    }
    void e;
    return { k: 'unknown' };
  }

  /** Applies a call whose operands are already evaluated (also used for deferred calls). */
  private applyCall(e: CallExpr, st: State, ch: Chooser, frame: Frame, want: number, ops: Operands, pos: number, known?: Callee): Val[] {
    const { args, recv } = ops;
    let fnVal = ops.fnVal;
    const f = unparen(e.fun);
    const callee = known ?? (fnVal?.startsWith('fn:') ? ({ k: 'closure', id: Number(fnVal.slice(3)) } as Callee) : this.callee(f, e));
    const unknownResults = () => new Array(Math.max(want, 1)).fill(UNKNOWN_VAL);
    switch (callee.k) {
      case 'conv':
        if (e.args[0]) this.boundary.handleToPointer(callee.to, e.args[0], e.pos, e.end);
        return [this.convert(callee.to, args[0] ?? UNKNOWN_VAL)];
      case 'builtin':
        return this.builtin(callee.name, e, args, st, pos);
      case 'cgo': {
        const r = this.cgoCall(callee.name, e, args, st, pos, ops.regions);
        // `p, err := C.f()`: err is set when the call failed, and then the owned result is not there.
        const id = want === 2 && r.length === 1 ? objId(r[0]) : undefined;
        if (id && st.obj(id)?.kind === 'c' && st.obj(id)?.nullable) return [r[0], statusVal([id], [])];
        return r;
      }
      case 'unsafe':
        return this.unsafeCall(callee.name, e, args, st, pos);
      case 'runtime':
        if (callee.name === 'SetFinalizer' || callee.name === 'AddCleanup') args.forEach((a) => this.escape(st, a));
        return unknownResults();
      case 'closure': {
        if (fnVal === undefined && callee.k === 'closure') fnVal = `fn:${callee.id}`;
        const id = Number(fnVal!.slice(3));
        return this.inlineClosure(id, args, st, ch, frame, want);
      }
      case 'func': {
        const s = this.summaries.get(callee.key);
        if (!s) break;
        return this.applySummary(s, callee.display, e, args, recv, st, ch, pos, want);
      }
      case 'pinner':
        this.pinner(callee.op, callee.recv, args, st, pos, e.end);
        return unknownResults();
      case 'handle':
        return this.cgoHandle(callee.op, e, args, recv, st, pos) ?? unknownResults();
      case 'pure':
        if (f.k === 'sel' && f.x.k === 'ident' && (f.name === 'New' || f.name === 'Errorf')) return [NONNIL];
        if (f.k === 'sel' && f.x.k === 'ident' && HEAP_STRING_FUNCS.has(`${f.x.name}.${f.name}`)) return [HEAP_STRING];
        return unknownResults();
      case 'unknown':
        break;
    }
    // Code we cannot see: everything handed to it may be kept or freed there.
    if (fnVal) this.escape(st, fnVal);
    if (recv) this.escape(st, recv);
    args.forEach((a) => this.escape(st, a));
    return unknownResults();
  }

  private builtin(name: string, e: CallExpr, args: Val[], st: State, pos: number): Val[] {
    switch (name) {
      case 'new':
      case 'make': {
        const id = this.allocId(st, `g${pos}`);
        if (!id) return [NONNIL];
        const t = e.args[0] ? this.types.typeOfTypeExpr(e.args[0]) : undefined;
        const u = t ? this.types.underlyingOf(t) : undefined;
        // make([]T, n) with a constant n: n elements; new([N]T): the array.
        let bytes: number | undefined;
        const n = e.args[1]?.k === 'lit' && e.args[1].kind === 'int' ? parseGoInt(e.args[1].value) : undefined;
        if (name === 'make' && u?.k === 'slice' && n !== undefined) {
          const es = this.goSize(u.elem);
          if (es !== undefined) bytes = n * es;
        } else if (name === 'new' && t) bytes = this.goSize(t);
        st.setObj(id, { kind: 'go', state: 'live', what: name, site: pos, nullable: false, releasedBy: [], steps: [], goType: t, bytes });
        return [objVal(id)];
      }
      case 'append':
        args.slice(1).forEach((a) => this.escape(st, a));
        return [args[0] && objId(args[0]) ? args[0] : NONNIL];
      case 'copy': {
        this.use(st, args[0] ?? NIL, 'written by copy', this.argName(e, 0), pos, e.end);
        this.use(st, args[1] ?? NIL, 'read by copy', this.argName(e, 1), pos, e.end);
        // Copying into C memory: the elements copied must not be Go pointers.
        const dst = e.args[0] ? this.rootOf(e.args[0]) : undefined;
        const src = objId(args[1] ?? NIL);
        if (dst && src && isCMemory(st, this.peek(dst, st))) {
          const hit = goPointerInObject(st, src, this.gmem, undefined, (k) => this.varName(k));
          if (hit) {
            this.addEvent(`go-pointer-store:${pos}`, {
              kind: 'go-pointer-store',
              dest: this.src(e.args[0]),
              path: hit.path,
              target: hit.target,
              how: 'copied',
              pos,
              end: e.end,
              trace: [this.step(pos, `${this.src(e.args[0])} is C memory; copy writes a Go pointer${hit.path ? ` (element ${hit.path})` : ''} to ${hit.target} into it`)],
            });
          }
        }
        return [UNKNOWN_VAL];
      }
      case 'recover':
        return [UNKNOWN_VAL];
      default:
        return [UNKNOWN_VAL];
    }
  }

  private unsafeCall(name: string, e: CallExpr, args: Val[], st: State, pos: number): Val[] {
    switch (name) {
      case 'Slice': {
        this.use(st, args[0] ?? NIL, 'wrapped by unsafe.Slice', this.argName(e, 0), pos, e.end);
        const pt = e.args[0] ? this.types.underlyingOf(this.types.exprType(e.args[0])) : undefined;
        this.boundary.sliceOverC('unsafe.Slice', args[0] ?? NIL, pt?.k === 'pointer' ? pt.elem : undefined, e.args[1], st, pos, e.end);
        return [this.derived(st, args[0] ?? NIL)];
      }
      case 'String':
        this.use(st, args[0] ?? NIL, 'read by unsafe.String', this.argName(e, 0), pos, e.end);
        return [NONNIL];
      case 'Add':
      case 'StringData':
      case 'SliceData':
        return [this.derived(st, args[0] ?? NIL)];
      default:
        return [UNKNOWN_VAL];
    }
  }

  private newC(st: State, pos: number, end: number, what: string, opts: { nullable: boolean; releasedBy: string[]; steps?: Step[]; bytes?: number; resource?: Resource }): Val {
    const id = this.allocId(st, `c${pos}`);
    if (!id) return UNKNOWN_VAL;
    st.setObj(id, {
      kind: 'c',
      state: 'live',
      what,
      site: pos,
      siteEnd: end,
      nullable: opts.nullable,
      releasedBy: opts.releasedBy,
      steps: opts.steps ?? [this.step(pos, `${what} allocates C memory here`)],
      traceAt: st.trace.length,
      bytes: opts.bytes,
      resource: opts.resource,
    });
    return objVal(id);
  }

  /** Memory a contract says the callee only lends: the caller must not free it. */
  private borrowedC(st: State, pos: number, what: string, why: string): Val {
    const id = this.allocId(st, `b${pos}`);
    if (!id) return UNKNOWN_VAL;
    st.setObj(id, { kind: 'c', state: 'live', what, site: pos, nullable: true, releasedBy: [], steps: [this.step(pos, `${what} ${why}`)], borrowed: true });
    return objVal(id);
  }

  /** The C function passed as a destructor argument (C.free, (*[0]byte)(C.sqlite3_free)), if one is. */
  private destructorName(e: Expr | undefined): string | undefined {
    const x = e && stripConversions(e);
    if (x?.k === 'sel' && x.x.k === 'ident' && x.x.v === NO_VAR && x.x.name === 'C' && this.resolver.cName(x.name) === 'func') return x.name;
    return undefined;
  }

  /** Memory handed over with a destructor must be memory that destructor may release. */
  private checkDestructor(st: State, v: Val, destructor: string, e: CallExpr, i: number, pos: number): void {
    const id = objId(v);
    const o = id ? st.obj(id) : undefined;
    if (!o || o.kind !== 'c' || !o.releasedBy.length || o.releasedBy.includes(destructor)) return;
    const name = this.argName(e, i);
    this.addEvent(`mismatched-free:${pos}:${i}`, {
      kind: 'mismatched-free',
      name,
      what: o.what,
      by: destructor,
      expected: o.releasedBy,
      via: `C.${destructor} (the destructor given to ${this.src(e.fun)})`,
      pos: e.args[i]?.pos ?? pos,
      end: e.args[i]?.end ?? e.end,
      trace: [...o.steps, this.step(pos, `${this.src(e.fun)} will release ${name} with C.${destructor}`)],
    });
  }

  /** Protocol clauses: `not after F` and `invalidates` on the first argument. */
  private checkProtocol(st: State, name: string, contract: Contract | undefined, released: Set<number>, args: Val[], e: CallExpr, pos: number): void {
    const id = objId(args[0] ?? NIL);
    const o = id ? st.obj(id) : undefined;
    if (!o?.marks?.length) return;
    const after = contract?.notAfter.find((f) => o.marks!.includes(f));
    const invalid = o.marks.find((m) => m.startsWith('!'));
    const violation = after ? { after, how: 'not-after' as const } : invalid && !released.has(0) ? { after: invalid.slice(1), how: 'invalidated' as const } : undefined;
    if (!violation) return;
    this.addEvent(`protocol:${pos}`, {
      kind: 'protocol',
      callee: `C.${name}`,
      name: this.argName(e, 0),
      after: `C.${violation.after}`,
      how: violation.how,
      pos,
      end: e.end,
      trace: [...o.steps, this.step(pos, `C.${name} is called on ${this.argName(e, 0)} after C.${violation.after}`)],
    });
  }

  /** Remembers calls that later protocol clauses refer to. */
  private markProtocol(st: State, name: string, contract: Contract | undefined, args: Val[]): void {
    const mark = (v: Val | undefined, m: string) => {
      const id = objId(v ?? NIL);
      const o = id ? st.obj(id) : undefined;
      if (o && !o.marks?.includes(m)) st.setObj(id!, { ...o, marks: [...(o.marks ?? []), m] });
    };
    if (this.info.pkg.contracts.protocolMarkers().has(name)) mark(args[0], name);
    for (const i of contract?.invalidates ?? []) mark(args[i], `!${name}`);
  }

  /**
   * `creates`: a function returning a pointer makes an owned object; one that
   * initialises what its first argument points to (jpeg_create_decompress(&cinfo))
   * makes a handle living in that Go storage, released when the storage is.
   */
  private createHandle(st: State, name: string, releasedBy: string[], e: CallExpr, args: Val[], pos: number): Val | undefined {
    const decl = this.info.pkg.cDeclaration(name);
    const returnsPointer = decl ? resolveCType(decl.ret, this.info.pkg.c).k === 'ptr' : !args.length;
    const steps = [this.step(pos, `C.${name} creates a handle here, to be released by ${releasedBy.map((f) => `C.${f}`).join(' or ')}`)];
    const handle = () => this.newC(st, pos, e.end, `C.${name}`, { nullable: returnsPointer, releasedBy, steps });
    if (returnsPointer) return handle();
    const owner = args[0] ?? NIL;
    const id = objId(owner);
    if (id && st.obj(id)?.kind === 'go') st.assign(handleKey(id), handle());
    else if (owner.startsWith('a:v')) st.assign(owner.slice(2), handle());
    return undefined;
  }

  /** The handle `creates` made in the Go storage `v` points to. */
  private handleIn(st: State, v: Val): Val | undefined {
    const id = objId(v);
    return id ? st.env.get(handleKey(id)) : undefined;
  }

  private foreignC(st: State, pos: number, what: string): Val {
    const id = this.allocId(st, `f${pos}`);
    if (!id) return UNKNOWN_VAL;
    st.setObj(id, { kind: 'c', state: 'live', what, site: -1, nullable: true, releasedBy: [], steps: [], foreign: true });
    return objVal(id);
  }

  private cgoCall(name: string, e: CallExpr, args: Val[], st: State, pos: number, regions?: (Region | undefined)[]): Val[] {
    const a0 = args[0] ?? UNKNOWN_VAL;
    switch (name) {
      case 'CString':
      case 'CBytes':
      case 'malloc': {
        // cgo's own allocators never return nil: they crash on exhaustion.
        const lit = name === 'CString' && e.args[0]?.k === 'lit' ? decodeGoString(e.args[0].value) : undefined;
        const bytes = name === 'malloc' ? constInt(e.args[0]) : lit ? lit.bytes + 1 : undefined;
        return [this.newC(st, pos, e.end, `C.${name}`, { nullable: false, releasedBy: ['free'], bytes })];
      }
      case 'GoString':
      case 'GoStringN':
      case 'GoBytes':
        this.use(st, a0, `read by C.${name}`, this.argName(e, 0), pos, e.end);
        // A copy on the Go heap.
        return [name === 'GoBytes' ? NONNIL : HEAP_STRING];
      case 'realloc':
        return [this.realloc(e, a0, st, pos)];
    }
    const contract = this.info.pkg.contract(name);
    const cfn = this.info.pkg.cFunc(name);
    const kind = this.resolver.cName(name);
    if (kind === 'type' || kind === 'value') return [this.convert({ k: 'c', name }, a0)];
    const moved = new Set<number>();
    const released = new Set<number>();
    if (contract) {
      contract.releases.forEach((i) => released.add(i));
      contract.takes.forEach((i) => moved.add(i));
    }
    cfn?.frees.forEach((i) => released.add(i));
    cfn?.retains.forEach((i) => moved.add(i));
    // An unknown function named like a releaser: what it gets is no longer ours to track.
    if (!contract && !cfn?.defined && looksLikeReleaser(name)) args.forEach((_, i) => moved.add(i));
    // `takes text with destructor destroy`: a destructor function takes the memory, SQLITE_STATIC/TRANSIENT lend it.
    for (const t of contract?.takesWithDestructor ?? []) {
      const destructor = this.destructorName(e.args[t.destructor]);
      if (!destructor) continue;
      moved.add(t.param);
      this.checkDestructor(st, args[t.param] ?? NIL, destructor, e, t.param, pos);
    }
    // A handle `creates` made inside Go storage stands for that storage in every later call.
    const targets = args.map((v) => this.handleIn(st, v) ?? v);
    this.checkProtocol(st, name, contract, released, targets, e, pos);
    const headers = this.boundary.atCCall(name, e, args, st, pos, cfn, contract);
    regions?.forEach((r, i) => {
      if (r && !headers.has(i)) this.checkGoPointerArg(st, r, name, i, e, pos);
    });
    // A contract names the releaser itself; a preamble body frees with what it calls (libc's free by default).
    const releaser = (i: number) => (contract?.releases.length ? name : (cfn?.freedBy?.get(i) ?? 'free'));
    targets.forEach((v, i) => {
      const hid = objId(v);
      if (hid && st.obj(hid)?.resource === 'handle' && st.obj(hid)?.state === 'live') this.handleToC(st, hid, e, i, pos);
      else if (released.has(i)) this.release(st, v, { by: releaser(i), name: this.argName(e, i), loc: e.args[i], pos, end: e.end });
      else if (moved.has(i)) this.escape(st, v);
      else {
        this.use(st, v, `passed to C.${name}`, this.argName(e, i), pos, e.end);
        // C may write through pointers to Go variables and struct storage.
        if (v.startsWith('a:v')) this.havocVar(st, Number(v.slice(3)));
        else this.havocFields(st, v);
      }
    });
    const onSuccess: string[] = [];
    const onFailure: string[] = [];
    for (const w of contract?.writesOwned ?? []) {
      const target = args[w.param];
      if (target?.startsWith('a:v')) {
        const v = Number(target.slice(3));
        const val = this.newC(st, pos, e.end, `C.${name}`, { nullable: true, releasedBy: w.releasedBy });
        st.assign(varKey(v), val);
        const id = objId(val);
        if (id && w.when === 'success') onSuccess.push(id);
        if (id && w.when === 'failure') onFailure.push(id);
      }
    }
    this.markProtocol(st, name, contract, targets);
    if (contract?.creates) {
      const made = this.createHandle(st, name, contract.creates, e, args, pos);
      if (made) return [made];
    }
    if (contract?.returns?.kind === 'owned') return [this.newC(st, pos, e.end, `C.${name}`, { nullable: true, releasedBy: contract.returns.releasedBy })];
    if (contract?.returns?.kind === 'borrowed') return [this.borrowedC(st, pos, `C.${name}`, 'lends this memory (contract)')];
    if (!contract?.returns && cfn?.returnsArg !== undefined && args[cfn.returnsArg]) return [args[cfn.returnsArg]];
    if (!contract?.returns && cfn?.returns === 'static') return [this.borrowedC(st, pos, `C.${name}`, 'returns static memory (a literal or a global)')];
    if (!contract?.returns && cfn?.returns === 'owned') return [this.newC(st, pos, e.end, `C.${name}`, { nullable: true, releasedBy: cfn.releasedBy ?? ['free'] })];
    // A pointer from a C function that does not say who owns it: C memory, never ours to free.
    if (cfn && resolveCType(cfn.ret, this.info.pkg.c).k === 'ptr') return [this.foreignC(st, pos, `C.${name}`)];
    // A status whose comparison with success tells which outputs exist.
    if (onSuccess.length || onFailure.length) return [statusVal(onSuccess, onFailure)];
    return [UNKNOWN_VAL];
  }

  private realloc(e: CallExpr, old: Val, st: State, pos: number): Val {
    const id = objId(old);
    const o = id ? st.obj(id) : undefined;
    if (o && (o.state === 'freed' || o.state === 'consumed')) {
      this.useAfterFree(o, 'passed to C.realloc', this.argName(e, 0), pos, e.end);
      return UNKNOWN_VAL;
    }
    if (o && o.kind === 'go') {
      this.freeNonHeap('realloc', this.argName(e, 0), pos, e.end, describeGo(o));
      return UNKNOWN_VAL;
    }
    const val = this.newC(st, pos, e.end, 'C.realloc', { nullable: true, releasedBy: ['free'] });
    const nid = objId(val);
    if (id && o && nid && (o.kind === 'c' || o.kind === 'sym')) {
      st.setObj(id, { ...o, state: 'consumed', freed: { pos, by: 'realloc', steps: [this.step(pos, `C.realloc releases the old block of ${this.nameOf(e.args[0])}`)] } });
      st.updateObj(nid, { revive: id });
    }
    return val;
  }

  /** Replays a callee's summary: one case is chosen per path. */
  private applySummary(s: Summary, display: string, e: CallExpr, args: Val[], recv: Val | undefined, st: State, ch: Chooser, pos: number, want: number): Val[] {
    if (s.cases.length === 0) {
      st.dead = true;
      return new Array(Math.max(want, 1)).fill(UNKNOWN_VAL);
    }
    const c = s.cases[ch.choose(s.cases.length)];
    type Target = { val: Val; name: string; loc?: Expr; owner?: string; field?: string };
    const argFor = (path: string): Target | undefined => {
      const root = path.split('.')[0];
      if (root === 'r') {
        const x = (unparen(e.fun) as { x?: Expr }).x;
        return recv !== undefined && x ? { val: recv, name: this.nameOf(x), loc: x } : undefined;
      }
      const i = Number(root.slice(1));
      if (s.variadic && i >= s.params.length - 1) return undefined; // variadic tail: not tracked
      return args[i] !== undefined ? { val: args[i], name: this.argName(e, i), loc: e.args[i] } : undefined;
    };
    const resolvePath = (path: string): Target | undefined => {
      let cur = argFor(path);
      if (!cur) return undefined;
      for (const field of path.split('.').slice(1)) {
        let id = this.addressedObject(st, cur.val);
        if (!id && cur.val === UNKNOWN_VAL && cur.loc) {
          const loc = stripConversions(cur.loc);
          if (loc.k === 'ident' && loc.v >= 0) id = this.materialize(st, varKey(loc.v), `U${loc.v}`);
        }
        if (!id) return undefined;
        let val = this.readField(st, id, field, { k: 'unknown' });
        if (val === UNKNOWN_VAL) {
          const fid = this.materialize(st, fieldKey(id, field), `${id}.${field}`);
          if (fid) val = objVal(fid);
        }
        cur = { val, name: `${cur.name}.${field}`, owner: id, field };
      }
      return cur;
    };
    for (const eff of c.effects) {
      const target = resolvePath(eff.path);
      if (!target) continue;
      switch (eff.k) {
        case 'freed':
          this.release(st, target.val, { by: eff.by, name: target.name, loc: target.loc, pos, end: e.end, via: display, viaSteps: eff.steps });
          break;
        case 'moved':
          this.escape(st, target.val);
          break;
        case 'used':
          this.use(st, target.val, `used by ${display}`, target.name, pos, e.end);
          break;
        case 'set':
          if (target.owner && target.field) {
            const key = fieldKey(target.owner, target.field);
            const old = st.env.get(key);
            if (old) this.escape(st, old, false);
            st.env.set(key, eff.value === 'nil' ? NIL : UNKNOWN_VAL);
          }
          break;
        case 'set-owned':
          if (target.owner && target.field) {
            const val = this.newC(st, pos, e.end, `${display} (${eff.what})`, { nullable: true, releasedBy: eff.releasedBy, steps: [this.step(pos, `${display} stores newly allocated C memory in ${eff.path.replace(/^r\./, '').replace(/^p\d+\./, '')}`), ...eff.steps] });
            st.env.set(fieldKey(target.owner, target.field), val);
          }
          break;
      }
    }
    const out: Val[] = c.results.map((r) => {
      switch (r.k) {
        case 'nil':
          return NIL;
        case 'nonnil':
          return NONNIL;
        case 'go': {
          const id = this.allocId(st, `r${pos}`);
          if (!id) return NONNIL;
          st.setObj(id, { kind: 'go', state: 'live', what: `Go memory returned by ${display}`, site: pos, nullable: false, releasedBy: [], steps: [], goType: r.goType, noPointers: r.noPointers, bytes: r.bytes });
          return objVal(id);
        }
        case 'bool':
          return r.v ? TRUE : FALSE;
        case 'unknown':
          return UNKNOWN_VAL;
        case 'param':
          return resolvePath(r.path)?.val ?? UNKNOWN_VAL;
        case 'owned':
          return this.newC(st, pos, e.end, `${display}`, {
            nullable: r.nullable,
            releasedBy: r.releasedBy,
            steps: [this.step(pos, r.resource === 'handle' ? `${display} returns a cgo.Handle the caller must delete` : `${display} returns C memory the caller must free`), ...r.steps],
            resource: r.resource,
          });
        case 'freed': {
          const v = this.newC(st, pos, e.end, display, { nullable: false, releasedBy: [], steps: r.steps });
          const id = objId(v);
          if (id) st.updateObj(id, { state: 'freed', freed: { pos, by: r.by, via: display, steps: [this.step(pos, `${display} returns memory it has already freed`)] } });
          return v;
        }
        case 'same':
          return UNKNOWN_VAL; // filled in below, from the result it repeats
      }
    });
    c.results.forEach((r, i) => {
      if (r.k === 'same') out[i] = out[r.as] ?? UNKNOWN_VAL;
    });
    while (out.length < want) out.push(UNKNOWN_VAL);
    return out;
  }

  private inlineClosure(id: number, args: Val[], st: State, ch: Chooser, frame: Frame, want: number): Val[] {
    const fn = this.closures.get(id);
    if (!fn || frame.depth >= this.budget.maxInlineDepth) {
      this.escape(st, `fn:${id}`);
      args.forEach((a) => this.escape(st, a));
      return new Array(Math.max(want, 1)).fill(UNKNOWN_VAL);
    }
    const entry = st.clone();
    const outerDefers = entry.defers;
    entry.defers = [];
    fn.params.forEach((v, i) => entry.assign(varKey(v), args[i] ?? UNKNOWN_VAL));
    for (const v of fn.results) entry.assign(varKey(v), this.zeroValue(entry, v));
    const exits: State[] = [];
    this.runFrame({ fn, depth: frame.depth + 1 }, entry, (exit) => exits.push(exit));
    if (!exits.length) {
      st.dead = true;
      return new Array(Math.max(want, 1)).fill(UNKNOWN_VAL);
    }
    const chosen = exits[ch.choose(exits.length)];
    const results = fn.results.map((v) => chosen.env.get(varKey(v)) ?? UNKNOWN_VAL);
    // Continue the caller's path from the closure's exit state.
    st.env = chosen.env;
    st.objs = chosen.objs;
    st.facts = chosen.facts;
    st.trace = chosen.trace;
    st.defers = outerDefers;
    for (const v of [...fn.params, ...fn.results]) st.env.delete(varKey(v));
    while (results.length < want) results.push(UNKNOWN_VAL);
    return results;
  }

  // ---------------------------------------------------------------- typestate transitions

  /** A release (C.free, a contract's releaser, a helper that frees). */
  private release(st: State, v: Val, r: ReleaseSite): void {
    if (v === NIL) return;
    const { by, name, pos, end, via } = r;
    if (v.startsWith('a:')) {
      this.freeNonHeap(by, name, pos, end, `Go memory (&${name.replace(/^&/, '')})`, via);
      return;
    }
    let id = objId(v);
    if (!id) {
      // An unknown pointer: give it an identity so a second free is caught.
      const loc = r.loc ? stripConversions(r.loc) : undefined;
      if (loc?.k === 'ident' && loc.v >= 0 && (st.env.get(varKey(loc.v)) ?? UNKNOWN_VAL) === v) id = this.materialize(st, varKey(loc.v), `U${loc.v}`);
      if (!id) return;
    }
    const o = st.obj(id);
    if (!o) return;
    if (o.kind === 'go') {
      this.freeNonHeap(by, name, pos, end, describeGo(o), via);
      return;
    }
    if (o.borrowed && o.state === 'live') {
      this.addEvent(`free-borrowed:${pos}`, {
        kind: 'free-borrowed',
        name,
        what: o.what,
        by: via ?? (by === 'free' ? 'C.free' : `C.${by}`),
        pos,
        end,
        trace: [...o.steps, this.step(pos, `${via ?? (by === 'free' ? 'C.free' : `C.${by}`)} releases it here`)],
      });
      return;
    }
    const freedSteps = via
      ? [this.step(pos, `${via} frees ${name}`), ...(r.viaSteps ?? [])]
      : [this.step(pos, o.resource === 'handle' ? `${name}.Delete deletes the handle here` : `${by === 'free' ? 'C.free' : `C.${by}`} releases ${name} here`)];
    if (o.state === 'freed' || o.state === 'consumed') {
      const first = o.freed!;
      this.addEvent(`double-free:${pos}`, {
        kind: 'double-free',
        resource: o.resource,
        name,
        what: o.what,
        pos,
        end,
        firstLine: this.line(first.pos),
        firstBy: first.by,
        firstVia: first.via,
        via,
        trace: [...o.steps, ...first.steps, ...freedSteps.map((s, i) => (i === 0 ? { ...s, message: `${s.message} again` } : s))],
      });
      return;
    }
    if (o.kind === 'c' && by && o.releasedBy.length && !o.releasedBy.includes(by)) {
      this.addEvent(`mismatched-free:${pos}`, { kind: 'mismatched-free', name, what: o.what, by, expected: o.releasedBy, via, pos, end, trace: [...o.steps, ...freedSteps] });
    }
    st.setObj(id, { ...o, state: 'freed', freed: { pos, by, via, steps: freedSteps } });
  }

  private freeNonHeap(by: string, name: string, pos: number, end: number, memory: string, via?: string): void {
    const who = via ?? (by === 'free' ? 'C.free' : `C.${by}`);
    this.addEvent(`free-nonheap:${pos}`, {
      kind: 'free-nonheap',
      name,
      by,
      memory,
      via,
      pos,
      end,
      trace: [this.step(pos, `${who} releases ${name}, ${memory}, which C did not allocate`)],
    });
  }

  private use(st: State, v: Val, how: string, name: string, pos: number, end: number): void {
    const id = objId(v);
    if (!id) return;
    const o = st.obj(id);
    if (!o) return;
    if (o.state === 'freed' || o.state === 'consumed') {
      this.useAfterFree(o, how, name, pos, end);
      return;
    }
    if (o.kind === 'sym' && o.origin && !o.used) st.setObj(id, { ...o, used: true });
  }

  private useAfterFree(o: Obj, how: string, name: string, pos: number, end: number): void {
    const first = o.freed!;
    this.addEvent(`use-after-free:${pos}`, {
      kind: 'use-after-free',
      resource: o.resource,
      name,
      how,
      freedLine: this.line(first.pos),
      freedBy: first.by,
      freedVia: first.via,
      pos,
      end,
      trace: [...o.steps, ...first.steps, this.step(pos, `${name} is ${how} here, after the free`)],
    });
  }

  /** Ownership leaves our view: whatever `v` reaches is no longer ours to free. */
  private escape(st: State, v: Val, deep = true): void {
    const seen = new Set<string>();
    const work: Val[] = [v];
    while (work.length) {
      const cur = work.pop()!;
      if (seen.has(cur)) continue;
      seen.add(cur);
      if (cur.startsWith('fn:')) {
        // A closure that escapes takes the variables it captures along.
        for (const cv of this.capturedBy(Number(cur.slice(3)))) {
          const val = st.env.get(varKey(cv));
          if (val) work.push(val);
        }
        continue;
      }
      if (cur.startsWith('a:v')) {
        // A Pinner whose address is given away may be unpinned there.
        const pins = st.env.get(pinsKey(Number(cur.slice(3))));
        if (pins) work.push(pins);
        this.havocVar(st, Number(cur.slice(3)));
        continue;
      }
      const id = objId(cur);
      const o = id ? st.obj(id) : undefined;
      if (!id || !o) continue;
      if ((o.kind === 'c' || o.kind === 'sym') && o.state === 'live') st.setObj(id, { ...o, state: 'moved' });
      if (!deep || o.kind === 'c') continue;
      // Go storage or an input: the unknown code may read and rewrite its fields.
      const prefix = `${id}|`;
      for (const [k, fv] of [...st.env]) {
        if (!k.startsWith(prefix)) continue;
        work.push(fv);
        st.env.delete(k);
      }
      st.setObj(id, { ...st.obj(id)!, opaque: true });
    }
  }

  /** Code we cannot see may have written this variable. */
  private havocVar(st: State, v: number): void {
    const key = varKey(v);
    const old = st.env.get(key);
    this.dropFacts(st, v);
    if (old === undefined) return;
    const id = objId(old);
    const o = id ? st.obj(id) : undefined;
    if (o?.kind === 'go') {
      this.havocFields(st, old);
      return;
    }
    if (old.startsWith('a:')) return;
    if (o && (o.kind === 'c' || o.kind === 'sym') && o.state === 'live') st.setObj(id!, { ...o, state: 'moved' });
    st.assign(key, UNKNOWN_VAL);
  }

  /** C was given Go struct storage: it may rewrite the fields. */
  private havocFields(st: State, v: Val): void {
    const id = objId(v) ?? (v.startsWith('a:v') ? objId(st.env.get(v.slice(2)) ?? '') : undefined);
    const o = id ? st.obj(id) : undefined;
    if (!id || o?.kind !== 'go') return;
    for (const [k, fv] of [...st.env]) {
      if (!k.startsWith(`${id}|`) || k === handleKey(id)) continue;
      const fid = objId(fv);
      const fo = fid ? st.obj(fid) : undefined;
      // The field may be overwritten; the memory it held may still be referenced elsewhere.
      if (fo && fo.state === 'live' && (fo.kind === 'c' || fo.kind === 'sym')) {
        const elsewhere = [...st.env].some(([k2, v2]) => k2 !== k && v2 === fv);
        if (!elsewhere) st.setObj(fid!, { ...fo, state: 'moved' });
      }
    }
  }

  // ---------------------------------------------------------------- helpers

  private src(e: { pos: number; end: number }): string {
    const s = this.text.slice(e.pos, e.end).replace(/\s+/g, ' ');
    return s.length > 60 ? `${s.slice(0, 57)}...` : s;
  }

  private nameOf(e: Expr): string {
    return this.src(stripConversions(e));
  }

  private argName(call: CallExpr, i: number): string {
    const a = call.args[i];
    return a ? this.nameOf(a) : `argument ${i + 1} of ${this.src(call.fun)}`;
  }

  private line(pos: number): number {
    return this.file.lines.lineOf(pos);
  }

  private step(pos: number, message: string): Step {
    const p = this.file.lines.position(pos);
    return { file: this.file.display, line: p.line, column: p.column, message };
  }
}

interface ReleaseSite {
  by: string; // the C function that releases (free, realloc, sqlite3_free); '' when not known
  name: string; // how the code names the pointer
  pos: number;
  end: number;
  loc?: Expr; // the argument expression, to give an unknown pointer an identity
  via?: string; // Go helper that releases it
  viaSteps?: Step[];
}

/** `len(x) > 0`, `len(x) == 0` and the like: x, and whether the test holds when x has elements. */
function lenTest(e: Expr): { x: Expr; nonEmptyWhenTrue: boolean } | undefined {
  if (e.k !== 'binary') return undefined;
  const lenArg = (z: Expr) => {
    z = unparen(z);
    if (z.k !== 'call' || z.args.length !== 1) return undefined;
    const f = unparen(z.fun);
    return f.k === 'ident' && f.v === NO_VAR && f.name === 'len' ? unparen(z.args[0]) : undefined;
  };
  const num = (z: Expr) => {
    z = unparen(z);
    return z.k === 'lit' ? parseGoInt(z.value) : undefined;
  };
  const l = lenArg(e.x);
  if (l) {
    const n = num(e.y);
    if (n === 0 && (e.op === '>' || e.op === '!=')) return { x: l, nonEmptyWhenTrue: true };
    if (n === 0 && (e.op === '==' || e.op === '<=')) return { x: l, nonEmptyWhenTrue: false };
    if (n === 1 && e.op === '>=') return { x: l, nonEmptyWhenTrue: true };
    if (n === 1 && e.op === '<') return { x: l, nonEmptyWhenTrue: false };
    return undefined;
  }
  const r = lenArg(e.y);
  if (r && num(e.x) === 0) {
    if (e.op === '<' || e.op === '!=') return { x: r, nonEmptyWhenTrue: true };
    if (e.op === '==' || e.op === '>=') return { x: r, nonEmptyWhenTrue: false };
  }
  return undefined;
}

/** The fact that local v is positive (true) or zero or negative (false). */
const signKey = (v: number) => `v${v},#>0`;

/** `x > 0`, `x <= 0` and their mirrors, for a local x: the variable, and whether the test holds when x > 0. */
function signTest(e: Expr): { v: number; positive: boolean } | undefined {
  if (e.k !== 'binary') return undefined;
  const x = unparen(e.x);
  const y = unparen(e.y);
  const zero = (z: Expr) => z.k === 'lit' && parseGoInt(z.value) === 0;
  const local = (z: Expr) => z.k === 'ident' && z.v >= 0;
  if (local(x) && zero(y) && (e.op === '>' || e.op === '<=')) return { v: (x as { v: number }).v, positive: e.op === '>' };
  if (zero(x) && local(y) && (e.op === '<' || e.op === '>=')) return { v: (y as { v: number }).v, positive: e.op === '<' };
  return undefined;
}

/** A condition whose value is known: only its side is feasible. */
const decided = (holds: boolean): CondResult => (holds ? { t: undefined, f: false } : { t: false, f: undefined });

interface CondResult {
  /** false: infeasible; undefined: feasible, nothing to refine; function: refines the state. */
  t: false | undefined | ((s: State) => void);
  f: false | undefined | ((s: State) => void);
}

const BUILTINS = new Set(['new', 'make', 'append', 'len', 'cap', 'copy', 'delete', 'panic', 'recover', 'print', 'println', 'close', 'clear', 'min', 'max', 'complex', 'real', 'imag']);


/** Memory the analysis follows for ownership: C allocations and symbolic inputs. */
function isTracked(st: State, v: Val): boolean {
  const id = objId(v);
  const k = id ? st.obj(id)?.kind : undefined;
  return k === 'c' || k === 'sym';
}

/** C memory that is ours to release: live, neither lent by a contract nor handed out by unknown C code. */
function isPinnerType(t: Ty | undefined): boolean {
  return t?.k === 'named' && t.pkg === 'runtime' && t.name === 'Pinner';
}

/** Where the pins of the runtime.Pinner in local variable v are kept. */
function pinsKey(v: number): string {
  return `pins:${varKey(v)}`;
}

const deletesHandles = new WeakMap<object, boolean>();

/** Some code of the package calls Delete (on a cgo.Handle, as far as text tells). */
function packageDeletesHandles(pkg: FuncInfo['pkg']): boolean {
  let r = deletesHandles.get(pkg);
  if (r === undefined) deletesHandles.set(pkg, (r = pkg.files.some((f) => /\.Delete\(\)/.test(f.go.text))));
  return r;
}

function owned(o: Obj): boolean {
  return o.kind === 'c' && o.state === 'live' && !o.borrowed && !o.foreign && !o.empty;
}
