// Real servers and services for the production tests: Prometheus (Debian's),
// VictoriaLogs (built by scripts/system-deps.sh), and the test service of
// testdata/production built with `cgoguard build`. Each is started on a free
// loopback port in its own temporary folder, and stopped by the test.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import path from 'node:path';
import { cgoguard, repoRoot } from './cli.js';

export const hasGo = spawnSync('go', ['version']).status === 0;
export const hasPrometheus = spawnSync('prometheus', ['--version']).status === 0;
export const victoriaLogsBin = process.env.CGOGUARD_VICTORIALOGS ?? path.join(process.env.XDG_CACHE_HOME || path.join(homedir(), '.cache'), 'cgoguard', 'bin', 'victoria-logs-v1.52.1');
export const hasVictoriaLogs = existsSync(victoriaLogsBin);

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Polls until fn returns a value (not undefined), or throws after timeoutMs with the last error. */
export async function waitFor<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, timeoutMs = 20_000, everyMs = 200): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export interface Running {
  child: ChildProcess;
  output: () => string;
  stop: () => Promise<void>;
}

/** Starts a process; stop() sends SIGTERM, then SIGKILL after 5 s. */
export function start(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env, cwd = repoRoot): Running {
  const child = spawn(cmd, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (out += b.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return {
    child,
    output: () => out,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    },
  };
}

/** testdata/production/<name> built with `cgoguard build` into dir. */
export function buildProduction(name: string, dir: string, ...flags: string[]): string {
  const out = path.join(dir, name);
  const r = cgoguard(['build', ...flags, '-o', out, `./${name}`], { cwd: path.join(repoRoot, 'testdata/production') });
  if (r.code !== 0) throw new Error(`cgoguard build ${name} failed: ${r.stderr}`);
  return out;
}

export interface Service extends Running {
  pid: number;
  /** Where it serves net/http/pprof (and /debug/cgoguard/*). */
  url: string;
}

/** Starts the test service and waits for the address it prints. */
export async function startService(bin: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<Service> {
  const r = start(bin, args, { ...process.env, ...env });
  const addr = await waitFor('the service to listen', () => /listening on (\S+)/.exec(r.output())?.[1], 10_000, 50);
  return { ...r, pid: r.child.pid!, url: `http://${addr}` };
}

export interface Server {
  url: string;
  stop: () => Promise<void>;
  dir: string;
}

/** Prometheus scraping the given targets every 500 ms, with a rule file when given. */
export async function startPrometheus(targets: string[], ruleFile?: string): Promise<Server> {
  const dir = mkdtempSync(path.join(tmpdir(), 'cgoguard-prom-'));
  const port = await freePort();
  const config = path.join(dir, 'prometheus.yml');
  writeFileSync(
    config,
    [
      'global:',
      '  scrape_interval: 500ms',
      '  evaluation_interval: 500ms',
      ...(ruleFile ? ['rule_files:', `  - ${JSON.stringify(ruleFile)}`] : []),
      'scrape_configs:',
      '  - job_name: cgoguard-watch',
      '    static_configs:',
      `      - targets: [${targets.map((t) => JSON.stringify(t)).join(', ')}]`,
      '',
    ].join('\n'),
  );
  const r = start('prometheus', [`--config.file=${config}`, `--storage.tsdb.path=${path.join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'], process.env, dir);
  const url = `http://127.0.0.1:${port}`;
  await waitFor('Prometheus to be ready', async () => ((await fetch(`${url}/-/ready`).catch(() => undefined))?.ok ? true : undefined), 30_000);
  return {
    url,
    dir,
    stop: async () => {
      await r.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** An instant PromQL query's result vector. */
export async function promQuery(url: string, query: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
  const r = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(query)}`);
  const j = (await r.json()) as { status: string; error?: string; data: { result: { metric: Record<string, string>; value: [number, string] }[] } };
  if (j.status !== 'success') throw new Error(`PromQL ${query}: ${j.error}`);
  return j.data.result;
}

export interface LogServer extends Server {
  pushURL: string;
  /** Stops the server, keeping its data, and starts it again on the same port. */
  restart: () => Promise<void>;
  pause: () => Promise<void>;
}

/** VictoriaLogs on a free port, its data in a temporary folder. */
export async function startVictoriaLogs(): Promise<LogServer> {
  const dir = mkdtempSync(path.join(tmpdir(), 'cgoguard-vlogs-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let r: Running | undefined;
  const up = async () => {
    r = start(victoriaLogsBin, [`-storageDataPath=${path.join(dir, 'data')}`, `-httpListenAddr=127.0.0.1:${port}`, '-loggerLevel=ERROR'], process.env, dir);
    await waitFor('VictoriaLogs to be ready', async () => ((await fetch(`${url}/health`).catch(() => undefined))?.ok ? true : undefined), 30_000, 100);
  };
  await up();
  return {
    url,
    dir,
    pushURL: `${url}/insert/loki/api/v1/push`,
    pause: async () => {
      await r?.stop();
      r = undefined;
    },
    restart: async () => {
      await r?.stop();
      await up();
    },
    stop: async () => {
      await r?.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A LogsQL query's rows (VictoriaLogs answers JSON lines). */
export async function logsQuery(url: string, query: string): Promise<Record<string, string>[]> {
  const r = await fetch(`${url}/select/logsql/query?query=${encodeURIComponent(query)}`);
  const text = await r.text();
  if (!r.ok) throw new Error(`LogsQL ${query}: HTTP ${r.status} ${text}`);
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, string>);
}
