// `npm run bench`: speed and memory of `cgoguard check`, with ratios measured
// in the same run. Options: --quick (smaller corpus, no --all-functions run),
// --only=a,b (sections: goroot, std, first-run, c-side, stages, trace, lsp, inference, corpus).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateCorpus } from './corpus.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const quick = process.argv.includes('--quick');
const only = process.argv.find((a) => a.startsWith('--only='))?.slice('--only='.length).split(',');
const section = (name) => !only || only.includes(name);
const threads = Math.min(availableParallelism(), 8);

/** Runs a bench script in a fresh process; the analysis is measured without cgoguard's cache unless `env` says otherwise. */
function node(script, args, cwd = process.cwd(), env = { ...process.env, CGOGUARD_CACHE: 'off' }) {
  const r = spawnSync(process.execPath, [path.join(here, script), ...args], { cwd, env, encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`${script} failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop());
}

function goFiles(root) {
  const out = [];
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.go')) out.push(p);
    }
  };
  walk(root);
  return out;
}

const fmtMB = (b) => `${(b / 1e6).toFixed(1)} MB`;
const fmtS = (ms) => `${(ms / 1000).toFixed(ms < 1000 ? 3 : 2)} s`;
const line = (label, text) => console.log(`  ${label.padEnd(44)} ${text}`);

function parseOnly(files, tmp, name) {
  const list = path.join(tmp, `${name}.txt`);
  writeFileSync(list, files.join('\n'));
  return node('parse-only.js', [list, String(threads)]);
}

function report(label, m, base) {
  const s = m.stats;
  line(
    label,
    `${fmtS(m.ms)}  ${(s.files / (m.ms / 1000)).toFixed(0)} files/s  ${(s.bytes / 1e6 / (m.ms / 1000)).toFixed(1)} MB/s  ` +
      `ratio to parse-only ${(m.ms / base.ms).toFixed(2)}x  peak RSS ${fmtMB(m.maxRSS)}  ` +
      `(${s.files} files, ${s.functionsAnalyzed} functions, ${s.functionsSkipped} skipped, ${m.findings} findings)`,
  );
}

const tmp = mkdtempSync(path.join(tmpdir(), 'cgoguard-bench-'));
try {
  console.log(`cgoguard bench — node ${process.version}, ${threads} threads${quick ? ', quick' : ''}`);
  let goroot;
  try {
    goroot = execFileSync('go', ['env', 'GOROOT'], { encoding: 'utf8' }).trim();
  } catch {
    console.log('go not found: the GOROOT and go vet measurements need Go');
  }

  if (goroot && section('goroot')) {
    const src = path.join(goroot, 'src');
    const files = goFiles(src);
    const bytes = files.reduce((a, f) => a + statSync(f).size, 0);
    console.log(`\nGOROOT/src (${files.length} .go files, ${fmtMB(bytes)})`);
    const base = parseOnly(files, tmp, 'goroot');
    line('tree-sitter parse only, every file', `${fmtS(base.ms)}  ${(base.files / (base.ms / 1000)).toFixed(0)} files/s  ${(base.bytes / 1e6 / (base.ms / 1000)).toFixed(1)} MB/s  peak RSS ${fmtMB(base.maxRSS)}`);
    const check = node('measure-check.js', [JSON.stringify({ patterns: [`${src}/...`] })]);
    report('check GOROOT/src/... (go list; cgo packages)', check, base);
    if (!quick) {
      const all = node('measure-check.js', [JSON.stringify({ patterns: [`${src}/...`], forceAll: true, everyFile: true })]);
      report('check --all-functions, every file', all, base);
    }
  }

  if (goroot && section('std')) {
    console.log('\nstd, against go vet (both warm: build cache, cgoguard cache; whole processes, best of 3)');
    const best = (f) => Math.min(f(), f(), f());
    const wall = (cmd, args, env = process.env) => {
      const t0 = performance.now();
      spawnSync(cmd, args, { encoding: 'utf8', env, maxBuffer: 1 << 28 });
      return performance.now() - t0;
    };
    wall('go', ['vet', '-cgocall', 'std']); // warm the build cache
    const vetMs = best(() => wall('go', ['vet', '-cgocall', 'std']));
    line('go vet -cgocall std', fmtS(vetMs));
    const env = { ...process.env, CGOGUARD_CACHE: path.join(tmp, 'std-cache') };
    const cli = [path.join(here, '..', 'bin', 'cgoguard.js'), 'check', '--format', 'json', 'std'];
    const coldMs = wall(process.execPath, cli, env);
    const warmMs = best(() => wall(process.execPath, cli, env));
    line('cgoguard check std, empty cache', fmtS(coldMs));
    line('cgoguard check std, warm', `${fmtS(warmMs)}  ratio to go vet ${(warmMs / vetMs).toFixed(2)}x (target 0.5x)`);
  }

  if (goroot && section('first-run')) {
    const r = node('first-run.js', [JSON.stringify({ sqlite: 'github.com/mattn/go-sqlite3@v1.14.53', zstd: 'github.com/DataDog/zstd@v1.5.7', treeSitter: 'github.com/smacker/go-tree-sitter@v0.0.0-20240827094217-dd81d9e9be82', withVet: true })], process.cwd(), process.env);
    const m = r.modules;
    console.log('\nfirst runs on real modules from the Go module proxy (2 cores, clang installed; whole processes)');
    const skipped = (name, x) => x?.skipped && line(name, `skipped: ${x.skipped}`);
    if (!skipped('go-sqlite3 v1.14.53', m.sqlite) && m.sqlite) {
      const s = m.sqlite;
      line('go vet ., empty build cache', fmtS(s.vetCold));
      line('cgoguard check ., empty cache', `${fmtS(s.checkCold)}  ratio to go vet ${(s.checkCold / s.vetCold).toFixed(2)}x (target 0.25x)  (${s.coldStats?.cAnalyzed} C units analysed)`);
      line('go vet ., warm', fmtS(s.vetWarm));
      line('cgoguard check ., warm (result cache)', `${fmtS(s.checkWarm)}  ratio to go vet ${(s.checkWarm / s.vetWarm).toFixed(2)}x (target 0.5x)  same output: ${s.warmSame}`);
      line('cgoguard check . after an edit to a Go file', fmtS(s.checkAfterEdit));
      for (const n of s.coldNotes) line('', n);
    }
    for (const [name, label] of [
      ['zstd', 'DataDog/zstd v1.5.7 ./...'],
      ['treeSitter', 'smacker/go-tree-sitter ./...'],
    ]) {
      const x = m[name];
      if (skipped(label, x) || !x) continue;
      line(`${label}, empty cache`, `${fmtS(x.checkCold)}  (target 15 s; ${x.coldStats?.packagesAnalyzed} packages, ${x.coldStats?.cAnalyzed} C units analysed)`);
      for (const n of x.coldNotes) line('', n.length > 160 ? `${n.slice(0, 157)}...` : n);
    }
  }

  if (goroot && section('c-side')) {
    const src = path.join(goroot, 'src');
    const pats = [`${src}/cmd/cgo/internal/...`, `${src}/runtime/cgo`, path.join(here, '..', 'examples', '...')];
    const c = node('c-side.js', [JSON.stringify(pats)]);
    const share = (ms) => `${fmtS(ms)}  ${((ms / c.wholeMs) * 100).toFixed(0)}% of the whole check`;
    console.log(`\nthe C side, on ${c.packages} cgo packages (cmd/cgo/internal/..., runtime/cgo, examples; one thread)`);
    line('whole check', `${fmtS(c.wholeMs)}  (${c.findings} findings)`);
    line('C preprocessor on the preambles (cc -E)', share(c.ccMs));
    line(`C declarations, and ${c.summarized} of ${c.definitions} bodies (reached)`, share(c.parseMs));
    line('every C body (as before lazy reading)', `${fmtS(c.eagerMs)}  ${(c.eagerMs / Math.max(c.parseMs, 1)).toFixed(1)}x the lazy reading`);
    line(`clang static analyzer (${c.units} units)`, c.clang ? share(c.clangMs) : 'clang not installed');
  }

  if (goroot && section('stages')) {
    const s = node('stages.js', [path.join(here, '..', 'examples')]);
    console.log('\ncgoguard test stages on examples/ (9 packages), against plain go test (warm build cache)');
    line('go test ./...', fmtS(s.plainMs));
    for (const [stage, m] of Object.entries(s.stages)) line(`stage ${stage}`, m.status === 'ran' ? `${fmtS(m.ms)}  ${(m.ms / s.plainMs).toFixed(1)}x go test  (${m.findings} findings)` : `skipped`);
    line('sanitizer programs classified right', `${s.sanitizers.right} of ${s.sanitizers.total} (the toolchain's asan/lsan table)`);
  }

  if (goroot && section('trace')) {
    const t = node('trace.js', []);
    console.log('\ncgoguard trace and production build (sampled) overhead (the loop only; best of 7 rounds, and the median of the rounds\' ratios)');
    for (const [mode, m] of Object.entries(t)) {
      const label = mode === 'pairs' ? '1e6 C.CString + C.free pairs' : 'realistic cgo loop (1e5 iterations)';
      line(label, `plain ${fmtS(m.plainMs)}  traced ${fmtS(m.tracedMs)} (${m.tracedRatio.toFixed(2)}x)  sampled ${fmtS(m.sampledMs)} (${m.sampledRatio.toFixed(2)}x)  -asan ${fmtS(m.asanMs)} (${m.asanRatio.toFixed(2)}x)`);
    }
  }

  if (section('lsp')) {
    if (spawnSync('nvim', ['--version']).status === 0) {
      const l = node('lsp.js', [quick ? '30' : '90']);
      console.log(`\ncgoguard lsp through Neovim's LSP client: edits in a ${l.lines}-line cgo file, diagnostics of each new version`);
      line('first analysis of the file (cold)', fmtS(l.firstMs));
      line(`after an edit (${l.edits} edits)`, `p50 ${l.p50.toFixed(0)} ms  p95 ${l.p95.toFixed(0)} ms  max ${l.max.toFixed(0)} ms  (p95 ${((l.p95 / l.firstMs) * 100).toFixed(0)}% of the first analysis; target 300 ms)`);
    } else {
      console.log('\nnvim not found: the language server latency needs Neovim (scripts/system-deps.sh installs it)');
    }
  }

  if (section('inference')) {
    // Its own report: libraries, facts by source, and the hand-verified sample.
    const r = spawnSync(process.execPath, [path.join(here, 'inference.js')], { encoding: 'utf8' });
    console.log(`\n${r.stdout.trimEnd()}`);
  }

  if (section('corpus')) {
    const shape = quick ? { packages: 20, files: 4, funcs: 10 } : { packages: 100, files: 5, funcs: 20 };
    const corpus = generateCorpus(path.join(tmp, 'corpus'), shape);
    const cfiles = goFiles(corpus);
    const cbytes = cfiles.reduce((a, f) => a + statSync(f).size, 0);
    console.log(`\ngenerated cgo corpus (${shape.packages} packages, ${cfiles.length} files, ${fmtMB(cbytes)})`);
    const cbase = parseOnly(cfiles, tmp, 'corpus');
    line('tree-sitter parse only', `${fmtS(cbase.ms)}  ${(cbase.files / (cbase.ms / 1000)).toFixed(0)} files/s  ${(cbase.bytes / 1e6 / (cbase.ms / 1000)).toFixed(1)} MB/s`);
    // Our own analysis: the 500 copies of one preamble would measure clang (see the C side above).
    const ccheck = node('measure-check.js', [JSON.stringify({ patterns: ['./...'], cAnalyzer: false })], corpus);
    report('check ./... --no-c-analyzer', ccheck, cbase);
    const expected = shape.packages * shape.files * Math.ceil(shape.funcs / 10);
    line('planted leaks found', `${ccheck.findings} of ${expected}`);
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
