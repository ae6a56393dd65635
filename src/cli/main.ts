// The command line: parse arguments, run the pipeline, print, choose the exit code.
//   0    nothing reached the failure threshold
//   1    something did (test, trace: or the tests failed)
//   2    bad usage, bad configuration, or input that cannot be read or parsed
//   3    test, trace: the tests did not build
//   130  interrupted
// When several apply, the later in this list wins (130 over 2 over 3 over 1).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import { SEVERITY_RANK } from '../findings/finding.js';
import { failsAt, type Confidence, type FailOn } from '../findings/finding.js';
import { runCheck, type CheckOptions } from '../pipeline/check.js';
import { runFixes } from '../pipeline/fix.js';
import { runLanguageServer } from '../lsp/server.js';
import { adoptionOptions, checkAdoptionFlags, CHECK_FORMATS, findingsWithFixes, finishFixes, formatForCI, selectFindings } from './check-adoption.js';
import { runTest, type TestResult } from '../pipeline/test.js';
import { runEscape } from '../pipeline/escape.js';
import { DEFAULT_RUNS, runGenTests } from '../gen/gen-tests.js';
import { runTrace } from '../pipeline/trace.js';
import { registerProductionCommands } from './production.js';
import { lokiOptions, shipTrace, type LokiFlags } from './log.js';
import { encodePprof } from '../report/pprof.js';
import type { Escape } from '../dynamic/escape.js';
import { MissingToolError, STAGES, type StageName } from '../dynamic/prereqs.js';
import { judge, leakReport, type Verdict } from '../dynamic/policy.js';
import { formatEvents } from '../report/events.js';
import { checkOutputs, OutputError, writeOutput, type OutputTarget } from './outputs.js';
import { interruptible, type Outcome } from './interrupt.js';
import { checkProgress, progressShown, stageProgress, StatusLine } from './progress.js';
import { cacheRoot, cleanCache } from '../model/cachestore.js';
import { recordRun } from './run-cache.js';
import { explainFunction, gatherKnowledge, inferredAsYAML } from '../pipeline/contract-knowledge.js';
import { formatHTML } from '../report/html.js';
import { formatJUnit } from '../report/junit.js';
import { formatJSON } from '../report/json.js';
import { formatSARIF } from '../report/sarif.js';
import { formatText } from '../report/text.js';
import { ALL_RULES, ruleById } from '../rules/index.js';
import { ConfigError, defaultConfig, loadConfig, locateConfig, withCAnalyzerFlag, type Config, type Policy } from '../workspace/config.js';
import { UsageError } from '../workspace/discover.js';

export const VERSION: string = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version;

class ExitError extends Error {
  constructor(
    message: string,
    readonly code: number,
  ) {
    super(message);
  }
}

function list(value: string, prev: string[] = []): string[] {
  return [...prev, ...value.split(',').map((s) => s.trim()).filter(Boolean)];
}

function jobs(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new ExitError(`--jobs: expected a positive integer, got "${value}"`, 2);
  return n;
}

function checkRuleIds(ids: string[], flag: string): void {
  for (const id of ids) if (!ruleById(id)) throw new ExitError(`${flag}: unknown rule "${id}" (see cgoguard rules)`, 2);
}

/** The files a command will write, from its options: checked before any work. */
function outputTargets(cwd: string, o: Record<string, unknown>, leakReportFile?: string): OutputTarget[] {
  const flags: [string, string][] = [
    ['output', '-o'],
    ['html', '--html'],
    ['junit', '--junit'],
    ['pprof', '--pprof'],
    ['events', '--events'],
    ['writeBaseline', '--write-baseline'],
  ];
  const out: OutputTarget[] = [];
  for (const [key, flag] of flags) {
    const given = o[key];
    if (typeof given === 'string') out.push({ flag, given, file: path.resolve(cwd, given) });
  }
  if (leakReportFile) out.push({ flag: o.leakReport ? '--leak-report' : 'policy.leak-report', given: path.relative(cwd, leakReportFile) || leakReportFile, file: leakReportFile });
  return out;
}

const NO_CACHE = "neither read nor write cgoguard's cache (whole-package results, clang's results, C summaries)";
const QUIET = 'no progress on the terminal';

/** `--c-analyzer own|all|off`: which C clang's analyzer looks at (c-analyzer.scope in the config). */
function cAnalyzerOption(): Option {
  return new Option('--c-analyzer <scope>', "clang's analyzer on the package's own C (own, the default), on vendored copies of other code too (all), or off").choices(['own', 'all', 'off']);
}

/** The configuration: the given file, the nearest cgoguard.yaml, or the defaults. */
function configFor(cwd: string, file?: string): Config {
  const found = locateConfig(cwd, file);
  return found ? loadConfig(found) : defaultConfig();
}

/** Operands before `--`, and what follows it (flags for go test or the program). */
function splitAtDashes(argv: string[], operands: string[]): { before: string[]; after: string[] } {
  const dd = argv.indexOf('--');
  const after = dd >= 0 ? argv.slice(dd + 1) : [];
  return { before: operands.slice(0, operands.length - after.length), after };
}

/** A dynamic command's run under interruptible(): a missing tool is a usage error. */
async function guarded<T>(run: (signal: AbortSignal) => Promise<T>): Promise<Outcome<T>> {
  try {
    return await interruptible(run);
  } catch (e) {
    if (e instanceof MissingToolError) throw new ExitError(e.message, 2);
    throw e;
  }
}

/** What the user is told when a run was interrupted: what finished, what was stopped. */
function interruptedLine(signal: NodeJS.Signals, phase: string | undefined, finished: string[]): string {
  const done = finished.length ? `finished: ${finished.join(', ')}; ` : '';
  return `cgoguard: interrupted (${signal})${phase ? ` during ${phase}` : ''}: ${done}child processes stopped, temporary files removed\n`;
}

/** Writes the leak report when leaks fail the run, and says why the run fails. */
function announce(verdict: Verdict, policy: Policy, cwd: string, err: (s: string) => void): void {
  if (verdict.leaksFail && policy.leakReport) {
    writeOutput(policy.leakReport, leakReport(verdict.leaks));
    err(`cgoguard: leak report written to ${path.relative(cwd, policy.leakReport) || policy.leakReport}\n`);
  }
  for (const reason of verdict.reasons) err(`cgoguard: fails: ${reason}\n`);
}

export async function main(argv: string[]): Promise<number> {
  const out = (s: string) => process.stdout.write(s);
  const err = (s: string) => process.stderr.write(s);
  let exitCode = 0;
  const productionContext = { out, err, setExit: (c: number) => (exitCode = c), interruptible: guarded, interrupted: (s: NodeJS.Signals) => interruptedLine(s, undefined, []), configFor, version: VERSION };
  const program = new Command('cgoguard')
    .description('Memory safety at the Go/C boundary: finds C memory leaks, double frees, use after free and bad frees in cgo code.')
    .version(VERSION, '--version')
    .exitOverride()
    .configureOutput({ writeOut: out, writeErr: err, outputError: () => {} })
    .showSuggestionAfterError(true);

  const check = program
    .command('check')
    .description('analyse Go packages that use cgo (patterns as for go vet: ./..., a directory, std, files)')
    .argument('[patterns...]', 'packages to check', [])
    .addOption(new Option('--format <format>', 'output format').choices(CHECK_FORMATS).default('text'))
    .option('-o, --output <file>', 'write the report to a file instead of stdout')
    .option('--force', 'replace a read-only output file')
    .addOption(new Option('--fail-on <severity>', 'lowest severity that makes the exit code 1').choices(['error', 'warning', 'note', 'never']))
    .addOption(new Option('--fail-confidence <level>', 'lowest confidence that makes the exit code 1 (default: high)').choices(['high', 'medium', 'low']))
    .option('--config <file>', 'configuration file (default: nearest cgoguard.yaml)')
    .option('--rules <ids>', 'run only these rules (comma-separated)', list)
    .option('--disable <ids>', 'switch these rules off (comma-separated)', list)
    .option('--tags <tags>', 'build tags (comma-separated)', list)
    .option('--no-tests', 'leave out _test.go files')
    .addOption(cAnalyzerOption())
    .option('--no-c-analyzer', "skip clang's static analyzer on the preambles and .c files (as --c-analyzer off)")
    .option('--no-cache', NO_CACHE)
    .option('-q, --quiet', QUIET)
    .option('-j, --jobs <n>', 'worker threads (default: one per core)', jobs)
    .addOption(new Option('--all-functions', 'analyse every function, even in packages that cannot have findings').hideHelp());
  adoptionOptions(check).action(async (patterns: string[], o) => {
    const cwd = process.cwd();
    const startedMs = Date.now();
    const configFile = locateConfig(cwd, o.config);
    const config = withCAnalyzerFlag(configFor(cwd, o.config), o.cAnalyzer);
    if (o.rules) checkRuleIds(o.rules, '--rules');
    if (o.disable) checkRuleIds(o.disable, '--disable');
    checkAdoptionFlags(o);
    checkOutputs(outputTargets(cwd, o), !!o.force);
    const status = new StatusLine(err, progressShown(!!o.quiet));
    status.begin('checking');
    const checkOpts: CheckOptions = {
      cwd,
      patterns,
      config,
      tags: [...config.tags, ...(o.tags ?? [])],
      tests: o.tests === false ? false : (config.tests ?? true),
      jobs: o.jobs ?? 0,
      only: o.rules ? new Set<string>(o.rules) : undefined,
      disable: o.disable ? new Set<string>(o.disable) : undefined,
      forceAll: !!o.allFunctions,
      cAnalyzer: !config.cAnalyzer.off,
      cache: o.cache !== false,
      progress: checkProgress(status),
    };
    const run = await interruptible(async (signal) => {
      if (!o.fix && !o.diff) return { result: await runCheck({ ...checkOpts, signal }) };
      const outcome = await runFixes({ ...checkOpts, signal });
      return { result: outcome.final, outcome };
    });
    status.clear();
    if (run.signal || !run.result) {
      err(interruptedLine(run.signal ?? 'SIGINT', 'the static check', []));
      exitCode = 130;
      return;
    }
    const { result, outcome } = run.result;
    const inputProblems = result.unreadable.length || result.unparsable.length;
    // What the run says on stderr, kept with its report for the run cache.
    const said: string[] = [];
    const errKept = (s: string) => {
      said.push(s);
      err(s);
    };
    for (const n of [...result.notes, ...result.unreadable, ...result.unparsable]) errKept(`cgoguard: ${n}\n`);
    const fixed = outcome ? finishFixes(outcome, o, out, err) : false;
    if (o.diff) {
      exitCode = inputProblems ? 2 : fixed ? 1 : 0;
      return;
    }
    const findings = selectFindings(await findingsWithFixes(result, cwd, o.format), o, cwd, errKept);
    const text =
      formatForCI(o.format, findings, cwd) ??
      (o.format === 'json'
        ? formatJSON(findings, result.stats)
        : o.format === 'sarif'
          ? formatSARIF(findings, { cwd, version: VERSION, notifications: sarifNotifications(result.notes, [...result.unreadable, ...result.unparsable]) })
          : formatText(findings));
    if (o.output) writeOutput(path.resolve(cwd, o.output), text);
    else out(text);
    const failOn: FailOn = o.failOn ?? config.failOn ?? 'warning';
    const failConfidence: Confidence = o.failConfidence ?? config.failConfidence ?? 'high';
    // A baseline just written holds every finding: nothing is left to fail on.
    exitCode = inputProblems ? 2 : !o.writeBaseline && findings.some((f) => failsAt(f, failOn, failConfidence)) ? 1 : 0;
    if (result.dependencies && !o.output && o.cache !== false) {
      const files = [...result.dependencies.files, ...(configFile ? [configFile] : [])];
      recordRun(argv, cwd, startedMs, { files, dirs: result.dependencies.dirs }, text, said.join(''), exitCode);
    }
  });

  program
    .command('test')
    .description('run the tests in stages (AddressSanitizer, cgocheck, cgocheck2, valgrind) and tie every memory error to its Go line')
    .usage('[options] [patterns...] [-- go test flags]')
    .argument('[patterns...]', 'packages to test (as for go test)', [])
    .option('--stages <names>', `stages to run (default, and the order they run in: ${STAGES.join(',')})`, list)
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json', 'sarif', 'junit', 'html']).default('text'))
    .option('-o, --output <file>', 'write the report to a file instead of stdout')
    .option('--html <file>', 'also write the HTML report to this file')
    .option('--junit <file>', 'also write JUnit XML to this file')
    .option('--leak-report <file>', 'write the leak report here when leaks fail the run (default: policy.leak-report)')
    .option('--force', 'replace read-only output files')
    .addOption(new Option('--fail-on <severity>', 'lowest static severity that fails the run (default: policy.static)').choices(['error', 'warning', 'note', 'never']))
    .addOption(new Option('--fail-confidence <level>', 'lowest confidence of a static finding that fails the run (default: high)').choices(['high', 'medium', 'low']))
    .option('--config <file>', 'configuration file (default: nearest cgoguard.yaml)')
    .option('--tags <tags>', 'build tags (comma-separated)', list)
    .option('--timeout <d>', 'per package, as go test -timeout (valgrind runs get 10 times as long)', (v) => {
      if (!/^\d+(\.\d+)?(ns|us|ms|s|m|h)$/.test(v)) throw new ExitError(`--timeout: expected a Go duration such as 10m or 90s, got "${v}"`, 2);
      return v;
    })
    .option('--no-static', 'skip the static check (nothing is marked confirmed)')
    .addOption(cAnalyzerOption())
    .option('--no-c-analyzer', "skip clang's static analyzer on the preambles and .c files (as --c-analyzer off)")
    .option('--no-cache', NO_CACHE)
    .option('-q, --quiet', QUIET)
    .option('-j, --jobs <n>', 'worker threads for the static check (default: one per core)', jobs)
    .action(async (args: string[], o) => {
      const cwd = process.cwd();
      const { before: patterns, after: testFlags } = splitAtDashes(argv, args);
      const stages = (o.stages ?? [...STAGES]) as StageName[];
      for (const st of stages) if (!(STAGES as readonly string[]).includes(st)) throw new ExitError(`--stages: unknown stage "${st}" (known: ${STAGES.join(', ')})`, 2);
      const config = withCAnalyzerFlag(configFor(cwd, o.config), o.cAnalyzer);
      const policy: Policy = { ...config.policy, ...(o.failOn ? { static: o.failOn as FailOn } : {}), ...(o.failConfidence ? { staticConfidence: o.failConfidence as Confidence } : {}), ...(o.leakReport ? { leakReport: path.resolve(cwd, o.leakReport) } : {}) };
      checkOutputs(outputTargets(cwd, o, policy.leakReport), !!o.force);
      const status = new StatusLine(err, progressShown(!!o.quiet));
      status.begin('static check');
      const run = await guarded((signal) =>
        runTest({
          cwd,
          patterns,
          config,
          tags: [...config.tags, ...(o.tags ?? [])],
          stages,
          testFlags,
          timeout: o.timeout ?? '10m',
          static: o.static !== false,
          cAnalyzer: !config.cAnalyzer.off,
          jobs: o.jobs ?? 0,
          progress: stageProgress(status, err),
          checkProgress: checkProgress(status),
          cache: o.cache !== false,
          signal,
        }),
      );
      status.clear();
      const result = run.result;
      if (!result || (run.signal && result.interrupted === 'static')) {
        err(interruptedLine(run.signal ?? 'SIGINT', 'the static check', []));
        exitCode = 130;
        return;
      }
      for (const line of testNotes(result)) err(line);
      const verdict = judge(result.findings, policy);
      const problems = testProblems(result);
      const title = `cgoguard test ${patterns.join(' ') || '.'}`;
      const html = () => formatHTML({ title, findings: result.findings, stages: result.stages, cwd, version: VERSION, verdict: { failed: verdict.failed, reasons: verdict.reasons }, problems, packages: result.packageByFile });
      const junitStages = result.stages.map((s) => ({ stage: s.stage, status: s.status, reason: s.reason, ms: s.ms, packageNames: s.packageNames }));
      const junit = () => formatJUnit(result.findings, junitStages, o.static !== false);
      const text =
        o.format === 'json'
          ? formatJSON(result.findings, { static: result.staticStats, stages: result.stages, unplaced: result.unplaced, verdict: { failed: verdict.failed, reasons: verdict.reasons }, ...(result.interrupted ? { interrupted: result.interrupted } : {}) })
          : o.format === 'sarif'
            ? formatSARIF(result.findings, { cwd, version: VERSION, notifications: sarifNotifications(result.notes, [...result.unreadable, ...problems.flatMap((p) => p.lines.map((l) => `${p.title}: ${l}`))]) })
            : o.format === 'junit'
              ? junit()
              : o.format === 'html'
                ? html()
                : formatText(result.findings);
      if (o.output) writeOutput(path.resolve(cwd, o.output), text);
      else out(text);
      if (o.html) writeOutput(path.resolve(cwd, o.html), html());
      if (o.junit) writeOutput(path.resolve(cwd, o.junit), junit());
      if (run.signal || result.interrupted) {
        const finished = [...(o.static !== false ? ['static'] : []), ...result.stages.filter((s) => s.status === 'ran').map((s) => s.stage)];
        err(interruptedLine(run.signal ?? 'SIGINT', result.interrupted && `the ${result.interrupted} stage`, finished));
        exitCode = 130;
        return;
      }
      announce(verdict, policy, cwd, err);
      const couldNotRun = result.stages.some((s) => s.buildFailures.length);
      const testsFailed = result.stages.some((s) => s.testFailures.length);
      // The more serious status wins: input that could not be read, then tests that did not build.
      exitCode = result.unreadable.length ? 2 : couldNotRun ? 3 : verdict.failed || testsFailed ? 1 : 0;
    });

  // trace and trace run share their options and their ending.
  const traceOptions = <T extends Command>(c: T): T =>
    c
      .addOption(new Option('--format <format>', 'output format').choices(['text', 'json', 'sarif', 'junit', 'html']).default('text'))
      .option('-o, --output <file>', 'write the report to a file')
      .option('--pprof <file>', 'write live C memory at exit as a pprof profile (gzipped profile.proto)')
      .option('--events <file>', 'write every event as JSON lines, after the table of the stacks they refer to')
      .option('--html <file>', 'also write the HTML report (with the icicle graph of live C memory)')
      .option('--force', 'replace read-only output files')
      .option('--guard', 'check every release and read as it happens: a double free is reported with its stack and not performed')
      .option('--abort', 'stop the program at the first misuse (implies --guard)')
      .option('--full-stacks', 'take the Go stack of every allocation (slower; default: the first 8 per site, then 1 in 4096)')
      .option('--count-finalizer-held', 'count C memory still held at exit by an object with a finalizer or cleanup as leaks (default: policy.finalizer-held)')
      .option('--config <file>', 'configuration file (default: nearest cgoguard.yaml)')
      .option('--tags <tags>', 'build tags (comma-separated)', list)
      .option('--no-static', 'skip the static check (nothing is marked confirmed)')
      .addOption(cAnalyzerOption())
      .option('--no-c-analyzer', "skip clang's static analyzer on the preambles and .c files (as --c-analyzer off)")
      .option('--no-cache', NO_CACHE)
      .option('-q, --quiet', QUIET) as T;
  const traceCommandOptions = <T extends Command>(c: T): T => lokiOptions(traceOptions(c));

  const traceAction = async (mode: 'test' | 'run', patterns: string[], args: string[], o: Record<string, unknown>) => {
    const cwd = process.cwd();
    const config = withCAnalyzerFlag(configFor(cwd, o.config as string | undefined), o.cAnalyzer as string | boolean | undefined);
    const policy: Policy = { ...config.policy, ...(o.countFinalizerHeld ? { finalizerHeld: true } : {}) };
    checkOutputs(outputTargets(cwd, o, policy.leakReport), !!o.force);
    // trace run hands the terminal to the program: no status line there.
    const status = new StatusLine(err, mode === 'test' && progressShown(!!o.quiet));
    status.begin('static check');
    const run = await guarded((signal) =>
      runTrace({
        cwd,
        patterns,
        config,
        tags: [...config.tags, ...((o.tags as string[] | undefined) ?? [])],
        mode,
        args,
        guard: !!o.guard,
        abort: !!o.abort,
        fullStacks: !!o.fullStacks,
        static: o.static !== false,
        cAnalyzer: !config.cAnalyzer.off,
        jobs: 0,
        cache: o.cache !== false,
        checkProgress: checkProgress(status),
        phase: (text) => status.begin(text),
        signal,
        stdio: mode === 'run' ? 'inherit' : 'pipe',
      }),
    );
    status.clear();
    const r = run.result;
    if (!r) {
      err(interruptedLine(run.signal ?? 'SIGINT', run.phase, []));
      exitCode = 130;
      return;
    }
    for (const n of [...r.notes, ...r.unreadable]) err(`cgoguard: ${n}\n`);
    const s = r.summary;
    const liveBytes = s.live.reduce((a, g) => a + g.bytes, 0);
    const liveObjects = s.live.reduce((a, g) => a + g.objects, 0);
    const held = s.live.filter((g) => g.heldByFinalizer);
    if (!r.interrupted) {
      err(
        `cgoguard: trace: ${s.processes} process(es), ${s.allocations} allocation(s), ${s.frees} release(s); live at exit: ${liveBytes} byte(s) in ${liveObjects} object(s)` +
          `${held.length ? ` (${held.reduce((a, g) => a + g.bytes, 0)} byte(s) held by finalizer-owned objects)` : ''}; ${s.misuses.length} misuse(s)\n`,
      );
    }
    const verdict = judge(r.findings, policy);
    const live = s.live.map((g) => ({ frames: g.frames.length ? g.frames : [{ fn: g.site.call, file: g.site.file, line: g.site.line }], bytes: g.bytes, objects: g.objects }));
    const summary = [
      { label: 'processes', value: String(s.processes) },
      { label: 'allocations', value: String(s.allocations) },
      { label: 'releases', value: String(s.frees) },
      { label: 'live at exit', value: `${liveBytes} byte(s) in ${liveObjects} object(s)` },
      ...(held.length ? [{ label: 'held by finalizer-owned objects', value: `${held.reduce((a, g) => a + g.bytes, 0)} byte(s) in ${held.reduce((a, g) => a + g.objects, 0)} object(s)` }] : []),
      { label: 'misuses', value: String(s.misuses.length) },
    ];
    const failed = mode === 'test' && r.exitCode !== 0;
    const problems = failed ? [{ title: r.buildFailed ? 'the traced tests did not build' : `the traced tests failed (exit status ${r.exitCode})`, lines: r.output.split('\n').filter((l) => l.trim()).slice(-15) }] : [];
    const title = `cgoguard trace ${patterns.join(' ') || '.'}`;
    const html = () => formatHTML({ title, findings: r.findings, stages: [], cwd, version: VERSION, live, verdict: { failed: verdict.failed, reasons: verdict.reasons }, problems, summary, packages: r.packageByFile });
    const text =
      o.format === 'json'
        ? formatJSON(r.findings, { runId: r.runId, processes: s.processes, allocations: s.allocations, frees: s.frees, exitCode: r.exitCode, verdict: { failed: verdict.failed, reasons: verdict.reasons }, ...(r.interrupted ? { interrupted: r.interrupted } : {}) })
        : o.format === 'sarif'
          ? formatSARIF(r.findings, { cwd, version: VERSION, notifications: sarifNotifications(r.notes, problems.flatMap((p) => [p.title])) })
          : o.format === 'html'
            ? html()
            : o.format === 'junit'
              ? formatJUnit(r.findings, [{ stage: 'trace', status: r.interrupted ? 'interrupted' : 'ran', ms: 0, packageNames: [...new Set(r.findings.flatMap((f) => (f.dynamic ? [f.dynamic.package] : [])))] }], o.static !== false)
              : formatText(r.findings);
    if (o.output) writeOutput(path.resolve(cwd, o.output as string), text);
    else if (mode === 'run') err(text); // the program's own output owns stdout
    else out(text);
    if (o.html) writeOutput(path.resolve(cwd, o.html as string), html());
    if (r.interrupted || run.signal) {
      err(interruptedLine(run.signal ?? 'SIGINT', r.interrupted, o.static !== false ? ['static'] : []));
      exitCode = 130;
      return;
    }
    if (o.pprof) writeOutput(path.resolve(cwd, o.pprof as string), encodePprof(live, Date.now() * 1e6));
    if (o.events) writeOutput(path.resolve(cwd, o.events as string), formatEvents(r));
    if (o.loki) await shipTrace(formatEvents(r), r.findings, o as unknown as LokiFlags, productionContext);
    announce(verdict, policy, cwd, err);
    if (failed) err(`cgoguard: ${problems[0].title}\n${problems[0].lines.map((l) => `    ${l}\n`).join('')}`);
    exitCode = r.unreadable.length ? 2 : r.buildFailed ? 3 : verdict.failed || failed ? 1 : 0;
  };

  const trace = traceCommandOptions(
    program
      .command('trace')
      .description('run the tests with every C allocation recorded: live C memory by Go stack, misuses, pprof, event log')
      .usage('[options] [patterns...] [-- go test flags]')
      .argument('[patterns...]', 'packages to test (as for go test)', []),
  ).action(async (args: string[], o) => {
    const { before, after } = splitAtDashes(argv, args);
    await traceAction('test', before, after, o);
  });
  // The options are trace's: commander reads them on either side of `run`.
  trace
    .command('run')
    .description('build one main package with tracing and run it (options as for trace)')
    .usage('[trace options] PKG [-- program args]')
    .argument('<pkg>', 'the main package')
    .argument('[args...]', 'program arguments (after --)', [])
    .action(async (pkg: string, args: string[]) => {
      await traceAction('run', [pkg], args, trace.opts());
    });

  program
    .command('escape')
    .description("the compiler's escape analysis next to cgo calls, and what changed against a revision")
    .argument('[patterns...]', 'packages (as for go build)', [])
    .option('--base <rev>', 'compare with this git revision (built in a temporary worktree)')
    .option('--compare <files...>', 'compare two saved outputs of go build -gcflags=-m=2 (old, new)')
    .option('--all', 'every function, not only those that call C')
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json']).default('text'))
    .option('--tags <tags>', 'build tags (comma-separated)', list)
    .option('-q, --quiet', QUIET)
    .action(async (patterns: string[], o) => {
      if (o.compare && o.compare.length !== 2) throw new ExitError('--compare: expected two files (old and new)', 2);
      if (o.compare && o.base) throw new ExitError('--compare and --base cannot be used together', 2);
      const cwd = process.cwd();
      const status = new StatusLine(err, progressShown(!!o.quiet));
      const run = await interruptible(() => runEscape({ cwd, patterns, tags: o.tags ?? [], base: o.base, compare: o.compare as [string, string] | undefined, phase: (text) => status.begin(text) }));
      status.clear();
      if (!run.result || run.signal) {
        err(interruptedLine(run.signal ?? 'SIGINT', undefined, []));
        exitCode = 130;
        return;
      }
      const r = run.result;
      const keep = (e: Escape) => o.all || e.callsC;
      const show = (e: Escape) => ({ file: r.display(e), line: e.line, column: e.column, message: e.message, function: e.function, callsC: e.callsC });
      const line = (e: Escape, prefix = '') => `${prefix}${r.display(e)}:${e.line}:${e.column}: ${e.message}${e.function ? ` (in ${e.function}${e.callsC ? ', which calls C' : ''})` : ''}\n`;
      if (r.diff) {
        const added = r.diff.added.filter(keep);
        const removed = r.diff.removed.filter(keep);
        if (o.format === 'json') out(`${JSON.stringify({ version: 1, added: added.map(show), removed: removed.map(show) }, null, 2)}\n`);
        else for (const e of [...added.map((x) => line(x, '+ ')), ...removed.map((x) => line(x, '- '))]) out(e);
        // New escapes next to C calls are what a reviewer should look at.
        exitCode = added.some((e) => e.callsC) ? 1 : 0;
        return;
      }
      const shown = r.escapes.filter(keep);
      if (o.format === 'json') out(`${JSON.stringify({ version: 1, escapes: shown.map(show) }, null, 2)}\n`);
      else for (const e of shown) out(line(e));
    });

  program
    .command('gen')
    .description('generate code from what the analysis knows')
    .command('tests')
    .description('write cgoguard_mem_test.go per package: leak tests and fuzz targets for the functions that reach C')
    .argument('[patterns...]', 'packages (as for go vet)', [])
    .option('--stdout', 'print the files instead of writing them')
    .option('--runs <n>', `how many times each leak test repeats its calls (default ${DEFAULT_RUNS})`, (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1 || n > 100000) throw new ExitError(`--runs: expected an integer from 1 to 100000, got "${v}"`, 2);
      return n;
    })
    .option('--config <file>', 'configuration file (default: nearest cgoguard.yaml)')
    .option('--tags <tags>', 'build tags (comma-separated)', list)
    .option('-j, --jobs <n>', 'worker threads (default: one per core)', jobs)
    .action(async (patterns: string[], o) => {
      const cwd = process.cwd();
      const config = configFor(cwd, o.config);
      const r = await runGenTests({ cwd, patterns, config, tags: [...config.tags, ...(o.tags ?? [])], runs: o.runs ?? DEFAULT_RUNS, stdout: !!o.stdout, jobs: o.jobs ?? 0 });
      for (const n of r.notes) err(`cgoguard: ${n}\n`);
      for (const f of r.files) {
        const rel = path.relative(cwd, f.path) || f.path;
        if (o.stdout) out(`${r.files.length > 1 ? `// cgoguard: ${rel}\n` : ''}${f.text}`);
        err(`cgoguard: ${o.stdout ? 'generated' : 'wrote'} ${rel}: ${f.leakTests} leak test(s) (${f.skipped} skipped), ${f.fuzzTargets} fuzz target(s)\n`);
      }
    });

  const cache = program.command('cache').description("cgoguard's cache of results (clang's, C summaries, whole packages)");
  cache
    .command('clean')
    .description('remove every entry of the cache')
    .action(() => {
      const dir = cleanCache();
      err(dir ? `cgoguard: cache cleaned: ${dir}\n` : 'cgoguard: the cache is off (CGOGUARD_CACHE=off): nothing to clean\n');
    });
  cache
    .command('dir')
    .description('print where the cache is')
    .action(() => {
      const dir = cacheRoot();
      if (dir) out(`${dir}\n`);
      else err('cgoguard: the cache is off (CGOGUARD_CACHE=off)\n');
    });

  const contracts = program.command('contracts').description('what cgoguard believes about the C functions a package calls: inferred contracts, and why');
  contracts
    .command('infer')
    .description("print the contracts inferred from the library headers for the C functions the packages call, as a cgoguard.yaml list to review")
    .argument('[patterns...]', 'packages (as for check)', [])
    .option('--config <file>', 'configuration file (default: nearest cgoguard.yaml)')
    .option('--tags <tags>', 'build tags (comma-separated)', list)
    .option('-o, --output <file>', 'write the list to a file instead of stdout')
    .option('--force', 'replace a read-only output file')
    .action(async (patterns: string[], o) => {
      const cwd = process.cwd();
      const config = configFor(cwd, o.config);
      checkOutputs(outputTargets(cwd, o), !!o.force);
      const k = await gatherKnowledge({ cwd, patterns, config, tags: [...config.tags, ...(o.tags ?? [])] });
      for (const n of k.notes) err(`cgoguard: ${n}\n`);
      const text = inferredAsYAML(k, patterns);
      if (o.output) writeOutput(path.resolve(cwd, o.output), text);
      else out(text);
      const called = k.packages.reduce((a, p) => a + p.functions.length, 0);
      const inferred = k.packages.reduce((a, p) => a + p.functions.filter((f) => f.source === 'inferred').length, 0);
      err(`cgoguard: ${k.packages.length} cgo package(s), ${called} C function(s) called, ${inferred} with inferred contracts\n`);
    });
  contracts
    .command('explain')
    .description('say what cgoguard believes about one C function (C.name) and where each fact comes from')
    .argument('<function>', 'the C function, as C.name or name')
    .argument('[patterns...]', 'packages that call it (default: .)', [])
    .option('--config <file>', 'configuration file (default: nearest cgoguard.yaml)')
    .option('--tags <tags>', 'build tags (comma-separated)', list)
    .action(async (fn: string, patterns: string[], o) => {
      if (!/^(C\.)?[A-Za-z_]\w*$/.test(fn)) throw new ExitError(`"${fn}" is not a C function name (C.name or name)`, 2);
      const cwd = process.cwd();
      const config = configFor(cwd, o.config);
      const k = await gatherKnowledge({ cwd, patterns, config, tags: [...config.tags, ...(o.tags ?? [])] });
      for (const n of k.notes) err(`cgoguard: ${n}\n`);
      out(explainFunction(k, fn));
    });

  program
    .command('rules')
    .description('list the rules')
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json']).default('text'))
    .action((o) => {
      if (o.format === 'json') {
        out(`${JSON.stringify(ALL_RULES.map((r) => ({ id: r.id, title: r.title, severity: r.severity })), null, 2)}\n`);
        return;
      }
      const w = Math.max(...ALL_RULES.map((r) => r.id.length));
      const sorted = [...ALL_RULES].sort((a, b) => SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity]);
      for (const r of sorted) out(`${r.id.padEnd(w)}  ${r.severity.padEnd(7)}  ${r.title}\n`);
    });

  program
    .command('explain')
    .description('show why a rule exists, with a bad and a good example')
    .argument('<rule>', 'rule id')
    .action((id: string) => {
      const r = ruleById(id);
      if (!r) throw new ExitError(`unknown rule "${id}" (see cgoguard rules)`, 2);
      out(`${r.id}: ${r.title} (default severity: ${r.severity})\n\n${r.rationale}\n\nBad:\n\n${indent(r.bad)}\n\nGood:\n\n${indent(r.good)}\n`);
    });

  program
    .command('lsp')
    .description('run the language server (diagnostics and quick fixes for editors) on stdin and stdout')
    .option('--stdio', 'talk over stdin and stdout (the default and only transport; accepted for clients that pass it)')
    .action(async () => {
      await runLanguageServer(VERSION);
    });

  registerProductionCommands(program, argv, productionContext);

  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.exitCode === 0) return 0; // --help, --version, cgoguard help
      // A bare `cgoguard` has printed the help on stderr: no command is a usage error.
      if (e.code === 'commander.help') return 2;
      err(`cgoguard: ${e.message.replace(/^error: /, '')}\n`);
      return 2;
    }
    if (e instanceof ExitError) {
      err(`cgoguard: ${e.message}\n`);
      return e.code;
    }
    if (e instanceof UsageError || e instanceof ConfigError || e instanceof OutputError) {
      err(`cgoguard: ${e.message}\n`);
      return 2;
    }
    const msg = e instanceof Error ? e.message : String(e);
    err(`cgoguard: internal error: ${msg.split('\n')[0]}\n`);
    if (process.env.CGOGUARD_DEBUG && e instanceof Error) err(`${e.stack}\n`);
    return 2;
  }
}

/** What `test` says on stderr beyond the report: notes, stages skipped, tests that failed or did not build, with go test's last lines. */
function testNotes(result: TestResult): string[] {
  const lines: string[] = [];
  for (const n of [...result.notes, ...result.unreadable]) lines.push(`cgoguard: ${n}\n`);
  for (const s of result.stages) {
    if (s.status === 'skipped') lines.push(`cgoguard: ${s.stage}: skipped: ${s.reason}\n`);
    if (s.reason && s.status === 'ran') lines.push(`cgoguard: ${s.stage}: ${s.reason}\n`);
    for (const p of s.buildFailures) lines.push(`cgoguard: ${s.stage}: the tests did not build: ${p}\n`);
    for (const f of s.failureOutput) lines.push(`cgoguard: ${s.stage}: ${f.package}: tests failed (not a memory error); go test's last lines:\n${f.lines.map((l) => `    ${l}\n`).join('')}`);
    if (s.noTestsRan.length) lines.push(`cgoguard: ${s.stage}: no test ran in ${s.noTestsRan.join(', ')} (testing: warning: no tests to run)\n`);
  }
  return lines;
}

/** Test failures, build failures and an interruption, for the HTML report and SARIF's notifications. */
function testProblems(result: TestResult): { title: string; lines: string[] }[] {
  const out: { title: string; lines: string[] }[] = [];
  for (const s of result.stages) {
    for (const p of s.buildFailures) out.push({ title: `${s.stage}: the tests did not build`, lines: [p] });
    for (const f of s.failureOutput) out.push({ title: `${s.stage}: ${f.package}: tests failed (not a memory error)`, lines: f.lines });
    if (s.noTestsRan.length) out.push({ title: `${s.stage}: no test ran`, lines: s.noTestsRan });
    if (s.status === 'interrupted') out.push({ title: `${s.stage}: interrupted`, lines: ['the run was interrupted during this stage: what it saw is left out'] });
  }
  return out;
}

/** Notes and problems as SARIF tool notifications: what limited the analysis. */
function sarifNotifications(notes: string[], problems: string[]): { level: 'warning' | 'note' | 'error'; message: string }[] {
  return [...problems.map((m) => ({ level: 'error' as const, message: m })), ...notes.map((m) => ({ level: 'warning' as const, message: m }))];
}

function indent(s: string): string {
  return s
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n');
}
