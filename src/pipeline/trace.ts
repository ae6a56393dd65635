// `cgoguard trace`: builds the packages' tests (or one program) through
// -overlay with every C allocation and release site rewritten to record into
// the injected runtime, runs them, and reads back what was live at exit and
// which misuses happened. User files are never edited; the temporary folder
// is removed however the run ends.
import { mkdirSync, readFileSync, statfsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { compareFindings, type Finding, type StackFrame } from '../findings/finding.js';
import { joinFindings } from '../dynamic/findings.js';
import { toolchain } from '../dynamic/prereqs.js';
import { exec, moduleRoot } from '../dynamic/run-stage.js';
import { ContractSet, parseContract } from '../model/contracts.js';
import { initParsers } from '../syntax/parser.js';
import { readTraceDir, summarize, type TraceEvent, type TraceSummary } from '../trace/events.js';
import { SiteTable, instrumentFile, type Site } from '../trace/instrument.js';
import { HOOK_FILE, declaresLiveCounter, liveCounterHook } from '../gen/trace-hook.js';
import type { Config } from '../workspace/config.js';
import { UsageError, type DiscoveredPackage } from '../workspace/discover.js';
import { runCheck, type CheckProgress } from './check.js';
import { Interrupted } from '../dynamic/processes.js';
import { makeTempDir, removeTempDir, userTempEnv } from './scratch.js';
import { filesByPackage, firstError, testUnits } from './test.js';

/** The injected runtime's files (a production build adds production.go). */
export const RUNTIME_FILES = ['cgoguardtrace.go', 'cleanup.go', 'livecount.go', 'mapfile_linux.go', 'mapfile_other.go', 'sampling.go', 'profile.go'];
export const RUNTIME_ASSETS = fileURLToPath(new URL('../../assets/trace/', import.meta.url));
/** The injected runtime's folder inside the module being built (it exists only in the overlay). */
export const RUNTIME_DIR = 'zz_cgoguardtrace';
const TMPFS_MAGIC = 0x01021994;

/**
 * A new folder for the traced processes' events: in /dev/shm when it is a
 * tmpfs with room to spare and lets us write (its pages have no disk behind
 * them, so the runtime maps segments in ahead of the writers cheaply), else
 * in the temporary folder.
 */
function makeEventsDir(): string {
  try {
    const s = statfsSync('/dev/shm');
    if (s.type === TMPFS_MAGIC && s.bavail * s.bsize >= 2 ** 30) return makeTempDir('cgoguard-events-', '/dev/shm');
  } catch {
    // no usable /dev/shm here
  }
  return makeTempDir('cgoguard-events-');
}

export interface TraceOptions {
  cwd: string;
  patterns: string[];
  config: Config;
  tags: string[];
  /** test: go test on the packages; run: build the one main package and run it with programArgs. */
  mode: 'test' | 'run';
  args: string[];
  /** Check releases and reads in the process (and skip a second free) instead of after the run. */
  guard: boolean;
  abort: boolean;
  fullStacks: boolean;
  static: boolean;
  cAnalyzer: boolean;
  jobs: number;
  signal?: AbortSignal;
  /** Where the traced program's own output goes (trace run: the user's terminal). */
  stdio: 'inherit' | 'pipe';
  /** False: the static check neither reads nor writes cgoguard's cache. */
  cache?: boolean;
  /** Told as the static check goes, then as each later phase begins. */
  checkProgress?: (p: CheckProgress) => void;
  phase?: (text: string) => void;
}

export interface TraceResult {
  findings: Finding[];
  summary: TraceSummary;
  sites: Site[];
  events: TraceEvent[];
  /** Each process's stacks by id, for the event log. */
  stacks: Map<number, Map<number, StackFrame[]>>;
  /** The exit status of the traced run (go test, or the program). */
  exitCode: number;
  /** The traced tests did not build (go test's "[build failed]" or "[setup failed]"). */
  buildFailed: boolean;
  output: string;
  notes: string[];
  /** Input the static check could not read or parse. */
  unreadable: string[];
  runId: string;
  /** The import path of each file's package, by the path findings show. */
  packageByFile: Map<string, string>;
  /** Set when the user interrupted the run after the static check: the phase stopped. Only the static findings are kept. */
  interrupted?: string;
}

export async function runTrace(o: TraceOptions): Promise<TraceResult> {
  toolchain();
  const signal = o.signal ?? new AbortController().signal;
  const check = await runCheck({ cwd: o.cwd, patterns: o.patterns, config: o.config, tags: o.tags, tests: true, jobs: o.jobs, cAnalyzer: o.cAnalyzer, analyze: o.static, signal, cache: o.cache, progress: o.checkProgress });
  const notes = [...check.notes];
  const unreadable = [...check.unreadable, ...check.unparsable];
  // External tests (package p_test) are built into p's test binary: go test is given p.
  const units = testUnits(check.packages.filter((p) => p.source === 'go list'));
  const packages = units.map((u) => u.pkg);
  const packageByFile = filesByPackage(units);
  if (!packages.length) throw new UsageError(`no Go packages to trace in ${o.patterns.join(' ') || '.'} (trace needs the go command to load them)`);
  const roots = new Set(packages.map((p) => moduleRoot(p.dir)));
  if (roots.size !== 1 || [...roots][0] === undefined) throw new UsageError('trace works on the packages of one module at a time');
  const root = [...roots][0]!;
  const modulePath = /^module\s+(\S+)/m.exec(readFileSync(path.join(root, 'go.mod'), 'utf8'))?.[1];
  if (!modulePath) throw new UsageError(`${path.join(root, 'go.mod')}: no module line`);
  if (o.mode === 'run' && (packages.length !== 1 || packages[0].name !== 'main')) throw new UsageError('trace run needs exactly one main package');

  await initParsers();
  const contracts = ContractSet.withBuiltins();
  for (const c of o.config.contracts) contracts.add(parseContract(c.text, c.origin));
  if (signal.aborted) throw new Interrupted('the static check');
  const tmp = makeTempDir('cgoguard-trace-');
  const runId = path.basename(tmp).replace(/^cgoguard-trace-/, '');
  let eventsDir: string | undefined;
  try {
    const sites = new SiteTable();
    const replace: Record<string, string> = Object.fromEntries(RUNTIME_FILES.map((f) => [path.join(root, RUNTIME_DIR, f), path.join(RUNTIME_ASSETS, f)]));
    const ovDir = path.join(tmp, 'overlay');
    mkdirSync(ovDir);
    let n = 0;
    for (const p of packages) {
      if (!p.importsC) continue;
      for (const f of p.files) {
        const text = readFileSync(f.path, 'utf8');
        const out = instrumentFile(text, f.display, `${modulePath}/${RUNTIME_DIR}`, sites, contracts);
        if (out === undefined) continue;
        const backing = path.join(ovDir, `${n++}_${path.basename(f.path)}`);
        writeFileSync(backing, out);
        replace[f.path] = backing;
      }
    }
    if (!n) notes.push('no C allocation or release sites to trace in these packages');
    // Generated leak tests read live C memory through a hook the overlay adds beside them.
    if (o.mode === 'test') {
      for (const p of packages) {
        if (!p.files.some((f) => f.path.endsWith('_test.go') && declaresLiveCounter(readFileSync(f.path, 'utf8')))) continue;
        const backing = path.join(ovDir, `${n++}_${HOOK_FILE}`);
        writeFileSync(backing, liveCounterHook(p.name, `${modulePath}/${RUNTIME_DIR}`));
        replace[path.join(p.dir, HOOK_FILE)] = backing;
      }
    }
    const overlay = path.join(tmp, 'overlay.json');
    writeFileSync(overlay, JSON.stringify({ Replace: replace }));
    eventsDir = makeEventsDir();
    const env = {
      ...process.env,
      CGOGUARD_TRACE_DIR: eventsDir,
      CGOGUARD_TRACE_ABORT: o.abort ? '1' : '',
      CGOGUARD_TRACE_GUARD: o.guard || o.abort ? '1' : '',
      CGOGUARD_TRACE_STACKS: o.fullStacks ? 'all' : '',
    };
    const tags = o.tags.length ? [`-tags=${o.tags.join(',')}`] : [];
    let run: { code: number; output: string };
    if (o.mode === 'test') {
      // vet would look for the injected runtime's folder on disk.
      // External tests (package x_test) are listed apart; go test runs them with their package.
      const testable = packages.filter((p) => !(p.name.endsWith('_test') && packages.some((q) => `${q.importPath}_test` === p.importPath)));
      o.phase?.(`building and running the traced tests of ${testable.length} package(s)`);
      const r = await exec('go', ['test', '-count=1', '-vet=off', `-overlay=${overlay}`, ...tags, ...testable.map((p) => p.importPath), ...o.args], { cwd: root, env, signal });
      run = { code: r.code, output: r.stdout + r.stderr };
      if (signal.aborted) throw new Interrupted('the traced tests');
    } else {
      const bin = path.join(tmp, 'program');
      o.phase?.('building the traced program');
      const build = await exec('go', ['build', `-overlay=${overlay}`, ...tags, '-o', bin, packages[0].importPath], { cwd: root, env: process.env, signal });
      if (signal.aborted) throw new Interrupted('the traced build');
      if (build.code !== 0) throw new UsageError(`the traced build failed: ${firstError(build.stderr)}`);
      // The program sees the user's own temporary folder, not the run's.
      const r = await exec(bin, o.args, { cwd: o.cwd, env: userTempEnv(env), signal, stdio: o.stdio });
      run = { code: r.code, output: r.stdout + r.stderr };
      if (signal.aborted) throw new Interrupted('the traced program');
    }
    o.phase?.('reading the events');
    const procs = readTraceDir(eventsDir);
    for (const p of procs) if (p.lost) notes.push(`trace: process ${p.pid} stopped recording, so its results are incomplete: ${p.lost}`);
    const summary = summarize(procs, sites.sites);
    const staticLeaks = new Set(check.findings.filter((f) => f.rule === 'leak').map((f) => `${f.file}:${f.line}`));
    const findings = toFindings(summary, check.packages, staticLeaks);
    return {
      findings: joinFindings(check.findings, findings, o.static, { fold: false }).sort(compareFindings),
      summary,
      sites: sites.sites,
      events: procs.flatMap((p) => p.events),
      stacks: new Map(procs.map((p) => [p.pid, p.stacks])),
      exitCode: run.code,
      buildFailed: o.mode === 'test' && /^FAIL\s+\S+ \[(build|setup) failed\]$/m.test(run.output),
      output: run.output,
      notes,
      unreadable,
      runId,
      packageByFile,
    };
  } catch (e) {
    if (!(e instanceof Interrupted)) throw e;
    const summary = { live: [], misuses: [], allocations: 0, frees: 0, processes: 0 };
    return { findings: check.findings, summary, sites: [], events: [], stacks: new Map(), exitCode: 130, buildFailed: false, output: '', notes, unreadable, runId, packageByFile, interrupted: e.phase };
  } finally {
    removeTempDir(tmp);
    if (eventsDir) removeTempDir(eventsDir);
  }
}

/**
 * Live blocks at exit become leak findings at their allocation site; misuses
 * become findings at theirs. A block handed straight to C may be freed by C,
 * which the trace cannot see: it is a definite leak only when the static
 * check also finds one there.
 */
function toFindings(s: TraceSummary, packages: DiscoveredPackage[], staticLeaks: Set<string>): Finding[] {
  const pkgOf = (file: string) => packages.find((p) => p.files.some((f) => f.display === file))?.importPath ?? '';
  const out: Finding[] = [];
  for (const g of s.live) {
    // Finalizers need not run before a program ends: memory a finalizer-owned object holds is not forgotten.
    const held = g.heldByFinalizer;
    const definite = !held && (!g.site.handedTo || staticLeaks.has(`${g.site.file}:${g.site.line}`));
    const why = held ? ', held by a finalizer-owned object (its finalizer or cleanup had not run)' : definite ? '' : ` (handed to ${g.site.handedTo}, which may free it unseen)`;
    out.push({
      rule: 'leak',
      severity: held ? 'note' : definite ? 'error' : 'warning',
      message: `trace: ${g.bytes} byte(s) in ${g.objects} object(s) from ${g.site.call} still live at exit${why}`,
      file: g.site.file,
      line: g.site.line,
      column: g.site.column,
      endLine: g.site.line,
      endColumn: g.site.column,
      function: '',
      trace: [],
      dynamic: {
        stage: 'trace',
        tool: 'trace',
        kind: held ? 'held by a finalizer-owned object' : 'live at exit',
        package: pkgOf(g.site.file),
        bytes: g.bytes,
        objects: g.objects,
        definite,
        ...(held ? { heldByFinalizer: true } : {}),
        locatedBy: 'stack',
        count: 1,
        stacks: [{ title: 'allocated', frames: g.frames }],
      },
    });
  }
  for (const m of s.misuses) {
    if (!m.site) continue;
    const rule = m.code === 1 ? 'double-free' : 'use-after-free';
    const history = [m.allocSite && `allocated by ${m.allocSite.call} at ${m.allocSite.file}:${m.allocSite.line}`, m.freeSite && `freed by ${m.freeSite.call} at ${m.freeSite.file}:${m.freeSite.line}`].filter(Boolean).join(', ');
    out.push({
      rule,
      severity: 'error',
      message: `trace: ${m.what} at ${m.site.call}${history ? ` (${history})` : ''}`,
      file: m.site.file,
      line: m.site.line,
      column: m.site.column,
      endLine: m.site.line,
      endColumn: m.site.column,
      function: '',
      trace: [m.allocSite, m.freeSite].flatMap((x, i) => (x ? [{ file: x.file, line: x.line, column: x.column, message: i === 0 ? `allocated here by ${x.call}` : `freed here by ${x.call}` }] : [])),
      dynamic: {
        stage: 'trace',
        tool: 'trace',
        kind: m.what,
        package: pkgOf(m.site.file),
        locatedBy: 'stack',
        count: 1,
        stacks: [
          { title: `${m.what} (goroutine ${m.goroutine})`, frames: m.frames },
          { title: 'allocated', frames: m.allocFrames },
          { title: 'freed', frames: m.freeFrames },
        ],
      },
    });
  }
  return out;
}
