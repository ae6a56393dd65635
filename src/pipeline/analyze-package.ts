// One package, end to end: parse its files, build the model, run the
// dataflow engine over its functions callees-first, and turn the engine's
// events into findings. Runs in a worker thread or in the main thread.
import { readFileSync } from 'node:fs';
import type { Finding } from '../findings/finding.js';
import { applySuppressions, type IgnoreDirective } from '../findings/suppress.js';
import { DEFAULT_BUDGET, FunctionAnalyzer, type Budget, type FunctionResult, type SummaryLookup } from '../flow/engine.js';
import { carriesCMemory, type Summary, type SummaryCase } from '../flow/summary.js';
import { ContractSet, parseContract, type Contract } from '../model/contracts.js';
import { PackageModel, type FuncInfo, type SourceFile } from '../model/program.js';
import { FuncTypes, Resolver, type ExternalIndex } from '../model/resolve.js';
import { forEachChildExpr, walkStmts } from '../syntax/walk.js';
import { badDirective } from '../rules/bad-directive.js';
import { FLOW_RULES } from '../rules/index.js';
import { convertGoFile } from '../syntax/goconvert.js';
import { NO_VAR, type Expr } from '../syntax/goast.js';
import { parseGo } from '../syntax/parser.js';

export interface PackageJob {
  importPath: string;
  name: string;
  files: { path: string; display: string }[];
}

export interface PackageStats {
  files: number;
  bytes: number;
  functions: number;
  analyzed: number;
  partial: number;
  aborted: number;
  syntaxErrors: number;
  unreadable: number;
}

export interface PackageResult {
  importPath: string;
  findings: Finding[];
  summaries: Summary[];
  stats: PackageStats;
  /** Files that could not be read, with the reason. */
  problems: string[];
}

export interface AnalyzeOptions {
  contracts: string[]; // from the config file
  budget?: Budget;
  disabledRules: ReadonlySet<string>;
}

export function analyzePackage(job: PackageJob, external: Summary[], opts: AnalyzeOptions): PackageResult {
  const stats: PackageStats = { files: 0, bytes: 0, functions: 0, analyzed: 0, partial: 0, aborted: 0, syntaxErrors: 0, unreadable: 0 };
  const problems: string[] = [];
  const base = ContractSet.withBuiltins();
  for (const c of opts.contracts) base.add(parseContract(c, 'cgoguard.yaml'));
  const pkg = new PackageModel(job.importPath, job.name, base);
  const directives: IgnoreDirective[] = [];
  for (const f of job.files) {
    let text: string;
    try {
      text = readFileSync(f.path, 'utf8');
    } catch (e) {
      stats.unreadable++;
      problems.push(`${f.display}: ${(e as NodeJS.ErrnoException).code ?? 'unreadable'}`);
      continue;
    }
    stats.files++;
    stats.bytes += Buffer.byteLength(text);
    const tree = parseGo(text);
    let go;
    try {
      go = convertGoFile(f.path, text, tree, () => true);
    } finally {
      tree.delete();
    }
    stats.syntaxErrors += go.syntaxErrors.length;
    const sf = pkg.addFile(go, f.display);
    for (const c of go.comments) {
      const p = sf.lines.position(c.pos);
      const endCol = sf.lines.position(c.end).column;
      directives.push({ file: f.display, line: p.line, column: p.column, endColumn: endCol, text: c.text });
    }
  }

  const findings: Finding[] = [];
  for (const p of pkg.directiveProblems) findings.push(findingAt(p.file, p.pos, p.end, badDirective.id, badDirective.severity, p.message, ''));

  const lookup = new SummaryTable(external);
  const resolver = new Resolver(pkg, lookup);
  const funcs = pkg.allFuncs().filter((f) => f.decl.bodyConverted);
  stats.functions = funcs.length;
  const uncertain: { file: string; from: number; to: number }[] = [];
  const calls = new Map(funcs.map((f) => [f.key, callsOf(f, resolver)]));
  for (const scc of sccOrder(funcs, calls)) {
    const results: Summary[] = [];
    for (const fn of scc) {
      // Paths are told apart only where C memory is handled; elsewhere joined states summarise the function.
      const c = calls.get(fn.key)!;
      const pathSensitive = c.touchesC || [...c.callees].some((k) => {
        const s = lookup.get(k);
        return s !== undefined && carriesCMemory(s);
      });
      let r: FunctionResult;
      const t0 = performance.now();
      try {
        r = new FunctionAnalyzer(fn, resolver, lookup, opts.budget ?? DEFAULT_BUDGET, pathSensitive).run();
      } catch (e) {
        // A bug of ours must not cost the rest of the package its findings.
        problems.push(`internal error in ${fn.display} (${fn.file.display}): ${e instanceof Error ? e.message : String(e)}`);
        r = { events: [], status: 'aborted' };
      }
      if (process.env.CGOGUARD_PROFILE) process.stderr.write(`PROFILE ${(performance.now() - t0).toFixed(0)}ms ${fn.display} ${r.status} ${r.summary?.cases.length ?? '-'}\n`);
      stats.analyzed++;
      if (r.status !== 'complete') {
        if (r.status === 'partial') stats.partial++;
        else stats.aborted++;
        uncertain.push({ file: fn.file.display, from: fn.file.lines.lineOf(fn.decl.pos), to: fn.file.lines.lineOf(fn.decl.end) });
      }
      for (const e of r.events) {
        for (const rule of FLOW_RULES) {
          const rep = rule.check(e);
          if (!rep) continue;
          const f = findingAt(fn.file, rep.pos, rep.end, rule.meta.id, rule.meta.severity, rep.message, fn.display);
          f.trace = e.trace;
          findings.push(f);
        }
      }
      const declared = fn.contract ? summaryFromContract(fn, fn.contract, resolver) : undefined;
      const s = declared ?? r.summary;
      if (s) results.push(s);
    }
    // Members of a cycle see each other's summaries only after the whole cycle ran.
    for (const s of results) lookup.set(s);
  }
  const kept = applySuppressions(findings, directives, {
    disabled: opts.disabledRules,
    uncertain: (file, line) => uncertain.some((u) => u.file === file && line >= u.from && line <= u.to + 1),
  });
  // Only exported functions and methods can be called from other packages.
  const exported = lookup.local().filter((x) => /^\p{Lu}/u.test(x.key.slice(x.key.lastIndexOf('.') + 1)));
  return { importPath: job.importPath, findings: kept, summaries: exported, stats, problems };
}

function findingAt(file: SourceFile, pos: number, end: number, rule: string, severity: Finding['severity'], message: string, fn: string): Finding {
  const a = file.lines.position(pos);
  const b = file.lines.position(Math.max(end, pos));
  return { rule, severity, message, file: file.display, line: a.line, column: a.column, endLine: b.line, endColumn: b.column, function: fn, trace: [] };
}

/** Summaries of this package (as they are computed) over those of packages analysed before it. */
class SummaryTable implements SummaryLookup, ExternalIndex {
  private readonly ext = new Map<string, Summary>();
  private readonly own = new Map<string, Summary>();
  constructor(external: Summary[]) {
    for (const s of external) this.ext.set(s.key, s);
  }
  get(key: string): Summary | undefined {
    return this.own.get(key) ?? this.ext.get(key);
  }
  set(s: Summary): void {
    this.own.set(s.key, s);
  }
  signature(key: string) {
    const s = this.get(key);
    return s ? { params: s.params, results: s.results } : undefined;
  }
  local(): Summary[] {
    return [...this.own.values()];
  }
}

/** A summary stated by a `cgoguard:contract` directive on a Go function. */
function summaryFromContract(fn: FuncInfo, c: Contract, resolver: Resolver): Summary {
  const sig = resolver.funcSignature(fn);
  const origin = `${fn.file.display}:${fn.file.lines.lineOf(fn.decl.pos)}`;
  const step = { file: fn.file.display, line: fn.file.lines.lineOf(fn.decl.pos), column: 1, message: `contract of ${fn.display} (${origin})` };
  const cs: SummaryCase = {
    results: sig.results.map((_, i) =>
      i === 0 && c.returns?.kind === 'owned'
        ? { k: 'owned', what: fn.display, releasedBy: c.returns.releasedBy, nullable: true, steps: [step] }
        : { k: 'unknown' },
    ),
    effects: [
      ...c.releases.map((i) => ({ k: 'freed' as const, path: `p${i}`, by: 'free', steps: [step] })),
      ...c.takes.map((i) => ({ k: 'moved' as const, path: `p${i}` })),
    ],
  };
  return { key: fn.key, display: fn.display, cases: [cs], params: sig.params, results: sig.results, variadic: fn.decl.ir.variadic, partial: false };
}

/** Functions grouped in strongly connected components of the call graph, callees first. */
function sccOrder(funcs: FuncInfo[], calls: Map<string, Calls>): FuncInfo[][] {
  const byKey = new Map(funcs.map((f) => [f.key, f]));
  const edges = new Map<string, string[]>();
  for (const f of funcs) edges.set(f.key, [...calls.get(f.key)!.callees].filter((k) => byKey.has(k) && k !== f.key));
  // Tarjan's algorithm, iterative.
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const out: FuncInfo[][] = [];
  for (const start of funcs.map((f) => f.key)) {
    if (idx.has(start)) continue;
    const work: [string, number][] = [[start, 0]];
    while (work.length) {
      const top = work[work.length - 1];
      const [v, i] = top;
      if (i === 0) {
        idx.set(v, index);
        low.set(v, index);
        index++;
        stack.push(v);
        onStack.add(v);
      }
      const succ = edges.get(v)!;
      if (i < succ.length) {
        top[1]++;
        const w = succ[i];
        if (!idx.has(w)) work.push([w, 0]);
        else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
        continue;
      }
      work.pop();
      if (work.length) {
        const parent = work[work.length - 1][0];
        low.set(parent, Math.min(low.get(parent)!, low.get(v)!));
      }
      if (low.get(v) === idx.get(v)) {
        const comp: FuncInfo[] = [];
        let w: string;
        do {
          w = stack.pop()!;
          onStack.delete(w);
          comp.push(byKey.get(w)!);
        } while (w !== v);
        out.push(comp);
      }
    }
  }
  return out;
}

interface Calls {
  /** Keys of the functions and methods it may call (here and in other packages). */
  callees: Set<string>;
  /** It names something from cgo (C.x). */
  touchesC: boolean;
}

function callsOf(f: FuncInfo, resolver: Resolver): Calls {
  const types = new FuncTypes(resolver, f);
  const out = new Set<string>();
  let touchesC = false;
  const visit = (e: Expr): void => {
    if (e.k === 'sel' && e.x.k === 'ident' && e.x.v === NO_VAR && e.x.name === 'C') touchesC = true;
    if (e.k === 'sel' && e.x.k === 'ident' && e.x.v === NO_VAR) {
      const imp = f.file.imports.get(e.x.name);
      if (imp) out.add(`${imp}.${e.name}`);
    }
    if (e.k === 'call') {
      const fun = e.fun.k === 'paren' ? e.fun.x : e.fun;
      if (fun.k === 'ident' && fun.v < 0) {
        const g = resolver.pkg.funcs.get(fun.name);
        if (g) out.add(g.key);
      } else if (fun.k === 'sel') {
        const m = resolver.method(types.exprType(fun.x), fun.name);
        if (m) out.add(m.key);
      }
    }
    if (e.k === 'funclit') {
      walkStmts(e.fn.body, visit);
      return;
    }
    forEachChildExpr(e, visit);
  };
  walkStmts(f.decl.ir.body, visit);
  return { callees: out, touchesC };
}
