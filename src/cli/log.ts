// The memory log to a Loki-protocol server: the --loki options that trace
// and watch share, `cgoguard log export FILE...` for event logs written
// earlier, and `cgoguard log flush` for what an earlier run left spooled.
// Labels stay few and bounded (job, source, event, host); pids, pointers,
// sites and stacks go in the line, which is the event's JSON.
import { readFileSync, statSync } from 'node:fs';
import { homedir, hostname } from 'node:os';
import path from 'node:path';
import { Option, type Command } from 'commander';
import { UsageError } from '../workspace/discover.js';
import type { Finding } from '../findings/finding.js';
import type { LogEntry } from '../watch/loki.js';
import { pushURL, Shipper, type ShipperOptions, type ShipperStats } from '../watch/shipper.js';
import { parseBytes, parseDuration, type CliContext } from './units.js';

export interface LokiFlags {
  loki?: string;
  lokiFormat: 'protobuf' | 'json';
  lokiTenant?: string;
  lokiSpool?: string;
  lokiSpoolMax: string;
  lokiBatch: string;
  lokiDrain: string;
}

export function lokiOptions<T extends Command>(c: T): T {
  return c
    .option('--loki <url>', 'ship the memory log to this Loki push URL (e.g. http://loki:3100, or VictoriaLogs\' http://host:9428/insert/loki/api/v1/push)')
    .addOption(new Option('--loki-format <format>', 'push format').choices(['protobuf', 'json']).default('protobuf'))
    .option('--loki-tenant <id>', 'tenant (X-Scope-OrgID header)')
    .option('--loki-spool <dir>', 'on-disk spool for entries not yet delivered (default: $XDG_STATE_HOME/cgoguard/loki-spool)')
    .option('--loki-spool-max <bytes>', 'spool size limit; past it new entries are dropped and counted', '64MiB')
    .option('--loki-batch <n>', 'entries per push', '500')
    .option('--loki-drain <duration>', 'how long to keep retrying at exit before leaving entries in the spool', '30s') as T;
}

function defaultSpool(): string {
  const state = process.env.XDG_STATE_HOME || path.join(homedir(), '.local', 'state');
  return path.join(state, 'cgoguard', 'loki-spool');
}

/** A shipper for --loki, or undefined without it. */
export async function startShipper(o: LokiFlags, ctx: CliContext): Promise<Shipper | undefined> {
  const options = shipperOptions(o, ctx);
  return options && new Shipper(options);
}

/** The shipper's options from the flags, checked (undefined without --loki). */
function shipperOptions(o: LokiFlags, ctx: CliContext): ShipperOptions | undefined {
  if (!o.loki) return undefined;
  let url: string;
  try {
    url = pushURL(o.loki);
    if (!/^https?:$/.test(new URL(url).protocol)) throw new Error('not http');
  } catch {
    throw new UsageError(`--loki: expected an http(s) URL, got "${o.loki}"`);
  }
  const batch = Number(o.lokiBatch);
  if (!Number.isInteger(batch) || batch < 1) throw new UsageError(`--loki-batch: expected a positive integer, got "${o.lokiBatch}"`);
  return {
    url,
    format: o.lokiFormat,
    tenant: o.lokiTenant,
    spoolDir: path.resolve(o.lokiSpool ?? defaultSpool()),
    spoolMaxBytes: parseBytes('--loki-spool-max', o.lokiSpoolMax),
    batchEntries: batch,
    batchBytes: 1 << 20,
    flushMs: 1000,
    drainMs: parseDuration('--loki-drain', o.lokiDrain),
    onNote: (m) => ctx.err(`cgoguard: log: ${m}\n`),
  };
}

const HOST = hostname();

/** An event (an object with `event` or `type`) as a log entry: its JSON is the line. */
export function toEntry(obj: Record<string, unknown>, source: string, fallbackNs: bigint): LogEntry {
  const kind = String(obj.event ?? obj.type ?? 'event');
  // The label must stay low-cardinality whatever a file holds.
  const event = /^[a-z][a-z-]{0,31}$/.test(kind) ? kind : 'other';
  const ms = typeof obj.time === 'string' ? Date.parse(obj.time) : NaN;
  const ts = Number.isFinite(ms) ? BigInt(ms) * 1_000_000n : fallbackNs;
  return { labels: { job: 'cgoguard', source, event, host: HOST }, ts: ts.toString(), line: JSON.stringify(obj) };
}

/** Adds events to a shipper (and a note of how it went to stderr when closed). */
export async function finishShipper(shipper: Shipper, ctx: CliContext): Promise<ShipperStats> {
  const s = await shipper.close();
  ctx.err(`cgoguard: log: ${s.sent} entries delivered${s.dropped ? `, ${s.dropped} dropped` : ''}${s.spooled ? `, ${s.spooled} left in the spool for the next run (cgoguard log flush)` : ''}\n`);
  return s;
}

/**
 * trace --loki: the run's events (allocations, releases, realloc moves, reads,
 * misuses) and its run-time findings (leaks still live at exit, misuses with
 * their stacks), in the order they happened, stamped from now.
 */
export async function shipTrace(eventLines: string, findings: Finding[], o: LokiFlags, ctx: CliContext): Promise<void> {
  const shipper = (await startShipper(o, ctx))!;
  const now = BigInt(Date.now()) * 1_000_000n;
  let i = 0n;
  for (const line of eventLines.split('\n')) if (line) shipper.add(toEntry(JSON.parse(line) as Record<string, unknown>, 'trace', now + i++));
  for (const f of findings) {
    if (f.dynamic?.stage !== 'trace') continue;
    const event = f.rule === 'leak' ? 'leak' : 'misuse';
    shipper.add(toEntry({ event, rule: f.rule, severity: f.severity, message: f.message, file: f.file, line: f.line, bytes: f.dynamic.bytes, objects: f.dynamic.objects, stacks: f.dynamic.stacks }, 'trace', now + i++));
  }
  await finishShipper(shipper, ctx);
}

function readEvents(file: string): Record<string, unknown>[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
  const out: Record<string, unknown>[] = [];
  text.split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      throw new UsageError(`${file}:${i + 1}: not a JSON line`);
    }
    if (!v || typeof v !== 'object' || Array.isArray(v)) throw new UsageError(`${file}:${i + 1}: not a JSON object`);
    out.push(v as Record<string, unknown>);
  });
  return out;
}

export function registerLogCommands(program: Command, ctx: CliContext): void {
  const log = program.command('log').description('the memory log: ship event logs to a Loki-protocol server');
  lokiOptions(
    log
      .command('export')
      .description('ship event logs written earlier (trace --events, watch --format json) to a Loki push URL')
      .argument('<files...>', 'JSON-lines event files'),
  ).action(async (files: string[], o: LokiFlags) => {
    if (!o.loki) throw new UsageError('log export needs --loki URL');
    const options = shipperOptions(o, ctx)!;
    // Every file is read and checked before anything is sent.
    const all = files.map((f) => ({ file: f, events: readEvents(path.resolve(f)), mtimeNs: BigInt(Math.floor(statSync(path.resolve(f)).mtimeMs)) * 1_000_000n }));
    const shipper = new Shipper(options);
    for (const { events, mtimeNs } of all) events.forEach((e, i) => shipper.add(toEntry(e, 'export', mtimeNs + BigInt(i))));
    const s = await finishShipper(shipper, ctx);
    ctx.setExit(s.dropped || s.spooled ? 1 : 0);
  });
  lokiOptions(log.command('flush').description('deliver what earlier runs left in the spool')).action(async (o: LokiFlags) => {
    if (!o.loki) throw new UsageError('log flush needs --loki URL');
    const s = await finishShipper((await startShipper(o, ctx))!, ctx);
    ctx.setExit(s.dropped || s.spooled ? 1 : 0);
  });
}
