// One package, end to end: parse its files, build the model, run the
// dataflow engine over its functions callees-first, and turn the engine's
// events into findings. Runs in a worker thread or in the main thread.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Finding } from '../findings/finding.js';
import { foldSameLine } from '../findings/fold.js';
import { applySuppressions, type IgnoreDirective } from '../findings/suppress.js';
import { DEFAULT_BUDGET, type Budget, type FunctionResult, type SummaryLookup } from '../flow/base.js';
import type { DomainModule, Report } from '../flow/hooks.js';
import { Interpreter } from '../flow/interpreter.js';
import { carriesCMemory, type Summary, type SummaryCase } from '../flow/summary.js';
import { ContractSet, parseContract, type Contract } from '../model/contracts.js';
import { PackageModel, type FuncInfo, type Located } from '../model/program.js';
import { FuncTypes, Resolver, type ExternalIndex } from '../model/resolve.js';
import { forEachChildExpr, walkStmts } from '../syntax/walk.js';
import { parseDirective } from '../syntax/directives.js';
import { badDirective } from '../rules/bad-directive.js';
import { cAnalyzer } from '../rules/c-analyzer.js';
import { DEFAULT_C_BUDGET, type CAnalyzerResult, type CBudget, type CPlan, type PlannedUnit } from '../model/canalyzer.js';
import { CAnalysisRun } from './cunits.js';
import { Slots } from './slots.js';
import { DOMAINS } from '../rules/index.js';
import { convertBodies, convertGoFile } from '../syntax/goconvert.js';
import type { Tree } from 'web-tree-sitter';
import { CallIndex } from './relevance.js';
import { emptyStats, type PackageStats } from './package-stats.js';
import { describePackage, type PackageApi } from './package-api.js';
import { AnalysisCancelled, packageContext, type FunctionMemo } from './function-memo.js';
import { cgoFlags, preprocessPreamble } from '../model/cpreprocess.js';
import { inferredForPackage } from '../knowledge/package-facts.js';
import { usageContract, type UsageFact } from '../knowledge/usage.js';
import type { BuildContext } from '../syntax/buildtags.js';
import { NO_VAR, type Expr, type GoFile } from '../syntax/goast.js';
import { parseGo } from '../syntax/parser.js';

export interface PackageJob {
  importPath: string;
  name: string;
  dir: string;
  /** `text`, when given, is analysed instead of the file on disk (an editor's unsaved buffer, a fix being checked). */
  files: { path: string; display: string; text?: string }[];
  /** The package's .c and .h files. */
  cFiles: { path: string; display: string }[];
  /** Selects the `#cgo` flags that apply. */
  build: BuildContext;
  /** Analyse every function, not only those C memory can reach (robustness runs). */
  everyFunction?: boolean;
}

export type { PackageStats } from './package-stats.js';

export interface PackageResult {
  importPath: string;
  findings: Finding[];
  summaries: Summary[];
  stats: PackageStats;
  /** What went wrong on our side (never the user's fault). */
  problems: string[];
  /** Files that could not be read, with the reason. */
  unreadable: string[];
  /** Why preambles could not be preprocessed (distinct reasons). */
  preprocessProblems: string[];
  /** Why C units could not be compiled for clang's analyzer (distinct reasons). */
  cAnalyzerProblems: string[];
  /** Files with syntax errors: where the first one is (`path:line:col`). */
  syntaxErrors: string[];
  /** Functions given up on (analysis budget), with where they are. */
  skipped: string[];
  /** What the package offers to generated tests (when asked for with describeApi). */
  api?: PackageApi;
  /** The Go files as they were analysed: a digest of each text, so that fixes are never applied to a file that changed since. */
  sources: SourceDigest[];
  /** clang's units that ran out of time, and those left out. */
  cAnalyzer?: Pick<CAnalyzerResult, 'timeouts' | 'skipped'>;
}

export interface SourceDigest {
  /** Absolute path. */
  path: string;
  /** sha256 of the UTF-8 text, hex. */
  digest: string;
}

export function digestText(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

export interface AnalyzeOptions {
  /** From the config file and the packs it lists. */
  contracts: { text: string; origin: string }[];
  budget?: Budget;
  disabledRules: ReadonlySet<string>;
  /** Run clang's static analyzer on the C code (when clang is installed). */
  cAnalyzer?: boolean;
  /** What clang may spend, when analyzePackage runs it itself. */
  cBudget?: CBudget;
  /** The dataflow domains to run (all of them unless a test picks some). */
  domains?: readonly DomainModule[];
  /** Also describe the package's functions for `gen tests` (converts every body). */
  describeApi?: boolean;
  /** False: no contracts inferred from the library headers (only those given). */
  inferContracts?: boolean;
  /** Facts inferred from how the module's Go code uses C functions (knowledge/usage.ts). */
  usage?: UsageFact[];
  /** Results of earlier analyses of this package to reuse where nothing they depend on changed (the language server). */
  memo?: FunctionMemo;
  /** Polled between functions: true stops the analysis with AnalysisCancelled (a newer edit supersedes it). */
  cancelled?: () => boolean;
}

/** One package without clang's analyzer (analyzePackageWithC runs it too). */
export function analyzePackage(job: PackageJob, external: Summary[], opts: AnalyzeOptions): PackageResult {
  return completePackage(analyzeGoSide(job, external, { ...opts, cAnalyzer: false }), undefined);
}

/**
 * One package, Go side and C side: the Go side here, clang's analyzer in
 * `cRun` (a run of its own unless given), then the suppressions over both.
 */
export async function analyzePackageWithC(job: PackageJob, external: Summary[], opts: AnalyzeOptions, cRun?: CAnalysisRun): Promise<PackageResult> {
  const side = analyzeGoSide(job, external, opts);
  const c = side.cPlan ? await (cRun ?? new CAnalysisRun(opts.cBudget ?? DEFAULT_C_BUDGET, new Slots(1))).analyze(side.cPlan) : undefined;
  return completePackage(side, c);
}

/** A package analysed but for clang, whose units are in `cPlan` (when it is to run), and its suppressions not yet applied. */
export interface PackageSide {
  result: PackageResult;
  cPlan?: CPlan;
  directives: IgnoreDirective[];
  /** Lines of functions whose analysis was cut short: an ignore there may have matched. */
  uncertain: { file: string; from: number; to: number }[];
  disabledRules: string[];
}

/** Everything but clang's analyzer (which the caller runs where it likes, see cunits.ts). */
export function analyzeGoSide(job: PackageJob, external: Summary[], opts: AnalyzeOptions): PackageSide {
  const base = ContractSet.withBuiltins();
  for (const c of opts.contracts) base.add(parseContract(c.text, c.origin));
  const model = new PackageModel(job.importPath, job.name, base);
  if (opts.usage?.length) model.usageContracts = new Map(opts.usage.map((u) => [u.text.slice(0, u.text.indexOf(' ')), usageContract(u)]));
  const run = new PackageRun(model, external, opts);
  const trees = run.load(job);
  let cPlan: CPlan | undefined;
  try {
    if (job.everyFunction) {
      // Everything is converted at once, so the trees can go before the analysis.
      for (const { go, tree } of trees.splice(0)) {
        convertBodies(go, tree, () => true);
        tree.delete();
      }
      run.analyze(run.pkg.allFuncs(), []);
    } else {
      run.analyzeWhereCMemoryGoes(trees, new Set(external.filter(carriesCMemory).map((s) => s.key)));
    }
    run.packageChecks(trees);
    if (opts.cAnalyzer && !opts.disabledRules.has(cAnalyzer.id)) cPlan = run.cPlan(job);
    if (opts.describeApi) run.describe(trees);
  } finally {
    // The memo keeps its trees for the next analysis (parsed again only where edited).
    if (opts.memo) opts.memo.dropTrees(new Set(job.files.map((f) => f.path)));
    else for (const { tree } of trees) tree.delete();
  }
  return { ...run.side(job.importPath), ...(cPlan ? { cPlan } : {}) };
}

/** Adds clang's findings and counts to a package's Go side, and applies the suppressions to both. */
export function completePackage(side: PackageSide, c: CAnalyzerResult | undefined): PackageResult {
  const r = side.result;
  const stats = { ...r.stats };
  const findings = [...r.findings];
  const cAnalyzerProblems = [...r.cAnalyzerProblems];
  let cNotes: PackageResult['cAnalyzer'];
  if (c) {
    stats.cAnalyzed += c.analyzed;
    stats.cAnalyzerFailed += c.failed + c.timedOut;
    if (c.unavailable) stats.cAnalyzerUnavailable += side.cPlan?.units.length ?? 0;
    for (const p of c.problems) if (!cAnalyzerProblems.includes(p)) cAnalyzerProblems.push(p);
    cNotes = { timeouts: c.timeouts, skipped: c.skipped };
    for (const f of c.findings) {
      findings.push({
        rule: cAnalyzer.id,
        severity: cAnalyzer.severity,
        message: `${f.message} [${f.checker}]`,
        file: f.file,
        line: f.line,
        column: f.column,
        endLine: f.line,
        endColumn: f.column,
        function: '',
        trace: f.trace,
        // clang reasons path by path inside C, without what Go does around the call.
        confidence: 'medium',
      });
    }
  }
  const kept = applySuppressions(findings, side.directives, {
    disabled: new Set(side.disabledRules),
    uncertain: (file, line) => side.uncertain.some((u) => u.file === file && line >= u.from && line <= u.to + 1),
  });
  return { ...r, findings: kept, stats, cAnalyzerProblems, ...(cNotes ? { cAnalyzer: cNotes } : {}) };
}

/** The state of one package's analysis. */
class PackageRun {
  readonly stats: PackageStats = emptyStats();
  readonly preprocessProblems = new Set<string>();
  readonly problems: string[] = [];
  readonly unreadable: string[] = [];
  readonly syntaxErrors: string[] = [];
  readonly skipped: string[] = [];
  readonly sources: SourceDigest[] = [];
  private api?: PackageApi;
  private readonly findings: Finding[] = [];
  private readonly directives: IgnoreDirective[] = [];
  private readonly lookup: SummaryTable;
  private readonly domains: readonly DomainModule[];
  private readonly resolver: Resolver;
  private readonly done = new Set<FuncInfo>();
  /** For the memo: what every function's result depends on besides its own text and its callees. */
  private context = '';
  /** Lines of functions whose analysis was cut short: an ignore there may have matched. */
  private readonly uncertain: PackageSide['uncertain'] = [];

  constructor(
    readonly pkg: PackageModel,
    private readonly external: Summary[],
    private readonly opts: AnalyzeOptions,
  ) {
    this.lookup = new SummaryTable(external);
    this.domains = opts.domains ?? DOMAINS;
    this.resolver = new Resolver(pkg, this.lookup);
  }

  /** Reads and parses the files and converts their declarations; the trees stay alive for the bodies. */
  load(job: PackageJob): LoadedFile[] {
    const trees: LoadedFile[] = [];
    const preambles: string[] = [];
    // The package's C files: those with contract directives now, the others
    // when a definition is first looked for (most checks never need them).
    const later: { display: string; text: string }[] = [];
    const cTexts: { display: string; text: string }[] = [];
    for (const f of job.cFiles) {
      const text = this.read(f);
      if (text === undefined) continue;
      cTexts.push({ display: f.display, text });
      if (/cgoguard:contract\b/.test(text)) this.pkg.addCFile(f.display, text);
      else later.push({ display: f.display, text });
    }
    if (later.length) this.pkg.cFileLoader = () => later.forEach((f) => this.pkg.addCFile(f.display, f.text));
    for (const f of job.files) {
      const text = f.text ?? this.read(f);
      if (text === undefined) continue;
      this.sources.push({ path: f.path, digest: digestText(text) });
      this.stats.files++;
      this.stats.bytes += Buffer.byteLength(text);
      const tree = this.opts.memo ? this.opts.memo.parse(f.path, text) : parseGo(text);
      const go = convertGoFile(f.path, text, tree);
      trees.push({ go, tree });
      this.stats.syntaxErrors += go.syntaxErrors.length;
      const sf = this.pkg.addFile(go, f.display);
      if (go.syntaxErrors.length) {
        const at = sf.lines.position(go.syntaxErrors[0].pos);
        this.syntaxErrors.push(`${f.display}:${at.line}:${at.column}`);
      }
      if (go.preamble) preambles.push(go.preamble.text);
      // Only directives: the suppressions are applied on the main thread, after clang.
      for (const c of go.comments) {
        if (!parseDirective(c.text)) continue;
        const p = sf.lines.position(c.pos);
        this.directives.push({ file: f.display, line: p.line, column: p.column, endColumn: sf.lines.position(c.end).column, text: c.text });
      }
    }
    if (preambles.length) {
      this.pkg.headerLoader = () => this.readHeaders(preambles, job);
      if (this.opts.inferContracts !== false) this.pkg.inferredLoader = () => inferredForPackage(preambles, job.dir, cgoFlags(preambles.join('\n'), job.dir, job.build));
    }
    if (this.opts.memo) this.context = packageContext(job, this.pkg.files.map((f) => f.go), cTexts, this.external, this.opts);
    this.stats.functions = this.pkg.allFuncs().filter((f) => f.decl.hasBody).length;
    for (const p of this.pkg.directiveProblems) this.findings.push(findingAt(p.file, p.pos, p.end, badDirective.id, badDirective.severity, p.message, ''));
    return trees;
  }

  private read(f: { path: string; display: string }): string | undefined {
    try {
      return readFileSync(f.path, 'utf8');
    } catch (e) {
      this.stats.unreadable++;
      this.unreadable.push(`${f.display}: cannot read (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
      return undefined;
    }
  }

  /**
   * The headers the preambles include, through the C preprocessor, when the
   * analysis first needs a declaration the package does not make itself: one
   * run for the package (the preprocessor does not mind definitions twice).
   */
  private readHeaders(preambles: string[], job: PackageJob): string | undefined {
    const all = preambles.join('\n');
    const pre = preprocessPreamble(all, job.dir, cgoFlags(all, job.dir, job.build));
    if (pre.text !== undefined) this.stats.headersRead++;
    else if (pre.problem) {
      this.stats.headersUnavailable++;
      this.preprocessProblems.add(pre.problem);
    }
    return pre.text;
  }

  /**
   * Analyses the functions that handle C memory and their direct callees,
   * then, round by round, the callers of any function whose summary shows
   * that C memory crosses its boundary. Everything else cannot have findings.
   */
  analyzeWhereCMemoryGoes(trees: LoadedFile[], carriers: ReadonlySet<string>): void {
    const index = new CallIndex(this.pkg, carriers);
    let batch = index.seeds();
    while (batch.length) {
      const next = [...batch, ...index.calleesOf(batch)].filter((f) => !this.done.has(f));
      const newCarriers = this.analyze(next, trees).filter((f) => {
        const s = this.lookup.get(f.key);
        return s !== undefined && carriesCMemory(s);
      });
      batch = index.callersOf(newCarriers).filter((f) => !this.done.has(f));
    }
  }

  /** Converts the bodies of `funcs` and analyses them callees first. Returns those analysed. */
  analyze(funcs: FuncInfo[], trees: LoadedFile[]): FuncInfo[] {
    // With a memo, a body is converted only when its function must be analysed again; what it calls is kept.
    const memo = this.opts.memo;
    const known = new Map<string, Calls>();
    if (memo) {
      for (const f of funcs) {
        if (f.decl.bodyConverted || !f.decl.hasBody || this.done.has(f)) continue;
        const c = memo.callsOf(f.key, this.context, this.textOf(f));
        if (c) known.set(f.key, c);
      }
    }
    const wanted = new Set(funcs.filter((f) => !known.has(f.key)).map((f) => f.decl));
    for (const { go, tree } of trees) convertBodies(go, tree, (d) => wanted.has(d));
    const todo = funcs.filter((f) => (f.decl.bodyConverted || known.has(f.key)) && !this.done.has(f));
    const calls = new Map(
      todo.map((f) => {
        let c = known.get(f.key);
        if (!c) {
          c = callsOf(f, this.resolver);
          memo?.storeCalls(f.key, this.context, this.textOf(f), c);
        }
        return [f.key, c];
      }),
    );
    for (const scc of sccOrder(todo, calls)) {
      const results: Summary[] = [];
      for (const fn of scc) {
        if (this.opts.cancelled?.()) throw new AnalysisCancelled();
        const s = this.analyzeFunction(fn, calls.get(fn.key)!, trees);
        if (s) results.push(s);
      }
      // Members of a cycle see each other's summaries only after the whole cycle ran.
      for (const s of results) this.lookup.set(s);
    }
    return todo;
  }

  private textOf(fn: FuncInfo): string {
    return fn.file.go.text.slice(fn.decl.pos, fn.decl.end);
  }

  private analyzeFunction(fn: FuncInfo, c: Calls, trees: LoadedFile[]): Summary | undefined {
    this.done.add(fn);
    // Paths are told apart only where C memory is handled; elsewhere joined states summarise the function.
    const pathSensitive =
      c.touchesC ||
      [...c.callees].some((k) => {
        const s = this.lookup.get(k);
        return s !== undefined && carriesCMemory(s);
      });
    let r: FunctionResult;
    const memo = this.opts.memo;
    const probe = memo && { context: this.context, file: fn.file.display, pos: fn.decl.pos, text: this.textOf(fn), pathSensitive };
    const kept = memo && probe && memo.lookup(fn.key, probe, this.lookup);
    try {
      if (kept) r = kept;
      else {
        if (!fn.decl.bodyConverted) for (const { go, tree } of trees) if (go === fn.file.go) convertBodies(go, tree, (d) => d === fn.decl);
        const lookup = memo ? memo.recording(this.lookup) : this.lookup;
        r = new Interpreter(fn, this.resolver, lookup, this.domains, this.opts.budget ?? DEFAULT_BUDGET, pathSensitive).run();
        if (memo && probe && 'consulted' in lookup) memo.store(fn.key, probe, lookup.consulted, r);
      }
    } catch (e) {
      // A bug of ours must not cost the rest of the package its findings.
      this.problems.push(`internal error in ${fn.display} (${fn.file.display}): ${e instanceof Error ? e.message : String(e)}`);
      r = { reports: [], status: 'aborted' };
    }
    this.stats.analyzed++;
    if (r.status !== 'complete') {
      if (r.status === 'partial') this.stats.partial++;
      else {
        this.stats.aborted++;
        this.skipped.push(`${fn.display} (${fn.file.display}:${fn.file.lines.lineOf(fn.decl.pos)})`);
      }
      this.uncertain.push({ file: fn.file.display, from: fn.file.lines.lineOf(fn.decl.pos), to: fn.file.lines.lineOf(fn.decl.end) });
    }
    for (const e of r.reports) this.report(fn, e);
    return fn.contract ? summaryFromContract(fn, fn.contract, this.resolver, r.summary) : r.summary;
  }

  private report(fn: FuncInfo, r: Report): void {
    const f = findingAt(fn.file, r.pos, r.end, r.rule.id, r.rule.severity, r.message, fn.display);
    f.trace = r.trace;
    f.confidence = r.confidence ?? 'high';
    this.findings.push(f);
  }

  /**
   * The domains' checks over the whole package, after the dataflow (finalizers
   * and cleanups against the functions that hand their memory to C, Pinners
   * copied). The functions that mention C or a check's trigger are looked at.
   */
  packageChecks(trees: LoadedFile[]): void {
    const checks = this.domains.flatMap((d) => (d.packageCheck ? [d.packageCheck] : []));
    const due = checks.filter((c) => this.pkg.files.some((f) => c.trigger.test(f.go.text)));
    if (!due.length) return;
    const everyBody = due.some((c) => c.everyBody);
    const wanted = new Set(
      this.pkg
        .allFuncs()
        .filter((f) => {
          if (everyBody) return true;
          const body = f.decl.bodySpan && f.file.go.text.slice(f.decl.bodySpan.pos, f.decl.bodySpan.end);
          return body !== undefined && (/\bC\.[A-Za-z_]/.test(body) || checks.some((c) => c.trigger.test(body)));
        })
        .map((f) => f.decl),
    );
    for (const { go, tree } of trees) convertBodies(go, tree, (d) => wanted.has(d));
    const funcs = this.pkg.allFuncs().filter((f) => f.decl.bodyConverted);
    try {
      for (const c of due) for (const { fn, report } of c.run(funcs, this.resolver)) this.report(fn, report);
    } catch (e) {
      this.problems.push(`internal error in the package checks of ${this.pkg.importPath}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  /** What clang's analyzer is to run on: the preambles that define C functions, and the .c files. */
  cPlan(job: PackageJob): CPlan | undefined {
    const units: PlannedUnit[] = [];
    const preambles: string[] = [];
    const exportPreambles: string[] = [];
    for (const f of this.pkg.files) {
      const pre = f.go.preamble;
      if (!pre) continue;
      preambles.push(pre.text);
      if (/^\/\/export /m.test(f.go.text)) exportPreambles.push(pre.text);
      // Only definitions have bugs to find: a function body after a parameter list.
      if (/\)\s*\{/.test(pre.text)) units.push({ k: 'preamble', display: f.display, goText: f.go.text, text: pre.text, lineOffsets: pre.lineOffsets });
    }
    for (const c of job.cFiles) if (c.path.endsWith('.c')) units.push({ k: 'c', display: c.display, path: c.path });
    if (!units.length) return undefined;
    const all = preambles.join('\n');
    return { dir: job.dir, flags: cgoFlags(all, job.dir, job.build), exportPreambles, units };
  }

  /** The package's functions as generated tests see them (every body is converted for it). */
  describe(trees: LoadedFile[]): void {
    for (const { go, tree } of trees) convertBodies(go, tree, () => true);
    try {
      this.api = describePackage(this.pkg, this.resolver, new Map(this.lookup.local().map((s) => [s.key, s])));
    } catch (e) {
      this.problems.push(`internal error while describing ${this.pkg.importPath}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  /** What the package's Go side found, before the suppressions (which wait for clang's findings). */
  side(importPath: string): PackageSide {
    // Only exported functions and methods can be called from other packages.
    const exported = this.lookup.local().filter((x) => /^\p{Lu}/u.test(x.key.slice(x.key.lastIndexOf('.') + 1)));
    return {
      result: {
        importPath,
        findings: foldSameLine(this.findings),
        summaries: exported,
        stats: this.stats,
        problems: this.problems,
        unreadable: this.unreadable,
        preprocessProblems: [...this.preprocessProblems],
        cAnalyzerProblems: [],
        syntaxErrors: this.syntaxErrors,
        skipped: this.skipped,
        sources: this.sources,
        ...(this.api ? { api: this.api } : {}),
      },
      directives: this.directives,
      uncertain: this.uncertain,
      disabledRules: [...this.opts.disabledRules],
    };
  }
}

interface LoadedFile {
  go: GoFile;
  tree: Tree;
}

function findingAt(file: Located, pos: number, end: number, rule: string, severity: Finding['severity'], message: string, fn: string): Finding {
  const a = file.lines.position(pos);
  const b = file.lines.position(Math.max(end, pos));
  return { rule, severity, message, file: file.display, line: a.line, column: a.column, endLine: b.line, endColumn: b.column, function: fn, trace: [], confidence: 'high' };
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

/**
 * A summary stated by a `cgoguard:contract` directive on a Go function. Which
 * C function does the releasing comes from the analysed body when it says so;
 * otherwise it is left unknown (no mismatch can be claimed).
 */
function summaryFromContract(fn: FuncInfo, c: Contract, resolver: Resolver, analysed: Summary | undefined): Summary {
  const releaser = (path: string): string => {
    for (const cs of analysed?.cases ?? []) for (const e of cs.effects) if (e.k === 'freed' && e.path === path) return e.by;
    return '';
  };
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
      ...c.releases.map((i) => ({ k: 'freed' as const, path: `p${i}`, by: releaser(`p${i}`), steps: [step] })),
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
