// Issue 15, item by item: every command tried as a hostile user would, with
// bad input, interrupts and the shapes of real projects. Each test
// reproduces what went wrong; the interrupt tests run cgoguard with a private
// temporary folder and check that it holds nothing afterwards.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { joinFindings, reportFindings } from '../src/dynamic/findings.js';
import type { PackageSource } from '../src/dynamic/locate.js';
import { parseSanitizerOutput } from '../src/dynamic/sanitizer.js';
import { parseValgrindXML } from '../src/dynamic/valgrind.js';
import type { Finding } from '../src/findings/finding.js';
import { cgoguard, repoRoot } from './support/cli.js';
import { anyProcessWith, descendantCommands, goMod, leakyPackage, moduleProxy, startCli, tracedEventsDir, waitFor, writeTree } from './support/hostile.js';
import { githubIngestionProblems, sarifErrors } from './support/sarif.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'cgoguard-hostile-'));
afterAll(() => {
  // Module caches are read-only unless made with -modcacherw.
  spawnSync('chmod', ['-R', 'u+w', tmp]);
  rmSync(tmp, { recursive: true, force: true });
});
const hasGo = spawnSync('go', ['version']).status === 0;
const hasClang = spawnSync('clang', ['--version']).status === 0;
const inCI = !!process.env.CI;
const chromiumPath = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => spawnSync(p, ['--version']).status === 0);

/** A fresh folder under the test's own temporary folder. */
function fresh(name: string, files: Record<string, string | Buffer> = {}): string {
  const dir = path.join(tmp, name);
  mkdirSync(dir, { recursive: true });
  return writeTree(dir, files);
}

const json = (stdout: string) => JSON.parse(stdout) as { findings: Finding[]; stats: Record<string, unknown> };

describe.skipIf(!hasGo)('issue 15: commands keep their promises under bad input and on real projects', () => {
  it('1. test and trace run external tests (package foo_test) in their package’s test binary', () => {
    const mod = fresh('xtest', {
      'go.mod': goMod('example.com/xt'),
      'xt.go': leakyPackage('xt'),
      'xt_test.go': 'package xt_test\n\nimport (\n\t"testing"\n\n\t"example.com/xt"\n)\n\nfunc TestLeak(t *testing.T) {\n\tif xt.Leak("hello") != 104 {\n\t\tt.Fatal("bad")\n\t}\n}\n',
    });
    const t = cgoguard(['test', '--stages', 'cgocheck', '--no-c-analyzer', '--format', 'json', '.'], { cwd: mod });
    expect(t.stderr).not.toMatch(/no required module provides|did not build/);
    expect(t.stderr).toMatch(/cgocheck: done in [\d.]+ s, \d+ finding/);
    expect(t.code).toBe(1); // the static leak, not a build failure (3)
    const r = cgoguard(['trace', '--no-c-analyzer', '--format', 'json', '.'], { cwd: mod });
    expect(r.stderr).not.toMatch(/no required module provides|traced tests failed/);
    const leak = json(r.stdout).findings.find((f) => f.rule === 'leak')!;
    // The trace saw the block the external test leaked, at its C.CString line.
    expect(leak.runtime?.map((e) => [e.stage, e.bytes])).toEqual([['trace', 6]]);
    expect(leak.line).toBe(10);
  });

  it('4. checks every output path before any work: a missing folder, a folder, a read-only file', () => {
    const mod = fresh('outputs', { 'go.mod': goMod('example.com/out'), 'a.go': leakyPackage('out') });
    for (const flag of ['-o', '--html', '--junit', '--pprof', '--events']) {
      const cmd = ['--html', '--junit'].includes(flag) ? 'test' : flag === '-o' ? 'check' : 'trace';
      const r = cgoguard([cmd, flag, path.join(tmp, 'no-such-folder', 'out.x'), '.'], { cwd: mod });
      expect(r.code, flag).toBe(2);
      expect(r.stderr.trim().split('\n'), flag).toEqual([expect.stringMatching(new RegExp(`^cgoguard: ${flag} \\S+: cannot use folder \\S+: no such file or directory$`))]);
    }
    // A folder as the output: refused, and nothing written next to it.
    const outDir = fresh('outputs-folder');
    const r = cgoguard(['check', '-o', outDir, '.'], { cwd: mod });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^cgoguard: -o \S+: is a folder; give a file name\n$/);
    expect(readdirSync(path.dirname(outDir)).filter((n) => n.endsWith('.tmp'))).toEqual([]);
    // A read-only file keeps its content and mode, unless --force.
    const ro = path.join(fresh('outputs-ro'), 'report.txt');
    writeFileSync(ro, 'keep me\n');
    chmodSync(ro, 0o444);
    const refused = cgoguard(['check', '-o', ro, '.'], { cwd: mod });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/the file is read-only \(pass --force to replace it\)/);
    expect(readFileSync(ro, 'utf8')).toBe('keep me\n');
    const forced = cgoguard(['check', '--force', '-o', ro, '.'], { cwd: mod });
    expect(forced.code).toBe(1);
    expect(readFileSync(ro, 'utf8')).toMatch(/a\.go:10:7: C memory from C\.CString/);
    expect(statSync(ro).mode & 0o777).toBe(0o444);
    // A device is written to, not replaced.
    const devnull = cgoguard(['check', '-o', '/dev/null', '.'], { cwd: mod });
    expect(devnull.code).toBe(1);
    expect(statSync('/dev/null').isCharacterDevice()).toBe(true);
    // Two options naming one file.
    const same = cgoguard(['test', '--html', 'x.html', '-o', 'x.html', '.'], { cwd: mod });
    expect([same.code, same.stderr]).toEqual([2, 'cgoguard: -o and --html name the same file (x.html)\n']);
  });

  it('5. an unreadable file is named, with exit status 2, with go on PATH as without', () => {
    const mod = fresh('unreadable', { 'go.mod': goMod('example.com/unr'), 'a.go': leakyPackage('unr') });
    symlinkSync(path.join(tmp, 'nowhere.go'), path.join(mod, 'b.go'));
    const r = cgoguard(['check', '--no-c-analyzer', '.'], { cwd: mod });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('cgoguard: b.go: cannot read (no such file or directory)');
    expect(r.stdout).toContain('a.go:10:7');
  });

  it('6. a run that analyses nothing is an error; a file that does not parse is named with its position', () => {
    const empty = fresh('nothing-empty');
    const noGo = fresh('nothing-nogo', { 'README.txt': 'not Go\n' });
    const mod = fresh('nothing-mod', { 'go.mod': goMod('example.com/nothing'), 'a/a.go': leakyPackage('a') });
    const garbage = fresh('nothing-garbage', { 'x.go': Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 1, 2, 0xff, 0xfe, 10, 0]) });
    for (const [args, cwd, want] of [
      [['check', empty], repoRoot, /matched no Go packages/],
      [['check', noGo], repoRoot, /matched no Go packages/],
      [['check', 'example.com/nothing/b/...'], mod, /matched no packages/],
      [['check', garbage], repoRoot, /x\.go:1:1: expected 'package' clause/],
    ] as [string[], string, RegExp][]) {
      const r = cgoguard(args, { cwd });
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(want);
    }
    const broken = fresh('nothing-syntax', { 'go.mod': goMod('example.com/syn'), 'e.go': leakyPackage('syn').replace('func Leak(s string) int {', 'func Leak((s string) int {') });
    const r = cgoguard(['check', '--no-c-analyzer', '.'], { cwd: broken });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^cgoguard: e\.go:\d+:\d+: syntax error/m);
    expect(r.stdout).toContain('e.go:10:7'); // what parses is still analysed
  });

  it('7. tests that did not build (3) win over static findings (1)', () => {
    const mod = fresh('nobuild', { 'go.mod': goMod('example.com/nb'), 'nb.go': leakyPackage('nb'), 'nb_test.go': 'package nb\n\nimport "testing"\n\nfunc TestX(t *testing.T) { undefinedThing() }\n' });
    const r = cgoguard(['test', '--stages', 'cgocheck', '--no-c-analyzer', '.'], { cwd: mod });
    expect(r.stderr).toMatch(/cgocheck: the tests did not build: example\.com\/nb: .*undefined: undefinedThing/);
    expect(r.stderr).toMatch(/fails: static: 1 finding/);
    expect(r.code).toBe(3);
    const t = cgoguard(['trace', '--no-c-analyzer', '.'], { cwd: mod });
    expect(t.stderr).toMatch(/the traced tests did not build/);
    expect(t.code).toBe(3);
  });

  it('8. a bare cgoguard prints the help and exits 2, without a stray line', () => {
    const r = cgoguard([]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^Usage: cgoguard \[options\] \[command\]/);
    expect(r.stderr).not.toMatch(/outputHelp/);
    expect(r.stderr.endsWith('\n')).toBe(true);
    expect(cgoguard(['help']).code).toBe(0);
  });

  it('9. tests that fail for another reason show go test’s last lines; a -run that matches nothing is said', () => {
    const mod = fresh('failing', {
      'go.mod': goMod('example.com/fl'),
      'slow/slow.go': 'package slow\n',
      'slow/slow_test.go': 'package slow\n\nimport (\n\t"testing"\n\t"time"\n)\n\nfunc TestSlow(t *testing.T) { time.Sleep(time.Minute) }\n',
      'boom/boom.go': 'package boom\n',
      'boom/boom_test.go': 'package boom\n\nimport "testing"\n\nfunc TestBoom(t *testing.T) { t.Fatal("the boom message") }\n',
    });
    const r = cgoguard(['test', '--stages', 'cgocheck', '--no-static', '--timeout', '2s', './...'], { cwd: mod });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/cgocheck: example\.com\/fl\/boom: tests failed \(not a memory error\); go test's last lines:\n(    .*\n)*    .*the boom message/);
    expect(r.stderr).toMatch(/cgocheck: example\.com\/fl\/slow: tests failed[^\n]*\n(    .*\n)*    panic: test timed out after 2s/);
    const none = cgoguard(['test', '--stages', 'cgocheck', '--no-static', './boom', '--', '-run', 'NoSuchTest'], { cwd: mod });
    expect(none.stderr).toMatch(/cgocheck: no test ran in example\.com\/fl\/boom/);
    expect(none.code).toBe(0);
  });

  it('10. a build failure quotes the error, not go’s "downloading" line', () => {
    const proxy = moduleProxy(path.join(tmp, 'proxy'), 'example.com/dep', 'v1.0.0', { 'go.mod': goMod('example.com/dep'), 'dep.go': 'package dep\n\nfunc Answer() int { return 42 }\n' });
    const mod = fresh('download', {
      'go.mod': goMod('example.com/dl', '\nrequire example.com/dep v1.0.0\n'),
      'dl.go': leakyPackage('dl'),
      'dl_test.go': 'package dl\n\nimport (\n\t"testing"\n\n\t"example.com/dep"\n)\n\nfunc TestDep(t *testing.T) { _ = dep.Answer() + notDefined }\n',
    });
    const env = { ...process.env, GOPROXY: proxy, GOSUMDB: 'off', GOFLAGS: '-mod=mod -modcacherw', GOMODCACHE: path.join(tmp, 'modcache') };
    const r = cgoguard(['test', '--stages', 'asan', '--no-static', '.'], { cwd: mod, env });
    expect(r.stderr).toMatch(/asan: the tests did not build: example\.com\/dl: .*dl_test\.go:\d+:\d+: undefined: notDefined/);
    expect(r.stderr).not.toMatch(/did not build: .*go: downloading/);
    expect(r.code).toBe(3);
  });

  it('12. trace: C memory a finalizer-owned object still holds at exit is not a definite leak unless asked', () => {
    const mod = finalizerModule();
    const r = cgoguard(['trace', '--no-c-analyzer', '--format', 'json', '.'], { cwd: mod });
    const live = json(r.stdout).findings.filter((f) => f.dynamic?.stage === 'trace');
    expect(live.map((f) => [f.line, f.severity, f.dynamic!.heldByFinalizer, f.dynamic!.definite])).toEqual([
      [16, 'note', true, false],
      [25, 'note', true, false],
    ]);
    expect(live[0].message).toMatch(/held by a finalizer-owned object/);
    expect(r.stderr).toMatch(/live at exit: 20 byte\(s\) in 2 object\(s\) \(20 byte\(s\) held by finalizer-owned objects\)/);
    expect(r.code).toBe(0);
    const counted = cgoguard(['trace', '--no-c-analyzer', '--count-finalizer-held', '.'], { cwd: mod });
    expect(counted.stderr).toMatch(/fails: dynamic: 2 definite leak/);
    expect(counted.code).toBe(1);
  });

  it('14. SARIF for code scanning: paths from the repository root, rule metadata, notifications; valid for the schema and GitHub', () => {
    const repo = fresh('sarif-repo', {
      'svc/go.mod': goMod('example.com/svc'),
      'svc/pkg/a.go': leakyPackage('pkg'),
      'svc/pc/b.go': '// Headers through a pkg-config package that does not exist.\npackage pc\n\n/*\n#cgo pkg-config: cgoguard-no-such-lib\nstatic int one(void) { return 1; }\n*/\nimport "C"\n\nfunc One() int { return int(C.one()) }\n',
    });
    spawnSync('git', ['init', '-q'], { cwd: repo });
    const r = cgoguard(['check', '--format', 'sarif', './...'], { cwd: path.join(repo, 'svc') });
    const log = JSON.parse(r.stdout);
    expect(sarifErrors(log)).toBe('');
    expect(githubIngestionProblems(log)).toEqual([]);
    const run = log.runs[0];
    expect(run.originalUriBaseIds['%SRCROOT%'].uri).toBe(`file://${repo}/`);
    const loc = run.results[0].locations[0].physicalLocation.artifactLocation;
    expect(loc).toEqual({ uri: 'svc/pkg/a.go', uriBaseId: '%SRCROOT%' });
    expect(run.tool.driver.informationUri).toMatch(/^https:\/\//);
    const leakRule = run.tool.driver.rules.find((x: { id: string }) => x.id === 'leak');
    expect(leakRule.helpUri).toMatch(/#rule-leak$/);
    expect(leakRule.properties).toMatchObject({ tags: expect.arrayContaining(['security', 'external/cwe/cwe-401']), 'security-severity': '5.3' });
    const readme = readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
    for (const rule of run.tool.driver.rules) expect(readme, rule.id).toContain(`<a id="rule-${rule.id}"></a>`);
    if (hasClang || inCI) {
      const notes = run.invocations[0].toolExecutionNotifications.map((n: { message: { text: string } }) => n.message.text);
      expect(notes).toContainEqual(expect.stringMatching(/pkg-config cgoguard-no-such-lib failed/));
    }
  });

  it('15. small text problems: --full-stacks help, README stats, pkg-config notes, the budget message, symlink loops', () => {
    expect(cgoguard(['trace', '--help']).stdout).toMatch(/then 1 in 4096\)/);
    // The README's example stats are those of the examples.
    const readme = readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
    const example = JSON.parse(/```json\n(\{\n  "version": 1,[\s\S]*?)\n```/.exec(readme)![1]);
    const real = json(cgoguard(['check', '--format', 'json', './examples/...']).stdout).stats;
    if (!hasClang && !inCI) for (const k of ['cAnalyzed', 'cAnalyzerFailed']) delete (example.stats as Record<string, unknown>)[k], delete real[k];
    expect(real).toMatchObject(example.stats);
    // A failing pkg-config is said once, with its reason, the package named once.
    const pc = fresh('pkgconfig', {
      'go.mod': goMod('example.com/pc'),
      'a/x.go': '// Two files, one package.\npackage a\n\n/*\n#cgo pkg-config: cgoguard-no-such-lib\nstatic int one(void) { return 1; }\n*/\nimport "C"\n\nfunc One() int { return int(C.one()) }\n',
      'a/y.go': 'package a\n\n/*\n#cgo pkg-config: cgoguard-no-such-lib\nstatic int two(void) { return 2; }\n*/\nimport "C"\n\nfunc Two() int { return int(C.two()) }\n',
    });
    if (hasClang || inCI) {
      const notes = cgoguard(['check', './...'], { cwd: pc }).stderr.split('\n').filter((l) => /pkg-config/.test(l));
      expect(notes).toHaveLength(1);
      expect(notes[0]).toMatch(/pkg-config cgoguard-no-such-lib failed: Package cgoguard-no-such-lib was not found/);
      expect(notes[0].match(/cgoguard-no-such-lib/g)).toHaveLength(2); // the command and pkg-config's own message
    }
    // The budget message names the function.
    let huge = 'package budget\n\n/*\n#include <stdlib.h>\n*/\nimport "C"\n\nimport "unsafe"\n\nfunc Huge(xs []int) {\n\tp := C.malloc(8)\n';
    for (let i = 0; i < 600; i++) huge += `\tif xs[${i % 7}] > ${i} {\n\t\tC.free(p)\n\t\tp = C.malloc(${i + 1})\n\t}\n`;
    huge += '\tC.free(unsafe.Pointer(p))\n}\n';
    const budget = fresh('budget', { 'go.mod': goMod('example.com/budget'), 'huge.go': huge });
    expect(cgoguard(['check', '--no-c-analyzer', '.'], { cwd: budget }).stderr).toMatch(/1 function\(s\) exceeded the analysis budget and were skipped: Huge \(huge\.go:10\)/);
    // A symlink loop is not "no such file".
    const loops = fresh('loops');
    symlinkSync('loop', path.join(loops, 'loop'));
    const r = cgoguard(['check', './loop'], { cwd: loops });
    expect([r.code, r.stderr]).toEqual([2, 'cgoguard: cannot read ./loop: too many levels of symbolic links\n']);
  });

  it('16. --events starts each process with the table of its stacks; every stack id has its frames', () => {
    const mod = finalizerModule();
    const events = path.join(tmp, 'events.jsonl');
    cgoguard(['trace', '--no-c-analyzer', '--no-static', '--events', events, '.'], { cwd: mod });
    const lines = readFileSync(events, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines[0]).toMatchObject({ event: 'stack', stack: expect.any(Number), frames: expect.any(Array) });
    const table = new Set(lines.filter((e) => e.event === 'stack').map((e) => `${e.pid}/${e.stack}`));
    const refs = lines.filter((e) => e.event !== 'stack' && e.stack);
    expect(refs.length).toBeGreaterThan(0);
    for (const e of refs) expect(table.has(`${e.pid}/${e.stack}`), JSON.stringify(e)).toBe(true);
    expect(new Set(lines.map((e) => e.event))).toEqual(new Set(['stack', 'alloc', 'held']));
    // Every kind that can appear is documented.
    const readme = readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
    for (const kind of ['stack', 'alloc', 'free', 'realloc', 'moved', 'use', 'seen', 'held', 'violation']) expect(readme, kind).toMatch(new RegExp(`\\| \`${kind}\` \\|`));
  });

  it('17. ./... walks a package go list rejects, as it does when the package is named', () => {
    const mod = fresh('rejected', { 'go.mod': goMod('example.com/rej'), 'ok/a.go': leakyPackage('ok'), 'my pkg/b.go': leakyPackage('b') });
    const named = cgoguard(['check', '--no-c-analyzer', '--format', 'json', './my pkg'], { cwd: mod });
    expect(json(named.stdout).findings.map((f) => f.file)).toEqual(['my pkg/b.go']);
    const all = cgoguard(['check', '--no-c-analyzer', '--format', 'json', './...'], { cwd: mod });
    expect(json(all.stdout).findings.map((f) => f.file)).toEqual(['my pkg/b.go', 'ok/a.go']);
    expect(all.stderr).toMatch(/go list could not load my pkg: walking the file tree instead/);
  });
});

describe('issue 15, item 11: run-time findings as precise as the stack allows', () => {
  const source = (dir: string, display: (abs: string) => string = (abs) => path.relative(repoRoot, abs)): PackageSource => {
    const goFiles = readdirSync(dir).filter((n) => n.endsWith('.go')).map((n) => path.join(dir, n));
    return { dir, goFiles, cFiles: [], display, lines: (abs) => (existsSync(abs) ? readFileSync(abs, 'utf8').split('\n') : undefined) };
  };

  it('places a report at the C line of the preamble, with its column, and the Go call as a trace step', () => {
    const dir = fresh('column', { 'po.go': 'package po\n\n/*\nstatic void fill(char *p, int n) { p[n] = 1; }\n*/\nimport "C"\n\nfunc Fill(p *C.char) { C.fill(p, 8) }\n' });
    const file = path.join(dir, 'po.go');
    const text = [
      '==1==ERROR: AddressSanitizer: heap-buffer-overflow on address 0x602000000018 at pc 0x4c3a1f bp 0x7ffc sp 0x7ffb',
      'WRITE of size 1 at 0x602000000018 thread T0',
      `    #0 0x4c3a1f in fill ${file}:4:41`,
      '    #1 0x4c3b2e in _cgo_0c4f370b9cb7_Cfunc_fill /tmp/go-build/cgo-gcc-prolog:60',
      '    #2 0x489dc3 in runtime.asmcgocall /usr/local/go/src/runtime/asm_amd64.s:995',
      '',
      'SUMMARY: AddressSanitizer: heap-buffer-overflow (/tmp/po.test+0x4c3a1f) in fill',
      '==1==ABORTING',
    ].join('\n');
    const [report] = parseSanitizerOutput(text).reports;
    const [f] = reportFindings(report, { stage: 'asan', importPath: 'example.com/po', firstFile: 'po.go', source: source(dir, (abs) => path.basename(abs)) });
    expect([f.file, f.line, f.column]).toEqual(['po.go', 4, 41]);
    expect(f.trace).toEqual([{ file: 'po.go', line: 8, column: 24, message: 'fill is called from Go here' }]);
  });

  it('drops ?? and the scheduler’s frames below runtime.asmcgocall from valgrind’s stacks', () => {
    const { reports } = parseValgrindXML(readFileSync(path.join(repoRoot, 'testdata/dynamic/valgrind-test-leak.xml'), 'utf8'));
    const frames = reports.flatMap((r) => r.stacks.flatMap((st) => st.frames.map((fr) => fr.fn)));
    expect(frames.filter((fn) => fn === '??' || /runtime\.(newproc|mstart|rt0_go|systemstack)/.test(fn))).toEqual([]);
    expect(frames).toContain('runtime.asmcgocall.abi0');
  });

  it('keeps two leak sites apart even when valgrind put their blocks in one record (loop-leak: lines 19 and 30)', () => {
    const { reports } = parseValgrindXML(readFileSync(path.join(repoRoot, 'testdata/dynamic/valgrind-loop-leak.xml'), 'utf8'));
    const ctx = { stage: 'valgrind', importPath: 'example.com/cgoguard-examples/loop-leak', firstFile: 'examples/loop-leak/main.go', source: source(path.join(repoRoot, 'examples/loop-leak')) };
    const found = joinFindings([], reports.flatMap((r) => reportFindings(r, ctx)), false);
    expect(found.map((f) => [f.line, f.dynamic!.bytes, f.dynamic!.objects])).toEqual([
      [19, 10_240_000, 10_000],
      [30, 1, 1],
    ]);
    expect(found[0].message).toMatch(/at the call that allocates 1024-byte blocks/);
  });

  it.skipIf(!hasGo)('with the real toolchain: the preamble line with the Go call as a step; a leak that confirms a static finding is merged into it', () => {
    const mod = fresh('placement', {
      'go.mod': goMod('example.com/place'),
      'po/po.go': 'package po\n\n/*\n#include <stdlib.h>\n#include <string.h>\nstatic void fill(char *p, int n) {\n\tmemset(p, 1, n + 4);\n}\n*/\nimport "C"\n\nimport "unsafe"\n\nfunc Fill() {\n\tp := (*C.char)(C.malloc(8))\n\tC.fill(p, 8)\n\tC.free(unsafe.Pointer(p))\n}\n',
      'po/po_test.go': 'package po\n\nimport "testing"\n\nfunc TestFill(t *testing.T) { Fill() }\n',
      'ml/ml.go': 'package ml\n\n/*\nstatic void touch(void *p) { ((char *)p)[0] = 1; }\n*/\nimport "C"\n\nfunc Loop() {\n\tfor i := 0; i < 100; i++ {\n\t\tp := C.malloc(64)\n\t\tC.touch(p)\n\t}\n}\n',
      'ml/ml_test.go': 'package ml\n\nimport "testing"\n\nfunc TestLoop(t *testing.T) { Loop() }\n',
    });
    const r = cgoguard(['test', '--stages', 'asan', '--no-c-analyzer', '--format', 'json', './...'], { cwd: mod });
    const found = json(r.stdout).findings;
    const overflow = found.find((f) => f.dynamic?.kind === 'heap-buffer-overflow')!;
    expect([overflow.file, overflow.line]).toEqual(['po/po.go', 7]);
    expect(overflow.trace.map((t) => [t.file, t.line, t.message])).toEqual([['po/po.go', 16, 'fill is called from Go here']]);
    const atLeak = found.filter((f) => f.file === 'ml/ml.go' && f.line === 10);
    expect(atLeak).toHaveLength(1); // one bug, one finding
    expect(atLeak[0].dynamic).toBeUndefined();
    expect(atLeak[0].confirmedBy).toEqual(['asan']);
    expect(atLeak[0].runtime?.map((e) => [e.stage, e.tool, e.definite, e.bytes! % 64])).toEqual([['asan', 'lsan', true, 0]]);
  });
});

describe.skipIf(!hasGo || (!chromiumPath && !inCI))('issue 15, item 13: the HTML reports in Chromium', () => {
  let browser: Browser | undefined;
  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox'] });
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('names each package once by its import path, whole; shows the verdict, the failed tests, and the trace summary', async () => {
    const longPath = 'example.com/a-rather-long-organisation-name/and-a-project-with-a-long-name';
    const mod = fresh('html', {
      'go.mod': goMod(longPath),
      'leaky/a.go': leakyPackage('leaky'),
      'leaky/a_test.go': 'package leaky\n\nimport "testing"\n\nfunc TestLeak(t *testing.T) { _ = Leak("x") }\n',
      'pinned/p.go': 'package pinned\n\n/*\nstatic void use(void *p) { (void)p; }\n*/\nimport "C"\n\nimport "unsafe"\n\nfunc Pass() {\n\tx := 1\n\tp := &x\n\tC.use(unsafe.Pointer(&p))\n}\n',
      'pinned/p_test.go': 'package pinned\n\nimport "testing"\n\nfunc TestPass(t *testing.T) { Pass() }\n',
      'failing/f.go': 'package failing\n',
      'failing/f_test.go': 'package failing\n\nimport "testing"\n\nfunc TestBoom(t *testing.T) { t.Fatal("the boom message") }\n',
    });
    const testHtml = path.join(tmp, 'test-report.html');
    cgoguard(['test', '--stages', 'cgocheck', '--no-c-analyzer', '--html', testHtml, './...'], { cwd: mod });
    const traceHtml = path.join(tmp, 'trace-report.html');
    cgoguard(['trace', '--no-c-analyzer', '--html', traceHtml, '.'], { cwd: finalizerModule() });
    const page = await browser!.newPage();
    await page.goto(`file://${testHtml}`);
    const labels = await page.$$eval('svg.chart-package text[text-anchor="end"]', (ts) =>
      ts.map((t) => ({ text: t.textContent?.replace(t.querySelector('title')?.textContent ?? '', '') ?? '', x: (t as SVGTextElement).getBBox().x })),
    );
    process.stdout.write(`package labels: ${JSON.stringify(labels)}\n`);
    expect(labels.map((l) => l.text).sort()).toEqual([`${longPath}/leaky`, `${longPath}/pinned`]);
    for (const l of labels) expect(l.x, l.text).toBeGreaterThanOrEqual(0); // not cut on the left
    expect(await page.textContent('.verdict.fail')).toMatch(/FAIL by the policy[\s\S]*static: 2 finding\(s\) at warning or above/);
    expect(await page.textContent('section.problem')).toMatch(/tests failed[\s\S]*the boom message/);
    const shot = await page.screenshot({ path: path.join(tmp, 'test-report.png'), fullPage: true });
    expect(shot.length).toBeGreaterThan(10_000);
    await page.goto(`file://${traceHtml}`);
    const summary = await page.$$eval('table.summary tr', (rows) => rows.map((r) => [r.querySelector('th')?.textContent, r.querySelector('td')?.textContent]));
    expect(summary).toEqual(
      expect.arrayContaining([
        ['allocations', '2'],
        ['releases', '0'],
        ['live at exit', '20 byte(s) in 2 object(s)'],
        ['held by finalizer-owned objects', '20 byte(s) in 2 object(s)'],
      ]),
    );
    expect(await page.textContent('.verdict')).toMatch(/PASS/);
    await page.screenshot({ path: path.join(tmp, 'trace-report.png'), fullPage: true });
    await page.close();
  });
});

describe.skipIf(!hasGo)('issue 15: interrupts', () => {
  /** Runs cgoguard with a temporary folder of its own, which must be empty once it has ended. */
  const privateTmp = (name: string) => fresh(`tmpdir-${name}`);

  it.skipIf(!hasClang && !inCI)('2. SIGINT stops the static phase (clang on worker threads) within a second', async () => {
    const mod = clangHeavyModule(12);
    const scratch = privateTmp('static');
    const run = startCli(['test', '--stages', 'cgocheck', './...'], { cwd: mod, env: { ...process.env, TMPDIR: scratch, CGOGUARD_CACHE: 'off' } });
    await waitFor(() => descendantCommands(run.child.pid!).some((c) => /clang.* --analyze/.test(c)), 60_000, 'clang to run');
    const t0 = Date.now();
    run.child.kill('SIGINT');
    const code = await run.exited;
    const ms = Date.now() - t0;
    process.stdout.write(`interrupt during the static phase: exited ${ms} ms after SIGINT\n`);
    expect(code).toBe(130);
    expect(ms).toBeLessThan(2500); // a second, with room for a loaded machine
    expect(run.stderr()).toMatch(/cgoguard: interrupted \(SIGINT\) during the static check: child processes stopped, temporary files removed\n$/);
    expect(readdirSync(scratch)).toEqual([]);
    expect(anyProcessWith(mod)).toBe(false);
  });

  it('3. SIGINT during a stage: the signal reaches go test, nothing is left in the temporary folder, finished stages are reported, exit 130', async () => {
    const mod = fresh('interrupt-stage', {
      'go.mod': goMod('example.com/intr'),
      'a/a.go': leakyPackage('a'),
      'a/a_test.go': 'package a\n\nimport "testing"\n\nfunc TestA(t *testing.T) { _ = Leak("x") }\n',
      // Slow only outside the asan stage (go sets the asan build tag there): cgocheck is interrupted while its test runs.
      'a/slow_test.go': '//go:build !asan\n\npackage a\n\nimport (\n\t"testing"\n\t"time"\n)\n\nfunc TestSlow(t *testing.T) { time.Sleep(time.Minute) }\n',
    });
    const scratch = privateTmp('stage');
    const run = startCli(['test', '--stages', 'asan,cgocheck', '--no-c-analyzer', '--format', 'json', './...'], { cwd: mod, env: { ...process.env, TMPDIR: scratch } });
    // Progress is for terminals: the asan stage's end says the cgocheck stage has begun.
    await waitFor(() => /asan: done in/.test(run.stderr()) && descendantCommands(run.child.pid!).some((c) => /a\.test .*-test\./.test(c)), 180_000, 'the cgocheck stage to run the tests');
    run.child.kill('SIGINT');
    const code = await run.exited;
    expect(code).toBe(130);
    const err = run.stderr();
    expect(err).toMatch(/cgoguard: asan: done in/);
    expect(err).toMatch(/cgoguard: cgocheck: interrupted after/);
    expect(err).not.toMatch(/cgocheck: done/);
    expect(err).toMatch(/cgoguard: interrupted \(SIGINT\) during the cgocheck stage: finished: static, asan; child processes stopped, temporary files removed\n$/);
    // The report of what finished: the static finding, and the stages.
    const out = JSON.parse(run.stdout());
    expect(out.stats.interrupted).toBe('cgocheck');
    expect(out.findings.map((f: Finding) => `${f.file}:${f.line}`)).toContain('a/a.go:10');
    expect(out.stats.stages.map((st: { stage: string; status: string }) => [st.stage, st.status])).toEqual([
      ['asan', 'ran'],
      ['cgocheck', 'interrupted'],
    ]);
    expect(readdirSync(scratch)).toEqual([]);
    expect(anyProcessWith(mod)).toBe(false);
  });

  it('3. SIGINT during the traced tests: the events and the overlay are removed, the static check is reported', async () => {
    const mod = fresh('interrupt-trace', {
      'go.mod': goMod('example.com/intrt'),
      'a/a.go': leakyPackage('a'),
      'a/a_test.go': 'package a\n\nimport (\n\t"testing"\n\t"time"\n)\n\nfunc TestA(t *testing.T) {\n\t_ = Leak("x")\n\ttime.Sleep(time.Minute)\n}\n',
    });
    const scratch = privateTmp('trace');
    const run = startCli(['trace', '--no-c-analyzer', './...'], { cwd: mod, env: { ...process.env, TMPDIR: scratch } });
    await waitFor(() => descendantCommands(run.child.pid!).some((c) => /\.test(\s|$)/.test(c) && c.includes('-test.')), 120_000, 'the traced test binary');
    // Where the traced process records its events (/dev/shm or the temporary folder): gone afterwards.
    const eventsDir = tracedEventsDir(run.child.pid!);
    expect(eventsDir).toMatch(/cgoguard-events-/);
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(130);
    expect(run.stdout()).toMatch(/a\/a\.go:10:7: C memory from C\.CString is not freed/);
    expect(run.stderr()).toMatch(/cgoguard: interrupted \(SIGTERM\) during the traced tests: finished: static; child processes stopped, temporary files removed\n$/);
    expect(readdirSync(scratch)).toEqual([]);
    expect(existsSync(eventsDir!)).toBe(false);
    expect(anyProcessWith(mod)).toBe(false);
  });
});

/** A module whose test keeps two objects that own C memory through a finalizer and a cleanup. */
function finalizerModule(): string {
  const dir = path.join(tmp, 'finalizer');
  if (existsSync(dir)) return dir;
  return fresh('finalizer', {
    'go.mod': goMod('example.com/fin', '').replace('go 1.22', 'go 1.24'),
    'fin.go': `package fin

/*
#include <stdlib.h>
*/
import "C"

import (
	"runtime"
	"unsafe"
)

type Name struct{ p *C.char }

func NewName(s string) *Name {
	n := &Name{p: C.CString(s)}
	runtime.SetFinalizer(n, func(n *Name) { C.free(unsafe.Pointer(n.p)) })
	return n
}

type Buf struct{ p unsafe.Pointer }

func NewBuf() *Buf {
	b := &Buf{}
	b.p = C.malloc(16)
	runtime.AddCleanup(b, func(p unsafe.Pointer) { C.free(p) }, b.p)
	return b
}
`,
    'fin_test.go': `package fin

import "testing"

var kept []any

func TestKeep(t *testing.T) {
	kept = append(kept, NewName("abc"), NewBuf())
}
`,
  });
}

/** Packages whose preambles keep clang's analyzer busy for a while each. */
function clangHeavyModule(n: number): string {
  const files: Record<string, string> = { 'go.mod': goMod('example.com/heavy') };
  for (let k = 0; k < n; k++) {
    let c = '';
    for (let f = 0; f < 3; f++) {
      c += `static int work${f}(int n, int *xs) {\n  char *bufs[16];\n  int acc = 0;\n  for (int i = 0; i < 16; i++) bufs[i] = (i & n) ? malloc(i + 1) : 0;\n`;
      for (let i = 0; i < 24; i++) c += `  if (xs[${i}] > n) { acc += xs[${i}]; if (bufs[${i % 16}]) bufs[${i % 16}][0] = (char)acc; } else if (xs[${i}] < -n) { free(bufs[${i % 16}]); bufs[${i % 16}] = 0; }\n`;
      c += '  for (int i = 0; i < 16; i++) free(bufs[i]);\n  return acc;\n}\n';
    }
    files[`p${k}/p.go`] = `package p${k}\n\n/*\n#include <stdlib.h>\n${c}*/\nimport "C"\n\nfunc Work(xs []C.int) int { return int(C.work0(1, &xs[0])) + int(C.work1(2, &xs[0])) + int(C.work2(3, &xs[0])) }\n`;
  }
  return fresh('clang-heavy', files);
}
