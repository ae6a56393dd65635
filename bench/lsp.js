// The language server's latency after an edit, through a real client:
// Neovim (headless) opens a ~3,000-line cgo file, then makes edits inside
// function bodies one at a time (a changed line, a new comment line, a blank
// line) and waits for the diagnostics of each new version. Prints one JSON
// line: the first analysis of the file and the latencies after each edit.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateCorpus } from './corpus.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const edits = Number(process.argv[2] ?? 60);
const work = mkdtempSync(path.join(tmpdir(), 'cgoguard-bench-lsp-'));
try {
  const root = generateCorpus(path.join(work, 'project'), { packages: 1, files: 1, funcs: 52 });
  const file = path.join(root, 'pkg0', 'f0.go');
  const text = readFileSync(file, 'utf8').split('\n');
  // Lines inside function bodies, spread over the file.
  const body = text.flatMap((l, i) => (/^\t[a-zA-Z]/.test(l) ? [i] : []));
  const lines = Array.from({ length: 20 }, (_, k) => body[Math.floor(((k + 0.5) * body.length) / 20)]);
  const steps = [
    { op: 'open', file },
    { op: 'diagnostics', file, code: 'leak', timeout: 60000 },
    { op: 'edits', file, count: edits, lines, pause: 50, timeout: 30000 },
  ];
  for (const d of ['state', 'cache', 'data', 'config']) mkdirSync(path.join(work, d));
  writeFileSync(path.join(work, 'steps.json'), JSON.stringify(steps));
  const r = spawnSync('nvim', ['--headless', '--clean', '-n', '-i', 'NONE', '-c', `luafile ${path.join(here, '../test/support/lsp-client.lua')}`], {
    cwd: root,
    encoding: 'utf8',
    timeout: 600_000,
    env: {
      ...process.env,
      LSP_STEPS: path.join(work, 'steps.json'),
      LSP_OUT: path.join(work, 'out.json'),
      LSP_ROOT: root,
      LSP_CMD: JSON.stringify([process.execPath, path.join(here, '../bin/cgoguard.js'), 'lsp']),
      XDG_STATE_HOME: path.join(work, 'state'),
      XDG_CACHE_HOME: path.join(work, 'cache'),
      XDG_DATA_HOME: path.join(work, 'data'),
      XDG_CONFIG_HOME: path.join(work, 'config'),
    },
  });
  if (r.error) throw r.error;
  const out = JSON.parse(readFileSync(path.join(work, 'out.json'), 'utf8'));
  const failed = out.find((s) => s.op === 'error');
  if (failed) throw new Error(failed.error);
  const lat = out[2].latencies.slice().sort((a, b) => a - b);
  const pct = (p) => lat[Math.min(lat.length - 1, Math.ceil((p / 100) * lat.length) - 1)];
  console.log(JSON.stringify({ lines: text.length, firstMs: out[1].ms, edits: lat.length, p50: pct(50), p95: pct(95), max: lat[lat.length - 1] }));
} finally {
  rmSync(work, { recursive: true, force: true });
}
