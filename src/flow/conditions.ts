// Conditions: which sides of a branch are feasible and what each side
// learns (a pointer is nil or not, a status is success or failure, a slice
// has elements, a number's sign), kept as facts so that correlated branches
// agree along a path.
import { parseGoInt } from '../syntax/golit.js';
import { cgoName, stripConversions, unparen } from '../syntax/exprs.js';
import { BLANK_VAR, NO_VAR, type Expr } from '../syntax/goast.js';
import type { Chooser, Frame } from './base.js';
import { Expressions } from './expressions.js';
import { FALSE, NIL, NONNIL, TRUE, objId, objVal, statusOutputs, varKey, type State, type StatusOutputs } from './state.js';

export interface CondResult {
  /** false: infeasible; undefined: feasible, nothing to refine; function: refines the state. */
  t: false | undefined | ((s: State) => void);
  f: false | undefined | ((s: State) => void);
}

export abstract class Conditions extends Expressions {
  protected abstract withChoices(pre: State, run: (st: State, ch: Chooser) => void): State[];

  /** The states in which `cond` is true and false (infeasible sides left out). */
  protected branch(cond: Expr, pre: State, frame: Frame): [State, boolean][] {
    const out: [State, boolean][] = [];
    const results = new Map<State, CondResult>();
    const states = this.withChoices(pre, (st, ch) => results.set(st, this.evalCond(cond, st, ch, frame)));
    for (const st of states) {
      if (st.dead) continue;
      const r = results.get(st)!;
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

  /** A branch taken while C memory is live explains the path a finding about it follows. */
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
        const o = !nonEmpty && id ? s.obj(id) : undefined;
        if (o?.kind === 'c' && o.state === 'live') for (const h of this.hooks) h.onKnownEmpty?.(s, id!, o);
      };
      return { t: learn(lt.nonEmptyWhenTrue), f: learn(!lt.nonEmptyWhenTrue) };
    }
    if (e.k === 'binary' && (e.op === '==' || e.op === '!=')) {
      const status = this.isSuccessCode(e.y) ? e.x : this.isSuccessCode(e.x) ? e.y : undefined;
      if (status) {
        const v = this.eval(status, st, ch, frame);
        const outputs = statusOutputs(v);
        const r: CondResult = outputs
          ? this.statusCond(outputs)
          : this.factCond(e, st);
        return e.op === '==' || !outputs ? r : { t: r.f, f: r.t };
      }
    }
    // A status equal to an error code (C.SQLITE_BUSY, -7, git2go's C.int(ErrorCodeUser)) is a failure; unequal tells nothing.
    if (e.k === 'binary' && (e.op === '==' || e.op === '!=')) {
      const status = this.isFailureCode(e.y) ? e.x : this.isFailureCode(e.x) ? e.y : undefined;
      if (status) {
        const outputs = statusOutputs(this.eval(status, st, ch, frame));
        if (outputs) {
          const failure = this.statusCond(outputs).f;
          return e.op === '==' ? { t: failure, f: undefined } : { t: undefined, f: failure };
        }
        // Evaluated once: only a local variable may be read again below.
        const x = unparen(status);
        if (x.k !== 'ident' || x.v < 0) return this.factCond(e, st);
      }
    }
    // A status compared with 0 by sign (libgit2's `if err < 0`): negative is failure.
    if (e.k === 'binary' && (e.op === '<' || e.op === '>=') && isZeroLiteral(e.y)) {
      const outputs = statusOutputs(this.eval(e.x, st, ch, frame));
      if (outputs) {
        const r = this.statusCond(outputs);
        return e.op === '>=' ? r : { t: r.f, f: r.t };
      }
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

  /**
   * A status compared with success: on success the outputs of failure are nil; on failure the
   * outputs of success are nil, and what the call released only on success is live again.
   */
  private statusCond(outputs: StatusOutputs): CondResult {
    return {
      t: (s) => outputs.onFailure.forEach((id) => s.obj(id) && this.becomesNil(s, id)),
      f: (s) => {
        outputs.onSuccess.forEach((id) => s.obj(id) && this.becomesNil(s, id));
        for (const id of outputs.keptOnFailure) if (s.obj(id)?.state === 'freed') s.updateObj(id, { state: 'live', freed: undefined });
      },
    };
  }

  /** A condition already evaluated: what is known of it, and what each side learns. */
  private factCond(e: Expr, st: State): CondResult {
    const fact = this.factKey(e);
    if (fact && st.facts.has(fact)) return decided(st.facts.get(fact)!);
    return { t: fact ? (s) => s.facts.set(fact, true) : undefined, f: fact ? (s) => s.facts.set(fact, false) : undefined };
  }

  /** 0, or a C constant named like a success code (SQLITE_OK, Z_OK), or a package-level Go constant (git2go's ErrorCodeOK). */
  private isSuccessCode(x: Expr): boolean {
    const e = stripConversions(x);
    if (e.k === 'lit') return parseGoInt(e.value) === 0;
    if (e.k === 'ident' && e.v === NO_VAR) return /(^|_)OK$|[a-z]OK$/.test(e.name) && !!this.pkg.globals.get(e.name)?.decl.isConst;
    const name = cgoName(e);
    return name !== undefined && SUCCESS_NAME.test(name);
  }

  /**
   * A constant that names a failure: a negative literal, or a C constant or a package-level Go
   * constant not named like success (…OK, …Ok, …SUCCESS). Positive literals are left out: for some
   * libraries a positive status is a success.
   */
  private isFailureCode(x: Expr): boolean {
    const e = stripConversions(x);
    if (e.k === 'unary' && e.op === '-') {
      const n = stripConversions(e.x);
      return n.k === 'lit' && (parseGoInt(n.value) ?? 0) > 0;
    }
    const name = cgoName(e) ?? (e.k === 'ident' && e.v === NO_VAR && this.pkg.globals.get(e.name)?.decl.isConst ? e.name : undefined);
    return name !== undefined && !SUCCESS_NAME.test(name) && !/(OK|Ok|SUCCESS|Success)$/.test(name);
  }

  /** `x == nil`: true side and false side. */
  private nilTest(x: Expr, st: State, ch: Chooser, frame: Frame): CondResult {
    const v = this.eval(x, st, ch, frame);
    if (v === NIL) return decided(true);
    const outputs = statusOutputs(v);
    // A cgo errno result: nil on success.
    if (outputs) {
      return this.statusCond(outputs);
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
  protected becomesNil(st: State, id: string): void {
    const o = st.obj(id);
    for (const [k, v] of st.env) if (v === objVal(id)) st.env.set(k, NIL);
    // Deferred calls are shared with the states this one was cloned from: copied, not changed in place.
    const v = objVal(id);
    st.defers = st.defers.map((d) => (d.args.includes(v) || d.recv === v ? { ...d, args: d.args.map((a) => (a === v ? NIL : a)), recv: d.recv === v ? NIL : d.recv } : d));
    st.objs.delete(id);
    for (const h of this.hooks) h.onNil?.(st, id, o);
  }

  /** A key for a side-effect-free condition over local variables, so correlated branches agree. */
  protected factKey(e: Expr): string | undefined {
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

  /**
   * Whether a range over x enters its body at least once: x is a C
   * allocation's own elements (an empty allocation is not worth a report, and
   * skipping the loop would leave every pointer it stores unseen), or a
   * condition that held says len(x) > 0.
   */
  protected rangesAtLeastOnce(x: Expr, st: State): boolean {
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
  protected noteSum(l: Expr, r: Expr, st: State): void {
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

function isZeroLiteral(x: Expr): boolean {
  const e = stripConversions(x);
  return e.k === 'lit' && parseGoInt(e.value) === 0;
}

/** C constants of success: SQLITE_OK, Z_OK, RD_KAFKA_RESP_ERR_NO_ERROR, ERROR_SUCCESS (YARA), DuckDBSuccess. */
const SUCCESS_NAME = /(^|_)(OK|NO_?ERROR|SUCCESS)$|Success$/;

