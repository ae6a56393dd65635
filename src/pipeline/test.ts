// `cgoguard test`: the static check, then the packages' tests run in stages
// (AddressSanitizer with leak detection, cgocheck, cgocheck2, valgrind), each
// report tied to a Go line and folded with its duplicates, and static and
// dynamic findings joined: a bug seen both ways is confirmed.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { compareFindings, type Finding } from '../findings/finding.js';
import { confirm, locate, sameBug, type PackageSource } from '../dynamic/locate.js';
import { STAGES, asanFindsLeaks, stageUnavailable, toolchain, type StageName } from '../dynamic/prereqs.js';
import type { DynamicReport } from '../dynamic/report.js';
import { runStage, type PackageRun, type StageRun } from '../dynamic/run-stage.js';
import { isStackRedzone, parseSanitizerOutput } from '../dynamic/sanitizer.js';
import { parseValgrindXML } from '../dynamic/valgrind.js';
import { ruleById } from '../rules/index.js';
import type { Config } from '../workspace/config.js';
import { UsageError, type DiscoveredPackage } from '../workspace/discover.js';
import type { CheckStats } from '../findings/finding.js';
import { runCheck } from './check.js';

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
  signal?: AbortSignal;
}

export type ProgressEvent =
  | { k: 'start'; stage: string; packages: number }
  | { k: 'package'; stage: string; name: string; index: number; total: number }
  | { k: 'end'; stage: string; ms: number; findings: number };

export interface StageSummary {
  stage: string;
  status: 'ran' | 'skipped';
  /** Why the stage did not run (what to install), or what went wrong while it ran. */
  reason?: string;
  ms: number;
  packages: number;
  packageNames: string[];
  /** Packages whose tests failed for reasons other than a memory error, and packages that did not build. */
  testFailures: string[];
  buildFailures: string[];
}

export interface TestResult {
  findings: Finding[];
  stages: StageSummary[];
  staticStats?: CheckStats;
  notes: string[];
  /** Reports the tools made that could not be tied to the packages under test (runtime noise). */
  unplaced: number;
}

export async function runTest(o: TestOptions): Promise<TestResult> {
  const tc = toolchain();
  const notes: string[] = [];
  const check = await runCheck({
    cwd: o.cwd,
    patterns: o.patterns,
    config: o.config,
    tags: o.tags,
    tests: true,
    jobs: o.jobs,
    cAnalyzer: o.cAnalyzer,
    analyze: o.static,
  });
  notes.push(...check.notes, ...check.unreadable);
  const staticFindings = check.findings;
  const packages = check.packages;
  if (!packages.length) throw new UsageError(`no Go packages to test in ${o.patterns.join(' ') || '.'}`);
  const byImport = new Map(packages.map((p) => [p.importPath, p]));
  const sources = new Map(packages.map((p) => [p.importPath, sourceOf(p)]));
  const cgoPkgs = new Set(packages.filter((p) => p.importsC).map((p) => p.importPath));
  // AddressSanitizer also checks Go code (unsafe misuse); valgrind only makes sense where C runs.
  const withTests = packages.filter((p) => p.files.some((f) => f.path.endsWith('_test.go')));
  const usesC = (p: DiscoveredPackage) => p.importsC || p.imports.some((i) => cgoPkgs.has(i));
  const binaries = (stage: StageName) => withTests.filter((p) => stage === 'asan' || usesC(p));
  const runs = (stage: StageName) => (stage === 'asan' || stage === 'valgrind' ? binaries(stage) : packages).map((p) => ({ importPath: p.importPath, dir: p.dir, source: p.source }));

  const dynamic: Finding[] = [];
  const stages: StageSummary[] = [];
  let unplaced = 0;
  const signal = o.signal ?? new AbortController().signal;
  for (const stage of STAGES.filter((s) => o.stages.includes(s))) {
    const why = stageUnavailable(stage, tc);
    if (why) {
      stages.push({ stage, status: 'skipped', reason: why, ms: 0, packages: 0, packageNames: [], testFailures: [], buildFailures: [] });
      continue;
    }
    if (stage === 'asan' && !asanFindsLeaks(tc)) notes.push(`go${tc.goVersion.join('.')} -asan does not report leaks (Go 1.25 and later do): leaks are left to the valgrind stage`);
    if (signal.aborted) break;
    o.progress?.({ k: 'start', stage, packages: runs(stage).length });
    const tmp = mkdtempSync(path.join(tmpdir(), 'cgoguard-test-'));
    let run: StageRun;
    try {
      run = await runStage(stage, { timeout: o.timeout, tags: o.tags, testFlags: o.testFlags, packages: runs(stage), tmp, toolchain: tc, signal, onPackage: (name, index, total) => o.progress?.({ k: 'package', stage, name, index, total }) });
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
    const summary: StageSummary = { stage, status: 'ran', ms: run.ms, packages: run.packages.length, packageNames: run.packages.map((p) => p.importPath).sort(), testFailures: [], buildFailures: [] };
    const before = dynamic.length;
    for (const p of run.packages) {
      const pkg = byImport.get(p.importPath);
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
      else if (p.failed && !reports.length) summary.testFailures.push(p.importPath);
      for (const r of reports) {
        const f = pkg && toFinding(r, stage, pkg, sources.get(pkg.importPath)!, r.tool === 'asan' && isStackRedzone(r.kind) ? p.alone : undefined);
        if (f) dynamic.push(f);
        else unplaced++;
      }
    }
    const stray = run.stray.trim();
    if (stray && !run.packages.length) summary.reason = stray.split('\n')[0];
    stages.push(summary);
    o.progress?.({ k: 'end', stage, ms: run.ms, findings: dynamic.length - before });
  }

  const folded = fold(dynamic.map((d) => preferPredicted(d, staticFindings)));
  confirm(folded, staticFindings, o.static);
  const findings = [...staticFindings, ...folded].sort(compareFindings);
  return { findings, stages, staticStats: o.static ? check.stats : undefined, notes, unplaced };
}

/** The first line of a build failure that says what is wrong. */
function firstError(output: string): string {
  const lines = output.split('\n').map((l) => l.trim()).filter((l) => l && !/^(#|FAIL|ok )/.test(l));
  return lines[0] ?? 'the build failed';
}

/** What placing reports needs of a package; one per package for the whole run. */
function sourceOf(pkg: DiscoveredPackage): PackageSource {
  const byPath = new Map(pkg.files.map((f) => [f.path, f.display]));
  const read = new Map<string, string[] | undefined>();
  return {
    dir: pkg.dir,
    goFiles: pkg.files.map((f) => f.path),
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

/**
 * A report as a finding at its Go line. Leaks and valgrind errors that cannot
 * be tied to the package (the runtime's own) are left out; errors that
 * stopped the program are kept even unplaced, at the package's first file.
 */
function toFinding(r: DynamicReport, stage: StageName, pkg: DiscoveredPackage, src: PackageSource, alone?: PackageRun['alone']): Finding | undefined {
  const at = locate(r, src);
  // Only errors that stopped the program are kept unplaced; the rest is the runtime's noise.
  if (!at && (r.rule === 'leak' || r.tool === 'valgrind')) return undefined;
  const first = pkg.files[0];
  const where = at ?? { file: first?.display ?? pkg.dir, line: 1, column: 1, by: 'none' as const, others: [] };
  const definiteLeak = r.rule === 'leak' && r.definite;
  const unconfirmed = alone && !alone.reproduced;
  const severity = (r.rule === 'leak' && !definiteLeak) || unconfirmed ? 'warning' : (ruleById(r.rule)?.severity ?? 'error');
  return {
    rule: r.rule,
    severity,
    message: unconfirmed
      ? `${r.message}; not seen when ${alone.test} runs alone: likely stale AddressSanitizer marks left on this thread's stack by an earlier Go panic that unwound C frames`
      : r.message,
    file: where.file,
    line: where.line,
    column: where.column,
    endLine: where.line,
    endColumn: where.column,
    function: '',
    trace: where.others,
    dynamic: {
      stage,
      tool: r.tool,
      kind: r.kind,
      package: pkg.importPath,
      bytes: r.bytes,
      objects: r.objects,
      definite: r.rule === 'leak' ? !!r.definite : undefined,
      locatedBy: where.by,
      count: 1,
      stacks: r.stacks,
      ...(alone ? { alone } : {}),
    },
  };
}

/**
 * A report placed at one of several call sites of the C function its stack
 * ends in goes to the one a static finding points at, when there is one.
 */
function preferPredicted(d: Finding, statics: Finding[]): Finding {
  if (d.dynamic!.locatedBy !== 'call site' || !d.trace.length) return d;
  const sites = [{ file: d.file, line: d.line, column: d.column }, ...d.trace];
  const hit = sites.find((s) => statics.some((st) => sameBug({ ...d, ...s }, st)));
  if (!hit || (hit.file === d.file && hit.line === d.line)) return d;
  const others = sites.filter((s) => s !== hit).map((s) => ({ file: s.file, line: s.line, column: s.column, message: d.trace[0].message }));
  return { ...d, file: hit.file, line: hit.line, column: hit.column, endLine: hit.line, endColumn: hit.column, trace: others };
}

/** One finding per stage, rule, kind and Go line: the same bug seen by several tests, or in a loop. */
function fold(fs: Finding[]): Finding[] {
  const by = new Map<string, Finding>();
  for (const f of fs) {
    const d = f.dynamic!;
    // Every stage runs with cgocheck on: its panics are one bug, whichever stage saw them.
    const key = `${d.tool === 'cgocheck' ? 'cgocheck' : d.stage}|${f.rule}|${d.kind}|${f.file}|${f.line}`;
    const prev = by.get(key);
    if (!prev) {
      by.set(key, f);
      continue;
    }
    const pd = prev.dynamic!;
    pd.count += d.count;
    if (f.rule === 'leak') {
      pd.bytes = (pd.bytes ?? 0) + (d.bytes ?? 0);
      pd.objects = (pd.objects ?? 0) + (d.objects ?? 0);
    }
  }
  return [...by.values()].map(describe);
}

/** The message as printed: leak sizes after folding, how often, and how the Go line was found. */
function describe(f: Finding): Finding {
  const d = f.dynamic!;
  let message = f.message;
  if (f.rule === 'leak') {
    const what = d.tool === 'lsan' ? `LeakSanitizer: ${d.kind.toLowerCase()}` : `valgrind: ${d.kind.replace(/^Leak_/, '').replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase()}`;
    message = `${what}: ${d.bytes ?? 0} byte(s) in ${d.objects ?? 0} object(s)`;
  }
  if (d.count > 1) message += ` (seen ${d.count} times)`;
  if (d.locatedBy === 'call site') message += ' (at the call of the C function its stack ends in)';
  if (d.locatedBy === 'none') message += ' (no Go line in its stacks)';
  return { ...f, message };
}
