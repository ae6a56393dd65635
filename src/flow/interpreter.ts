// The interpreter: walks a function's CFG over abstract states, path by path
// (states are deduplicated per block), running deferred calls at each return,
// and at each normal exit records a summary case for callers. It knows no
// rule: the domain modules registered with it give the states their meaning
// and report findings (see hooks.ts).
import type { FuncInfo } from '../model/program.js';
import type { Resolver } from '../model/resolve.js';
import { resolveCType } from '../model/ctypes.js';
import { mayHoldPointer, type Ty } from '../model/types.js';
import { unparen } from '../syntax/exprs.js';
import { NO_VAR, type Expr, type FuncIR } from '../syntax/goast.js';
import { BudgetExceeded, DEFAULT_BUDGET, Chooser, type Budget, type Frame, type FunctionResult, type SummaryLookup } from './base.js';
import { Calls } from './calls.js';
import { mayFork, type Instr } from './cfg.js';
import type { DomainHooks, DomainModule } from './hooks.js';
import {
  FALSE,
  HEAP_STRING,
  NIL,
  NONNIL,
  State,
  TRUE,
  UNKNOWN_VAL,
  joinStates,
  objId,
  objVal,
  reachable,
  varKey,
  withoutLocals,
  type DeferRec,
  type Obj,
  type Val,
} from './state.js';
import { caseKey, limitCases, mergeNeeds, type Effect, type GoField, type ResultAbs, type SummaryCase } from './summary.js';

export class Interpreter extends Calls {
  /** The symbolic objects standing for the receiver and parameters. */
  private readonly inputIds = new Set<string>();
  /** Inputs passed by value (a struct or array parameter, a value receiver): what is stored in them stays in the copy. */
  private readonly valueInputs = new Set<string>();

  constructor(info: FuncInfo, resolver: Resolver, summaries: SummaryLookup, modules: readonly DomainModule[], budget: Budget = DEFAULT_BUDGET, pathSensitive = true) {
    super(info, resolver, summaries, modules, budget, pathSensitive);
  }

  run(): FunctionResult {
    const ir = this.info.decl.ir;
    const sig = this.resolver.funcSignature(this.info);
    try {
      const st = this.entryState(ir);
      this.runFrame({ fn: ir, depth: 0 }, st, (exit, pos) => this.topExit(exit, pos));
    } catch (e) {
      if (e instanceof BudgetExceeded) return { reports: [], status: 'aborted' };
      throw e;
    }
    const cases = limitCases([...this.cases.values()]);
    return {
      reports: this.allReports(),
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
    if (t.k !== 'unknown' && !mayHoldPointer(t) && !this.isCPointerType(t)) {
      st.assign(varKey(v), UNKNOWN_VAL);
      return;
    }
    st.setObj(id, { kind: 'sym', state: 'live', what: origin, site: -1, nullable: true, steps: [], origin });
    st.env.set(varKey(v), objVal(id));
    this.inputIds.add(id);
    if (this.isStructVar(v)) this.valueInputs.add(id);
  }

  /** A C typedef of a pointer (DuckDB's `duckdb_config`): a handle the function may release, like a `*C.T`. */
  private isCPointerType(t: Ty): boolean {
    if (t.k !== 'c') return false;
    const ct = this.info.pkg.cType(t.name);
    return !!ct && resolveCType(ct, this.info.pkg.c).k === 'ptr';
  }

  // ---------------------------------------------------------------- driver

  /**
   * Explores a frame's CFG from `start`. `onExit` receives each state that
   * returns normally (after the frame's deferred calls ran).
   */
  protected runFrame(frame: Frame, start: State, onExit: (st: State, pos: number) => void): void {
    const cfg = this.cfg(frame.fn);
    const seen = new Map<number, Set<string>>();
    const queue: [number, State][] = [];
    // Without path sensitivity: one joined state per block, iterated to a fixpoint.
    const joined = new Map<number, State>();
    const push = (block: number, st: State) => {
      if (!this.pathSensitive) {
        const old = joined.get(block);
        const next = old ? joinStates(old, st) : st;
        if (old && next.key(this.facetKey) === old.key(this.facetKey)) return;
        joined.set(block, next);
        if (!queue.some(([b]) => b === block)) queue.push([block, next]);
        return;
      }
      let s = seen.get(block);
      if (!s) seen.set(block, (s = new Set()));
      const key = st.key(this.facetKey);
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

  protected withChoices(pre: State, run: (st: State, ch: Chooser) => void): State[] {
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

  /** Drops states equal to an earlier one, and keeps at most the per-block limit. */
  private distinct(states: State[]): State[] {
    const seen = new Set<string>();
    const out: State[] = [];
    for (const st of states) {
      const k = `${st.dead}${st.key(this.facetKey)}`;
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
      case 'incdec': {
        this.eval(instr.x, st, ch, frame);
        // i++ changes what conditions over i said (the loop's `i < n` may now be false).
        const root = this.rootOf(instr.x);
        if (root.k === 'ident' && root.v >= 0) this.dropFacts(st, root.v);
        break;
      }
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
    if (f.k === 'sel' && f.x.k === 'ident' && f.x.v === NO_VAR && f.x.name === 'C' && !this.info.file.imports.has('C')) rec.captured = this.captureOperands(call, rec.args, st);
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
            for (const h of this.hooks) h.beforeDeferredCall?.(rec, s2);
            this.applyCall(rec.call, s2, ch, frame, 1, rec, rec.pos);
            if (frame.depth === 0 && !s2.dead) this.collect(s2, retPos);
          }),
        );
      }
      states = this.distinct(next.filter((s) => !s.dead));
    }
    return states;
  }

  // ---------------------------------------------------------------- exits

  /** A normal return of the analysed function: losses, the modules' checks, then a summary case. */
  private topExit(st: State, pos: number): void {
    const ir = this.info.decl.ir;
    const results = ir.results.map((v) => st.env.get(varKey(v)) ?? UNKNOWN_VAL);
    const inputs: Val[] = [];
    // A struct passed by value (a value receiver) is the function's own copy: what is stored in it dies with it.
    for (const [id, o] of st.objs) if (o.kind === 'sym' && o.origin && !this.valueInputs.has(id)) inputs.push(objVal(id));
    const keep = reachable(withoutLocals(st), [...results, ...inputs], st);
    // Returning from main ends the process: what is still allocated then is not lost.
    const exitsProcess = this.info.pkg.name === 'main' && this.info.key.endsWith('.main') && !this.info.recvType;
    for (const [id, o] of st.objs) {
      if (exitsProcess || !this.owned(o) || keep.has(id)) continue;
      this.lost(st, id, o, 'return', pos);
    }
    for (const h of this.hooks) h.atExit?.(st, results, pos);
    this.recordCase(st, results);
  }

  private recordCase(st: State, results: Val[]): void {
    const effects: Effect[] = [];
    /** Memory stored in a field of an input, by object: the caller finds it there. */
    const storedAt = new Map<string, string>();
    // Inputs the results hold (`return &T{c: c}`): the caller's result has them now.
    const held = reachable(withoutLocals(st), results.filter((v) => !objId(v) || st.obj(objId(v)!)?.kind !== 'sym'), st);
    // Inputs stored in a field of another input (`chunk.data = data`): the caller finds them there.
    for (const [k, v] of st.env) {
      const bar = k.indexOf('|');
      const fid = bar > 0 ? objId(v) : undefined;
      const fo = fid ? st.obj(fid) : undefined;
      const owner = bar > 0 && !this.valueInputs.has(k.slice(0, bar)) ? st.obj(k.slice(0, bar)) : undefined;
      if (fo?.kind === 'sym' && fo.state === 'live' && owner?.kind === 'sym' && owner.origin && fo.origin !== `${owner.origin}.${k.slice(bar + 1)}`) held.add(fid!);
    }
    for (const [id, o] of st.objs) {
      if (o.kind !== 'sym' || !o.origin) continue;
      const path = o.origin;
      const said = this.summarized((h) => h.summarizeInput?.(st, id, o, path));
      if (said) effects.push(said);
      else if (o.state === 'moved' || (o.state === 'live' && held.has(id))) effects.push({ k: 'moved', path });
      else if (o.used) effects.push({ k: 'used', path, how: 'used', steps: [] });
      // Fields of inputs written by the function (not those of its own copies: the caller's value is untouched).
      if (this.valueInputs.has(id)) continue;
      for (const [k, v] of st.env) {
        if (!k.startsWith(`${id}|`)) continue;
        const field = k.slice(id.length + 1);
        const fid = objId(v);
        const fo = fid ? st.obj(fid) : undefined;
        if (fo?.kind === 'sym' && fo.origin === `${path}.${field}`) continue;
        const stored = fo ? this.summarized((h) => h.summarizeField?.(st, fid!, fo, `${path}.${field}`)) : undefined;
        if (v === NIL) effects.push({ k: 'set', path: `${path}.${field}`, value: 'nil' });
        else if (stored) {
          effects.push(stored);
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
    const c: SummaryCase = { results: resAbs, effects, needs: this.inputNeeds(st) };
    const key = caseKey(c);
    const same = this.cases.get(key);
    this.cases.set(key, same ? { ...c, needs: mergeNeeds(same.needs, c.needs) } : c);
  }

  /** The receiver and parameters this path found nil (their object is gone) or not nil. */
  private inputNeeds(st: State): SummaryCase['needs'] {
    const needs: NonNullable<SummaryCase['needs']> = [];
    const inputs: [string, string][] = [['R', 'r'], ...this.info.decl.ir.params.map((_, i): [string, string] => [`P${i}`, `p${i}`])];
    for (const [id, path] of inputs) {
      if (!this.inputIds.has(id)) continue;
      const o = st.obj(id);
      if (!o) needs.push({ path, nil: true });
      else if (!o.nullable) needs.push({ path, nil: false });
    }
    return needs.length ? needs : undefined;
  }

  /** The first thing a module says. */
  private summarized<T>(ask: (h: DomainHooks) => T | undefined): T | undefined {
    for (const h of this.hooks) {
      const r = ask(h);
      if (r !== undefined) return r;
    }
    return undefined;
  }

  /** The fields of returned Go memory that hold a Go pointer here (named fields only, one level). */
  private goFields(st: State, id: string, o: Obj): GoField[] | undefined {
    if (o.noPointers || o.inline || o.opaque) return undefined;
    const fields: GoField[] = [];
    const prefix = `${id}|`;
    for (const [k, v] of st.env) {
      const name = k.slice(prefix.length);
      if (!k.startsWith(prefix) || name.startsWith('#') || name.includes('|')) continue;
      if (this.gmem.isScalar(this.gmem.fieldType(o.goType, name))) continue;
      if (v === HEAP_STRING) fields.push({ name, what: 'string' });
      else if (v.startsWith('a:')) fields.push({ name, what: 'variable' });
      else {
        const f = st.obj(objId(v) ?? '');
        if (f?.kind === 'go' && !f.global && !f.pinnedBy && !f.inline) fields.push({ name, what: f.what, goType: f.goType });
      }
    }
    return fields.length ? fields.sort((a, b) => (a.name < b.name ? -1 : 1)) : undefined;
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
    if (o.kind === 'go') return o.global || o.pinnedBy ? { k: 'nonnil' } : { k: 'go', goType: o.goType, noPointers: o.noPointers, bytes: o.bytes, fields: this.goFields(st, id!, o) };
    if (o.kind === 'sym' && o.origin && o.state !== 'freed') return { k: 'param', path: o.origin };
    return this.summarized((h) => h.summarizeResult?.(st, id!, o)) ?? { k: 'unknown' };
  }
}
