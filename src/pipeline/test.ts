// `cgoguard test`: the static check, then the packages' tests run in stages
// (AddressSanitizer with leak detection, cgocheck, cgocheck2, valgrind), each
// report tied to a Go line and folded with its duplicates, and static and
// dynamic findings joined: a bug seen both ways is confirmed.
import { readFileSync } from 'node:fs';
import { compareFindings, type Finding } from '../findings/finding.js';
import type { PackageSource } from '../dynamic/locate.js';
import { joinFindings, reportFindings } from '../dynamic/findings.js';
import { STAGES, asanFindsLeaks, stageUnavailable, toolchain, type StageName } from '../dynamic/prereqs.js';
import type { DynamicReport } from '../dynamic/report.js';
import { Interrupted } from '../dynamic/processes.js';
import { runStage, type StageRun } from '../dynamic/run-stage.js';
import { isStackRedzone, parseSanitizerOutput } from '../dynamic/sanitizer.js';
import { parseValgrindXML } from '../dynamic/valgrind.js';
import type { Config } from '../workspace/config.js';
import { UsageError, type DiscoveredPackage } from '../workspace/discover.js';
import type { CheckStats } from '../findings/finding.js';
import { runCheck, type CheckProgress } from './check.js';
import { makeTempDir, removeTempDir } from './scratch.js';

export interface TestOptions {
  cwd: string;
  patterns: string[];
  config: Config;
  tags: string[];
  stages: StageName[];
  testFlags: string[];
  /** go test's -timeout, per package. */
  timeout: string;
  /** Run the static check too (to confirm findings, and for the static policy). */
  static: boolean;
  cAnalyzer: boolean;
  jobs: number;
  /** Called as stages start and end (progress on the terminal). */
  progress?: (e: ProgressEvent) => void;
  /** Called as the static check goes. */
  checkProgress?: (p: CheckProgress) => void;
  /** False: the static check neither reads nor writes cgoguard's cache. */
  cache?: boolean;
  signal?: AbortSignal;
}

export type ProgressEvent =
  | { k: 'start'; stage: string; packages: number }
  | { k: 'package'; stage: string; name: string; index: number; total: number }
  | { k: 'end'; stage: string; ms: number; findings: number }
  | { k: 'interrupted'; stage: string; ms: number };

export interface StageSummary {
  stage: string;
  /** interrupted: stopped by the user; what it found is left out. */
  status: 'ran' | 'skipped' | 'interrupted';
  /** Why the stage did not run (what to install), or what went wrong while it ran. */
  reason?: string;
  ms: number;
  packages: number;
  packageNames: string[];
  /** Packages whose tests failed for reasons other than a memory error, and packages that did not build. */
  testFailures: string[];
  buildFailures: string[];
  /** The last lines go test or the test binary printed, for each package in testFailures. */
  failureOutput: { package: string; lines: string[] }[];
  /** Packages with tests of which none ran (a -run pattern that matches nothing). */
  noTestsRan: string[];
}

export interface TestResult {
  findings: Finding[];
  stages: StageSummary[];
  staticStats?: CheckStats;
  notes: string[];
  /** Reports the tools made that could not be tied to the packages under test (runtime noise). */
  unplaced: number;
  /** Set when the user interrupted the run: the phase that was stopped ('static', a stage, or '' after the last stage). */
  interrupted?: string;
  /** Input the static check could not read or parse (one line each). */
  unreadable: string[];
  /** The import path of each file's package (external tests count as their package's), by the path findings show. */
  packageByFile: Map<string, string>;
}

/**
 * What a stage runs: a package with its external tests (`package p_test`),
 * which go test builds into p's own test binary, as one.
 */
interface TestUnit {
  pkg: DiscoveredPackage;
  /** The Go files of the package and of its external tests (to place reports). */
  files: DiscoveredPackage['files'];
  hasTests: boolean;
  usesC: boolean;
}

/** An external test package (files of `package p_test` next to p). */
function isExternalTest(p: DiscoveredPackage): boolean {
  return p.name.endsWith('_test') && p.importPath.endsWith('_test') && p.files.every((f) => f.path.endsWith('_test.go'));
}

/** The packages as go test sees them: each external test package joins the package it tests. */
export function testUnits(packages: DiscoveredPackage[]): TestUnit[] {
  const cgoPkgs = new Set(packages.filter((p) => p.importsC).map((p) => p.importPath));
  const units = new Map<string, TestUnit>();
  const usesC = (p: DiscoveredPackage) => p.importsC || p.imports.some((i) => cgoPkgs.has(i));
  const hasTests = (p: DiscoveredPackage) => p.files.some((f) => f.path.endsWith('_test.go'));
  for (const p of packages.filter((x) => !isExternalTest(x))) units.set(`${p.dir}\0${p.importPath}`, { pkg: p, files: [...p.files], hasTests: hasTests(p), usesC: usesC(p) });
  for (const x of packages.filter(isExternalTest)) {
    const base = x.importPath.slice(0, -'_test'.length);
    const key = `${x.dir}\0${base}`;
    const u = units.get(key);
    if (u) {
      u.files.push(...x.files);
      u.hasTests = true;
      u.usesC ||= usesC(x);
    } else {
      // Only external tests in the folder: its package is the one they test.
      units.set(key, { pkg: { ...x, importPath: base, name: x.name.slice(0, -'_test'.length) }, files: [...x.files], hasTests: true, usesC: usesC(x) });
    }
  }
  return [...units.values()];
}

export async function runTest(o: TestOptions): Promise<TestResult> {
  const tc = toolchain();
  const notes: string[] = [];
  const signal = o.signal ?? new AbortController().signal;
  const unfinished = (interrupted: string): TestResult => ({ findings: [], stages: [], notes, unplaced: 0, interrupted, unreadable: [], packageByFile: new Map() });
  let check;
  try {
    check = await runCheck({
      cwd: o.cwd,
      patterns: o.patterns,
      config: o.config,
      tags: o.tags,
      tests: true,
      jobs: o.jobs,
      cAnalyzer: o.cAnalyzer,
      analyze: o.static,
      signal,
      cache: o.cache,
      progress: o.checkProgress,
    });
  } catch (e) {
    if (e instanceof Interrupted || signal.aborted) return unfinished('static');
    throw e;
  }
  notes.push(...check.notes);
  const unreadable = [...check.unreadable, ...check.unparsable];
  const staticFindings = check.findings;
  const units = testUnits(check.packages);
  if (!units.length) throw new UsageError(`no Go packages to test in ${o.patterns.join(' ') || '.'}`);
  const byImport = new Map(units.map((u) => [u.pkg.importPath, u]));
  const sources = new Map(units.map((u) => [u.pkg.importPath, sourceOf(u.files, u.pkg.cFiles, u.pkg.dir)]));
  // AddressSanitizer also checks Go code (unsafe misuse); valgrind only makes sense where C runs.
  const runs = (stage: StageName) =>
    units
      .filter((u) => (stage === 'asan' ? u.hasTests : stage === 'valgrind' ? u.hasTests && u.usesC : true))
      .map((u) => ({ importPath: u.pkg.importPath, dir: u.pkg.dir, source: u.pkg.source }));

  const dynamic: Finding[] = [];
  const stages: StageSummary[] = [];
  let unplaced = 0;
  for (const stage of STAGES.filter((s) => o.stages.includes(s))) {
    if (signal.aborted) break;
    const why = stageUnavailable(stage, tc);
    if (why) {
      stages.push({ stage, status: 'skipped', reason: why, ms: 0, packages: 0, packageNames: [], testFailures: [], buildFailures: [], failureOutput: [], noTestsRan: [] });
      continue;
    }
    if (stage === 'asan' && !asanFindsLeaks(tc)) notes.push(`go${tc.goVersion.join('.')} -asan does not report leaks (Go 1.25 and later do): leaks are left to the valgrind stage`);
    o.progress?.({ k: 'start', stage, packages: runs(stage).length });
    const tmp = makeTempDir('cgoguard-test-');
    let run: StageRun;
    try {
      run = await runStage(stage, { timeout: o.timeout, tags: o.tags, testFlags: o.testFlags, packages: runs(stage), tmp, toolchain: tc, signal, onPackage: (name, index, total) => o.progress?.({ k: 'package', stage, name, index, total }) });
    } finally {
      removeTempDir(tmp);
    }
    const summary: StageSummary = { stage, status: 'ran', ms: run.ms, packages: run.packages.length, packageNames: run.packages.map((p) => p.importPath).sort(), testFailures: [], buildFailures: [], failureOutput: [], noTestsRan: [] };
    if (signal.aborted) {
      // What a stage saw before its processes were stopped is not a result.
      stages.push({ ...summary, status: 'interrupted' });
      o.progress?.({ k: 'interrupted', stage, ms: run.ms });
      break;
    }
    const before = dynamic.length;
    for (const p of run.packages) {
      const unit = byImport.get(p.importPath);
      const parsed = parseSanitizerOutput(p.output);
      const reports: DynamicReport[] = [...parsed.reports];
      const problems = [...parsed.problems];
      if (p.xml !== undefined) {
        const v = parseValgrindXML(p.xml);
        reports.push(...v.reports);
        problems.push(...v.problems);
      }
      for (const pr of problems) notes.push(`${stage}: ${p.importPath}: ${pr}`);
      if (p.buildFailed) summary.buildFailures.push(`${p.importPath}: ${firstError(p.output)}`);
      else if (p.failed && !reports.length) {
        summary.testFailures.push(p.importPath);
        summary.failureOutput.push({ package: p.importPath, lines: lastLines(p.output) });
      } else if (!p.failed && /^testing: warning: no tests to run$/m.test(p.output)) summary.noTestsRan.push(p.importPath);
      for (const r of reports) {
        const ctx = unit && { stage, importPath: unit.pkg.importPath, firstFile: unit.pkg.files[0]?.display ?? unit.pkg.dir, source: sources.get(unit.pkg.importPath)! };
        const fs = ctx ? reportFindings(r, ctx, r.tool === 'asan' && isStackRedzone(r.kind) ? p.alone : undefined) : [];
        if (fs.length) dynamic.push(...fs);
        else unplaced++;
      }
    }
    const stray = run.stray.trim();
    if (stray && !run.packages.length) summary.reason = firstError(stray);
    stages.push(summary);
    o.progress?.({ k: 'end', stage, ms: run.ms, findings: dynamic.length - before });
  }

  const findings = joinFindings(staticFindings, dynamic, o.static).sort(compareFindings);
  // '' when the signal came after the last stage had finished.
  const interrupted = stages.find((s) => s.status === 'interrupted')?.stage ?? (signal.aborted ? '' : undefined);
  const packageByFile = filesByPackage(units);
  return { findings, stages, staticStats: o.static ? check.stats : undefined, notes, unplaced, unreadable, packageByFile, ...(interrupted !== undefined ? { interrupted } : {}) };
}

/** Each file's package, for reports that group by package. */
export function filesByPackage(units: TestUnit[]): Map<string, string> {
  return new Map(units.flatMap((u) => [...u.files, ...u.pkg.cFiles].map((f) => [f.display, u.pkg.importPath] as [string, string])));
}

/**
 * What says why a package's tests failed: from a panic or fatal error on (a
 * timeout is a panic followed by every goroutine's stack), else its last
 * lines, without go test's own summary lines.
 */
function lastLines(output: string, n = 12): string[] {
  const lines = output.split('\n').filter((l) => l.trim() && !/^(FAIL|ok )\s/.test(l) && l.trim() !== 'FAIL');
  const crash = lines.findIndex((l) => /^(panic: |fatal error: )/.test(l));
  return crash >= 0 ? lines.slice(crash, crash + n) : lines.slice(-n);
}

/** go's progress lines, which come before the error itself. */
const GO_PROGRESS = /^go: (downloading|finding|extracting|upgraded|added|found) /;

/** The line of a build failure that says what is wrong: a compiler's file:line error first, else go's own first error. */
export function firstError(output: string): string {
  const lines = output
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !/^(#|FAIL|ok |=== |--- )/.test(l) && !GO_PROGRESS.test(l));
  return lines.find((l) => /\.(go|c|h|s|cc|cpp):\d+(:\d+)?: /.test(l)) ?? lines[0] ?? 'the build failed';
}

/** What placing reports needs of a package; one per package for the whole run. */
function sourceOf(files: DiscoveredPackage['files'], cFiles: DiscoveredPackage['cFiles'], dir: string): PackageSource {
  const byPath = new Map([...files, ...cFiles].map((f) => [f.path, f.display]));
  const read = new Map<string, string[] | undefined>();
  return {
    dir,
    goFiles: files.map((f) => f.path),
    cFiles: cFiles.map((f) => f.path),
    display: (abs) => byPath.get(abs) ?? abs,
    lines: (abs) => {
      if (!read.has(abs)) {
        try {
          read.set(abs, readFileSync(abs, 'utf8').split('\n'));
        } catch {
          read.set(abs, undefined);
        }
      }
      return read.get(abs);
    },
  };
}
