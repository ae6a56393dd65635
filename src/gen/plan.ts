// What to generate for one package: a leak test for each function that
// reaches C, a fuzz target for those whose []byte, string or integer inputs
// flow into C, and the helpers that build receivers with the package's own
// constructors and release them with its own closers. Everything comes from
// the package description the static pipeline computed (signatures, which
// inputs reach C, function summaries); nothing here reads source.
import type { Summary } from '../flow/summary.js';
import type { Ty } from '../model/types.js';
import type { ApiFunc, ApiParam, PackageApi } from '../pipeline/package-api.js';
import { ImportSet, fuzzType, representatives, type ValueContext } from './values.js';

/** An argument: a Go expression, or an object a maker builds (and releases). */
export type Arg = { k: 'expr'; text: string } | { k: 'object'; maker: Maker };

/** Builds values of one of the package's types with its constructor; releases them with its closer. */
export interface Maker {
  /** The type as written: *Store or Store. */
  type: string;
  pointer: boolean;
  /** Name of the generated helper (cgoguardWithStore). */
  helper: string;
  /** The constructor, or undefined for the zero value of a struct without C handles. */
  ctor?: ApiFunc;
  /** The maker of the constructor's receiver, when the constructor is a method. */
  ctorRecv?: Maker;
  /** Argument lists to try, in order, until one makes a value. */
  ctorArgs: Arg[][];
  /** Which result of the constructor is the value, and which is its error (-1: none). */
  valueIndex: number;
  /** The value comes behind an interface (driver.Conn) and is asserted to the type. */
  asserted: boolean;
  errorIndex: number;
  /** The method (or function) that releases a value: Close, Free... */
  closer?: Releaser;
  /** Words for the comments: "NewStore", "the zero value". */
  describe: string;
}

export type Releaser = { k: 'method'; name: string } | { k: 'func'; name: string };

/** What happens to one result of a call. */
export type ResultUse = { k: 'ignore' } | { k: 'release'; by: Releaser; pointer: boolean } | { k: 'close-if-closer' };

export interface Call {
  recv?: Maker;
  /** A receiver written as a value (of a named number or string type without a constructor). */
  recvValue?: string;
  /** The call closes its receiver itself (it is the closer): the maker must not close it again. */
  closesRecv: boolean;
  args: Arg[];
}

export interface LeakTest {
  fn: ApiFunc;
  name: string;
  /** Why the function cannot be called from a test, with what to do (a TODO in the test). */
  skip?: string;
  calls: Call[];
  results: ResultUse[];
  errorIndex: number;
  doc: string;
}

export interface FuzzTarget {
  fn: ApiFunc;
  name: string;
  /** The fuzzed parameters: their index, the fuzz argument's type and the conversion to the parameter's. */
  fuzzed: { index: number; type: string; convert: (x: string) => string }[];
  /** Seed argument lists (typed for f.Add), one per representative combination. */
  seeds: string[][];
  /** The call, with the fuzzed arguments left as `{k: 'expr', text: ''}` placeholders. */
  call: Call;
  results: ResultUse[];
  errorIndex: number;
  doc: string;
}

export interface Plan {
  api: PackageApi;
  imports: ImportSet;
  makers: Maker[];
  leaks: LeakTest[];
  fuzz: FuzzTarget[];
  /** Said to the user (stderr): the tests will not run, a type has no constructor... */
  notes: string[];
}

/** Most argument combinations one leak test runs: a first one, then one changed argument at a time. */
const MAX_CALLS = 32;
/** Constructor argument lists a maker tries. */
const MAX_CTOR_TRIES = 6;
/** Seeds a fuzz target adds. */
const MAX_SEEDS = 16;
const CLOSER_NAMES = ['Close', 'Free', 'Release', 'Destroy', 'Dispose', 'Delete', 'Finalize'];

/** The names every generated file declares (its helpers). */
export const HELPER_NAMES = ['cgoguardRuns', 'cgoguardLiveC', 'cgoguardCheckLeaks', 'cgoguardSettled', 'cgoguardInTempDir', 'cgoguardCall', 'cgoguardRelease', 'cgoguardLongString', 'cgoguardLongBytes'];

export function planPackage(api: PackageApi): Plan {
  return new Planner(api).plan();
}

class Planner {
  private readonly ctx: ValueContext;
  private readonly types: Map<string, PackageApi['types'][number]>;
  private readonly makers = new Map<string, Maker | null>();
  private readonly building = new Set<string>();
  private readonly notes: string[] = [];
  private readonly callable: ApiFunc[];

  constructor(private readonly api: PackageApi) {
    this.types = new Map(api.types.map((t) => [t.name, t]));
    this.ctx = { importPath: api.importPath, types: this.types, imports: new ImportSet(new Set(api.names.map((n) => n.name))) };
    const main = api.name === 'main';
    // What a caller of the package can call: exported names (and their methods), or, in package main, everything.
    const generic = (type: string) => !!this.types.get(type)?.generic;
    this.callable = api.funcs.filter(
      (f) => !f.inTest && !f.generic && !(f.recv && generic(f.recv.type)) && f.name !== 'init' && !(main && f.name === 'main' && !f.recv) && (main || (exported(f.name) && (!f.recv || exported(f.recv.type)))),
    );
  }

  plan(): Plan {
    const targets = this.callable.filter((f) => f.reachesC).sort(byDisplay);
    const leaks: LeakTest[] = [];
    const fuzz: FuzzTarget[] = [];
    const used = new Set<string>();
    const unique = (name: string) => {
      let n = name;
      for (let i = 2; used.has(n); i++) n = `${name}${i}`;
      used.add(n);
      return n;
    };
    for (const fn of targets) {
      const suffix = fn.recv ? `${fn.recv.type}_${fn.name}` : fn.name;
      const leak = this.leakTest(fn, unique(`TestCgoguardLeak_${suffix}`));
      leaks.push(leak);
      if (!leak.skip) {
        const f = this.fuzzTarget(fn, leak, `FuzzCgoguard_${suffix}`);
        if (f) {
          f.name = unique(f.name);
          fuzz.push(f);
        }
      }
    }
    if (this.api.testMain && !this.api.testMain.runsTests && targets.length) {
      this.notes.push(`${this.api.testMain.file}: TestMain does not call m.Run, so the generated tests of ${this.api.importPath} will not run`);
    }
    const makers = [...this.makers.values()].filter((m): m is Maker => !!m && leaks.some((l) => usesMaker(l.calls, m)));
    return { api: this.api, imports: this.ctx.imports, makers: orderMakers(makers), leaks, fuzz, notes: this.notes };
  }

  private leakTest(fn: ApiFunc, name: string): LeakTest {
    const base: LeakTest = { fn, name, calls: [], results: [], errorIndex: errorIndex(fn), doc: describeFn(fn) };
    let recv: Maker | undefined;
    let recvValues: string[] = [];
    if (fn.recv) {
      recvValues = fn.recv.pointer ? [] : this.receiverValues(fn.recv.type);
      recv = recvValues.length ? undefined : this.maker(fn.recv.type);
      if (!recv && !recvValues.length) return { ...base, skip: `TODO: no way to make a ${fn.recv.pointer ? '*' : ''}${fn.recv.type} for the receiver: the package has no function returning one whose arguments a test can build (C handles included)` };
    }
    const perParam: Arg[][] = [];
    for (const [i, p] of fn.params.entries()) {
      const v = this.argValues(p, fn.variadic && i === fn.params.length - 1);
      if ('unsupported' in v) return { ...base, skip: `TODO: cannot build argument ${p.name || i + 1} of type ${v.unsupported}` };
      perParam.push(v.args);
    }
    const results = this.resultUses(fn);
    if ('unsupported' in results) return { ...base, skip: results.unsupported };
    const closesRecv = !!recv && this.closesReceiver(fn, recv);
    const calls = recvValues.length
      ? combinations([recvValues.map(expr), ...perParam], MAX_CALLS).map(([r, ...args]) => ({ recvValue: (r as { text: string }).text, closesRecv, args }))
      : combinations(perParam, MAX_CALLS).map((args) => ({ recv, closesRecv, args }));
    const from = recv ? `${recv.describe}${recv.closer && !closesRecv ? `, released by ${recv.closer.name}` : ''}` : 'representative values of its type';
    const doc = `${base.doc}${fn.recv ? ` The receiver comes from ${from}.` : ''}`;
    return { ...base, calls, results: results.uses, doc };
  }

  private fuzzTarget(fn: ApiFunc, leak: LeakTest, name: string): FuzzTarget | undefined {
    const fuzzed: FuzzTarget['fuzzed'] = [];
    fn.params.forEach((p, i) => {
      if (!p.toC || (fn.variadic && i === fn.params.length - 1)) return;
      const ft = fuzzType(p.type, this.ctx);
      if (ft) fuzzed.push({ index: i, ...ft });
    });
    if (!fuzzed.length) return undefined;
    const perParam = fuzzed.map((f) => {
      const v = representatives({ k: 'basic', name: f.type === '[]byte' ? 'string' : f.type }, f.type, this.ctx);
      const exprs = 'exprs' in v ? v.exprs : [];
      return f.type === '[]byte' ? ['[]byte(nil)', '[]byte{}', '[]byte{0}', '[]byte("cgoguard")', 'cgoguardLongBytes'] : exprs.map((e) => (f.type === 'string' ? e : `${f.type}(${e})`));
    });
    const seeds = combinations(perParam, MAX_SEEDS);
    const first = leak.calls[0];
    const args = first.args.map((a, i): Arg => (fuzzed.some((f) => f.index === i) ? { k: 'expr', text: '' } : a));
    const what = fuzzed.map((f) => fn.params[f.index].name || `argument ${f.index + 1}`).join(', ');
    return {
      fn,
      name,
      fuzzed,
      seeds,
      call: { ...first, args },
      results: leak.results,
      errorIndex: leak.errorIndex,
      doc: `${name} fuzzes ${fn.display} through ${what}, which reach${fuzzed.length === 1 ? 'es' : ''} C; run it with go test -fuzz=${name} -asan.`,
    };
  }

  /** Values for one parameter: constructed objects for the package's own types, else representatives. */
  private argValues(p: ApiParam, variadic: boolean): { args: Arg[] } | { unsupported: string } {
    const obj = this.objectType(p.type);
    if (obj && !variadic) {
      const m = this.maker(obj.name);
      if (m && m.pointer === obj.pointer) return { args: [{ k: 'object', maker: m }, ...(obj.pointer ? [expr('nil')] : [])] };
    }
    if (variadic) {
      // No variadic arguments, then one of each value of the element type.
      const elem = p.type.k === 'slice' ? p.type.elem : p.type;
      const v = representatives(elem, p.text.replace(/^\.\.\./, ''), this.ctx);
      if ('unsupported' in v) return v;
      return { args: [expr(''), ...v.exprs.map(expr)] };
    }
    const v = representatives(p.type, p.text, this.ctx);
    return 'unsupported' in v ? v : { args: v.exprs.map(expr) };
  }

  /** An interface type: declared as one here, or another package's named type (error excluded). */
  private isInterface(t: Ty): boolean {
    if (t.k === 'interface') return true;
    if (t.k !== 'named') return false;
    return t.pkg === this.api.importPath ? this.types.get(t.name)?.underlying.k === 'interface' : true;
  }

  /** Values of a named number or string type with no constructor, written as conversions. */
  private receiverValues(type: string): string[] {
    const u = this.types.get(type)?.underlying;
    const scalar = u && ((u.k === 'basic' && u.name !== 'error' && u.name !== 'any') || (u.k === 'c' && !this.types.get(type)!.struct));
    if (!scalar) return [];
    if (this.callable.some((f) => !f.recv && f.results.some((r) => this.objectType(r.type)?.name === type))) return [];
    const v = representatives({ k: 'named', pkg: this.api.importPath, name: type }, type, this.ctx);
    return 'exprs' in v ? v.exprs.map((e) => (/^-?\d+$/.test(e) ? `${type}(${e})` : e)) : [];
  }

  /** A parameter or result of one of the package's named types (or a pointer to one). */
  private objectType(t: Ty): { name: string; pointer: boolean } | undefined {
    const pointer = t.k === 'pointer';
    const inner = pointer ? t.elem : t;
    if (inner.k !== 'named' || inner.pkg !== this.api.importPath || !this.types.has(inner.name) || this.types.get(inner.name)!.generic) return undefined;
    return { name: inner.name, pointer };
  }

  /** How each result is dealt with: objects are released, owned C memory goes to a Go releaser. */
  private resultUses(fn: ApiFunc): { uses: ResultUse[] } | { unsupported: string } {
    const uses: ResultUse[] = [];
    for (const [i, r] of fn.results.entries()) {
      const returnsInput = fn.summary?.cases.some((c) => c.results[i]?.k === 'param' || c.results[i]?.k === 'same');
      const owned = fn.summary?.cases.map((c) => c.results[i]).find((x) => x?.k === 'owned');
      const obj = this.objectType(r.type);
      if (returnsInput || (obj && fn.recv && obj.name === fn.recv.type)) {
        uses.push({ k: 'ignore' });
        continue;
      }
      const closer = obj ? this.closerOf(obj.name) : undefined;
      if (obj && closer) {
        uses.push({ k: 'release', by: closer, pointer: obj.pointer });
        continue;
      }
      if (owned && owned.k === 'owned') {
        const by = this.goReleaser(r.type, owned.releasedBy);
        if (!by) {
          return { unsupported: `TODO: ${fn.display} returns C memory (${owned.what}) that only ${owned.releasedBy.map((n) => `C.${n}`).join(' or ') || 'C'} releases, and a test file cannot call C (no cgo in _test.go files): add a Go function that releases it` };
        }
        uses.push({ k: 'release', by, pointer: true });
        continue;
      }
      // Interfaces and other packages' types may have a Close method the description cannot see.
      const elem = r.type.k === 'pointer' ? r.type.elem : r.type;
      const foreign = r.type.k === 'interface' || (elem.k === 'named' && elem.pkg !== this.api.importPath) || (obj && this.types.get(obj.name)?.underlying.k === 'interface');
      uses.push(foreign ? { k: 'close-if-closer' } : { k: 'ignore' });
    }
    return { uses };
  }

  /** A package function taking one argument of this type that releases it, by its summary. */
  private goReleaser(t: Ty, releasedBy: string[]): Releaser | undefined {
    const text = JSON.stringify(t);
    const found = this.api.funcs
      .filter((f) => !f.inTest && !f.recv && f.params.length === 1 && JSON.stringify(f.params[0].type) === text)
      .filter((f) => frees(f.summary, (path, by) => path === 'p0' && (!releasedBy.length || releasedBy.includes(by) || releasedBy.includes(by.replace(/^C\./, '')))))
      .sort(byDisplay)[0];
    return found ? { k: 'func', name: found.name } : undefined;
  }

  /** The method (or function) that releases a value of the type: by what its summary frees, else by its name. */
  private closerOf(type: string): Releaser | undefined {
    const methods = this.api.funcs.filter((f) => !f.inTest && f.recv?.type === type && f.params.length === 0);
    const rank = (f: ApiFunc) => (CLOSER_NAMES.includes(f.name) ? CLOSER_NAMES.indexOf(f.name) : CLOSER_NAMES.length);
    const bySummary = methods.filter((f) => frees(f.summary, (path) => path === 'r' || path.startsWith('r.'))).sort((a, b) => rank(a) - rank(b) || byDisplay(a, b))[0];
    const byName = methods.filter((f) => CLOSER_NAMES.includes(f.name)).sort((a, b) => rank(a) - rank(b))[0];
    const m = bySummary ?? byName;
    if (m) return { k: 'method', name: m.name };
    const fns = this.api.funcs.filter((f) => !f.inTest && !f.recv && f.params.length === 1 && this.objectType(f.params[0].type)?.name === type);
    const f =
      fns.filter((g) => frees(g.summary, (path) => path === 'p0' || path.startsWith('p0.'))).sort(byDisplay)[0] ??
      fns.filter((g) => CLOSER_NAMES.some((n) => g.name === `${n}${type}`)).sort(byDisplay)[0];
    return f ? { k: 'func', name: f.name } : undefined;
  }

  /** The method releases its receiver: it is the type's closer, or its summary frees the receiver. */
  private closesReceiver(fn: ApiFunc, recv: Maker): boolean {
    if (recv.closer?.k === 'method' && recv.closer.name === fn.name) return true;
    if (fn.params.length === 0 && CLOSER_NAMES.includes(fn.name)) return true;
    return frees(fn.summary, (path) => path === 'r' || path.startsWith('r.'));
  }

  /**
   * How to make values of a package type: its constructor (a function or a
   * method of another made type returning it), ranked NewT, OpenT, New, Open,
   * then fewer parameters; else, for a struct without C handles, its zero value.
   */
  private maker(type: string): Maker | undefined {
    if (this.makers.has(type)) return this.makers.get(type) ?? undefined;
    if (this.building.has(type)) return undefined;
    this.building.add(type);
    try {
      const m = this.findMaker(type);
      this.makers.set(type, m ?? null);
      return m;
    } finally {
      this.building.delete(type);
    }
  }

  private findMaker(type: string): Maker | undefined {
    const helper = `cgoguardWith${type.charAt(0).toUpperCase()}${type.slice(1)}`;
    const closer = this.closerOf(type);
    // A constructor returns the type, or an interface its return statements fill with the type.
    const made = (f: ApiFunc) => {
      const direct = f.results.findIndex((r) => this.objectType(r.type)?.name === type);
      if (direct >= 0) return { vi: direct, pointer: this.objectType(f.results[direct].type)!.pointer, asserted: false };
      const behind = f.results.findIndex((r) => this.isInterface(r.type) && r.returns.some((x) => x.name === type));
      return behind >= 0 ? { vi: behind, pointer: f.results[behind].returns.find((x) => x.name === type)!.pointer, asserted: true } : undefined;
    };
    const ranked = this.callable
      .filter((f) => !(f.recv?.type === type))
      .flatMap((f) => {
        const m = made(f);
        return m ? [{ f, ...m }] : [];
      })
      .sort((a, b) => ctorRank(a.f, type) - ctorRank(b.f, type) || a.f.params.length - b.f.params.length || byDisplay(a.f, b.f));
    // A constructor that wraps a C handle it is given (NewLanguage(ptr unsafe.Pointer)) would get only nil from a test.
    for (const { f, vi, pointer, asserted } of ranked.filter(({ f }) => !f.params.some((p) => holdsCHandle(p.type)))) {
      const ctorRecv = f.recv ? this.maker(f.recv.type) : undefined;
      if (f.recv && !ctorRecv) continue;
      const perParam: Arg[][] = [];
      let ok = true;
      for (const [i, p] of f.params.entries()) {
        const v = this.argValues(p, f.variadic && i === f.params.length - 1);
        if ('unsupported' in v || v.args.some((a) => a.k === 'object' && a.maker.type === type)) {
          ok = false;
          break;
        }
        // Constructors get real objects, never nil ones.
        perParam.push(v.args.filter((a, j) => !(j > 0 && a.k === 'expr' && a.text === 'nil' && v.args[0].k === 'object')));
      }
      if (!ok) continue;
      return {
        type: `${pointer ? '*' : ''}${type}`,
        pointer,
        helper,
        ctor: f,
        ...(ctorRecv ? { ctorRecv } : {}),
        ctorArgs: combinations(perParam, MAX_CTOR_TRIES),
        valueIndex: vi,
        asserted,
        errorIndex: errorIndex(f),
        ...(closer ? { closer } : {}),
        describe: f.display,
      };
    }
    const decl = this.types.get(type);
    if (decl && decl.underlying.k === 'struct' && !decl.underlying.fields.some((fl) => holdsCHandle(fl.type))) {
      const pointer = this.api.funcs.some((f) => f.recv?.type === type && f.recv.pointer);
      return { type: `${pointer ? '*' : ''}${type}`, pointer, helper, ctorArgs: [[]], valueIndex: 0, asserted: false, errorIndex: -1, ...(closer ? { closer } : {}), describe: `the zero value (${type} holds no C handle)` };
    }
    this.notes.push(`${this.api.importPath}: no constructor for ${type} (a function returning it whose arguments a test can build): its methods are skipped`);
    return undefined;
  }
}

function expr(text: string): Arg {
  return { k: 'expr', text };
}

function exported(name: string): boolean {
  return /^\p{Lu}/u.test(name);
}

function byDisplay(a: ApiFunc, b: ApiFunc): number {
  return a.display < b.display ? -1 : a.display > b.display ? 1 : 0;
}

function errorIndex(f: ApiFunc): number {
  const last = f.results.length - 1;
  return last >= 0 && f.results[last].type.k === 'basic' && (f.results[last].type as { name: string }).name === 'error' ? last : -1;
}

function ctorRank(f: ApiFunc, type: string): number {
  const order = [`New${type}`, `Open${type}`, 'New', 'Open', `Create${type}`, `Make${type}`];
  const i = order.indexOf(f.name);
  if (i >= 0) return i;
  return /^(New|Open|Create|Make)/.test(f.name) ? order.length : order.length + 1;
}

/** A field type that can hold a C handle: a C value or pointer, unsafe.Pointer, uintptr. */
function holdsCHandle(t: Ty): boolean {
  if (t.k === 'c' || t.k === 'unsafeptr') return true;
  if (t.k === 'basic') return t.name === 'uintptr';
  if (t.k === 'pointer' || t.k === 'array' || t.k === 'slice') return holdsCHandle(t.elem);
  return false;
}

function frees(s: Summary | undefined, match: (path: string, by: string) => boolean): boolean {
  return !!s?.cases.some((c) => c.effects.some((e) => e.k === 'freed' && match(e.path, e.by)));
}

/** The first value of every parameter, then each other value of one parameter at a time. */
export function combinations<T>(perParam: T[][], max: number): T[][] {
  const base = perParam.map((vs) => vs[0]);
  const out: T[][] = [base];
  for (const [i, vs] of perParam.entries()) {
    for (const v of vs.slice(1)) {
      if (out.length >= max) return out;
      out.push(base.map((b, j) => (j === i ? v : b)));
    }
  }
  return out;
}

function usesMaker(calls: Call[], m: Maker): boolean {
  return calls.some((c) => c.recv === m || c.args.some((a) => a.k === 'object' && a.maker === m));
}

/** Makers with those they need (as receivers of their constructors, or as arguments) first. */
function orderMakers(makers: Maker[]): Maker[] {
  const out: Maker[] = [];
  const seen = new Set<Maker>();
  const visit = (m: Maker) => {
    if (seen.has(m)) return;
    seen.add(m);
    for (const dep of dependencies(m)) visit(dep);
    out.push(m);
  };
  for (const m of [...makers].sort((a, b) => (a.helper < b.helper ? -1 : 1))) visit(m);
  return out;
}

function dependencies(m: Maker): Maker[] {
  const out = new Set<Maker>(m.ctorRecv ? [m.ctorRecv] : []);
  for (const args of m.ctorArgs) for (const a of args) if (a.k === 'object') out.add(a.maker);
  return [...out];
}

function describeFn(fn: ApiFunc): string {
  const calls = fn.cCalls.map((c) => `C.${c}`);
  const shown = calls.length > 6 ? `${calls.slice(0, 6).join(', ')} and ${calls.length - 6} more` : calls.join(', ');
  const owned = [...new Set((fn.summary?.cases ?? []).flatMap((c) => c.results.flatMap((r) => (r.k === 'owned' ? [`${r.what} (released by ${r.releasedBy.map((n) => `C.${n}`).join(' or ') || 'its caller'})`] : []))))];
  return `${fn.display} reaches ${shown}.${owned.length ? ` It returns C memory from ${owned.join(', ')}.` : ''}`;
}
