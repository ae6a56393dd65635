// The command line as users meet it: exit codes, formats, configuration,
// discovery without Go, bad input.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cgoguard, repoRoot } from './support/cli.js';
import { compareWants, readWants } from './support/fixtures.js';
import { sarifErrors } from './support/sarif.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'cgoguard-cli-'));
const hasClang = spawnSync('clang', ['--version']).status === 0;
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const LEAKY = `package leaky

/*
#include <stdlib.h>
static void use(const char *s) { (void)s; }
*/
import "C"

func leak(s string) {
	C.use(C.CString(s))
}
`;

const CLEAN = `package clean

/*
#include <stdlib.h>
*/
import "C"

import "unsafe"

func ok(s string) {
	p := C.CString(s)
	C.free(unsafe.Pointer(p))
}
`;

/** A directory holding one Go package made of the given files. */
function pkgDir(name: string, files: Record<string, string>): string {
  const dir = path.join(tmp, name);
  mkdirSync(dir, { recursive: true });
  for (const [f, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
    writeFileSync(path.join(dir, f), text);
  }
  return dir;
}

/** PATH with node but without go. */
function envWithoutGo(): NodeJS.ProcessEnv {
  const bin = path.join(tmp, 'nogo-bin');
  mkdirSync(bin, { recursive: true });
  try {
    symlinkSync(process.execPath, path.join(bin, 'node'));
  } catch {
    // already there
  }
  return { ...process.env, PATH: bin };
}

describe('exit codes', () => {
  it('is 1 when a finding reaches the threshold, 0 when clean', () => {
    expect(cgoguard(['check', pkgDir('exit-leaky', { 'a.go': LEAKY })]).code).toBe(1);
    expect(cgoguard(['check', pkgDir('exit-clean', { 'a.go': CLEAN })]).code).toBe(0);
  });

  it('honours --fail-on', () => {
    const dir = pkgDir('failon', { 'a.go': LEAKY });
    expect(cgoguard(['check', '--fail-on', 'never', dir]).code).toBe(0);
    expect(cgoguard(['check', '--fail-on', 'error', dir]).code).toBe(1);
  });

  it('is 2 with a one-line reason on bad usage', () => {
    for (const args of [
      ['check', '--format', 'xml', '.'],
      ['check', '--no-such-flag'],
      ['check', '--rules', 'nosuchrule', '.'],
      ['check', '--jobs', 'zero', '.'],
      ['explain', 'nosuchrule'],
      ['frobnicate'],
      ['check', path.join(tmp, 'does-not-exist')],
    ]) {
      const r = cgoguard(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(r.stderr).toMatch(/^cgoguard: /);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
  });

  it('prints help and version with status 0', () => {
    expect(cgoguard(['--help']).code).toBe(0);
    const v = cgoguard(['--version']);
    expect(v.code).toBe(0);
    expect(v.stdout.trim()).toBe(JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')).version);
  });
});

describe('output', () => {
  const dir = pkgDir('output', { 'a.go': LEAKY });

  it('prints go vet style lines with the trace indented', () => {
    const r = cgoguard(['check', dir]);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe(`${path.join(dir, 'a.go')}:10:8: C memory from C.CString is never freed: the pointer is not kept (leak)`);
    expect(lines.slice(1).every((l) => l.startsWith('    '))).toBe(true);
  });

  it('prints paths as given: relative in, relative out', () => {
    const r = cgoguard(['check', path.relative(tmp, dir)], { cwd: tmp });
    expect(r.stdout).toMatch(/^output\/a\.go:10:8: /);
  });

  it('writes the JSON contract', () => {
    const r = cgoguard(['check', '--format', 'json', dir]);
    const out = JSON.parse(r.stdout);
    expect(out.version).toBe(1);
    expect(Object.keys(out).sort()).toEqual(['findings', 'stats', 'version']);
    expect(out.findings).toHaveLength(1);
    const f = out.findings[0];
    // Fields are added, never renamed or removed: `fixes` came with the quick fixes, `confidence` after.
    expect(Object.keys(f).sort()).toEqual(['column', 'confidence', 'endColumn', 'endLine', 'file', 'fixes', 'function', 'line', 'message', 'rule', 'severity', 'trace']);
    expect(f.fixes.map((x: { title: string; safe: boolean }) => [x.title, x.safe])).toEqual([['Ignore leak here (//cgoguard:ignore, with a reason to write)', false]]);
    expect(f).toMatchObject({ rule: 'leak', severity: 'error', confidence: 'high', file: path.join(dir, 'a.go'), line: 10, column: 8, endLine: 10, function: 'leak' });
    expect(f.trace[0]).toEqual({ file: path.join(dir, 'a.go'), line: 10, column: 8, message: 'C.CString allocates C memory here' });
    expect(out.stats).toMatchObject({ packages: 1, packagesAnalyzed: 1, files: 1, functionsSkipped: 0 });
  });

  it('writes SARIF 2.1.0 that validates against the official schema', () => {
    const r = cgoguard(['check', '--format', 'sarif', '--fail-on', 'never', './examples/...']);
    expect(r.code).toBe(0);
    const log = JSON.parse(r.stdout);
    expect(sarifErrors(log)).toBe('');
    const results = log.runs[0].results;
    expect(results.length).toBeGreaterThan(0);
    const flow = results[0].codeFlows[0].threadFlows[0].locations;
    expect(flow.length).toBeGreaterThan(1);
    expect(results[0].locations[0].physicalLocation.artifactLocation).toMatchObject({ uriBaseId: '%SRCROOT%' });
    expect(log.runs[0].tool.driver.rules.map((x: { id: string }) => x.id)).toContain('leak');
  });

  it('converts SARIF columns to UTF-16 and keeps byte columns in text', () => {
    const src = LEAKY.replace('func leak(s string) {\n\tC.use(', 'func leak(s string) {\n\t/* é😀 */ C.use(');
    const d = pkgDir('utf16', { 'a.go': src });
    const text = cgoguard(['check', d]).stdout;
    // "\t/* é😀 */ C.use(" puts C.CString at byte 21 (é is 2 bytes, 😀 4) and UTF-16 unit 18.
    expect(text).toContain('a.go:10:21:');
    const sarif = JSON.parse(cgoguard(['check', '--format', 'sarif', d]).stdout);
    expect(sarif.runs[0].results[0].locations[0].physicalLocation.region.startColumn).toBe(18);
  });

  it('is the same on every run', () => {
    const a = cgoguard(['check', '--format', 'json', './examples/...', './testdata/fixtures/leak']);
    const b = cgoguard(['check', '--format', 'json', '-j', '1', './examples/...', './testdata/fixtures/leak']);
    expect(a.stdout).toBe(b.stdout);
  });

  it('writes -o atomically and leaves no temporary file', () => {
    const outDir = path.join(tmp, 'out');
    mkdirSync(outDir, { recursive: true });
    const r = cgoguard(['check', '-o', path.join(outDir, 'report.json'), '--format', 'json', dir]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(JSON.parse(readFileSync(path.join(outDir, 'report.json'), 'utf8')).findings).toHaveLength(1);
    expect(readdirSync(outDir)).toEqual(['report.json']);
  });

  it('lists and explains rules', () => {
    const r = cgoguard(['rules']);
    for (const id of ['leak', 'double-free', 'use-after-free', 'free-nonheap', 'mismatched-free', 'bad-directive', 'unused-ignore']) {
      expect(r.stdout).toMatch(new RegExp(`^${id}\\s`, 'm'));
      const e = cgoguard(['explain', id]);
      expect(e.code).toBe(0);
      expect(e.stdout).toMatch(/Bad:[\s\S]*Good:/);
    }
  });
});

describe('rule selection', () => {
  const dir = pkgDir('selection', { 'a.go': LEAKY });
  it('--disable and --rules switch rules off', () => {
    expect(cgoguard(['check', '--disable', 'leak', dir]).stdout).toBe('');
    expect(cgoguard(['check', '--rules', 'double-free', dir]).stdout).toBe('');
    expect(cgoguard(['check', '--rules', 'leak,double-free', dir]).code).toBe(1);
  });
});

describe('configuration', () => {
  it('reads cgoguard.yaml from the working directory upward', () => {
    const root = pkgDir('cfg-ok', { 'p/a.go': LEAKY, 'cgoguard.yaml': 'rules:\n  leak: note\nfail-on: warning\n' });
    const r = cgoguard(['check', '--format', 'json', './p'], { cwd: root });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).findings[0].severity).toBe('note');
  });

  it('excludes paths and adds contracts', () => {
    const src = `package c

/*
#include <stdlib.h>
char *make_name(void);
*/
import "C"

func f() {
	C.make_name()
}
`;
    const root = pkgDir('cfg-contracts', {
      'a/a.go': src,
      'gen/a.go': LEAKY,
      'cgoguard.yaml': 'exclude: [gen/]\ncontracts:\n  - "make_name() returns owned released by free"\n',
    });
    const r = cgoguard(['check', '--format', 'json', './...'], { cwd: root });
    const files = JSON.parse(r.stdout).findings.map((f: { file: string }) => f.file);
    expect(files).toEqual(['a/a.go']);
  });

  it('rejects bad configuration with a one-line error naming the key', () => {
    const cases: [string, RegExp][] = [
      ['rulez:\n  leak: off\n', /rulez: unknown key/],
      ['rules:\n  lek: off\n', /rules\.lek: unknown rule/],
      ['rules:\n  leak: loud\n', /rules\.leak: /],
      ['fail-on: sometimes\n', /fail-on: /],
      ['contracts:\n  - "make() returns shiny"\n', /contracts\[0\]: expected "owned" or "borrowed"/],
      ['rules: [\n', /invalid YAML/],
    ];
    for (const [text, re] of cases) {
      const root = pkgDir(`cfg-bad-${cases.findIndex((c) => c[0] === text)}`, { 'a.go': CLEAN, 'cgoguard.yaml': text });
      const r = cgoguard(['check', '.'], { cwd: root });
      expect(r.code, text).toBe(2);
      expect(r.stderr, text).toMatch(re);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
    expect(cgoguard(['check', '--config', path.join(tmp, 'nope.yaml'), '.']).code).toBe(2);
  });
});

describe("clang's analyzer", () => {
  const fixture = path.join(repoRoot, 'testdata/fixtures/c_analyzer');

  it('says once that clang is missing and checks the rest', () => {
    const r = cgoguard(['check', '--format', 'json', fixture], { env: { ...process.env, CGOGUARD_CLANG: path.join(tmp, 'no-clang') } });
    const notes = r.stderr.trim().split('\n').filter((l) => /clang/.test(l));
    expect(notes).toEqual([expect.stringMatching(/clang is not installed: the C code of 2 preamble\(s\) and \.c file\(s\) was not analysed/)]);
    const out = JSON.parse(r.stdout);
    expect(out.findings.filter((f: { rule: string }) => f.rule === 'c-analyzer')).toEqual([]);
    expect(r.code).toBe(0);
  });

  it('is switched off by --no-c-analyzer, without a note', () => {
    const r = cgoguard(['check', '--no-c-analyzer', '--format', 'json', fixture], { env: { ...process.env, CGOGUARD_CLANG: path.join(tmp, 'no-clang') } });
    expect(r.stderr).not.toMatch(/clang/);
    expect(JSON.parse(r.stdout).stats.cAnalyzed).toBe(0);
  });

  it.skipIf(!hasClang && !process.env.CI)('reuses its results until the preprocessed C changes', () => {
    const dir = path.join(tmp, 'c_analyzer_cache');
    cpSync(fixture, dir, { recursive: true });
    const env = { ...process.env, CGOGUARD_CACHE: path.join(tmp, 'cache') };
    const messages = () => {
      const r = cgoguard(['check', '--format', 'json', dir], { env });
      return (JSON.parse(r.stdout).findings as { rule: string; message: string }[]).filter((f) => f.rule === 'c-analyzer').map((f) => f.message);
    };
    const fresh = messages();
    expect(fresh.length).toBeGreaterThan(0);
    const entries = readdirSync(path.join(tmp, 'cache', 'clang'));
    expect(entries.length).toBe(2); // the preamble and first.c
    // A planted result shows the cache is read (the package's own result, which holds clang's, set aside)...
    const planted = { v: 2, k: 'analyzed', findings: [{ checker: 'unix.Malloc', message: 'from the cache', line: 1, column: 1, trace: [] }] };
    for (const e of entries) writeFileSync(path.join(tmp, 'cache', 'clang', e), JSON.stringify(planted));
    rmSync(path.join(tmp, 'cache', 'results'), { recursive: true, force: true });
    expect(messages()).toEqual(['from the cache [unix.Malloc]', 'from the cache [unix.Malloc]']);
    // ...and an edit to the C code is analysed again.
    writeFileSync(path.join(dir, 'first.c'), `${readFileSync(path.join(dir, 'first.c'), 'utf8')}\nint unused_but_new;\n`);
    const after = messages();
    expect(after.filter((m) => m === 'from the cache [unix.Malloc]')).toHaveLength(1);
    expect(after.some((m) => /Use of memory after it is freed/.test(m))).toBe(true);
  });
});

describe('discovery without go', () => {
  it('walks the tree, says so, and still finds the bugs', () => {
    const r = cgoguard(['check', '--format', 'json', './examples/...'], { env: envWithoutGo() });
    // Only Node.js: no go command, no clang; each said once.
    const notes = r.stderr.trim().split('\n');
    expect(notes).toHaveLength(2);
    expect(notes[0]).toMatch(/the go command was not found/);
    expect(notes[1]).toMatch(/^cgoguard: clang is not installed: the C code of \d+ preamble\(s\) and \.c file\(s\) was not analysed/);
    const out = JSON.parse(r.stdout);
    expect(out.stats.discovery).toBe('walk');
    const wants = readdirSync(path.join(repoRoot, 'examples'))
      .filter((d) => !d.includes('.'))
      .flatMap((d) => readWants(path.join(repoRoot, 'examples', d), (abs) => path.relative(repoRoot, abs)));
    expect(compareWants(out.findings, wants)).toEqual([]);
  });

  it('needs the go command for import path patterns', () => {
    const r = cgoguard(['check', 'std'], { env: envWithoutGo() });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/cannot resolve package pattern "std" without the go command/);
  });

  it('honours build constraints, .gitignore, vendor and testdata', () => {
    const root = pkgDir('walk', {
      '.git/HEAD': 'ref: refs/heads/main\n',
      '.gitignore': 'ignored/\n',
      'go.mod': 'module example.com/walk\n',
      'p/a.go': LEAKY,
      'p/b_windows.go': LEAKY.replace('func leak', 'func leakWindows'),
      'p/c.go': `//go:build ignore\n\n${LEAKY.replace('func leak', 'func leakIgnored')}`,
      'p/d.go': `//go:build linux || darwin || freebsd || windows\n\n${LEAKY.replace('func leak', 'func leakUnix')}`,
      'ignored/a.go': LEAKY,
      'vendor/v/a.go': LEAKY,
      'p/testdata/a.go': LEAKY,
    });
    const r = cgoguard(['check', '--format', 'json', './...'], { cwd: root, env: envWithoutGo() });
    const got = JSON.parse(r.stdout).findings.map((f: { file: string; function: string }) => `${f.file} ${f.function}`);
    expect(got).toEqual(['p/a.go leak', 'p/d.go leakUnix']);
    // Named explicitly, testdata is checked.
    const t = cgoguard(['check', '--format', 'json', './p/testdata'], { cwd: root, env: envWithoutGo() });
    expect(JSON.parse(t.stdout).findings).toHaveLength(1);
  });

  it('reports unreadable files and exits 2, after reporting the rest', () => {
    const dir = pkgDir('unreadable', { 'a.go': LEAKY });
    symlinkSync(path.join(tmp, 'nowhere'), path.join(dir, 'b.go'));
    const r = cgoguard(['check', '.'], { cwd: dir, env: envWithoutGo() });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('cgoguard: b.go: cannot read (no such file or directory)');
    expect(r.stdout).toContain('a.go:10:8');
  });

  it('checks .go files named on the command line as one package', () => {
    const dir = pkgDir('files', { 'a.go': LEAKY, 'b.go': 'package leaky\n' });
    const r = cgoguard(['check', path.join(dir, 'a.go'), path.join(dir, 'b.go')]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('a.go:10:8');
  });
});

describe('packages go list cannot load', () => {
  it('falls back to the walk for a folder without go.mod', () => {
    const dir = pkgDir('nomod', { 'a.go': LEAKY });
    const r = cgoguard(['check', '--format', 'json', '.'], { cwd: dir });
    expect(r.stderr).toMatch(/walking the file tree instead/);
    expect(JSON.parse(r.stdout).findings).toHaveLength(1);
  });

  it('follows ownership across packages checked together', () => {
    const r = cgoguard(['check', '--format', 'json', './testdata/crosspkg/...']);
    const out = JSON.parse(r.stdout);
    const wants = readWants(path.join(repoRoot, 'testdata/crosspkg/user'), (abs) => path.relative(repoRoot, abs));
    expect(wants.length).toBe(2);
    expect(compareWants(out.findings, wants)).toEqual([]);
  });
});
