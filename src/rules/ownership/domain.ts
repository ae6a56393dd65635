// C ownership and lifetime: what C functions allocate, release, take and lend,
// and the findings about memory that is lost, released twice, used after it
// was released, released by the wrong function, or released although C did
// not allocate it. Resources with the same lifecycle (a cgo.Handle, a
// Pinner's pins) are kept here too, worded by the module that declares them.
import { isErrorTypeName, looksLikeReleaser } from '../../model/cnames.js';
import { resolveCType, type CType } from '../../model/ctypes.js';
import { stripConversions, unparen } from '../../syntax/exprs.js';
import { decodeGoString } from '../../syntax/golit.js';
import { NO_VAR, type Expr } from '../../syntax/goast.js';
import type { CCall, CallExpr, DomainModule, Engine, Loss, Report, ResourceKind, SummaryCall, SummaryTarget } from '../../flow/hooks.js';
import type { Contract } from '../../model/contracts.js';
import type { Effect, ResultAbs } from '../../flow/summary.js';
import { NIL, UNKNOWN_VAL, fieldKey, objId, objVal, reachable, statusVal, varKey, type DeferRec, type Obj, type State, type StatusOutputs, type Step, type Val } from '../../flow/state.js';
import { CONFIDENCE_RANK, cName, type Confidence } from '../rule.js';
import { OWNERSHIP, type NewObject, type Ownership, type ReleaseSite } from './api.js';
import { doubleFree } from './double-free.js';
import { freeBorrowed } from './free-borrowed.js';
import { freeNonHeap } from './free-nonheap.js';
import { leak } from './leak.js';
import { mismatchedFree } from './mismatched-free.js';
import { useAfterFree } from './use-after-free.js';

export const ownership: DomainModule = {
  id: OWNERSHIP,
  rules: [leak.meta, doubleFree.meta, useAfterFree.meta, freeNonHeap.meta, mismatchedFree.meta, freeBorrowed.meta],
  create: (engine) => new OwnershipDomain(engine),
};

class OwnershipDomain implements Ownership {
  readonly provides: Ownership = this;
  /** A call's outputs that exist only when it succeeds, or only when it fails, and the arguments it releases only on success. */
  private readonly outputs = new WeakMap<CCall, StatusOutputs>();
  /** The outputs a call wrote (those that are errors are marked errorOutput). */
  private readonly written = new WeakMap<CCall, string[]>();

  constructor(private readonly x: Engine) {}

  owns(o: Obj): boolean {
    return o.kind === 'c' && o.state === 'live' && !o.borrowed && !o.foreign && !o.empty;
  }

  newObject(st: State, pos: number, end: number, what: string, opts: NewObject): Val {
    const id = this.x.allocId(st, `c${pos}`);
    if (!id) return UNKNOWN_VAL;
    st.setObj(id, {
      kind: 'c',
      state: 'live',
      what,
      site: pos,
      siteEnd: end,
      nullable: opts.nullable,
      releasedBy: opts.releasedBy,
      steps: opts.steps ?? [this.x.step(pos, `${what} allocates C memory here`)],
      traceAt: st.trace.length,
      bytes: opts.bytes,
      resource: opts.resource,
      ...(opts.guess ? { guess: opts.guess } : {}),
      ...(opts.nullWhenSet ? { nullWhenSet: opts.nullWhenSet } : {}),
    });
    return objVal(id);
  }

  /** Memory the callee only lends (by `owner`, when known: it goes when the owner is released): the caller must not free it. */
  private borrowed(st: State, pos: number, what: string, why: string, owner?: string, guess?: Contract['confidence']): Val {
    const id = this.x.allocId(st, `b${pos}`);
    if (!id) return UNKNOWN_VAL;
    st.setObj(id, { kind: 'c', state: 'live', what, site: pos, nullable: true, releasedBy: [], steps: [this.x.step(pos, `${what} ${why}`)], borrowed: true, borrowedFrom: owner, ...(guess ? { guess } : {}) });
    return objVal(id);
  }

  /** A finding about object `o`: no surer than the facts it rests on. */
  private report(key: string, f: Report, o: Obj | undefined): void {
    this.x.report(key, o?.guess ? { ...f, confidence: lessSure(f.confidence ?? 'high', o.guess) } : f);
  }

  /** What an object made by a contract carries: the contract's confidence, and where an inferred one came from. */
  private madeBy(cc: CCall, contract: Contract, releasedBy: string[], pos = cc.pos): Pick<NewObject, 'guess' | 'steps'> {
    if (!contract.evidence) return {};
    const what = `C.${cc.name}`;
    const steps = [this.x.step(pos, `${what} allocates C memory here`), this.x.step(pos, `${what}: released by ${releasedBy.join(' or ')}, ${contract.origin} (${contract.evidence})`)];
    return { steps, ...(contract.confidence ? { guess: contract.confidence } : {}) };
  }

  /** The object a value is, giving an unknown pointer held in a variable an identity. */
  private identity(st: State, v: Val, loc: Expr | undefined): string | undefined {
    const id = objId(v);
    if (id || !loc) return id;
    const x = stripConversions(loc);
    return x.k === 'ident' && x.v >= 0 && (st.env.get(varKey(x.v)) ?? UNKNOWN_VAL) === v ? this.x.materialize(st, varKey(x.v), `U${x.v}`) : undefined;
  }

  /** A pointer from a C function that does not say who owns it: C memory, never ours to free. */
  private foreign(st: State, pos: number, what: string): Val {
    const id = this.x.allocId(st, `f${pos}`);
    if (!id) return UNKNOWN_VAL;
    st.setObj(id, { kind: 'c', state: 'live', what, site: -1, nullable: true, releasedBy: [], steps: [], foreign: true });
    return objVal(id);
  }

  /** The resource an object is, when it is not C memory (C memory has the leak, double-free and use-after-free rules). */
  private resourceOf(o: Obj): ResourceKind | undefined {
    return o.resource ? this.x.resource(o.resource) : undefined;
  }

  // ---------------------------------------------------------------- cgo's allocators

  cgoBuiltin(name: string, e: CallExpr, args: Val[], st: State, pos: number): Val[] | undefined {
    switch (name) {
      case 'CString':
      case 'CBytes':
      case 'malloc': {
        // cgo's own allocators never return nil: they crash on exhaustion.
        const lit = name === 'CString' && e.args[0]?.k === 'lit' ? decodeGoString(e.args[0].value) : undefined;
        const bytes = name === 'malloc' ? this.x.pkg.constInt(e.args[0]) : lit ? lit.bytes + 1 : undefined;
        return [this.newObject(st, pos, e.end, `C.${name}`, { nullable: false, releasedBy: ['free'], bytes })];
      }
      case 'realloc':
        return [this.realloc(e, args[0] ?? UNKNOWN_VAL, st, pos)];
    }
    return undefined;
  }

  private realloc(e: CallExpr, old: Val, st: State, pos: number): Val {
    const id = objId(old);
    const o = id ? st.obj(id) : undefined;
    if (o && (o.state === 'freed' || o.state === 'consumed')) {
      this.useAfterFree(o, 'passed to C.realloc', this.x.argName(e, 0), pos, e.end);
      return UNKNOWN_VAL;
    }
    if (o && o.kind === 'go') {
      this.freeNonHeap('realloc', this.x.argName(e, 0), pos, e.end, describeGo(o));
      return UNKNOWN_VAL;
    }
    const val = this.newObject(st, pos, e.end, 'C.realloc', { nullable: true, releasedBy: ['free'] });
    const nid = objId(val);
    if (id && o && nid && (o.kind === 'c' || o.kind === 'sym')) {
      st.setObj(id, { ...o, state: 'consumed', freed: { pos, by: 'realloc', steps: [this.x.step(pos, `C.realloc releases the old block of ${this.x.nameOf(e.args[0])}`)] } });
      st.updateObj(nid, { revive: id });
    }
    return val;
  }

  /** Where a result is nil, what the call released only on success (C.realloc's old block, rd_kafka_new's conf) is still there, and still needs freeing. */
  onNil(st: State, _id: string, o: Obj | undefined): void {
    if (!o?.revive) return;
    const old = st.obj(o.revive);
    if (!old || (old.state !== 'consumed' && old.state !== 'freed')) return;
    st.setObj(o.revive, { ...old, state: 'live', freed: undefined });
    if (old.freed?.by !== 'realloc' || reachable(st).has(o.revive)) return;
    const at = old.freed.pos;
    this.x.report(`leak:realloc:${at}`, {
      rule: leak.meta,
      message: leak.message({ how: 'realloc-failed', what: old.what, atLine: this.x.line(at) }),
      pos: at,
      end: o.siteEnd ?? at,
      trace: [...old.steps, this.x.step(at, 'the C.realloc result replaces the only pointer to the old block'), ...st.trace.slice(o.traceAt ?? 0).slice(-3)],
    });
    st.objs.delete(o.revive);
  }

  onKnownEmpty(st: State, id: string, o: Obj): void {
    st.setObj(id, { ...o, empty: true });
  }

  // ---------------------------------------------------------------- C calls

  /** Memory handed over with a destructor must be memory that destructor may release. */
  beforeCCall(cc: CCall, st: State): void {
    for (const { param, destructor } of cc.effects.destructors) {
      const id = objId(cc.args[param] ?? NIL);
      const o = id ? st.obj(id) : undefined;
      const releasedBy = o?.releasedBy ?? [];
      if (!o || o.kind !== 'c' || !releasedBy.length || releasedBy.includes(destructor)) continue;
      const name = this.x.argName(cc.e, param);
      const e = cc.e;
      this.report(`mismatched-free:${cc.pos}:${param}`, {
        rule: mismatchedFree.meta,
        message: mismatchedFree.message({ name, what: o.what, by: destructor, expected: releasedBy, via: `C.${destructor} (the destructor given to ${this.x.src(e.fun)})` }),
        pos: e.args[param]?.pos ?? cc.pos,
        end: e.args[param]?.end ?? e.end,
        trace: [...o.steps, this.x.step(cc.pos, `${this.x.src(e.fun)} will release ${name} with C.${destructor}`)],
      }, o);
    }
  }

  transferArg(cc: CCall, i: number, st: State): boolean {
    const v = cc.targets[i];
    if (cc.effects.released.has(i)) {
      // A contract names the releaser itself; a preamble body frees with what it calls (libc's free by default).
      const by = cc.contract?.releases.length ? cc.name : (cc.cfn?.freedBy?.get(i) ?? 'free');
      const id = this.release(st, v, { by, name: this.x.argName(cc.e, i), loc: cc.e.args[i], pos: cc.pos, end: cc.e.end });
      // Released only when the call succeeds: on failure it is still the caller's.
      if (id && cc.contract?.releasesOnSuccess.includes(i)) this.keptOnFailure(cc).push(id);
      return true;
    }
    if (cc.effects.moved.has(i)) {
      // A contract's `takes`, or a destructor given with it: the callee releases it from now on.
      const taken = cc.contract?.takes.includes(i) || cc.effects.destructors.some((d) => d.param === i);
      if (!taken || !this.take(st, v, cc, i)) this.x.escape(st, v);
      return true;
    }
    if (cc.effects.releasedThrough.has(i)) this.releaseThrough(cc, i, st);
    return false;
  }

  /**
   * Memory the program owned, handed to a function that takes it over: it is
   * consumed, so a later free is a double free and a later use a use after
   * free. Memory already released is used after free. False for anything else.
   */
  private take(st: State, v: Val, cc: CCall, i: number): boolean {
    const id = objId(v);
    const o = id ? st.obj(id) : undefined;
    if (!o || o.kind !== 'c') return false;
    const name = this.x.argName(cc.e, i);
    const pos = cc.e.args[i]?.pos ?? cc.pos;
    const end = cc.e.args[i]?.end ?? cc.e.end;
    if (o.state === 'freed' || o.state === 'consumed') {
      this.useAfterFree(o, `handed to C.${cc.name}, which takes it over,`, name, pos, end);
      return true;
    }
    if (!this.owns(o)) return false;
    const how = cc.contract?.takes.includes(i) ? `contract at ${cc.contract.origin}` : `with C.${cc.effects.destructors.find((d) => d.param === i)!.destructor} as its destructor`;
    st.setObj(id!, { ...o, state: 'consumed', taken: true, freed: { pos: cc.pos, by: cc.name, steps: [this.x.step(cc.pos, `C.${cc.name} takes ${name} over here (${how}): it releases it`)] } });
    return true;
  }

  /**
   * `releases *P`: what the pointer P points to holds is released. With `&x` that is x's value (x becomes
   * NULL after the call: see afterCCall); through anything else (`&s.f`, a `**T` copy) the memory leaves
   * our view, as with a callee that takes it. The argument itself is then passed as usual: C writes through it.
   */
  private releaseThrough(cc: CCall, i: number, st: State): void {
    const target = cc.targets[i];
    const arg = cc.e.args[i] ? stripConversions(cc.e.args[i]) : undefined;
    const operand = arg?.k === 'unary' && arg.op === '&' ? arg.x : undefined;
    if (!target.startsWith('a:v')) {
      if (operand) this.x.escape(st, this.x.peek(operand, st), false);
      return;
    }
    const key = target.slice(2);
    // Evaluated as an expression: a parameter gets its input symbol, so that a helper releasing its argument says so in its summary.
    const held = operand ? this.x.peek(operand, st) : (st.env.get(key) ?? UNKNOWN_VAL);
    this.release(st, held, { by: cc.name, name: this.x.varName(key), loc: operand, pos: cc.pos, end: cc.e.end });
  }

  /** `writes owned to P`: *P receives memory to release (only on success, or only on failure, when the contract says so). */
  private keptOnFailure(cc: CCall): string[] {
    let out = this.outputs.get(cc);
    if (!out) this.outputs.set(cc, (out = { onSuccess: [], onFailure: [], keptOnFailure: [] }));
    return out.keptOnFailure;
  }

  afterCCall(cc: CCall, st: State): void {
    const onSuccess: string[] = [];
    const onFailure: string[] = [];
    const written: string[] = [];
    for (const w of cc.contract?.writesOwned ?? []) {
      const target = cc.args[w.param];
      if (!target?.startsWith('a:v')) continue;
      // Sited at the argument, so that it is told apart from the result.
      const arg = cc.e.args[w.param];
      const val = this.newObject(st, arg?.pos ?? cc.pos, arg?.end ?? cc.e.end, `C.${cc.name}`, { nullable: true, releasedBy: w.releasedBy, ...this.madeBy(cc, cc.contract!, w.releasedBy, arg?.pos) });
      st.assign(varKey(Number(target.slice(3))), val);
      const id = objId(val);
      if (id) written.push(id);
      if (id && ERROR_OUTPUT.test(cc.contract?.params?.[w.param] ?? '')) st.updateObj(id, { errorOutput: true });
      if (id && w.when === 'success') onSuccess.push(id);
      if (id && w.when === 'failure') onFailure.push(id);
    }
    this.outputs.set(cc, { onSuccess, onFailure, keptOnFailure: this.outputs.get(cc)?.keptOnFailure ?? [] });
    this.written.set(cc, written);
    // `releases *P` with `&x`: the callee leaves x NULL.
    for (const i of cc.effects.releasedThrough) if (cc.targets[i]?.startsWith('a:v')) st.assign(cc.targets[i].slice(2), NIL);
  }

  cCallResult(cc: CCall, st: State): Val[] | undefined {
    const { contract, cfn, name, pos, e, args } = cc;
    if (contract?.returns?.kind === 'owned') {
      // The error outputs of the same call: when one is set, the result is NULL.
      const errors = (this.written.get(cc) ?? []).filter((id) => st.obj(id)?.errorOutput);
      const val = this.newObject(st, pos, e.end, `C.${name}`, { nullable: true, releasedBy: contract.returns.releasedBy, ...this.madeBy(cc, contract, contract.returns.releasedBy), ...(errors.length ? { nullWhenSet: errors } : {}) });
      if (contract.returns.releasedBy.some((r) => /error/i.test(r))) this.outputsUnsetOnError(cc, val, st);
      this.keptWhenNil(cc, val, st);
      return [val];
    }
    if (contract?.returns?.kind === 'borrowed') {
      const from = contract.returns.from;
      const owner = from === undefined ? undefined : this.identity(st, args[from] ?? UNKNOWN_VAL, e.args[from]);
      const ownerName = from === undefined ? '' : ` from ${this.x.argName(e, from)}`;
      const why = contract.evidence ? `${contract.origin}: ${contract.evidence}` : contract.origin;
      return [this.borrowed(st, pos, `C.${name}`, `lends this memory${ownerName} (${why})`, owner, contract.confidence)];
    }
    if (!contract?.returns && cfn?.returnsArg !== undefined && args[cfn.returnsArg]) return [args[cfn.returnsArg]];
    if (!contract?.returns && cfn?.returns === 'static') return [this.borrowed(st, pos, `C.${name}`, 'returns static memory (a literal or a global)')];
    if (!contract?.returns && cfn?.returns === 'owned') return [this.newObject(st, pos, e.end, `C.${name}`, { nullable: true, releasedBy: cfn.releasedBy ?? ['free'] })];
    if (cfn && resolveCType(cfn.ret, this.x.pkg.c).k === 'ptr') {
      const val = this.foreign(st, pos, `C.${name}`);
      if (returnsErrorObject(cfn.ret)) this.outputsUnsetOnError(cc, val, st);
      else this.keptWhenNil(cc, val, st);
      return [val];
    }
    // A status whose comparison with success tells which outputs exist.
    const out = this.outputs.get(cc);
    if (out && (out.onSuccess.length || out.onFailure.length || out.keptOnFailure.length)) return [statusVal(out.onSuccess, out.onFailure, out.keptOnFailure)];
    return undefined;
  }

  /** An error object as the result (librdkafka's rd_kafka_error_t *): when there is one, the call's outputs were not set. */
  private outputsUnsetOnError(cc: CCall, result: Val, st: State): void {
    const rid = objId(result);
    if (!rid) return;
    for (const wid of this.written.get(cc) ?? []) {
      const w = st.obj(wid);
      if (w) st.updateObj(wid, { nullWhenSet: [...(w.nullWhenSet ?? []), rid] });
    }
  }

  /** A pointer result tells success (rd_kafka_new releases its conf on success): where it is nil, what was released is the caller's again. */
  private keptWhenNil(cc: CCall, result: Val, st: State): void {
    const kept = this.outputs.get(cc)?.keptOnFailure;
    const rid = objId(result);
    if (rid && kept?.length === 1) st.updateObj(rid, { revive: kept[0] });
  }

  // ---------------------------------------------------------------- releases and uses

  release(st: State, v: Val, r: ReleaseSite): string | undefined {
    if (v === NIL) return undefined;
    const { by, name, pos, end, via } = r;
    if (v.startsWith('a:')) {
      this.freeNonHeap(by, name, pos, end, `Go memory (&${name.replace(/^&/, '')})`, via);
      return undefined;
    }
    // An unknown pointer gets an identity so a second free is caught.
    const id = this.identity(st, v, r.loc);
    if (!id) return undefined;
    const o = st.obj(id);
    if (!o) return undefined;
    if (o.kind === 'go') {
      this.freeNonHeap(by, name, pos, end, describeGo(o), via);
      return undefined;
    }
    const who = via ?? cName(by);
    if (o.borrowed && o.state === 'live') {
      this.report(`free-borrowed:${pos}`, {
        rule: freeBorrowed.meta,
        message: freeBorrowed.message({ name, what: o.what, by: who }),
        pos,
        end,
        trace: [...o.steps, this.x.step(pos, `${who} releases it here`)],
      }, o);
      return;
    }
    const resource = this.resourceOf(o);
    const freedSteps = via
      ? [this.x.step(pos, `${via} frees ${name}`), ...(r.viaSteps ?? [])]
      : [this.x.step(pos, resource?.releasedHere?.(name) ?? `${cName(by)} releases ${name} here`)];
    if (o.state === 'freed' || o.state === 'consumed') {
      const first = o.freed!;
      const d = { name, firstLine: this.x.line(first.pos) };
      const message = resource ? resource.releasedTwice?.(d) : doubleFree.message({ ...d, firstBy: first.by, firstVia: first.via, via, firstTaken: o.taken });
      if (message) {
        this.report(`double-free:${pos}`, {
          rule: resource?.rule ?? doubleFree.meta,
          message,
          pos,
          end,
          trace: [...o.steps, ...first.steps, ...freedSteps.map((s, i) => (i === 0 ? { ...s, message: `${s.message} again` } : s))],
        }, o);
      }
      return;
    }
    const releasedBy = o.releasedBy ?? [];
    const releaser = by ? this.x.pkg.contract(by) : undefined;
    // A constructor that frees an argument (rd_kafka_new and its conf) takes it over: it frees it its own way.
    const maker = releaser?.returns?.kind === 'owned' || !!releaser?.writesOwned.length;
    if (o.kind === 'c' && by && releasedBy.length && !releasedBy.includes(by) && !maker) {
      // A releaser only inferred to release (a library's X_free, paired by its name or named in its doc)
      // is, more often than not, libc's free underneath (duckdb_free, rocksdb_free): a guess at best.
      this.report(`mismatched-free:${pos}`, {
        rule: mismatchedFree.meta,
        message: mismatchedFree.message({ name, what: o.what, by, expected: releasedBy, via }),
        pos,
        end,
        trace: [...o.steps, ...freedSteps, ...(releaser?.evidence ? [this.x.step(pos, `C.${by} releases its argument: ${releaser.origin} (${releaser.evidence})`)] : [])],
        ...(releaser?.evidence ? { confidence: 'low' as const } : {}),
      }, o);
    }
    st.setObj(id, { ...o, state: 'freed', freed: { pos, by, via, steps: freedSteps } });
    // What was borrowed from it goes with it.
    for (const [bid, b] of st.objs) {
      if (b.borrowedFrom !== id || b.state !== 'live') continue;
      const steps = [this.x.step(pos, `${who} releases ${name}, which ${b.what} was borrowed from`)];
      st.setObj(bid, { ...b, state: 'freed', freed: { pos, by, via: `releasing its owner ${name}`, steps } });
    }
    return id;
  }

  private freeNonHeap(by: string, name: string, pos: number, end: number, memory: string, via?: string): void {
    this.x.report(`free-nonheap:${pos}`, {
      rule: freeNonHeap.meta,
      message: freeNonHeap.message({ name, by, memory, via }),
      pos,
      end,
      trace: [this.x.step(pos, `${via ?? cName(by)} releases ${name}, ${memory}, which C did not allocate`)],
    });
  }

  onUse(_st: State, _id: string, o: Obj, how: string, name: string, pos: number, end: number): void {
    if (o.state === 'freed' || o.state === 'consumed') this.useAfterFree(o, how, name, pos, end);
  }

  private useAfterFree(o: Obj, how: string, name: string, pos: number, end: number): void {
    const first = o.freed!;
    const resource = this.resourceOf(o);
    const freedLine = this.x.line(first.pos);
    const message = resource ? resource.usedAfterRelease?.({ name, how, freedLine }) : useAfterFree.message({ name, how, freedLine, freedBy: first.by, freedVia: first.via, taken: o.taken });
    if (!message) return;
    this.report(`use-after-free:${pos}`, {
      rule: resource?.rule ?? useAfterFree.meta,
      message,
      pos,
      end,
      trace: [...o.steps, ...first.steps, this.x.step(pos, `${name} is ${how} here, after the free`)],
    }, o);
  }

  // ---------------------------------------------------------------- losses

  onLost(st: State, _id: string, o: Obj, loss: Loss): boolean {
    if (o.site < 0) return true;
    // The call reported an error (this path knows its error output is set): its result is NULL.
    if (o.nullable && o.nullWhenSet?.some((id) => st.obj(id)?.nullable === false)) return true;
    // A GError is set exactly when the call's result says it failed (GLib's rule), which is what
    // wrappers test: one nothing showed to be set is one the call did not set.
    if (o.errorOutput && o.nullable && o.releasedBy?.includes('g_error_free')) return true;
    const { how, at, name } = loss;
    const resource = this.resourceOf(o);
    const pathSteps = st.trace.slice(o.traceAt ?? 0).slice(-6);
    const final =
      how === 'return'
        ? this.x.step(at, `returns here without ${resource?.releasing ?? 'freeing it'}`)
        : how === 'lost'
          ? this.x.step(at, `${name ?? 'the pointer'} is overwritten here; the previous allocation is lost`)
          : how === 'scope'
            ? this.x.step(at, `the next iteration declares a new ${name ?? 'variable'}; the previous one is gone`)
            : this.x.step(at, 'the pointer is not kept: nothing can free it');
    const atLine = this.x.line(at);
    const releasedBy = o.releasedBy ?? [];
    // Held in a struct that was given to C: C may have kept it.
    // An error output nothing on this path showed to be set: the call may well have succeeded.
    const unsure = o.lentTo
      ? `unless ${o.lentTo}, which was given the struct holding it, keeps it`
      : o.errorOutput && o.nullable
        ? 'if the call failed (nothing on this path tests whether it set the error)'
        : undefined;
    const message = resource
      ? resource.lost({ what: o.what, how, atLine, name })
      : leak.message({ how, what: o.what, name, releasedBy: releasedBy.some((f) => f !== 'free') ? releasedBy : undefined, atLine, unsure });
    this.report(`leak:${o.site}`, { rule: resource?.rule ?? leak.meta, message, confidence: unsure ? 'low' : 'high', pos: o.site, end: o.siteEnd ?? o.site, trace: [...o.steps, ...pathSteps, final] }, o);
    return true;
  }

  /** `defer C.free(p)` while p is nil, with p assigned afterwards: the later value is never freed. */
  beforeDeferredCall(rec: DeferRec, st: State): void {
    const releaser = this.releaserOf(rec.call);
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
      const name = this.x.info.decl.vars[base.v].name;
      // Sure when what p holds now is memory the caller owns and the deferred call surely releases it;
      // filled by C code that does not say who owns it, or freed by a function only named like a releaser, it is a guess.
      const owned = o !== undefined && this.owns(o);
      const unsure = !owned ? `if what ${name} receives is the caller's to free (no contract says who owns it)` : releaser.guessed ? `if ${releaser.name} releases it (only its name says so)` : undefined;
      this.x.report(`leak:deferred-nil:${rec.pos}`, {
        rule: leak.meta,
        message: leak.message({ how: 'deferred-nil', what: o?.what ?? name, name, atLine: this.x.line(rec.pos), unsure }),
        confidence: unsure ? 'low' : 'high',
        pos: rec.pos,
        end: rec.call.end,
        trace: [
          this.x.step(rec.pos, `deferred ${this.x.src(rec.call)} evaluates ${name} now, while it is nil`),
          ...(o ? o.steps : []),
          this.x.step(this.x.info.decl.ir.bodyEnd, `at return the deferred call frees nil; the value assigned to ${name} later is not freed`),
        ],
      });
      if (id && o) st.updateObj(id, { state: 'moved' });
    });
  }

  /** The C function a deferred call releases with, and whether only its name says it releases. */
  private releaserOf(call: CallExpr): { name: string; guessed: boolean } | undefined {
    const f = unparen(call.fun);
    if (f.k !== 'sel' || f.x.k !== 'ident' || f.x.v !== NO_VAR || f.x.name !== 'C') return undefined;
    const pkg = this.x.pkg;
    if (f.name === 'free' || pkg.contract(f.name)?.releases.length || pkg.cFunc(f.name)?.frees.size) return { name: `C.${f.name}`, guessed: false };
    return looksLikeReleaser(f.name) ? { name: `C.${f.name}`, guessed: true } : undefined;
  }

  // ---------------------------------------------------------------- summaries

  summarizeInput(_st: State, _id: string, o: Obj, path: string): Effect | undefined {
    return o.state === 'freed' && o.freed ? { k: 'freed', path, by: o.freed.by, steps: o.freed.steps } : undefined;
  }

  summarizeField(_st: State, _id: string, o: Obj, path: string): Effect | undefined {
    if (o.kind !== 'c' || o.state !== 'live') return undefined;
    return { k: 'set-owned', path, what: o.what, releasedBy: o.releasedBy ?? [], steps: o.steps, resource: o.resource };
  }

  summarizeResult(_st: State, _id: string, o: Obj): ResultAbs | undefined {
    const freed: ResultAbs | undefined = o.state === 'freed' && o.freed ? { k: 'freed', what: o.what, by: o.freed.by, steps: [...o.steps, ...o.freed.steps] } : undefined;
    if (o.kind === 'sym') return freed;
    if (this.owns(o)) return { k: 'owned', what: o.what, releasedBy: o.releasedBy ?? [], nullable: o.nullable, steps: o.steps, resource: o.resource };
    return freed;
  }

  applyEffect(eff: Effect, target: SummaryTarget, call: SummaryCall, st: State): boolean {
    const { display, e, pos } = call;
    if (eff.k === 'freed') {
      this.release(st, target.val, { by: eff.by, name: target.name, loc: target.loc, pos, end: e.end, via: display, viaSteps: eff.steps });
      return true;
    }
    if (eff.k !== 'set-owned') return false;
    if (target.owner && target.field) {
      const steps: Step[] = [this.x.step(pos, `${display} stores newly allocated C memory in ${eff.path.replace(/^r\./, '').replace(/^p\d+\./, '')}`), ...eff.steps];
      const val = this.newObject(st, pos, e.end, `${display} (${eff.what})`, { nullable: true, releasedBy: eff.releasedBy, steps });
      st.env.set(fieldKey(target.owner, target.field), val);
      // Stored into memory of unknown origin (a value from a handle or a map): that memory owns it now.
      const home = st.obj(target.owner);
      if (home?.kind === 'sym' && !home.origin) this.x.escape(st, val);
    }
    return true;
  }

  applyResult(r: ResultAbs, call: SummaryCall, st: State): Val | undefined {
    const { display, e, pos } = call;
    if (r.k === 'owned') {
      const returned = (r.resource ? this.x.resource(r.resource)?.returnedBy?.(display) : undefined) ?? `${display} returns C memory the caller must free`;
      return this.newObject(st, pos, e.end, `${display}`, { nullable: r.nullable, releasedBy: r.releasedBy, steps: [this.x.step(pos, returned), ...r.steps], resource: r.resource });
    }
    if (r.k === 'freed') {
      const v = this.newObject(st, pos, e.end, display, { nullable: false, releasedBy: [], steps: r.steps });
      const id = objId(v);
      if (id) st.updateObj(id, { state: 'freed', freed: { pos, by: r.by, via: display, steps: [this.x.step(pos, `${display} returns memory it has already freed`)] } });
      return v;
    }
    return undefined;
  }
}

function describeGo(o: Obj): string {
  if (o.what === 'make' || o.what === 'new') return `Go memory (${o.what})`;
  if (o.what === 'composite literal') return 'Go memory (a composite literal)';
  return 'Go memory';
}

/** `rd_kafka_error_t *`, `GError *`, `struct foo_error *`: a pointer to a type named as an error. */
function returnsErrorObject(ret: CType): boolean {
  const to = ret.k === 'ptr' ? ret.to : ret;
  return isErrorTypeName(to.k === 'named' ? to.name : to.k === 'struct' ? (to.tag ?? '') : '');
}

/** An out parameter that receives an error (RocksDB's char **errptr, GLib's GError **error): set only when the call fails. */
const ERROR_OUTPUT = /(^|_)(err|error|errptr|errmsg|errstr|errp)$|^(err|error)[A-Z_]|^pz?Err/i;

function lessSure(a: Confidence, b: Confidence): Confidence {
  return CONFIDENCE_RANK[a] <= CONFIDENCE_RANK[b] ? a : b;
}
