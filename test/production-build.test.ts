// `cgoguard build` on real programs: the sampling runtime serves a pprof
// profile of C memory by Go stack (read by `go tool pprof`) and its counters,
// on the program's net/http/pprof mux or on CGOGUARD_LISTEN.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { splitBuildArgs } from '../src/pipeline/build.js';
import { inuseByStack } from '../src/watch/profile-diff.js';
import { cgoguard, repoRoot } from './support/cli.js';
import { buildProduction, hasGo, startService, waitFor, type Service } from './support/servers.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'cgoguard-build-test-'));
const running: Service[] = [];
afterAll(async () => {
  await Promise.all(running.map((s) => s.stop()));
  rmSync(tmp, { recursive: true, force: true });
});

interface Vars {
  cgoguard: { sampleRate: number; allocations: number; frees: number; allocatedBytes: number; liveObjects: number; liveBytes: number; sites: { call: string; file: string; line: number; allocations: number; bytes: number; frees: number }[] };
  go: { totalBytes: number; releasedBytes: number };
}

const vars = async (url: string) => (await (await fetch(`${url}/debug/cgoguard/vars`)).json()) as Vars;
const heap = async (url: string) => Buffer.from(await (await fetch(`${url}/debug/cgoguard/heap`)).arrayBuffer());
const bytesAt = (profile: Buffer, fn: string) => [...inuseByStack(profile).values()].filter((s) => s.frames[0]?.fn === fn).reduce((a, s) => a + s.bytes, 0);

describe('build arguments', () => {
  it('keeps go build flags in order and finds the one package', () => {
    expect(splitBuildArgs(['-o', 'out', '-tags', 'a,b', '-trimpath', './cmd/x'])).toEqual({ flags: ['-o', 'out', '-tags', 'a,b', '-trimpath'], pkg: './cmd/x', tags: ['a', 'b'] });
    expect(splitBuildArgs(['-ldflags=-s -w'])).toEqual({ flags: ['-ldflags=-s -w'], pkg: '.', tags: [] });
    expect(() => splitBuildArgs(['-overlay', 'x.json', '.'])).toThrow(/own -overlay/);
    expect(() => splitBuildArgs(['./a', './b'])).toThrow(/one main package/);
    expect(() => splitBuildArgs(['-o'])).toThrow(/needs a value/);
  });
});

describe.skipIf(!hasGo && !process.env.CI)('cgoguard build', () => {
  let service: string;
  let plain: string;
  beforeAll(() => {
    service = buildProduction('service', tmp);
    // Every allocation sampled: the profile must then match the counts exactly.
    plain = buildProduction('plain', tmp, '--sample-rate', '1');
  });

  it('serves the C heap by Go stack on the program\'s net/http/pprof mux, read by go tool pprof', async () => {
    const s = await startService(service, ['-leak', '-every', '2ms', '-size', '65536']);
    running.push(s);
    // 64 KiB a request, kept: after ~1,000 requests the leaking stack holds tens of MiB.
    const v = await waitFor('allocations', async () => ((await vars(s.url)).cgoguard.allocations > 600 ? vars(s.url) : undefined));
    const sites = new Map(v.cgoguard.sites.map((x) => [`${x.call} ${x.file}:${x.line}`, x]));
    expect(sites.get('C.malloc service/main.go:30')?.bytes).toBe(sites.get('C.malloc service/main.go:30')!.allocations * 65536);
    expect(sites.get('C.free service/main.go:39')?.frees).toBeGreaterThan(100);
    expect(v.cgoguard.sampleRate).toBe(512 * 1024);
    expect(v.go.totalBytes).toBeGreaterThan(v.go.releasedBytes);
    const profile = await heap(s.url);
    const file = path.join(tmp, 'heap.pb.gz');
    writeFileSync(file, profile);
    const top = spawnSync('go', ['tool', 'pprof', '-top', '-sample_index=inuse_space', file], { encoding: 'utf8' });
    expect(top.status).toBe(0);
    // The kept blocks are all at remember; the released ones at scratch are not in use.
    expect(top.stdout).toMatch(/MB\s+\d+(\.\d+)?%\s+\d+(\.\d+)?%\s+\S+MB\s+\d+(\.\d+)?%\s+main\.\(\*cache\)\.remember/);
    expect(top.stdout).not.toMatch(/main\.scratch/);
    const live = bytesAt(profile, 'main.(*cache).remember');
    const kept = sites.get('C.malloc service/main.go:30')!.bytes;
    // An estimate from samples of 1 in 512 KiB: the right order, not the exact bytes.
    expect(live).toBeGreaterThan(kept * 0.5);
    expect(live).toBeLessThan(kept * 2);
  });

  it('serves on CGOGUARD_LISTEN in a program without net/http/pprof, and samples every allocation at rate 1', async () => {
    const s = await startService(plain, [], { CGOGUARD_LISTEN: '127.0.0.1:0' });
    running.push(s);
    const addr = await waitFor('the address', () => /serving \/debug\/cgoguard\/heap and \/debug\/cgoguard\/vars on (\S+)/.exec(s.output())?.[1]);
    const url = `http://${addr}`;
    const v = await vars(url);
    expect(v.cgoguard).toMatchObject({ sampleRate: 1, allocations: 128, frees: 64, allocatedBytes: 128 * 4096, liveObjects: 64 });
    const profile = inuseByStack(await heap(url));
    const byLeaf = (fn: string) => [...profile.values()].filter((x) => x.frames[0]?.fn === fn);
    // Each sample stands for 1/(1 - e^-4097) allocations: exactly one.
    expect(byLeaf('main.keep').reduce((a, x) => a + x.objects, 0)).toBe(64);
    expect(byLeaf('main.keep').reduce((a, x) => a + x.bytes, 0)).toBe(64 * 4096);
    expect(byLeaf('main.drop').reduce((a, x) => a + x.bytes, 0)).toBe(0);
    expect(byLeaf('main.keep')[0].frames.map((f) => f.fn)).toContain('main.main');
    // No net/http/pprof in this program: nothing joins a mux it does not have.
    expect(s.output()).not.toMatch(/cannot listen/);
  });

  it('refuses a package that is not main, and bad flags, in one line', () => {
    const lib = cgoguard(['build', './testdata/fixtures/leak'], { cwd: repoRoot });
    expect(lib.code).toBe(2);
    expect(lib.stderr.trim().split('\n')).toHaveLength(1);
    expect(lib.stderr).toMatch(/needs a main package|no Go files|go list/);
    const rate = cgoguard(['build', '--sample-rate', 'lots', '.'], { cwd: path.join(repoRoot, 'testdata/production/service') });
    expect(rate.code).toBe(2);
    expect(rate.stderr).toMatch(/--sample-rate: expected a size/);
    const overlay = cgoguard(['build', '-overlay', 'x.json', '.'], { cwd: path.join(repoRoot, 'testdata/production/service') });
    expect(overlay.code).toBe(2);
    expect(overlay.stderr).toMatch(/cannot take another/);
  });
});
