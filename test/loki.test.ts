// The memory log in Loki's push protocol: the two wire forms, retries with
// backoff, the bounded spool; then against a real Loki-protocol server
// (VictoriaLogs, built by scripts/system-deps.sh), asserted through its own
// LogsQL API: trace --loki, log export in both formats, and a server stopped
// and restarted while entries wait in the spool.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { uncompress } from 'snappyjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodePush, labelString, type LogEntry } from '../src/watch/loki.js';
import { Shipper, pushURL } from '../src/watch/shipper.js';
import { bin, cgoguard, repoRoot } from './support/cli.js';
import { buildProduction, freePort, hasGo, hasVictoriaLogs, logsQuery, startService, startVictoriaLogs, waitFor, type LogServer } from './support/servers.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'cgoguard-loki-test-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const entry = (i: number, event = 'alloc'): LogEntry => ({ labels: { job: 'cgoguard', source: 'test', event }, ts: String(1_700_000_000_000_000_000n + BigInt(i)), line: JSON.stringify({ event, i }) });

/** A push endpoint on loopback that answers with the statuses given, then 204; it keeps what it accepted. */
async function fakeLoki(statuses: number[]): Promise<{ url: string; bodies: { type: string; body: Buffer }[]; requests: () => number; close: () => Promise<void> }> {
  const bodies: { type: string; body: Buffer }[] = [];
  let n = 0;
  const server: Server = createServer((req: IncomingMessage, res) => {
    const parts: Buffer[] = [];
    req.on('data', (b: Buffer) => parts.push(b));
    req.on('end', () => {
      const status = statuses[n++] ?? 204;
      if (status === 204) bodies.push({ type: String(req.headers['content-type']), body: Buffer.concat(parts) });
      res.writeHead(status).end(status === 400 ? 'entry too far behind' : '');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  return { url: `http://127.0.0.1:${port}/loki/api/v1/push`, bodies, requests: () => n, close: () => new Promise((r) => server.close(() => r())) };
}

const shipper = (url: string, spoolDir: string, extra: Partial<ConstructorParameters<typeof Shipper>[0]> = {}, notes: string[] = []) =>
  new Shipper({ url, format: 'protobuf', spoolDir, spoolMaxBytes: 1 << 20, batchEntries: 10, batchBytes: 1 << 20, flushMs: 50, drainMs: 5000, onNote: (m) => notes.push(m), ...extra });

describe('push formats', () => {
  it('encodes a PushRequest in protobuf, snappy-compressed, streams by label set', () => {
    const { body, headers } = encodePush([entry(2), entry(1), entry(3, 'free')], 'protobuf');
    expect(headers['Content-Type']).toBe('application/x-protobuf');
    const raw = Buffer.from(uncompress(body));
    // PushRequest.streams (field 1, length-delimited), StreamAdapter.labels (field 1) first.
    expect(raw[0]).toBe(0x0a);
    const text = raw.toString('latin1');
    expect(text).toContain('{event="alloc", job="cgoguard", source="test"}');
    expect(text).toContain('{event="free", job="cgoguard", source="test"}');
    // Entries of a stream in time order.
    expect(text.indexOf('"i":1')).toBeLessThan(text.indexOf('"i":2'));
    expect(labelString({ b: 'x"y', a: '1' })).toBe('{a="1", b="x\\"y"}');
  });

  it('encodes the JSON form, gzip-compressed', () => {
    const { body, headers } = encodePush([entry(1), entry(2)], 'json');
    expect(headers).toMatchObject({ 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' });
    const json = JSON.parse(gunzipSync(body).toString());
    expect(json.streams).toEqual([{ stream: { job: 'cgoguard', source: 'test', event: 'alloc' }, values: [[entry(1).ts, entry(1).line], [entry(2).ts, entry(2).line]] }]);
    expect(pushURL('http://loki:3100')).toBe('http://loki:3100/loki/api/v1/push');
    expect(pushURL('http://vl:9428/insert/loki/api/v1/push')).toBe('http://vl:9428/insert/loki/api/v1/push');
  });
});

describe('shipper', () => {
  it('retries 503 and 429 with backoff and delivers everything once', async () => {
    const server = await fakeLoki([503, 429, 503]);
    const s = shipper(server.url, path.join(tmp, 'spool-retry'));
    for (let i = 0; i < 25; i++) s.add(entry(i));
    const stats = await s.close();
    await server.close();
    expect(stats).toMatchObject({ sent: 25, dropped: 0, spooled: 0 });
    expect(stats.retries).toBe(3);
    const delivered = server.bodies.map((b) => Buffer.from(uncompress(b.body)).toString('latin1'));
    for (let i = 0; i < 25; i++) expect(delivered.filter((d) => d.includes(`"i":${i}}`))).toHaveLength(1);
    expect(readdirSync(path.join(tmp, 'spool-retry'))).toEqual([]);
  });

  it('drops and counts a batch the server refuses for good', async () => {
    const server = await fakeLoki([400]);
    const notes: string[] = [];
    const s = shipper(server.url, path.join(tmp, 'spool-refused'), {}, notes);
    for (let i = 0; i < 15; i++) s.add(entry(i));
    const stats = await s.close();
    await server.close();
    expect(stats).toMatchObject({ sent: 5, dropped: 10, spooled: 0 });
    expect(notes.join('\n')).toMatch(/refused 10 entries: HTTP 400 entry too far behind/);
  });

  it('keeps what an unreachable server did not take, up to the spool limit, and delivers it on a later run', async () => {
    const port = await freePort(); // nothing listens there
    const dir = path.join(tmp, 'spool-bounded');
    const notes: string[] = [];
    const down = shipper(`http://127.0.0.1:${port}/loki/api/v1/push`, dir, { spoolMaxBytes: 4000, drainMs: 300 }, notes);
    for (let i = 0; i < 100; i++) down.add(entry(i));
    const stats = await down.close();
    expect(stats.sent).toBe(0);
    expect(stats.spooled + stats.dropped).toBe(100);
    expect(stats.spooled).toBeGreaterThanOrEqual(30);
    expect(stats.dropped).toBeGreaterThan(0);
    expect(notes.join('\n')).toMatch(/unreachable/);
    expect(notes.join('\n')).toMatch(/is full \(4000 bytes\)/);
    // The server is back (on another port: the spool is what carries over).
    const server = await fakeLoki([]);
    const up = shipper(server.url, dir);
    const later = await up.close();
    await server.close();
    expect(later).toMatchObject({ sent: stats.spooled, dropped: 0, spooled: 0 });
  });
});

describe.skipIf(!hasVictoriaLogs && !process.env.CI)('a real Loki-protocol server (VictoriaLogs)', () => {
  let vl: LogServer;
  beforeAll(async () => {
    vl = await startVictoriaLogs();
  });
  afterAll(async () => {
    await vl?.stop();
  });

  const count = async (query: string) => Number((await logsQuery(vl.url, `${query} | stats count() n`))[0]?.n ?? 0);
  const events = (run: string, n: number, kinds = ['alloc', 'free']) => {
    const file = path.join(tmp, `${run}.jsonl`);
    writeFileSync(file, Array.from({ length: n }, (_, i) => JSON.stringify({ run, seq: i, event: kinds[i % kinds.length], ptr: `0x${(0x1000 + i).toString(16)}` })).join('\n') + '\n');
    return file;
  };

  it('receives log export in both formats, every line once, with low-cardinality labels', async () => {
    for (const format of ['protobuf', 'json']) {
      const run = `export${format}`;
      const r = cgoguard(['log', 'export', events(run, 1200), '--loki', vl.pushURL, '--loki-format', format, '--loki-batch', '100', '--loki-spool', path.join(tmp, `spool-${format}`)]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/1200 entries delivered/);
      expect(await waitFor(`${format} lines`, async () => ((await count(`run:${run}`)) === 1200 ? 1200 : undefined))).toBe(1200);
      // The store answers per-stream statistics a moment after the count: wait for both streams.
      const byEvent = await waitFor(`${format} streams`, async () => {
        const rows = await logsQuery(vl.url, `run:${run} | stats by (_stream) count() n`);
        return rows.length >= 2 ? rows : undefined;
      });
      expect(byEvent.map((x) => x._stream).sort()).toEqual([expect.stringMatching(/^\{event="alloc",host="[^"]+",job="cgoguard",source="export"\}$/), expect.stringMatching(/^\{event="free",/)]);
    }
  });

  it.skipIf(!hasGo && !process.env.CI)('receives the event log of trace --loki: allocations, releases, the misuse and its stacks', async () => {
    const r = cgoguard(['trace', 'run', '--no-static', '--guard', '-o', path.join(tmp, 'trace.json'), '--loki', vl.pushURL, '--loki-spool', path.join(tmp, 'spool-trace'), './testdata/trace/doublefree']);
    expect(r.stderr).toMatch(/entries delivered/);
    const misuse = await waitFor('the misuse', async () => {
      const rows = await logsQuery(vl.url, '{job="cgoguard",source="trace",event="misuse"}');
      return rows.length ? rows : undefined;
    });
    expect(misuse[0].rule).toBe('double-free');
    expect(await count('{job="cgoguard",source="trace",event="alloc"}')).toBeGreaterThan(0);
    expect(await count('{job="cgoguard",source="trace",event="free"}')).toBeGreaterThan(0);
  });

  it.skipIf(!hasGo && !process.env.CI)('receives watch --loki alerts with the Go stack that grew', async () => {
    const svc = await startService(buildProduction('service', tmp), ['-leak', '-every', '5ms']);
    try {
      const r = cgoguard(['watch', String(svc.pid), '--endpoint', svc.url, '--interval', '150ms', '--window', '10', '--min-samples', '6', '--count', '14', '--quiet', '--loki', vl.pushURL, '--loki-spool', path.join(tmp, 'spool-watch')]);
      expect(r.code, r.stderr).toBe(1);
      const alert = await waitFor('the alert', async () => {
        const rows = await logsQuery(vl.url, `{job="cgoguard",source="watch",event="alert"} pid:${svc.pid}`);
        return rows.length ? rows : undefined;
      });
      expect(alert).toHaveLength(1);
      expect(JSON.parse(alert[0].grown)[0].frames[0].fn).toBe('main.(*cache).remember');
    } finally {
      await svc.stop();
    }
  });

  it('loses nothing while the server is stopped: the spool delivers everything once it is back', async () => {
    const spool = path.join(tmp, 'spool-restart');
    await count('run:before'); // warm
    const first = cgoguard(['log', 'export', events('before', 300), '--loki', vl.pushURL, '--loki-batch', '50', '--loki-spool', spool]);
    expect(first.code).toBe(0);
    await vl.pause();
    // The server is down: a run that gives up after its drain time leaves its entries in the spool.
    const left = cgoguard(['log', 'export', events('down', 400), '--loki', vl.pushURL, '--loki-batch', '50', '--loki-spool', spool, '--loki-drain', '500ms']);
    expect(left.code).toBe(1);
    expect(left.stderr).toMatch(/0 entries delivered, 400 left in the spool/);
    // A run that keeps retrying while the server comes back delivers its own entries and the earlier ones.
    const child = spawn(process.execPath, [bin, 'log', 'export', events('during', 500), '--loki', vl.pushURL, '--loki-batch', '50', '--loki-spool', spool, '--loki-drain', '60s'], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    // The server comes back once this run has found it down.
    await waitFor('the run to find the server down', () => (/unreachable/.test(stderr) ? true : undefined), 30_000, 50);
    await vl.restart();
    expect(await exited).toBe(0);
    expect(stderr).toMatch(/900 entries delivered/);
    for (const [run, n] of [['before', 300], ['down', 400], ['during', 500]] as const) {
      expect(await waitFor(`${run} lines`, async () => ((await count(`run:${run}`)) === n ? n : undefined))).toBe(n);
    }
    expect(readdirSync(spool)).toEqual([]);
  });

  it('refuses bad input in one line', () => {
    const bad = path.join(tmp, 'bad.jsonl');
    writeFileSync(bad, '{"event":"alloc"}\nnot json\n');
    const r = cgoguard(['log', 'export', bad, '--loki', vl.pushURL]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(`cgoguard: ${bad}:2: not a JSON line`);
    const url = cgoguard(['log', 'export', bad, '--loki', 'ftp://x']);
    expect(url.code).toBe(2);
    expect(url.stderr).toMatch(/--loki: expected an http\(s\) URL/);
    expect(cgoguard(['log', 'export', path.join(tmp, 'none.jsonl'), '--loki', vl.pushURL]).stderr).toMatch(/no such file/);
  });
});
