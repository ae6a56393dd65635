// The production commands: `build` (the sampling runtime), `watch` (running
// processes), `log export` (the memory log to a Loki-protocol server).
import type { Command } from 'commander';
import { DEFAULT_SAMPLE_RATE, runBuild } from '../pipeline/build.js';
import { UsageError } from '../workspace/discover.js';
import { registerLogCommands } from './log.js';
import { registerWatchCommand } from './watch.js';
import { parseBytes, type CliContext } from './units.js';

export function registerProductionCommands(program: Command, argv: string[], ctx: CliContext): void {
  program
    .command('build')
    .description('go build with C allocations sampled by Go stack, served at /debug/cgoguard/heap (pprof) and /debug/cgoguard/vars')
    .usage('[--sample-rate BYTES] [--config FILE] [go build flags] [PKG]')
    .argument('[args...]', 'go build flags and the main package')
    .allowUnknownOption()
    .allowExcessArguments()
    .option('--sample-rate <bytes>', 'mean bytes between two sampled allocations (default 512KiB; CGOGUARD_SAMPLE_RATE overrides it at run time)')
    .option('--config <file>', 'configuration file, for its contracts (default: nearest cgoguard.yaml)')
    .action(async () => {
      // Commander cannot know go build's flags: the arguments are read here, in their order.
      const rest = argv.slice(argv.indexOf('build') + 1);
      const goArgs: string[] = [];
      let rate = DEFAULT_SAMPLE_RATE;
      let configFile: string | undefined;
      for (let i = 0; i < rest.length; i++) {
        const [name, inline] = rest[i].split(/=(.*)/s, 2);
        if (name !== '--sample-rate' && name !== '--config') {
          goArgs.push(rest[i]);
          continue;
        }
        const value = inline ?? rest[++i];
        if (value === undefined) throw new UsageError(`${name} needs a value`);
        if (name === '--sample-rate') rate = parseBytes('--sample-rate', value);
        else configFile = value;
      }
      const cwd = process.cwd();
      const config = ctx.configFor(cwd, configFile);
      const run = await ctx.interruptible((signal) => runBuild({ cwd, args: goArgs, config, sampleRate: rate, signal }));
      if (!run.result || run.signal) {
        ctx.err(ctx.interrupted(run.signal ?? 'SIGINT'));
        ctx.setExit(130);
        return;
      }
      const r = run.result;
      if (r.stderr) ctx.err(r.stderr);
      if (r.code !== 0) {
        ctx.err(`cgoguard: go build failed (exit status ${r.code})\n`);
        ctx.setExit(1);
        return;
      }
      const where = r.defaultMux ? 'on the program\'s net/http/pprof mux, and on CGOGUARD_LISTEN when set' : 'on the address in CGOGUARD_LISTEN';
      ctx.err(`cgoguard: built with ${r.sites} C allocation and release site(s) sampled in ${r.packages.length} package(s), 1 sample per ${rate} bytes; /debug/cgoguard/heap is served ${where}\n`);
    });

  registerWatchCommand(program, ctx);
  registerLogCommands(program, ctx);
}
