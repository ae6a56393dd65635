// The command line: parse arguments, run the pipeline, print, choose the exit code.
//   0  nothing reached the failure threshold
//   1  something did
//   2  bad usage, bad configuration or unreadable input
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import { SEVERITY_RANK } from '../findings/finding.js';
import { failsAt, runCheck } from '../pipeline/check.js';
import { formatJSON } from '../report/json.js';
import { formatSARIF } from '../report/sarif.js';
import { formatText } from '../report/text.js';
import { ALL_RULES, ruleById } from '../rules/index.js';
import { ConfigError, defaultConfig, loadConfig, locateConfig, type FailOn } from '../workspace/config.js';
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

function checkRuleIds(ids: string[], flag: string): void {
  for (const id of ids) if (!ruleById(id)) throw new ExitError(`${flag}: unknown rule "${id}" (see cgoguard rules)`, 2);
}

/** Writes a file atomically: a temporary file in the same directory, then rename. */
function writeOutput(file: string, text: string): void {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  writeFileSync(tmp, text);
  renameSync(tmp, file);
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
    .option('-j, --jobs <n>', 'worker threads (default: one per core)', (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1) throw new ExitError(`--jobs: expected a positive integer, got "${v}"`, 2);
      return n;
    })
    .addOption(new Option('--all-functions', 'analyse every function, even in packages that cannot have findings').hideHelp())
    .action(async (patterns: string[], o) => {
      const cwd = process.cwd();
      const cfgFile = locateConfig(cwd, o.config);
      const config = cfgFile ? loadConfig(cfgFile) : defaultConfig();
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

function indent(s: string): string {
  return s
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n');
}
