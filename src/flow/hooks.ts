// What the interpreter offers domain modules, and what they may hook into.
//
// The interpreter (src/flow) walks a function's paths over abstract states
// and knows no rule. A domain module (src/rules/<domain>/domain.ts) adds the
// meaning of one kind of memory fact: it keeps its own facts on objects
// (ObjFacets), registers for the hooks below, and reports findings with its
// rules' metadata. Hooks run in the order the modules are registered; the
// few that "take charge" of something stop at the first module that does.
import type { ArgumentEffects } from '../knowledge/arguments.js';
import type { CFunc } from '../model/cdecls.js';
import type { Contract } from '../model/contracts.js';
import type { FuncInfo, PackageModel } from '../model/program.js';
import type { FuncTypes, Resolver } from '../model/resolve.js';
import type { Ty } from '../model/types.js';
import type { Expr } from '../syntax/goast.js';
import type { TypeView } from './gomemory.js';
import type { DeferRec, Obj, State, Step, Val } from './state.js';
import type { Effect, ResultAbs } from './summary.js';

export type CallExpr = Extract<Expr, { k: 'call' }>;

/** The part of a rule a finding needs: its id and default severity. */
export interface RuleRef {
  id: string;
  severity: 'error' | 'warning' | 'note';
}

/** A finding as a domain module reports it, positioned by offsets in the function's file. */
export interface Report {
  rule: RuleRef;
  message: string;
  pos: number;
  end: number;
  trace: Step[];
  /** How sure the finding is (high unless said): see Confidence in rules/rule.ts. */
  confidence?: 'high' | 'medium' | 'low';
}

/** How an object stopped being reachable. */
export type LossHow = 'return' | 'lost' | 'scope' | 'dropped';

export interface Loss {
  how: LossHow;
  /** Offset of the return, reassignment or dropping expression. */
  at: number;
  /** The variable that held it (lost, scope). */
  name?: string;
}

/** A call to a C function (not one of cgo's own helpers such as C.CString), as the hooks see it. */
export interface CCall {
  name: string;
  e: CallExpr;
  /** Offset the call happens at (the defer statement's for a deferred call's checks). */
  pos: number;
  args: Val[];
  /** What C receives for each argument (a domain may substitute a handle kept in Go storage). */
  targets: Val[];
  contract?: Contract;
  cfn?: CFunc;
  /** What the callee does with each argument, as far as the tool knows. */
  effects: ArgumentEffects;
  /** What each module noted about the operands when they were evaluated (captureOperands), by module id. */
  captured: ReadonlyMap<string, unknown>;
}

/** A call of a standard-library API a module declared in `apis`. */
export interface ApiCall {
  /** The name the module declared: 'runtime/cgo.NewHandle', 'runtime.Pinner.Pin'. */
  api: string;
  e: CallExpr;
  args: Val[];
  recv?: Val;
  recvExpr?: Expr;
  pos: number;
}

/** A call of a Go function whose summary is replayed, and how its parameters map to the caller's values. */
export interface SummaryCall {
  display: string;
  e: CallExpr;
  pos: number;
}

/** A parameter path of a summary resolved at the call site. */
export interface SummaryTarget {
  val: Val;
  name: string;
  loc?: Expr;
  owner?: string;
  field?: string;
}

/** A view over memory: unsafe.Slice(p, n), or a *[N]T conversion sliced to n. */
export interface MemoryView {
  how: string;
  p: Val;
  elemType: Ty | undefined;
  n: Expr | undefined;
  pos: number;
  end: number;
  /** The bytes are copied out at once (C.GoBytes, C.GoStringN) rather than kept as a slice. */
  reads?: boolean;
  /** n is a byte offset from p (unsafe.Add(p, n), uintptr(p) + n), not a count of elements. */
  offset?: boolean;
}

/** A value written into memory C allocated. */
export interface StoreIntoC {
  value: Val;
  target: Expr;
  /** How the destination is named in messages. */
  dest: string;
  pos: number;
  how: string;
  /** The assigned expression, when known. */
  src?: Expr;
  /** The destination is what a pointer parameter of an //export'ed function reaches: memory C passed in (unless Go passed its own through C). */
  fromC?: { param: string; fn: string };
}

/**
 * The interpreter's services for domain modules: the function being analysed,
 * its types, naming and positions, and the operations every domain shares.
 */
export interface Engine {
  readonly info: FuncInfo;
  readonly pkg: PackageModel;
  readonly resolver: Resolver;
  readonly types: FuncTypes;
  readonly gmem: TypeView;
  /** The name C knows the function by, when it is exported with //export. */
  readonly exported: string | undefined;
  src(e: { pos: number; end: number }): string;
  nameOf(e: Expr): string;
  argName(call: CallExpr, i: number): string;
  line(pos: number): number;
  step(pos: number, message: string): Step;
  varName(key: string): string;
  /** Reports a finding once per key and function. */
  report(key: string, r: Report): void;
  /** A fresh object id for an allocation site, or undefined when the site has too many live objects. */
  allocId(st: State, base: string): string | undefined;
  /** Ownership leaves our view: whatever v reaches is no longer ours to free (and unknown code may rewrite what it reaches, unless `rewrite` is false). */
  escape(st: State, v: Val, deep?: boolean, rewrite?: boolean): void;
  /** v is read, written or handed somewhere (the modules' onUse runs for the object). */
  use(st: State, v: Val, how: string, name: string, pos: number, end: number): void;
  /** The value of a simple expression (names, fields, constant indexes), without effects. */
  peek(e: Expr, st: State): Val;
  /** Gives an unknown value at `key` an identity, so later frees and uses of it can be matched. */
  materialize(st: State, key: string, base: string): string | undefined;
  isStructVar(v: number): boolean;
  /** Memory an //export'ed function was given by C through a pointer parameter (what o stands for), or undefined. */
  fromC(o: Obj | undefined): StoreIntoC['fromC'];
  goHasPointers(t: Ty): boolean;
  goSize(t: Ty): number | undefined;
  /** A resource kind a module declared. */
  resource(id: string): ResourceKind | undefined;
  /** Another module's declared interface (see DomainModule.provides). */
  domain<T>(id: string): T | undefined;
}

/**
 * How findings about a resource with the lifecycle of C memory are worded
 * (a cgo.Handle, a Pinner's pins): declared by the module that makes it.
 */
export interface ResourceKind {
  rule: RuleRef;
  /** Trace wording: "returns here without deleting it". */
  releasing: string;
  /** Trace wording for the release itself (C memory's when absent). */
  releasedHere?(name: string): string;
  /** Trace wording for a function returning one (C memory's when absent). */
  returnedBy?(fn: string): string;
  lost(d: { what: string; how: LossHow; atLine: number; name?: string }): string;
  releasedTwice?(d: { name: string; firstLine: number }): string;
  usedAfterRelease?(d: { name: string; how: string; freedLine: number }): string;
}

/** The hooks a module registers for one function's analysis. All are optional. */
export interface DomainHooks {
  /** Notes about a C call's operands, taken when they are evaluated (for a deferred call: at the defer statement). */
  captureOperands?(e: CallExpr, args: Val[], st: State): unknown;
  /** One of cgo's own functions (C.CString, C.malloc, C.realloc, ...): results when this module makes them. */
  cgoBuiltin?(name: string, e: CallExpr, args: Val[], st: State, pos: number): Val[] | undefined;
  /** What C receives for an argument value, when this module knows better than the value itself. */
  callTarget?(st: State, v: Val): Val | undefined;
  /** Before a C call's effects: checks on what it is given. */
  beforeCCall?(call: CCall, st: State): void;
  /** Takes charge of what happens to argument i of a C call; true when it did (the default is a use). */
  transferArg?(call: CCall, i: number, st: State): boolean;
  /** After the arguments: effects of the call on other memory. */
  afterCCall?(call: CCall, st: State): void;
  /** The call's results, when this module makes them (the first module that does wins). */
  cCallResult?(call: CCall, st: State): Val[] | undefined;
  /** A standard-library API the module declared (every module that declared it sees the call). */
  apiCall?(call: ApiCall, st: State): Val[] | undefined;
  /** Any call, once its operands are evaluated. */
  beforeCall?(e: CallExpr, st: State): void;
  /** A value converted to type `to`. */
  onConversion?(to: Ty, x: Expr, pos: number, end: number): void;
  /** A slice made over memory. */
  onView?(view: MemoryView, st: State): void;
  /** A store into memory C allocated. */
  onStoreIntoC?(store: StoreIntoC, st: State): void;
  /** `copy(dst, src)` with dst in C memory. */
  onCopyIntoC?(e: CallExpr, src: Val, st: State, pos: number): void;
  /** An object is used (read, written, handed on). */
  onUse?(st: State, id: string, o: Obj, how: string, name: string, pos: number, end: number): void;
  /** Values that leave our view with the address of local variable v. */
  escapesWithAddress?(st: State, v: number): Val[];
  /** The object must be released by someone: its loss is a finding. */
  owns?(o: Obj): boolean;
  /** An owned object became unreachable; true when this module took charge of it. */
  onLost?(st: State, id: string, o: Obj, loss: Loss): boolean;
  /** On this path the object is nil (an allocation that failed): it has been removed. */
  onNil?(st: State, id: string, o: Obj | undefined): void;
  /** A condition showed the live C object to have no elements. */
  onKnownEmpty?(st: State, id: string, o: Obj): void;
  /** A deferred call is about to run. */
  beforeDeferredCall?(rec: DeferRec, st: State): void;
  /** A normal return of the analysed function (after its deferred calls). */
  atExit?(st: State, results: Val[], pos: number): void;
  /** What a summary says about an input object, when this module has something to say. */
  summarizeInput?(st: State, id: string, o: Obj, path: string): Effect | undefined;
  /** What a summary says about what was stored in a field of an input. */
  summarizeField?(st: State, id: string, o: Obj, path: string): Effect | undefined;
  /** The abstraction of a returned object, when this module has one. */
  summarizeResult?(st: State, id: string, o: Obj): ResultAbs | undefined;
  /** Replays an effect of a callee's summary; true when handled. */
  applyEffect?(eff: Effect, target: SummaryTarget, call: SummaryCall, st: State): boolean;
  /** Replays a result of a callee's summary, when this module made that kind. */
  applyResult?(r: ResultAbs, call: SummaryCall, st: State): Val | undefined;
}

/** A domain module: one kind of memory fact, its rules, and its hooks. */
export interface DomainModule {
  id: string;
  /** The rules whose findings the module reports. */
  rules: readonly RuleRef[];
  /** Standard-library APIs whose calls the module interprets. `evalRecv: false` leaves the receiver expression unevaluated. */
  apis?: Record<string, { evalRecv: boolean }>;
  /** Resource kinds the module makes (their findings' rules and wording). */
  resources?: Record<string, ResourceKind>;
  /** What distinguishes two states in this module's facts about an object (empty when nothing). */
  facetKey?(o: Obj): string;
  create(engine: Engine): DomainHooks & { provides?: unknown };
  /** A check over the whole package after the dataflow, for what no single path shows. */
  packageCheck?: PackageCheck;
}

export interface PackageCheck {
  /** Text that must appear in one of the package's files for the check to run (and in a function for it to be looked at). */
  trigger: RegExp;
  /** Look at every function of the package (callers matter), not only those that mention C or the trigger. */
  everyBody?: boolean;
  run(funcs: FuncInfo[], resolver: Resolver): { fn: FuncInfo; report: Report }[];
}
