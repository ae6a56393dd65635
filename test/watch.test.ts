// `cgoguard watch`: the trend and its confidence, /proc parsing, the profile
// diff, the exposition format; then on real processes, a leaking service
// built with `cgoguard build` raises the alert within a bounded number of
// intervals and names the leaking Go stack, while a steady one raises none,
// and a missing process is one line. The HTML report is checked in Chromium.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodePprof } from '../src/report/pprof.js';
import { labelValue, parseListen } from '../src/watch/metrics.js';
import { cgroupOf, readMemory, selectPids } from '../src/watch/proc.js';
import { describeStack, grownStacks, inuseByStack } from '../src/watch/profile-diff.js';
import { growthConfidence, theilSen, trend } from '../src/watch/trend.js';
import { bin, cgoguard, repoRoot } from './support/cli.js';
import { buildProduction, hasGo, startService, type Service } from './support/servers.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'cgoguard-watch-test-'));
const running: Service[] = [];
afterAll(async () => {
  await Promise.all(running.map((s) => s.stop()));
  rmSync(tmp, { recursive: true, force: true });
});

describe('trend', () => {
  it('fits the slope through outliers and is confident only of steady growth', () => {
    const rising = Array.from({ length: 20 }, (_, i) => ({ t: i, y: 1000 + 50 * i }));
    rising[7].y = 90_000; // a burst
    rising[12].y = 0; // a dip
    expect(theilSen(rising).slope).toBeCloseTo(50, 6);
    expect(growthConfidence(rising)).toBeGreaterThan(0.999);
    const flat = Array.from({ length: 20 }, (_, i) => ({ t: i, y: 5000 + (i % 2 ? 10 : -10) }));
    expect(growthConfidence(flat)).toBeGreaterThan(0.3);
    expect(growthConfidence(flat)).toBeLessThan(0.7);
    const constant = Array.from({ length: 10 }, (_, i) => ({ t: i, y: 42 }));
    expect(growthConfidence(constant)).toBe(0);
    expect(theilSen(constant).slope).toBe(0);
    const falling = rising.map((p) => ({ t: p.t, y: -p.y }));
    expect(growthConfidence(falling)).toBeLessThan(0.001);
    const t = trend(rising)!;
    expect(t.to.y - t.from.y).toBeCloseTo(50 * 19, 6);
    expect(trend([{ t: 0, y: 1 }])).toBeUndefined();
  });
});

describe('/proc', () => {
  it('reads status and smaps_rollup, and tells the cgroup of v1, v2 and hybrid hosts', () => {
    const m = readMemory('/proc', process.pid);
    expect(m.rss).toBeGreaterThan(10 << 20);
    expect(m.rssAnon + m.rssFile + m.rssShmem).toBe(m.rss);
    expect(m.pss).toBeGreaterThan(0);
    expect(cgroupOf('0::/kubepods/pod1/abc\n')).toBe('/kubepods/pod1/abc');
    expect(cgroupOf('4:memory:/docker/abc\n1:cpu:/\n0::/\n')).toBe('/docker/abc');
    expect(cgroupOf('0::/\n')).toBe('/');
  });

  it('selects by name and never selects itself', () => {
    const self = selectPids('/proc', { pids: [], names: ['node'], cgroups: [], containers: [], all: false }, process.pid);
    expect(self).not.toContain(process.pid);
    const all = selectPids('/proc', { pids: [], names: [], cgroups: [], containers: [], all: true }, 0);
    expect(all).toContain(process.pid);
  });
});

describe('profile diff', () => {
  it('names the stacks whose C bytes grew, leaf first', () => {
    const leak = [
      { fn: 'main.(*cache).remember', file: '/src/svc/main.go', line: 30 },
      { fn: 'main.handleRequest', file: '/src/svc/main.go', line: 47 },
      { fn: 'runtime.main', file: 'proc.go', line: 1 },
    ];
    const other = [{ fn: 'main.scratch', file: '/src/svc/main.go', line: 37 }];
    const before = inuseByStack(encodePprof([{ frames: leak, bytes: 1000, objects: 1 }, { frames: other, bytes: 500, objects: 5 }], 0));
    const after = inuseByStack(encodePprof([{ frames: leak, bytes: 9000, objects: 9 }, { frames: other, bytes: 100, objects: 1 }], 0));
    const grown = grownStacks(before, after);
    expect(grown).toHaveLength(1);
    expect(grown[0]).toMatchObject({ bytes: 8000, objects: 8 });
    expect(describeStack(grown[0].frames)).toBe('main.(*cache).remember (svc/main.go:30) ← main.handleRequest');
  });
});

describe('exposition', () => {
  it('escapes label values and reads listen addresses', () => {
    expect(labelValue('a"b\\c\nd')).toBe('a\\"b\\\\c\\nd');
    expect(parseListen(':9464')).toEqual({ host: undefined, port: 9464 });
    expect(parseListen('127.0.0.1:0')).toEqual({ host: '127.0.0.1', port: 0 });
    expect(parseListen('[::1]:9464')).toEqual({ host: '::1', port: 9464 });
    expect(() => parseListen('9464')).toThrow(/--listen/);
  });
});

interface Event {
  type: string;
  pid?: number;
  alert?: boolean;
  basis?: string;
  nonGoBytes?: number;
  c?: { liveBytes: number };
  grown?: { bytes: number; frames: { fn: string; file: string; line: number }[] }[];
  profiles?: { diff: string };
  message?: string;
}

describe.skipIf(!hasGo && !process.env.CI)('watch on running services', () => {
  let leaking: Service;
  let steady: Service;
  let events: Event[];
  let stderr: string;
  let code: number;
  const htmlFile = path.join(tmp, 'watch.html');
  const profileDir = path.join(tmp, 'profiles');
  const INTERVALS = 24;

  beforeAll(async () => {
    const svc = buildProduction('service', tmp);
    // 64 KiB kept every 5 ms: about 12 MiB a second. The steady one allocates as much and releases it.
    leaking = await startService(svc, ['-leak', '-every', '5ms']);
    steady = await startService(svc, ['-every', '5ms']);
    running.push(leaking, steady);
    const missing = 4_000_000; // above pid_max's default: never a process
    const r = cgoguard(
      ['watch', String(leaking.pid), String(steady.pid), String(missing), '--endpoint', `${leaking.pid}=${leaking.url}`, '--endpoint', `${steady.pid}=${steady.url}`, '--interval', '150ms', '--window', '12', '--min-samples', '6', '--min-growth', '1MiB', '--count', String(INTERVALS), '--format', 'json', '--html', htmlFile, '--profile-dir', profileDir],
      { timeout: 60_000 },
    );
    events = r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Event);
    stderr = r.stderr;
    code = r.code;
  });

  it('raises the alert for the leaking service within a bounded number of intervals, naming its Go stack', () => {
    expect(code).toBe(1);
    const samples = events.filter((e) => e.type === 'sample' && e.pid === leaking.pid);
    expect(samples.length).toBe(INTERVALS);
    // Every sample has the service's own figures, but for one a loaded machine may have answered too slowly.
    expect(samples.filter((s) => s.basis === 'non-go' && s.nonGoBytes! > 0 && s.c!.liveBytes >= 0).length).toBeGreaterThanOrEqual(INTERVALS - 2);
    const firstAlert = samples.findIndex((s) => s.alert);
    expect(firstAlert).toBeGreaterThanOrEqual(5); // never before --min-samples
    expect(firstAlert).toBeLessThanOrEqual(11); // and within the window
    const alerts = events.filter((e) => e.type === 'alert' && e.pid === leaking.pid);
    expect(alerts).toHaveLength(1);
    const top = alerts[0].grown![0];
    expect(top.frames[0]).toMatchObject({ fn: 'main.(*cache).remember', line: 30 });
    expect(top.frames[0].file).toMatch(/service\/main\.go$/);
    expect(top.bytes).toBeGreaterThan(1 << 20);
    // The diff profile is a profile go tool pprof reads, with the leak on top.
    const diff = spawnSync('go', ['tool', 'pprof', '-top', alerts[0].profiles!.diff], { encoding: 'utf8' });
    expect(diff.status).toBe(0);
    expect(diff.stdout.split('\n').find((l) => /main\./.test(l))).toMatch(/main\.\(\*cache\)\.remember/);
    expect(readdirSync(profileDir)).toHaveLength(3);
  });

  it('raises no alert for the steady service over the same time', () => {
    const samples = events.filter((e) => e.type === 'sample' && e.pid === steady.pid);
    expect(samples.length).toBe(INTERVALS);
    expect(samples.some((s) => s.alert)).toBe(false);
    expect(events.some((e) => e.type === 'alert' && e.pid === steady.pid)).toBe(false);
  });

  it('says once that a process is missing, and carries on with the others', () => {
    const notes = events.filter((e) => e.type === 'note');
    expect(notes.filter((n) => /4000000: no such process/.test(n.message!))).toHaveLength(1);
    expect(stderr).not.toMatch(/at .*\.js:\d+/); // no stack trace
  });

  it('writes a self-contained HTML report with the plot, the trend and the grown stack', async () => {
    const html = readFileSync(htmlFile, 'utf8');
    expect(html).not.toMatch(/<script|https?:\/\/(?!www\.w3)/);
    const browserPath = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => spawnSync(p, ['--version']).status === 0);
    if (!browserPath && !process.env.CI) return;
    const browser = await chromium.launch({ executablePath: browserPath, args: ['--no-sandbox'] });
    try {
      const page = await browser.newPage();
      await page.goto(pathToFileURL(htmlFile).href);
      expect(await page.locator('section.process').count()).toBe(2);
      const first = page.locator('section.process').first();
      expect(await first.locator('h2 .alert, h2 .was').count()).toBe(1);
      expect(await first.locator('polyline.nongo').count()).toBe(1);
      expect(await first.locator('line.trend').count()).toBeGreaterThan(0);
      expect(await first.locator('line.alertmark').count()).toBe(1);
      expect(await first.locator('table.grown code').first().textContent()).toMatch(/^main\.\(\*cache\)\.remember \(service\/main\.go:30\) ← main\.handleRequest/);
      expect(await page.locator('section.process').nth(1).locator('h2 .ok').count()).toBe(1);
      // Points lie inside the plot.
      const points = (await first.locator('polyline.rss').getAttribute('points'))!.split(' ').map((p) => p.split(',').map(Number));
      expect(points.every(([x, y]) => x >= 0 && x <= 900 && y >= 0 && y <= 280)).toBe(true);
    } finally {
      await browser.close();
    }
  });
});

describe('watch usage', () => {
  it('refuses bad flags in one line, with exit status 2', () => {
    for (const [args, msg] of [
      [['watch'], /name processes/],
      [['watch', '1', '--interval', 'soon'], /--interval: expected a duration/],
      [['watch', '1', '--confidence', '2'], /--confidence/],
      [['watch', '1', '--endpoint', 'localhost:80'], /--endpoint/],
      [['watch', '1', '--listen', 'nowhere'], /--listen/],
      [['watch', '1', '--min-growth', 'big'], /--min-growth/],
    ] as [string[], RegExp][]) {
      const r = cgoguard(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(r.stderr).toMatch(msg);
    }
  });

  it('stops when the only process named exits, and on SIGTERM writes its report and exits cleanly', async () => {
    const gone = cgoguard(['watch', '4000001', '--interval', '100ms']);
    expect(gone.code).toBe(0);
    expect(gone.stderr).toMatch(/no such process/);
    expect(gone.stderr).toMatch(/no process left to watch/);
    mkdirSync(path.join(tmp, 'sig'), { recursive: true });
    const html = path.join(tmp, 'sig', 'r.html');
    const child = spawn(process.execPath, [bin, 'watch', String(process.pid), '--interval', '100ms', '--html', html], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    await new Promise((r) => setTimeout(r, 800));
    child.kill('SIGTERM');
    const exit = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    expect(exit).toBe(0);
    expect(out).toMatch(new RegExp(`pid ${process.pid} node`));
    expect(readFileSync(html, 'utf8')).toContain('<svg class="memplot"');
    writeFileSync(path.join(tmp, 'sig', 'done'), '');
  });
});
