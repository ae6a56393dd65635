// A new user's first runs, through the CLI as users run it (node's start
// included): real modules fetched from the Go module proxy (copied out of the
// read-only module cache), cgoguard against go vet with empty caches on both
// sides, then warm, then after an edit to a Go file. Prints one JSON line;
// a module that cannot be fetched (offline) is reported as skipped.
import { spawnSync } from 'node:child_process';
import { appendFileSync, chmodSync, cpSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../bin/cgoguard.js', import.meta.url));
const { sqlite, zstd, treeSitter, withVet } = JSON.parse(process.argv[2]);
const tmp = mkdtempSync(path.join(tmpdir(), 'cgoguard-first-run-'));

/** Wall time of a command, in ms, and how it ended. */
function timed(cmd, args, cwd, env) {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { cwd, env, encoding: 'utf8', maxBuffer: 1 << 28 });
  return { ms: performance.now() - t0, code: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** The module's source in a writable folder of its own, with its dependencies downloaded; or why not. */
function fetchModule(modVersion) {
  const r = spawnSync('go', ['mod', 'download', '-json', modVersion], { cwd: tmp, encoding: 'utf8' });
  let info;
  try {
    info = JSON.parse(r.stdout);
  } catch {
    return { skipped: `go mod download failed: ${(r.stderr || 'no output').trim().split('\n')[0]}` };
  }
  if (!info.Dir) return { skipped: `go mod download: ${info.Error ?? 'no folder'}` };
  const dir = path.join(tmp, path.basename(info.Path));
  cpSync(info.Dir, dir, { recursive: true });
  const writable = (d) => {
    chmodSync(d, 0o755);
    for (const e of readdirSync(d)) {
      const p = path.join(d, e);
      if (statSync(p).isDirectory()) writable(p);
      else chmodSync(p, 0o644);
    }
  };
  writable(dir);
  // Test dependencies, so that go list loads every package.
  spawnSync('go', ['mod', 'download'], { cwd: dir });
  return { dir };
}

const check = (dir, cache, pattern) => timed(process.execPath, [bin, 'check', '--format', 'json', pattern], dir, { ...process.env, CGOGUARD_CACHE: cache });
const stats = (r) => {
  try {
    return JSON.parse(r.stdout).stats;
  } catch {
    return undefined;
  }
};

const out = { modules: {} };
try {
  if (sqlite) {
    const m = fetchModule(sqlite);
    if (m.skipped) out.modules.sqlite = m;
    else {
      const cache = path.join(tmp, 'cache-sqlite');
      const goCache = path.join(tmp, 'gocache-sqlite');
      const vetEnv = { ...process.env, GOCACHE: goCache };
      const res = {};
      if (withVet) res.vetCold = timed('go', ['vet', '.'], m.dir, vetEnv).ms;
      const cold = check(m.dir, cache, '.');
      res.checkCold = cold.ms;
      res.coldStats = stats(cold);
      res.coldNotes = cold.stderr.trim().split('\n').filter(Boolean);
      if (withVet) res.vetWarm = timed('go', ['vet', '.'], m.dir, vetEnv).ms;
      res.checkWarm = check(m.dir, cache, '.').ms;
      res.warmSame = check(m.dir, cache, '.').stdout === cold.stdout;
      appendFileSync(path.join(m.dir, 'backup.go'), '\n// an edit\n');
      res.checkAfterEdit = check(m.dir, cache, '.').ms;
      out.modules.sqlite = res;
      rmSync(goCache, { recursive: true, force: true });
    }
  }
  for (const [name, mod] of [
    ['zstd', zstd],
    ['treeSitter', treeSitter],
  ]) {
    if (!mod) continue;
    const m = fetchModule(mod);
    if (m.skipped) {
      out.modules[name] = m;
      continue;
    }
    const cold = check(m.dir, path.join(tmp, `cache-${name}`), './...');
    out.modules[name] = { checkCold: cold.ms, coldStats: stats(cold), coldNotes: cold.stderr.trim().split('\n').filter(Boolean) };
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
process.stdout.write(`${JSON.stringify(out)}\n`);
