// The cost of `cgoguard trace` and of a production build (`cgoguard build`,
// sampling): 1e6 C.CString + C.free pairs and a realistic cgo loop, plain vs
// traced vs sampled vs -asan, each timed by the program itself (the loop
// only, not the build). The three run in turn, round after round, so
// that a noisy machine slows them alike; prints the best of each and the
// median of the rounds' ratios, as one JSON line.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const workload = path.join(here, 'trace-workload');
const cli = path.join(here, '..', 'bin', 'cgoguard.js');
const tmp = mkdtempSync(path.join(tmpdir(), 'cgoguard-bench-trace-'));
const elapsed = (out) => Number(/elapsed_ns=(\d+)/.exec(out)?.[1] ?? NaN) / 1e6;
const ROUNDS = 7;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
try {
  execFileSync('go', ['build', '-o', path.join(tmp, 'plain'), '.'], { cwd: workload });
  execFileSync('go', ['build', '-asan', '-o', path.join(tmp, 'asan'), '.'], { cwd: workload });
  execFileSync(process.execPath, [cli, 'build', '-o', path.join(tmp, 'sampled'), '.'], { cwd: workload, stdio: 'ignore' });
  const out = {};
  for (const mode of ['pairs', 'work']) {
    const rounds = Array.from({ length: ROUNDS }, () => {
      const plain = elapsed(execFileSync(path.join(tmp, 'plain'), [mode], { encoding: 'utf8' }));
      const sampled = elapsed(execFileSync(path.join(tmp, 'sampled'), [mode], { encoding: 'utf8' }));
      const asan = elapsed(execFileSync(path.join(tmp, 'asan'), [mode], { encoding: 'utf8', env: { ...process.env, ASAN_OPTIONS: 'detect_leaks=0' } }));
      const r = spawnSync(process.execPath, [cli, 'trace', 'run', '--no-static', '--no-c-analyzer', '-o', path.join(tmp, 'r.json'), workload, '--', mode], { encoding: 'utf8' });
      const traced = elapsed(r.stdout);
      if (Number.isNaN(traced)) throw new Error(`the traced ${mode} run failed: ${r.stderr.trim()}`);
      return { plain, traced, sampled, asan };
    });
    const best = (k) => Math.min(...rounds.map((r) => r[k]));
    out[mode] = {
      plainMs: best('plain'),
      tracedMs: best('traced'),
      asanMs: best('asan'),
      sampledMs: best('sampled'),
      tracedRatio: median(rounds.map((r) => r.traced / r.plain)),
      sampledRatio: median(rounds.map((r) => r.sampled / r.plain)),
      asanRatio: median(rounds.map((r) => r.asan / r.plain)),
    };
  }
  process.stdout.write(`${JSON.stringify(out)}\n`);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
