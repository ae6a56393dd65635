// What a package offers to a caller that wants to exercise its C side: each
// function's signature, whether it reaches C (itself or through the
// package's own functions), which of its inputs flow into C calls, and the
// summary the dataflow computed for it. `cgoguard gen tests` writes tests
// from this; computing it needs every body converted, so only that command
// asks for it.
import type { Summary } from '../flow/summary.js';
import type { FuncInfo, PackageModel } from '../model/program.js';
import { FuncTypes, type Resolver } from '../model/resolve.js';
import type { Ty } from '../model/types.js';
import { NO_VAR, type Expr, type Stmt, type TypeExpr } from '../syntax/goast.js';
import { forEachChildExpr, walkStmts } from '../syntax/walk.js';

export interface ApiParam {
  name: string;
  type: Ty;
  /** The type as written in the source. */
  text: string;
  /** The value reaches the arguments of a C call, here or in a callee of the package. */
  toC: boolean;
}

export interface ApiFunc {
  key: string;
  name: string;
  /** As Go tools print it: Name, (*T).Method or T.Method. */
  display: string;
  recv?: { type: string; pointer: boolean; toC: boolean };
  params: ApiParam[];
  variadic: boolean;
  /** Result types, and for each the package's own types its return statements give there (behind an interface, say). */
  results: { type: Ty; text: string; returns: { name: string; pointer: boolean }[] }[];
  generic: boolean;
  file: string;
  line: number;
  /** Declared in a _test.go file. */
  inTest: boolean;
  /** Calls C itself or through the package's own functions and methods. */
  reachesC: boolean;
  /** The C functions it reaches that way (cgo's own, such as CString, included), sorted. */
  cCalls: string[];
  /** What the dataflow found it does with C memory, when it was analysed. */
  summary?: Summary;
}

export interface ApiType {
  name: string;
  underlying: Ty;
  /** Values of it are structs (Go or C): T{} is its zero value. */
  struct: boolean;
  /** It has type parameters: a test cannot name it without its arguments. */
  generic: boolean;
}

export interface PackageApi {
  importPath: string;
  name: string;
  funcs: ApiFunc[];
  types: ApiType[];
  /** Package-level names declared in the package's files and its internal tests, with their file. */
  names: { name: string; file: string }[];
  /** TestMain of the internal tests, and whether it runs them (m.Run). */
  testMain?: { file: string; runsTests: boolean };
}

interface Body {
  info: FuncInfo;
  cCalls: Set<string>;
  /** Package functions and methods called, by key, with the inputs each argument (or receiver: -1) mentions. */
  calls: { key: string; args: Set<number>[]; recv: Set<number> }[];
  /** Inputs (params by index, the receiver as -1) mentioned in the arguments of C calls. */
  toC: Set<number>;
  /** Per result index, the package types returned there. */
  returns: Map<number, Map<string, { name: string; pointer: boolean }>>;
  /** Results that are those of a call of the package's (return g(...)): callee, its result index, ours. */
  forwards: { key: string; from: number; to: number }[];
}

/** Describes the package; every function body must already be converted. */
export function describePackage(pkg: PackageModel, resolver: Resolver, summaries: ReadonlyMap<string, Summary>): PackageApi {
  const funcs = pkg.allFuncs().filter((f) => !f.key.includes('#'));
  const bodies = new Map<string, Body>();
  for (const f of funcs) if (f.decl.bodyConverted) bodies.set(f.key, scanBody(f, resolver));
  forwardReturns(bodies);
  const reaches = reachingC(bodies);
  const flows = inputsToC(bodies);
  const apiFuncs: ApiFunc[] = funcs.map((f) => {
    const sig = resolver.funcSignature(f);
    const text = (te: TypeExpr) => f.file.go.text.slice(te.pos, te.end);
    const toC = flows.get(f.key) ?? new Set<number>();
    return {
      key: f.key,
      name: f.name,
      display: f.display,
      ...(f.recvType ? { recv: { type: f.recvType, pointer: f.ptrRecv, toC: toC.has(-1) } } : {}),
      params: f.decl.ir.params.map((v, i) => ({ name: f.decl.vars[v]?.name ?? '_', type: sig.params[i], text: text(f.decl.paramTypes[i]), toC: toC.has(i) })),
      variadic: f.decl.ir.variadic,
      results: f.decl.resultTypes.map((te, i) => ({ type: sig.results[i], text: text(te), returns: [...(bodies.get(f.key)?.returns.get(i)?.values() ?? [])] })),
      generic: f.decl.typeParams.length > 0,
      file: f.file.display,
      line: f.file.lines.lineOf(f.decl.pos),
      inTest: f.file.display.endsWith('_test.go'),
      reachesC: reaches.has(f.key),
      cCalls: [...(reaches.get(f.key) ?? [])].sort(),
      ...(summaries.get(f.key) ? { summary: summaries.get(f.key) } : {}),
    };
  });
  const types = [...pkg.types.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([name, { decl }]) => {
    const t: Ty = { k: 'named', pkg: pkg.importPath, name };
    return { name, underlying: resolver.underlying(t), struct: resolver.isStruct(t), generic: decl.generic };
  });
  const names = [
    ...[...pkg.types.values()].map((t) => ({ name: t.decl.name, file: t.file.display })),
    ...[...pkg.globals.values()].map((g) => ({ name: g.decl.name, file: g.file.display })),
    ...[...pkg.funcs.values()].map((f) => ({ name: f.name, file: f.file.display })),
  ].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const testMain = funcs.find((f) => f.name === 'TestMain' && !f.recvType && f.file.display.endsWith('_test.go'));
  return {
    importPath: pkg.importPath,
    name: pkg.name,
    funcs: apiFuncs,
    types,
    names,
    ...(testMain ? { testMain: { file: testMain.file.display, runsTests: runsTests(testMain) } } : {}),
  };
}

/** TestMain calls m.Run (on its parameter), or the tests never run. */
function runsTests(f: FuncInfo): boolean {
  const m = f.decl.ir.params[0];
  let found = false;
  visitAll(f.decl.ir.body, (e) => {
    if (e.k === 'call' && e.fun.k === 'sel' && e.fun.name === 'Run' && e.fun.x.k === 'ident' && e.fun.x.v === m) found = true;
  });
  return found;
}

/** Visits every expression of the statements, closure bodies included. */
function visitAll(stmts: Stmt[], visit: (e: Expr) => void, onStmt?: (s: Stmt) => void): void {
  const expr = (e: Expr): void => {
    visit(e);
    if (e.k === 'funclit') visitAll(e.fn.body, visit, onStmt);
    else forEachChildExpr(e, expr);
  };
  walkStmts(stmts, expr, onStmt);
}

/** The variables (as ids) an expression reads. */
function mentioned(e: Expr): Set<number> {
  const out = new Set<number>();
  const walk = (x: Expr): void => {
    if (x.k === 'ident' && x.v >= 0) out.add(x.v);
    if (x.k === 'funclit') visitAll(x.fn.body, (y) => y.k === 'ident' && y.v >= 0 && out.add(y.v));
    else forEachChildExpr(x, walk);
  };
  walk(e);
  return out;
}

/** The variable a store goes into: x in x, x.f, x[i], *x. */
function storedVar(e: Expr): number | undefined {
  for (;;) {
    if (e.k === 'ident') return e.v >= 0 ? e.v : undefined;
    if (e.k === 'sel' || e.k === 'paren' || e.k === 'index' || e.k === 'slice') e = e.x;
    else if (e.k === 'unary' && e.op === '*') e = e.x;
    else return undefined;
  }
}

/**
 * One pass over a body: the C functions it calls, the package functions it
 * calls, and which inputs reach which arguments. Which variables carry an
 * input is worked out flow-insensitively (any assignment from an expression
 * that mentions it), which errs towards "reaches C".
 */
function scanBody(f: FuncInfo, resolver: Resolver): Body {
  const types = new FuncTypes(resolver, f);
  const decl = f.decl;
  // Variable id → the inputs it may carry.
  const carries = new Map<number, Set<number>>();
  decl.ir.params.forEach((v, i) => carries.set(v, new Set([i])));
  if (decl.recv && decl.recv.v >= 0) carries.set(decl.recv.v, new Set([-1]));
  const inputsOf = (e: Expr): Set<number> => {
    const out = new Set<number>();
    for (const v of mentioned(e)) for (const i of carries.get(v) ?? []) out.add(i);
    return out;
  };
  const flowInto = (target: number | undefined, from: Set<number>): boolean => {
    if (target === undefined || !from.size) return false;
    const set = carries.get(target) ?? new Set<number>();
    const before = set.size;
    for (const i of from) set.add(i);
    carries.set(target, set);
    return set.size > before;
  };
  for (let changed = true, rounds = 0; changed && rounds < 10; rounds++) {
    changed = false;
    visitAll(decl.ir.body, () => {}, (s) => {
      if (s.k === 'assign') {
        const all = s.rhs.length === s.lhs.length ? undefined : inputsOfAll(s.rhs, inputsOf);
        s.lhs.forEach((l, i) => {
          if (flowInto(storedVar(l), all ?? inputsOf(s.rhs[i]))) changed = true;
        });
      } else if (s.k === 'vardecl') {
        const all = inputsOfAll(s.values, inputsOf);
        for (const v of s.vars) if (flowInto(storedVar(v), all)) changed = true;
      } else if (s.k === 'range' && s.x) {
        const from = inputsOf(s.x);
        for (const v of [s.key, s.value]) if (v && flowInto(storedVar(v), from)) changed = true;
      }
    });
  }
  const cCalls = new Set<string>();
  const toC = new Set<number>();
  const calls: Body['calls'] = [];
  visitAll(decl.ir.body, (e) => {
    if (e.k !== 'call') return;
    const fun = e.fun.k === 'paren' ? e.fun.x : e.fun;
    if (fun.k === 'sel' && fun.x.k === 'ident' && fun.x.v === NO_VAR && fun.x.name === 'C') {
      const kind = resolver.cName(fun.name);
      if (kind !== 'func' && kind !== 'special') return; // a conversion such as C.int(n)
      cCalls.add(fun.name);
      for (const a of e.args) for (const i of inputsOf(a)) toC.add(i);
      return;
    }
    if (fun.k === 'ident' && fun.v === NO_VAR) {
      const g = resolver.pkg.funcs.get(fun.name);
      if (g) calls.push({ key: g.key, args: e.args.map(inputsOf), recv: new Set() });
    } else if (fun.k === 'sel') {
      const m = resolver.method(types.exprType(fun.x), fun.name);
      if (m?.info) calls.push({ key: m.key, args: e.args.map(inputsOf), recv: inputsOf(fun.x) });
    }
  });
  const { returns, forwards } = returnedTypes(decl.ir.body, types, resolver, decl.resultTypes.length);
  return { info: f, cCalls, calls, toC, returns, forwards };
}

/** The package types that the function's own return statements give, per result index, and the calls whose results it returns. */
function returnedTypes(body: Stmt[], types: FuncTypes, resolver: Resolver, count: number): Pick<Body, 'returns' | 'forwards'> {
  const out: Body['returns'] = new Map();
  const forwards: Body['forwards'] = [];
  const importPath = resolver.pkg.importPath;
  const calleeOf = (e: Expr): string | undefined => {
    if (e.k !== 'call') return undefined;
    const fun = e.fun.k === 'paren' ? e.fun.x : e.fun;
    if (fun.k === 'ident' && fun.v === NO_VAR) return resolver.pkg.funcs.get(fun.name)?.key;
    if (fun.k === 'sel') return resolver.method(types.exprType(fun.x), fun.name)?.info?.key;
    return undefined;
  };
  walkStmts(
    body,
    () => {},
    (s) => {
      if (s.k !== 'return') return;
      if (s.results.length === 1 && count > 1) {
        const key = calleeOf(s.results[0]);
        if (key) for (let i = 0; i < count; i++) forwards.push({ key, from: i, to: i });
        return;
      }
      s.results.forEach((e, i) => {
        const key = calleeOf(e);
        if (key) forwards.push({ key, from: 0, to: i });
        const t = types.exprType(e);
        const pointer = t.k === 'pointer';
        const inner = pointer ? t.elem : t;
        if (inner.k !== 'named' || inner.pkg !== importPath) return;
        const at = out.get(i) ?? new Map();
        at.set(`${pointer ? '*' : ''}${inner.name}`, { name: inner.name, pointer });
        out.set(i, at);
      });
    },
  );
  return { returns: out, forwards };
}

/** Adds to each function's returned types those of the calls whose results it returns: a fixpoint. */
function forwardReturns(bodies: Map<string, Body>): void {
  for (let changed = true; changed; ) {
    changed = false;
    for (const b of bodies.values()) {
      for (const fw of b.forwards) {
        const from = bodies.get(fw.key)?.returns.get(fw.from);
        if (!from) continue;
        const at = b.returns.get(fw.to) ?? new Map();
        for (const [k, v] of from) {
          if (at.has(k)) continue;
          at.set(k, v);
          changed = true;
        }
        b.returns.set(fw.to, at);
      }
    }
  }
}

function inputsOfAll(exprs: Expr[], inputsOf: (e: Expr) => Set<number>): Set<number> {
  const out = new Set<number>();
  for (const e of exprs) for (const i of inputsOf(e)) out.add(i);
  return out;
}

/** Functions that reach C, with the C functions they reach: a fixpoint over the package's calls. */
function reachingC(bodies: Map<string, Body>): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const [k, b] of bodies) if (b.cCalls.size) out.set(k, new Set(b.cCalls));
  for (let changed = true; changed; ) {
    changed = false;
    for (const [k, b] of bodies) {
      for (const c of b.calls) {
        const callee = out.get(c.key);
        if (!callee || c.key === k) continue;
        const mine = out.get(k) ?? new Set<string>();
        const before = mine.size;
        for (const n of callee) mine.add(n);
        if (mine.size > before || !out.has(k)) {
          out.set(k, mine);
          changed = true;
        }
      }
    }
  }
  return out;
}

/** Inputs of each function that reach a C call's arguments, here or through callees: a fixpoint. */
function inputsToC(bodies: Map<string, Body>): Map<string, Set<number>> {
  const out = new Map<string, Set<number>>();
  for (const [k, b] of bodies) out.set(k, new Set(b.toC));
  for (let changed = true; changed; ) {
    changed = false;
    for (const [k, b] of bodies) {
      const mine = out.get(k)!;
      const before = mine.size;
      for (const c of b.calls) {
        const callee = out.get(c.key);
        if (!callee?.size) continue;
        c.args.forEach((from, j) => {
          if (callee.has(j)) for (const i of from) mine.add(i);
        });
        if (callee.has(-1)) for (const i of c.recv) mine.add(i);
      }
      if (mine.size > before) changed = true;
    }
  }
  return out;
}
