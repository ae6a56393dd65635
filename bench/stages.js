// `cgoguard test` stages against plain `go test` on the bundled examples (one
// run each, warm build cache), and the Go team's sanitizer programs classified
// as the toolchain's own table says. Prints one JSON line.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runTest } from '../dist/pipeline/test.js';
import { defaultConfig } from '../dist/workspace/config.js';

const examples = path.resolve(process.argv[2]);
const base = { config: defaultConfig(), tags: [], testFlags: [], timeout: '10m', static: false, cAnalyzer: false, jobs: 0 };

const time = (f) => {
  const t0 = performance.now();
  f();
  return performance.now() - t0;
};
spawnSync('go', ['test', '-count=1', './...'], { cwd: examples }); // warm the build cache
const plainMs = time(() => spawnSync('go', ['test', '-count=1', './...'], { cwd: examples }));
const stages = {};
for (const stage of ['asan', 'cgocheck', 'cgocheck2', 'valgrind']) {
  await runTest({ ...base, cwd: examples, patterns: ['./...'], stages: [stage] }); // warm its build
  const t0 = performance.now();
  const r = await runTest({ ...base, cwd: examples, patterns: ['./...'], stages: [stage] });
  stages[stage] = { ms: performance.now() - t0, findings: r.findings.length, status: r.stages[0].status };
}

// The sanitizer programs, as the test suite runs them.
const goroot = spawnSync('go', ['env', 'GOROOT'], { encoding: 'utf8' }).stdout.trim();
const td = path.join(goroot, 'src/cmd/cgo/internal/testsanitizers');
const table = readFileSync(path.join(td, 'asan_test.go'), 'utf8') + readFileSync(path.join(td, 'lsan_test.go'), 'utf8');
const cases = [...table.matchAll(/\{src: "([^"/]+\.go)"(?:, (memoryAccessError|leakError): "([^"]+)")?(?:, errorLocation: "[^"]+")?\}/g)].map((m) => ({ src: m[1], error: m[3] }));
const mod = mkdtempSync(path.join(tmpdir(), 'cgoguard-bench-san-'));
let right = 0;
try {
  writeFileSync(path.join(mod, 'go.mod'), 'module sanitizers\n\ngo 1.22\n');
  for (const c of cases) {
    const dir = path.join(mod, c.src.replace(/\.go$/, ''));
    mkdirSync(dir);
    copyFileSync(path.join(td, 'testdata', c.src), path.join(dir, c.src));
    writeFileSync(path.join(dir, 'main_test.go'), 'package main\n\nimport "testing"\n\nfunc TestMain(m *testing.M) { main() }\n');
  }
  const r = await runTest({ ...base, cwd: mod, patterns: ['./...'], stages: ['asan'] });
  for (const c of cases) {
    const mine = r.findings.filter((f) => path.basename(path.dirname(f.file)) === c.src.replace(/\.go$/, ''));
    const ok = c.error ? mine.length === 1 && (c.error === 'detected memory leaks' ? mine[0].dynamic.tool === 'lsan' : mine[0].dynamic.kind === c.error) : mine.length === 0;
    if (ok) right++;
  }
} finally {
  rmSync(mod, { recursive: true, force: true });
}
process.stdout.write(`${JSON.stringify({ plainMs, stages, sanitizers: { right, total: cases.length } })}\n`);
