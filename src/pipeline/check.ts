// `cgoguard check`: discover packages, analyse them in dependency order
// (worker threads when there is enough to do), apply the configuration, and
// return findings in a stable order.
import path from 'node:path';
import { tagConfigurations } from '../workspace/configurations.js';
import { readText } from '../model/read-text.js';
import { availableParallelism } from 'node:os';
import { compareFindings, type CheckStats, type Finding } from '../findings/finding.js';
import { carriesCMemory, type Summary } from '../flow/summary.js';
import { ALL_RULES } from '../rules/index.js';
import { initParsers } from '../syntax/parser.js';
import type { Config } from '../workspace/config.js';
import { discover, type DiscoveredPackage } from '../workspace/discover.js';
import type { BuildContext } from '../syntax/buildtags.js';
import type { AnalyzeOptions, PackageJob, PackageResult, PackageSide } from './analyze-package.js';
import { emptyStats } from './package-stats.js';
import type { SkippedUnit } from '../model/canalyzer.js';
import { cacheRoot, setCacheEnabled } from '../model/cachestore.js';
import { readResult, resultKey, writeResult } from './result-cache.js';
import { runDependencies, type RunDependencies } from './run-inputs.js';
import { inferFromUsage } from '../knowledge/usage.js';
import { CAnalysisRun, cAnalyzerNotes } from './cunits.js';
import { Slots } from './slots.js';
import type { PackageApi } from './package-api.js';
import { WorkerPool } from './pool.js';
import { Interrupted } from '../dynamic/processes.js';

export interface CheckOptions {
  cwd: string;
  patterns: string[];
  config: Config;
  tags: string[];
  tests: boolean;
  /** Worker threads; 0 picks from the machine. */
  jobs: number;
  /** Only these rules (from --rules). */
  only?: ReadonlySet<string>;
  /** Rules switched off on the command line. */
  disable?: ReadonlySet<string>;
  /** Analyse every function of every package (robustness and benchmarks). */
  forceAll?: boolean;
  /** Walk every .go file, testdata and all, whatever its build constraints. */
  everyFile?: boolean;
  /** Run clang's static analyzer on the C code (default: when clang is installed). */
  cAnalyzer?: boolean;
  /** False: only list the packages (the run-time commands without their static check). */
  analyze?: boolean;
  /**
   * Aborted when the user interrupts: the check stops at once (Interrupted).
   * The analysis then runs on worker threads even for one package, so that
   * the main thread is free to hear the signal.
   */
  signal?: AbortSignal;
  /** Also describe each analysed package's functions (for gen tests). */
  describeApi?: boolean;
  /** Texts to analyse instead of the files on disk, by absolute path (fixes being verified). */
  overlay?: ReadonlyMap<string, string>;
  /** False: no cache is read or written (--no-cache). */
  cache?: boolean;
  /** Told as packages are checked and clang's units run. */
  progress?: (p: CheckProgress) => void;
}

/** How far a check is. */
export interface CheckProgress {
  packagesDone: number;
  packagesTotal: number;
  /** The C units clang is analysing now, and how many it has done and has still to do. */
  clangRunning: string[];
  clangDone: number;
  clangQueued: number;
}

export interface CheckResult {
  findings: Finding[];
  stats: CheckStats;
  notes: string[];
  /** Go files that could not be read: the check is incomplete. */
  unreadable: string[];
  /** Go files that could not be parsed (in full): `path:line:col: why`. The check is incomplete. */
  unparsable: string[];
  /** The packages the patterns named. */
  packages: DiscoveredPackage[];
  /** With describeApi: the analysed packages' functions. */
  apis: PackageApi[];
  /** Digests of the Go files as they were analysed, by absolute path. */
  sources: Map<string, string>;
  /** What the run read, for the run cache; absent when the run would not come out the same again (clang left units for later). */
  dependencies?: RunDependencies;
}

export async function runCheck(opts: CheckOptions): Promise<CheckResult> {
  const found = await discover(opts.patterns, {
    cwd: opts.cwd,
    tags: opts.tags,
    tests: opts.tests,
    excluded: opts.config.excluded,
    everyFile: opts.everyFile,
  });
  if (opts.signal?.aborted) throw new Interrupted('the static check');
  setCacheEnabled(opts.cache !== false);
  const notes = [...found.notes];
  const unreadable = [...found.unreadable];
  const unparsable = [...found.unparsable];
  const disabled = disabledRules(opts);
  const usage = opts.analyze === false ? [] : inferFromUsage(cgoSources(found.packages, opts.overlay));
  const analyzeOpts: AnalyzeOptions = { contracts: opts.config.contracts, usage, disabledRules: disabled, cAnalyzer: (opts.cAnalyzer ?? true) && !opts.config.cAnalyzer.off, describeApi: opts.describeApi };
  // Files behind custom build tags, each tag set a configuration of its own (unless tags were named).
  const configured = opts.analyze === false || opts.tags.length ? [] : withConfigurations(found.packages, found.build, opts.tests);
  const results = opts.analyze === false ? [] : await analyzeAll([...found.packages, ...configured.map((c) => c.pkg)], analyzeOpts, opts, found.build);
  const gatedBy = new Map(configured.map((c) => [c.pkg.importPath, c]));
  /** Findings of a file two configurations build, reported once. */
  const seenInConfigs = new Set<string>();
  const findingKey = (f: Finding) => `${f.rule}|${f.file}|${f.line}|${f.column}|${f.message}`;
  const stats: CheckStats = {
    packages: found.packages.length,
    packagesAnalyzed: results.length,
    files: 0,
    bytes: 0,
    functions: 0,
    functionsAnalyzed: 0,
    functionsPartial: 0,
    functionsSkipped: 0,
    syntaxErrors: 0,
    cHeadersRead: 0,
    cHeadersUnavailable: 0,
    cAnalyzed: 0,
    cAnalyzerFailed: 0,
    discovery: [...new Set(found.packages.map((p) => p.source))].sort().join('+') || 'none',
  };
  const findings: Finding[] = [];
  const preprocessProblems = new Set<string>();
  const cAnalyzerProblems = new Set<string>();
  let cNotAnalyzed = 0;
  const skipped: string[] = [];
  const cTimeouts: string[] = [];
  const cSkipped: SkippedUnit[] = [];
  // Configurations in their order (fewest tags first): a file two of them build is reported from the first.
  const rank = new Map(configured.map((c, i) => [c.pkg.importPath, i + 1]));
  const ordered = [...results].sort((a, b) => (rank.get(a.importPath) ?? 0) - (rank.get(b.importPath) ?? 0));
  for (const r of ordered) {
    stats.files += r.stats.files;
    stats.bytes += r.stats.bytes;
    stats.functions += r.stats.functions;
    stats.functionsAnalyzed += r.stats.analyzed;
    stats.functionsPartial += r.stats.partial;
    stats.functionsSkipped += r.stats.aborted;
    stats.syntaxErrors += r.stats.syntaxErrors;
    stats.cHeadersRead += r.stats.headersRead;
    stats.cHeadersUnavailable += r.stats.headersUnavailable;
    stats.cAnalyzed += r.stats.cAnalyzed;
    stats.cAnalyzerFailed += r.stats.cAnalyzerFailed;
    cNotAnalyzed += r.stats.cAnalyzerUnavailable;
    for (const p of r.preprocessProblems) preprocessProblems.add(p);
    for (const p of r.cAnalyzerProblems) cAnalyzerProblems.add(p);
    for (const t of r.cAnalyzer?.timeouts ?? []) if (!cTimeouts.includes(t)) cTimeouts.push(t);
    // A configuration sees the package's C and functions again: each is said once.
    for (const u of r.cAnalyzer?.skipped ?? []) if (!cSkipped.some((x) => x.display === u.display && x.why === u.why)) cSkipped.push(u);
    for (const n of r.problems) if (!notes.includes(n)) notes.push(n);
    for (const u of r.unreadable) if (!unreadable.includes(u)) unreadable.push(u);
    for (const x of r.skipped) if (!skipped.includes(x)) skipped.push(x);
    for (const at of r.syntaxErrors) {
      // go list may have said why already, with its own position.
      const file = at.replace(/:\d+:\d+$/, '');
      if (!unparsable.some((u) => u.startsWith(`${file}:`))) unparsable.push(`${at}: syntax error (what parses is still analysed)`);
    }
    const config = gatedBy.get(r.importPath);
    for (const found of r.findings) {
      // A configuration reports what is in the files only it builds; the rest is the default build's.
      if (config && (!config.gated.has(found.file) || seenInConfigs.has(findingKey(found)))) continue;
      if (config) seenInConfigs.add(findingKey(found));
      // At most medium: a build made with tags the package documents for tests, debugging or one platform may never ship.
      const f = config
        ? { ...found, confidence: found.confidence === 'low' ? ('low' as const) : ('medium' as const), trace: [{ file: found.file, line: found.line, column: found.column, message: `${found.file} is left out of the default build: checked with -tags ${(config.gated.get(found.file) ?? config.tags).join(',')}` }, ...found.trace] }
        : found;
      if (disabled.has(f.rule)) continue;
      const sev = opts.config.rules.get(f.rule);
      findings.push(sev && sev !== 'off' ? { ...f, severity: sev } : f);
    }
  }
  if (stats.cHeadersUnavailable) {
    notes.push(
      `the C headers of ${stats.cHeadersUnavailable} package(s) could not be read (${[...preprocessProblems].slice(0, 3).join('; ')}): ` +
        'only what the preambles declare themselves is known',
    );
  }
  const failed = stats.cAnalyzerFailed - cTimeouts.length;
  if (failed) {
    const why = [...cAnalyzerProblems];
    notes.push(`clang's analyzer could not compile ${failed} C unit(s)${why.length ? ` (${why.slice(0, 3).join('; ')}${why.length > 3 ? `; and ${why.length - 3} more reasons` : ''})` : ''}: their C code was not analysed for memory bugs`);
  }
  notes.push(...cAnalyzerNotes(cTimeouts, cSkipped, opts.config.cAnalyzer.budget));
  if (cNotAnalyzed) notes.push(`clang is not installed: the C code of ${cNotAnalyzed} preamble(s) and .c file(s) was not analysed for memory bugs (install clang, or pass --no-c-analyzer)`);
  if (skipped.length) notes.push(`${skipped.length} function(s) exceeded the analysis budget and were skipped: ${skipped.slice(0, 5).join(', ')}${skipped.length > 5 ? `, and ${skipped.length - 5} more` : ''}`);
  findings.sort(compareFindings);
  const apis = results.flatMap((r) => (r.api ? [r.api] : []));
  const sources = new Map(results.flatMap((r) => r.sources.map((s) => [s.path, s.digest] as const)));
  const deps = runDependencies(opts.cwd, opts.patterns, [...found.packages, ...configured.map((c) => c.pkg)]);
  const repeatable = deps.known && !cSkipped.some((u) => u.why === 'budget') && !opts.overlay;
  return { findings, stats, notes, unreadable, unparsable, packages: found.packages, apis, sources, ...(repeatable ? { dependencies: deps } : {}) };
}

function disabledRules(opts: CheckOptions): Set<string> {
  const out = new Set<string>();
  for (const [id, sev] of opts.config.rules) if (sev === 'off') out.add(id);
  for (const id of opts.disable ?? []) out.add(id);
  if (opts.only) {
    for (const r of ALL_RULES) if (!opts.only.has(r.id)) out.add(r.id);
  }
  return out;
}

/** True when a finding at this severity makes the run fail. */

/** An exported function through which C memory can reach callers in other packages. */
function interesting(s: Summary): boolean {
  const name = s.key.slice(s.key.lastIndexOf('.') + 1);
  return /^\p{Lu}/u.test(name) && carriesCMemory(s);
}

/**
 * Analyses packages callees-first: a package starts once the packages it
 * imports (among those being checked) are done, so their summaries are known.
 * A package that neither uses cgo nor imports one with interesting summaries
 * cannot have findings and is not parsed at all.
 */
async function analyzeAll(packages: DiscoveredPackage[], aopts: AnalyzeOptions, opts: CheckOptions, build: BuildContext): Promise<PackageResult[]> {
  const byPath = new Map(packages.map((p) => [p.importPath, p]));
  const deps = new Map(packages.map((p) => [p.importPath, p.imports.filter((i) => byPath.has(i) && i !== p.importPath)]));
  const remaining = new Map(packages.map((p) => [p.importPath, new Set(deps.get(p.importPath))]));
  const dependents = new Map<string, string[]>();
  for (const [p, ds] of deps) for (const d of ds) dependents.set(d, [...(dependents.get(d) ?? []), p]);
  const summaries = new Map<string, Summary[]>();
  /** Summaries of the packages `pkg` imports, directly or not. */
  const summariesFor = (pkg: DiscoveredPackage): Summary[] => {
    const out: Summary[] = [];
    const seen = new Set<string>();
    const stack = [...deps.get(pkg.importPath)!];
    while (stack.length) {
      const d = stack.pop()!;
      if (seen.has(d)) continue;
      seen.add(d);
      out.push(...(summaries.get(d) ?? []));
      stack.push(...(deps.get(d) ?? []));
    }
    return out;
  };
  const interestingPkgs = new Set<string>();
  const relevant = (p: DiscoveredPackage) => opts.forceAll || p.importsC || deps.get(p.importPath)!.some((d) => interestingPkgs.has(d));

  const jobs = opts.jobs > 0 ? opts.jobs : Math.max(1, Math.min(availableParallelism(), 8));
  const cgoCount = packages.filter((p) => opts.forceAll || p.importsC).length;
  const usePool = (jobs > 1 && cgoCount > 2) || (!!opts.signal && cgoCount > 0);
  // Made when a package is not in the cache: a run served from it starts no thread and loads no parser.
  let pool: WorkerPool | undefined;
  const signal = opts.signal;
  const aborted = new Promise<'aborted'>((resolve) => {
    if (signal?.aborted) resolve('aborted');
    signal?.addEventListener('abort', () => resolve('aborted'), { once: true });
  });
  const useCache = opts.cache !== false && !opts.describeApi && !opts.forceAll && cacheRoot() !== undefined;
  const keyInputs = { opts: aopts, budget: opts.config.cAnalyzer.budget };
  // Packages on workers and clang processes share the machine: `jobs` at a time.
  const slots = new Slots(jobs);
  const progress: CheckProgress = { packagesDone: 0, packagesTotal: packages.length, clangRunning: [], clangDone: 0, clangQueued: 0 };
  const cRun = new CAnalysisRun(opts.config.cAnalyzer.budget, slots, signal, (running, done, queued) => {
    Object.assign(progress, { clangRunning: running, clangDone: done, clangQueued: queued });
    opts.progress?.(progress);
  });
  /** Packages whose Go side is done, completed when their clang units are. */
  const completions: Promise<PackageResult>[] = [];

  let nextId = 0;
  const ready: DiscoveredPackage[] = packages.filter((p) => remaining.get(p.importPath)!.size === 0);
  const inFlight = new Map<number, Promise<{ pkg: DiscoveredPackage; side?: PackageSide; hit?: PackageResult; key?: string; error?: Error }>>();
  const done = new Set<string>();
  const finish = (pkg: DiscoveredPackage) => {
    done.add(pkg.importPath);
    progress.packagesDone++;
    opts.progress?.(progress);
    for (const d of dependents.get(pkg.importPath) ?? []) {
      const rem = remaining.get(d)!;
      rem.delete(pkg.importPath);
      if (rem.size === 0) ready.push(byPath.get(d)!);
    }
  };
  try {
    while (ready.length || inFlight.size) {
      while (ready.length) {
        const pkg = ready.shift()!;
        if (!relevant(pkg)) {
          finish(pkg);
          continue;
        }
        const files = opts.overlay ? pkg.files.map((f) => (opts.overlay!.has(f.path) ? { ...f, text: opts.overlay!.get(f.path) } : f)) : pkg.files;
        const job: PackageJob = { importPath: pkg.importPath, name: pkg.name, dir: pkg.dir, files, cFiles: pkg.cFiles, build, everyFunction: opts.forceAll };
        const id = nextId++;
        const external = summariesFor(pkg);
        const run = slots.acquire(0).then(async (release) => {
          try {
            const key = useCache ? await resultKey(job, external, keyInputs) : undefined;
            const hit = key === undefined ? undefined : readResult(key);
            if (hit) return { hit };
            if (usePool) {
              pool ??= new WorkerPool(Math.max(1, Math.min(jobs, cgoCount)));
              return { key, side: await pool.run({ id, job, external, opts: { ...aopts, disabledRules: [...aopts.disabledRules] }, noCache: opts.cache === false }) };
            }
            await initParsers();
            return { key, side: (await analysis()).analyzeGoSide(job, external, aopts) };
          } finally {
            release();
          }
        });
        inFlight.set(
          id,
          run.then(
            (r) => ({ pkg, ...r }),
            (error: Error) => ({ pkg, error }),
          ),
        );
        if (!usePool) break; // in-process: one at a time
      }
      if (!inFlight.size) {
        // A cycle among the remaining packages (broken code): release them all.
        const stuck = packages.find((p) => !done.has(p.importPath));
        if (!stuck) break;
        remaining.get(stuck.importPath)!.clear();
        ready.push(stuck);
        continue;
      }
      const settled = await Promise.race([aborted, ...[...inFlight.entries()].map(([id, p]) => p.then((r) => ({ id, ...r })))]);
      if (settled === 'aborted') throw new Interrupted('the static check');
      inFlight.delete(settled.id);
      const { side, hit, key } = settled;
      const goSide = hit ?? side?.result;
      if (goSide) {
        summaries.set(settled.pkg.importPath, goSide.summaries);
        if (goSide.summaries.some(interesting)) interestingPkgs.add(settled.pkg.importPath);
      }
      if (hit) completions.push(Promise.resolve(hit));
      else if (side) {
        const complete = (side.cPlan ? cRun.analyze(side.cPlan) : Promise.resolve(undefined)).then(async (c) => (await analysis()).completePackage(side, c));
        // What an interrupted run saw is not kept, nor a result whose C units the run's budget left for later runs.
        completions.push(
          complete.then((r) => {
            if (key && !signal?.aborted && !r.cAnalyzer?.skipped.some((u) => u.why === 'budget')) writeResult(key, r);
            return r;
          }),
        );
      } else if (settled.error) {
        completions.push(Promise.resolve(internalError(settled.pkg, settled.error)));
      }
      finish(settled.pkg);
    }
    const all = await Promise.race([aborted, Promise.all(completions)]);
    if (all === 'aborted') throw new Interrupted('the static check');
    return all;
  } finally {
    await pool?.close();
  }
}

/** The analysis itself, loaded when a package is not in the cache (a run served from it does without). */
function analysis(): Promise<typeof import('./analyze-package.js')> {
  return import('./analyze-package.js');
}

function internalError(pkg: DiscoveredPackage, e: Error): PackageResult {
  return {
    importPath: pkg.importPath,
    findings: [],
    summaries: [],
    stats: emptyStats(),
    problems: [`internal error while analysing ${pkg.importPath}: ${e.message.split('\n')[0]}`],
    unreadable: [],
    preprocessProblems: [],
    cAnalyzerProblems: [],
    syntaxErrors: [],
    skipped: [],
    sources: [],
  };
}

/** The Go files of the cgo packages, for what usage across the module says (unreadable files are left out: discovery reports them). */
function cgoSources(packages: DiscoveredPackage[], overlay?: ReadonlyMap<string, string>): { display: string; text: string }[] {
  const out: { display: string; text: string }[] = [];
  for (const p of packages) {
    if (!p.importsC) continue;
    for (const f of p.files) {
      const text = overlay?.get(f.path) ?? readText(f.path);
      if (text !== undefined) out.push({ display: f.display, text });
    }
  }
  return out;
}

/** The extra configurations of the packages, as packages of their own (named `path#tags=a,b`, which nothing imports). */
function withConfigurations(packages: DiscoveredPackage[], build: BuildContext, tests: boolean): { pkg: DiscoveredPackage; tags: string[]; gated: Map<string, string[]> }[] {
  const out: { pkg: DiscoveredPackage; tags: string[]; gated: Map<string, string[]> }[] = [];
  for (const p of packages) {
    // Displays as the package's own files have them: the same folder, as the user named it.
    const sample = p.files[0];
    const display = (abs: string) => (sample ? path.join(path.dirname(sample.display), path.basename(abs)) : abs);
    for (const c of tagConfigurations(p, build, tests, display)) {
      const pkg = { ...p, importPath: `${p.importPath}#tags=${c.tags.join(',')}`, files: c.files, cFiles: c.cFiles };
      out.push({ pkg, tags: c.tags, gated: new Map(c.files.filter((f) => c.gated.has(f.path)).map((f) => [f.display, c.gated.get(f.path)!])) });
    }
  }
  return out;
}
