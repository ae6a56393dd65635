// The cost of `cgoguard trace`: 1e6 C.CString + C.free pairs and a realistic
// cgo loop, plain vs traced vs -asan, each timed by the program itself (the
// loop only, not the build). Prints one JSON line.
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
const best = (runs, f) => Math.min(...Array.from({ length: runs }, f));
try {
  execFileSync('go', ['build', '-o', path.join(tmp, 'plain'), '.'], { cwd: workload });
  execFileSync('go', ['build', '-asan', '-o', path.join(tmp, 'asan'), '.'], { cwd: workload });
  const out = {};
  for (const mode of ['pairs', 'work']) {
    const plain = best(3, () => elapsed(execFileSync(path.join(tmp, 'plain'), [mode], { encoding: 'utf8' })));
    const asan = best(3, () => elapsed(execFileSync(path.join(tmp, 'asan'), [mode], { encoding: 'utf8', env: { ...process.env, ASAN_OPTIONS: 'detect_leaks=0' } })));
    const traced = best(3, () => {
      const r = spawnSync(process.execPath, [cli, 'trace', 'run', '--no-static', '--no-c-analyzer', '-o', path.join(tmp, 'r.json'), workload, '--', mode], { encoding: 'utf8' });
      return elapsed(r.stdout);
    });
    out[mode] = { plainMs: plain, tracedMs: traced, asanMs: asan };
  }
  process.stdout.write(`${JSON.stringify(out)}\n`);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
