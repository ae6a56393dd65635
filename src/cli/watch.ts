// `cgoguard watch`: arguments, output (terminal lines or JSON lines, the HTML
// report, /metrics, the log shipper) and the exit status: 0 no alert was
// raised, 1 one was, 2 bad usage.
import { renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Option, type Command } from 'commander';
import { UsageError } from '../workspace/discover.js';
import { formatWatchHTML } from '../watch/html.js';
import { exposition, serveMetrics, type MetricsServer } from '../watch/metrics.js';
import { alertSummary, formatBytes, Watcher, type WatchEvent } from '../watch/watcher.js';
import { finishShipper, lokiOptions, startShipper, toEntry, type LokiFlags } from './log.js';
import { parseBytes, parseDuration, positiveInt, type CliContext } from './units.js';

const collect = (v: string, prev: string[] = []) => [...prev, ...v.split(',').map((s) => s.trim()).filter(Boolean)];

function writeAtomically(file: string, text: string): void {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  writeFileSync(tmp, text);
  renameSync(tmp, file);
}

const time = (ms: number) => new Date(ms).toISOString().slice(11, 19);

export function registerWatchCommand(program: Command, ctx: CliContext): void {
  const cmd = program
    .command('watch')
    .description('sample running processes from /proc, separate non-Go memory, alert on steady growth and name the Go stacks whose C bytes grew')
    .argument('[targets...]', 'process ids or executable names')
    .option('--cgroup <path>', 'every process in this cgroup (path as in /proc/PID/cgroup; repeatable)', collect)
    .option('--container <id>', 'every process of this container (its id in the cgroup path; repeatable)', collect)
    .option('--all', 'every process (as a DaemonSet does)')
    .option('--interval <duration>', 'time between samples', '10s')
    .option('--window <n>', 'samples the trend is fitted over', '30')
    .option('--min-samples <n>', 'samples needed before an alert', '8')
    .option('--min-growth <bytes>', 'growth over the window that raises an alert', '1MiB')
    .option('--confidence <p>', 'confidence of steady growth that raises an alert (0..1)', '0.99')
    .option('--count <n>', 'stop after this many samples')
    .option('--duration <duration>', 'stop after this long')
    .option('--endpoint <[target=]url>', 'where a process serves /debug/cgoguard/vars, /debug/vars or /debug/pprof (repeatable; target: a pid or a command)', collect)
    .addOption(new Option('--format <format>', 'what goes to stdout').choices(['text', 'json']).default('text'))
    .option('--quiet', 'print alerts and notes only, not every sample')
    .option('--html <file>', 'write the HTML report (rewritten every interval)')
    .option('--listen <addr>', 'serve Prometheus metrics at http://ADDR/metrics (e.g. :9464)')
    .option('--profile-dir <dir>', 'keep the heap profiles of each alert (base, at the alert, and the diff)')
    .option('--proc <dir>', 'the proc file system to read (a DaemonSet mounts the host\'s)', '/proc');
  lokiOptions(cmd).action(async (targets: string[], o) => {
    const intervalMs = parseDuration('--interval', o.interval);
    const window = positiveInt('--window', o.window);
    const minSamples = positiveInt('--min-samples', o.minSamples);
    const confidence = Number(o.confidence);
    if (!(confidence > 0 && confidence < 1)) throw new UsageError(`--confidence: expected a number between 0 and 1, got "${o.confidence}"`);
    const selection = { pids: [] as number[], names: [] as string[], cgroups: o.cgroup ?? [], containers: o.container ?? [], all: !!o.all };
    for (const t of targets) (/^\d+$/.test(t) ? selection.pids.push(Number(t)) : selection.names.push(t));
    if (!targets.length && !selection.cgroups.length && !selection.containers.length && !selection.all) throw new UsageError('watch: name processes (pids or names), or use --cgroup, --container or --all');
    const endpoints = (o.endpoint ?? []).map((e: string) => {
      const m = /^([^=]+)=(https?:\/\/.+)$/.exec(e);
      const url = m ? m[2] : e;
      if (!/^https?:\/\/[^/]+/.test(url)) throw new UsageError(`--endpoint: expected [TARGET=]http://HOST:PORT, got "${e}"`);
      return { target: m?.[1], url };
    });

    const abort = new AbortController();
    const stop = () => abort.abort();
    let alerted = false;
    // Flags are all checked before the shipper starts: once started, it is always closed.
    let shipper: Awaited<ReturnType<typeof startShipper>>;
    const onEvent = (e: WatchEvent) => {
      if (e.type === 'alert') alerted = true;
      const record = { ...e, time: new Date(e.time).toISOString() };
      // Samples are for metrics; the log gets what happened.
      if (e.type !== 'sample') shipper?.add(toEntry(record, 'watch', BigInt(e.time) * 1_000_000n));
      if (e.type === 'sample' && o.quiet) return;
      if (o.format === 'json') {
        ctx.out(`${JSON.stringify(record)}\n`);
        return;
      }
      if (e.type === 'note') ctx.err(`cgoguard: watch: ${e.message}\n`);
      else if (e.type === 'alert') {
        const what = e.basis === 'non-go' ? 'non-Go memory' : 'anonymous RSS (no Go figures)';
        const grown = e.grown.length ? `; C bytes grew at: ${alertSummary(e)}` : '';
        ctx.out(`${time(e.time)} ALERT pid ${e.pid} (${e.command}): ${what} grows ${formatBytes(e.slope)}/s (confidence ${e.confidence.toFixed(3)}, +${formatBytes(e.growth)} over the window)${grown}\n`);
      } else if (e.type === 'resolved') ctx.out(`${time(e.time)} resolved pid ${e.pid} (${e.command}): no longer growing steadily\n`);
      else {
        const parts = [`rss ${formatBytes(e.rss)}`, e.nonGoBytes !== undefined ? `non-go ${formatBytes(e.nonGoBytes)}` : `anon ${formatBytes(e.rssAnon)}`];
        if (e.c) parts.push(`c ${formatBytes(e.c.liveBytes)}`);
        if (e.slope !== undefined) parts.push(`trend ${formatBytes(e.slope)}/s conf ${(e.confidence ?? 0).toFixed(2)}`);
        ctx.out(`${time(e.time)} pid ${e.pid} ${e.command}  ${parts.join('  ')}${e.alert ? '  ALERT' : ''}\n`);
      }
    };
    const watcher = new Watcher({
      procRoot: o.proc,
      selection,
      intervalMs,
      window,
      minSamples,
      minGrowth: parseBytes('--min-growth', o.minGrowth),
      confidence,
      endpoints,
      count: o.count !== undefined ? positiveInt('--count', o.count) : undefined,
      durationMs: o.duration !== undefined ? parseDuration('--duration', o.duration) : undefined,
      profileDir: o.profileDir ? path.resolve(o.profileDir) : undefined,
      signal: abort.signal,
      onEvent,
    });
    const htmlFile = o.html ? path.resolve(o.html) : undefined;
    const report = () => htmlFile && writeAtomically(htmlFile, formatWatchHTML({ title: `cgoguard watch ${[...targets, ...(o.all ? ['--all'] : [])].join(' ')}`, processes: [...watcher.processes.values()], version: ctx.version, started: watcher.started }));
    let server: MetricsServer | undefined;
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    try {
      shipper = await startShipper(o as LokiFlags, ctx);
      if (o.listen) {
        server = await serveMetrics(o.listen, () => exposition(watcher));
        ctx.err(`cgoguard: watch: serving /metrics on ${server.address}\n`);
      }
      const every = htmlFile ? setInterval(report, Math.max(intervalMs, 1000)) : undefined;
      try {
        await watcher.run();
      } finally {
        if (every) clearInterval(every);
      }
      report();
    } finally {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      await server?.close();
      if (shipper) await finishShipper(shipper, ctx);
    }
    ctx.setExit(alerted ? 1 : 0);
  });
}
