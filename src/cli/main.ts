// The command line: parse arguments, run the pipeline, print, choose the exit code.
//   0  nothing reached the failure threshold
//   1  something did
//   2  bad usage, bad configuration or unreadable input
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import { SEVERITY_RANK } from '../findings/finding.js';
import { failsAt, runCheck } from '../pipeline/check.js';
import { runTest, type ProgressEvent } from '../pipeline/test.js';
import { runEscape } from '../pipeline/escape.js';
import { DEFAULT_RUNS, runGenTests } from '../gen/gen-tests.js';
import { runTrace, type TraceResult } from '../pipeline/trace.js';
import { encodePprof } from '../report/pprof.js';
import type { Escape } from '../dynamic/escape.js';
import { MissingToolError, STAGES, type StageName } from '../dynamic/prereqs.js';
import { judge, leakReport, type Verdict } from '../dynamic/policy.js';
import { formatHTML } from '../report/html.js';
import { formatJUnit } from '../report/junit.js';
import { formatJSON } from '../report/json.js';
import { formatSARIF } from '../report/sarif.js';
import { formatText } from '../report/text.js';
import { ALL_RULES, ruleById } from '../rules/index.js';
import { ConfigError, defaultConfig, loadConfig, locateConfig, type Config, type FailOn, type Policy } from '../workspace/config.js';
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

/** Writes a file atomically: a temporary file in the same directory, then rename. */
function writeOutput(file: string, text: string | Buffer): void {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  writeFileSync(tmp, text);
  renameSync(tmp, file);
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

/**
 * Runs a dynamic command so that Ctrl-C or SIGTERM stops its children (the
 * run removes its own temporary files), and a missing tool is a usage error.
 */
async function interruptible<T>(run: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const abort = new AbortController();
  const onSignal = () => abort.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let result: T;
  try {
    result = await run(abort.signal);
  } catch (e) {
    if (e instanceof MissingToolError) throw new ExitError(e.message, 2);
    throw e;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  if (abort.signal.aborted) throw new ExitError('interrupted: child processes stopped, temporary files removed', 130);
  return result;
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
  const program = new Command('cgoguard')
    .description('Memory safety at the Go/C boundary: finds C memory leaks, double frees, use after free and bad frees in cgo code.')
    .version(VERSION, '--version')
    .exitOverride()
    .configureOutput({ writeOut: out, writeErr: err, outputError: () => {} })
    .showSuggestionAfterError(true);

  program
    .command('check')
    .description('analyse Go packages that use cgo (patterns as for go vet: ./..., a directory, std, files)')
    .argument('[patterns...]', 'packages to check', [])
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json', 'sarif']).default('text'))
    .option('-o, --output <file>', 'write the report to a file instead of stdout')
    .addOption(new Option('--fail-on <severity>', 'lowest severity that makes the exit code 1').choices(['error', 'warning', 'note', 'never']))
    .option('--config <file>', 'configuration file (default: nearest cgoguard.yaml)')
    .option('--rules <ids>', 'run only these rules (comma-separated)', list)
    .option('--disable <ids>', 'switch these rules off (comma-separated)', list)
    .option('--tags <tags>', 'build tags (comma-separated)', list)
    .option('--no-tests', 'leave out _test.go files')
    .option('--no-c-analyzer', "skip clang's static analyzer on the preambles and .c files")
    .option('-j, --jobs <n>', 'worker threads (default: one per core)', jobs)
    .addOption(new Option('--all-functions', 'analyse every function, even in packages that cannot have findings').hideHelp())
    .action(async (patterns: string[], o) => {
      const cwd = process.cwd();
      const config = configFor(cwd, o.config);
      if (o.rules) checkRuleIds(o.rules, '--rules');
      if (o.disable) checkRuleIds(o.disable, '--disable');
      const result = await runCheck({
        cwd,
        patterns,
        config,
        tags: [...config.tags, ...(o.tags ?? [])],
        tests: o.tests === false ? false : (config.tests ?? true),
        jobs: o.jobs ?? 0,
        only: o.rules ? new Set(o.rules) : undefined,
        disable: o.disable ? new Set(o.disable) : undefined,
        forceAll: !!o.allFunctions,
        cAnalyzer: o.cAnalyzer !== false,
      });
      for (const n of [...result.notes, ...result.unreadable]) err(`cgoguard: ${n}\n`);
      const text =
        o.format === 'json'
          ? formatJSON(result.findings, result.stats)
          : o.format === 'sarif'
            ? formatSARIF(result.findings, cwd, VERSION)
            : formatText(result.findings);
      if (o.output) writeOutput(path.resolve(cwd, o.output), text);
      else out(text);
      const failOn: FailOn = o.failOn ?? config.failOn ?? 'warning';
      exitCode = result.unreadable.length ? 2 : result.findings.some((f) => failsAt(f.severity, failOn)) ? 1 : 0;
    });

  program
    .command('test')
    .description('run the tests in stages (AddressSanitizer, cgocheck, cgocheck2, valgrind) and tie every memory error to its Go line')
    .usage('[options] [patterns...] [-- go test flags]')
    .argument('[patterns...]', 'packages to test (as for go test)', [])
    .option('--stages <names>', `stages to run, in this order (default: ${STAGES.join(',')})`, list)
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json', 'sarif', 'junit', 'html']).default('text'))
    .option('-o, --output <file>', 'write the report to a file instead of stdout')
    .option('--html <file>', 'also write the HTML report to this file')
    .option('--junit <file>', 'also write JUnit XML to this file')
    .option('--leak-report <file>', 'write the leak report here when leaks fail the run (default: policy.leak-report)')
    .addOption(new Option('--fail-on <severity>', 'lowest static severity that fails the run (default: policy.static)').choices(['error', 'warning', 'note', 'never']))
    .option('--config <file>', 'configuration file (default: nearest cgoguard.yaml)')
    .option('--tags <tags>', 'build tags (comma-separated)', list)
    .option('--timeout <d>', 'per package, as go test -timeout (valgrind runs get 10 times as long)', (v) => {
      if (!/^\d+(\.\d+)?(ns|us|ms|s|m|h)$/.test(v)) throw new ExitError(`--timeout: expected a Go duration such as 10m or 90s, got "${v}"`, 2);
      return v;
    })
    .option('--no-static', 'skip the static check (nothing is marked confirmed)')
    .option('--no-c-analyzer', "skip clang's static analyzer on the preambles and .c files")
    .option('-j, --jobs <n>', 'worker threads for the static check (default: one per core)', jobs)
    .action(async (args: string[], o) => {
      const cwd = process.cwd();
      const { before: patterns, after: testFlags } = splitAtDashes(argv, args);
      const stages = (o.stages ?? [...STAGES]) as StageName[];
      for (const st of stages) if (!(STAGES as readonly string[]).includes(st)) throw new ExitError(`--stages: unknown stage "${st}" (known: ${STAGES.join(', ')})`, 2);
      const config = configFor(cwd, o.config);
      const progress = progressPrinter(err);
      const result = await interruptible((signal) =>
        runTest({
          cwd,
          patterns,
          config,
          tags: [...config.tags, ...(o.tags ?? [])],
          stages,
          testFlags,
          timeout: o.timeout ?? '10m',
          static: o.static !== false,
          cAnalyzer: o.cAnalyzer !== false,
          jobs: o.jobs ?? 0,
          progress,
          signal,
        }),
      );
      for (const n of result.notes) err(`cgoguard: ${n}\n`);
      for (const s of result.stages) {
        if (s.status === 'skipped') err(`cgoguard: ${s.stage}: skipped: ${s.reason}\n`);
        if (s.reason && s.status === 'ran') err(`cgoguard: ${s.stage}: ${s.reason}\n`);
        for (const p of s.buildFailures) err(`cgoguard: ${s.stage}: the tests did not build: ${p}\n`);
        for (const p of s.testFailures) err(`cgoguard: ${s.stage}: ${p}: tests failed (not a memory error; see go test)\n`);
      }
      const policy = { ...config.policy, ...(o.failOn ? { static: o.failOn as FailOn } : {}), ...(o.leakReport ? { leakReport: path.resolve(cwd, o.leakReport) } : {}) };
      const verdict = judge(result.findings, policy);
      const junitStages = result.stages.map((s) => ({ stage: s.stage, status: s.status, reason: s.reason, ms: s.ms, packageNames: s.packageNames }));
      const html = () => formatHTML({ title: `cgoguard test ${patterns.join(' ') || '.'}`, findings: result.findings, stages: result.stages, cwd, version: VERSION });
      const junit = () => formatJUnit(result.findings, junitStages, o.static !== false);
      const text =
        o.format === 'json'
          ? formatJSON(result.findings, { static: result.staticStats, stages: result.stages, unplaced: result.unplaced, verdict: { failed: verdict.failed, reasons: verdict.reasons } })
          : o.format === 'sarif'
            ? formatSARIF(result.findings, cwd, VERSION)
            : o.format === 'junit'
              ? junit()
              : o.format === 'html'
                ? html()
                : formatText(result.findings);
      if (o.output) writeOutput(path.resolve(cwd, o.output), text);
      else out(text);
      if (o.html) writeOutput(path.resolve(cwd, o.html), html());
      if (o.junit) writeOutput(path.resolve(cwd, o.junit), junit());
      announce(verdict, policy, cwd, err);
      const couldNotRun = result.stages.some((s) => s.buildFailures.length);
      const testsFailed = result.stages.some((s) => s.testFailures.length);
      exitCode = verdict.failed || testsFailed ? 1 : couldNotRun ? 3 : 0;
    });

  // trace and trace run share their options and their ending.
  const traceOptions = <T extends Command>(c: T): T =>
    c
      .addOption(new Option('--format <format>', 'output format').choices(['text', 'json', 'sarif', 'junit', 'html']).default('text'))
      .option('-o, --output <file>', 'write the report to a file')
      .option('--pprof <file>', 'write live C memory at exit as a pprof profile (gzipped profile.proto)')
      .option('--events <file>', 'write every event as JSON lines')
      .option('--html <file>', 'also write the HTML report (with the icicle graph of live C memory)')
      .option('--guard', 'check every release and read as it happens: a double free is reported with its stack and not performed')
      .option('--abort', 'stop the program at the first misuse (implies --guard)')
      .option('--full-stacks', 'take the Go stack of every allocation (slower; default: the first 8 per site, then 1 in 1024)')
      .option('--config <file>', 'configuration file (default: nearest cgoguard.yaml)')
      .option('--tags <tags>', 'build tags (comma-separated)', list)
      .option('--no-static', 'skip the static check (nothing is marked confirmed)')
      .option('--no-c-analyzer', "skip clang's static analyzer on the preambles and .c files") as T;

  const traceAction = async (mode: 'test' | 'run', patterns: string[], args: string[], o: Record<string, unknown>) => {
    const cwd = process.cwd();
    const config = configFor(cwd, o.config as string | undefined);
    const r = await interruptible((signal) =>
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
        cAnalyzer: o.cAnalyzer !== false,
        jobs: 0,
        signal,
        stdio: mode === 'run' ? 'inherit' : 'pipe',
      }),
    );
    for (const n of r.notes) err(`cgoguard: ${n}\n`);
    const s = r.summary;
    err(`cgoguard: trace: ${s.processes} process(es), ${s.allocations} allocation(s), ${s.frees} release(s); live at exit: ${s.live.reduce((a, g) => a + g.bytes, 0)} byte(s) in ${s.live.reduce((a, g) => a + g.objects, 0)} object(s); ${s.misuses.length} misuse(s)\n`);
    const live = s.live.map((g) => ({ frames: g.frames.length ? g.frames : [{ fn: g.site.call, file: g.site.file, line: g.site.line }], bytes: g.bytes, objects: g.objects }));
    const html = () => formatHTML({ title: `cgoguard trace ${patterns.join(' ') || '.'}`, findings: r.findings, stages: [], cwd, version: VERSION, live });
    const text =
      o.format === 'json'
        ? formatJSON(r.findings, { runId: r.runId, processes: s.processes, allocations: s.allocations, frees: s.frees, exitCode: r.exitCode })
        : o.format === 'sarif'
          ? formatSARIF(r.findings, cwd, VERSION)
          : o.format === 'html'
            ? html()
            : o.format === 'junit'
              ? formatJUnit(r.findings, [{ stage: 'trace', status: 'ran', ms: 0, packageNames: [...new Set(r.findings.flatMap((f) => (f.dynamic ? [f.dynamic.package] : [])))] }], o.static !== false)
              : formatText(r.findings);
    if (o.output) writeOutput(path.resolve(cwd, o.output as string), text);
    else if (mode === 'run') err(text); // the program's own output owns stdout
    else out(text);
    if (o.html) writeOutput(path.resolve(cwd, o.html as string), html());
    if (o.pprof) writeOutput(path.resolve(cwd, o.pprof as string), encodePprof(live, Date.now() * 1e6));
    if (o.events) writeOutput(path.resolve(cwd, o.events as string), eventLines(r));
    const verdict = judge(r.findings, config.policy);
    announce(verdict, config.policy, cwd, err);
    if (mode === 'test' && r.exitCode !== 0) err(`cgoguard: the traced tests failed (exit status ${r.exitCode})\n${r.output.split('\n').slice(-15).join('\n')}\n`);
    exitCode = verdict.failed || (mode === 'test' && r.exitCode !== 0) ? 1 : 0;
  };

  const trace = traceOptions(
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
    .action(async (patterns: string[], o) => {
      if (o.compare && o.compare.length !== 2) throw new ExitError('--compare: expected two files (old and new)', 2);
      if (o.compare && o.base) throw new ExitError('--compare and --base cannot be used together', 2);
      const cwd = process.cwd();
      const r = await runEscape({ cwd, patterns, tags: o.tags ?? [], base: o.base, compare: o.compare as [string, string] | undefined });
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

  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.exitCode === 0) return 0; // --help, --version
      err(`cgoguard: ${e.message.replace(/^error: /, '')}\n`);
      return 2;
    }
    if (e instanceof ExitError) {
      err(`cgoguard: ${e.message}\n`);
      return e.code;
    }
    if (e instanceof UsageError || e instanceof ConfigError) {
      err(`cgoguard: ${e.message}\n`);
      return 2;
    }
    const msg = e instanceof Error ? e.message : String(e);
    err(`cgoguard: internal error: ${msg.split('\n')[0]}\n`);
    if (process.env.CGOGUARD_DEBUG && e instanceof Error) err(`${e.stack}\n`);
    return 2;
  }
}

/** The event log as JSON lines: one object per event, with the run, the site's Go line and the stack id. */
function eventLines(r: TraceResult): string {
  const lines: string[] = [];
  for (const e of r.events) {
    const site = r.sites[e.site];
    lines.push(
      JSON.stringify({
        run: r.runId,
        pid: e.pid,
        seq: e.seq,
        t: e.t,
        event: e.kind,
        ptr: `0x${e.ptr.toString(16)}`,
        size: e.kind === 'violation' ? undefined : e.size,
        call: site?.call,
        file: site?.file,
        line: site?.line,
        stack: e.stack || undefined,
        goroutine: e.goroutine || undefined,
      }),
    );
  }
  return lines.length ? `${lines.join('\n')}\n` : '';
}

/** Stage progress: a line that updates on a terminal, plain lines elsewhere (CI, pipes). */
function progressPrinter(err: (s: string) => void): (e: ProgressEvent) => void {
  const live = process.stderr.isTTY && !process.env.CI;
  let timer: NodeJS.Timeout | undefined;
  let now = '';
  let t0 = 0;
  const draw = () => err(`\r\x1b[K${now} ${Math.round((Date.now() - t0) / 1000)}s`);
  return (e) => {
    if (e.k === 'start') {
      t0 = Date.now();
      now = `cgoguard: ${e.stage}: running the tests of ${e.packages} package(s)`;
      if (!live) return err(`${now}\n`);
      timer = setInterval(draw, 1000);
      timer.unref();
      draw();
      return;
    }
    if (e.k === 'package') {
      now = `cgoguard: ${e.stage}: [${e.index + 1}/${e.total}] ${e.name}`;
      if (live) draw();
      else err(`${now}\n`);
      return;
    }
    if (timer) clearInterval(timer);
    err(`${live ? '\r\x1b[K' : ''}cgoguard: ${e.stage}: done in ${(e.ms / 1000).toFixed(1)} s, ${e.findings} finding(s)\n`);
  };
}

function indent(s: string): string {
  return s
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n');
}
