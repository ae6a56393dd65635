// `cgoguard test` with the real toolchain on real programs: the Go team's
// sanitizer programs (each expected error found with its kind and location,
// the clean ones clean, as the toolchain's own table says), and the bundled
// examples under cgocheck and valgrind, joined with the static findings.
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Finding } from '../src/findings/finding.js';
import { bin, cgoguard, repoRoot } from './support/cli.js';
import { sarifErrors } from './support/sarif.js';

const goroot = spawnSync('go', ['env', 'GOROOT'], { encoding: 'utf8' }).stdout?.trim();
const hasValgrind = spawnSync('valgrind', ['--version']).status === 0;
const tmp = mkdtempSync(path.join(tmpdir(), 'cgoguard-dyn-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

interface Case {
  src: string;
  error?: string;
  location?: string;
}

/** Whether valgrind runs a test binary of ours (read from /proc: no procps needed). */
function valgrindRunning(): boolean {
  for (const pid of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (cmd.includes('valgrind') && cmd.includes('cgoguard-test-')) return true;
    } catch {
      // gone meanwhile
    }
  }
  return false;
}

/** The toolchain's own expectations: `{src: "...", memoryAccessError: "...", errorLocation: "..."}` lines. */
function toolchainCases(file: string, errorField: string): Case[] {
  const text = readFileSync(path.join(goroot!, 'src/cmd/cgo/internal/testsanitizers', file), 'utf8');
  const out: Case[] = [];
  for (const m of text.matchAll(/\{src: "([^"]+)"(?:, (\w+): "([^"]+)")?(?:, errorLocation: "([^"]+)")?(?:, experiments: [^}]*)?\}/g)) {
    if (m[2] && m[2] !== errorField) continue;
    out.push({ src: m[1], error: m[3], location: m[4] });
  }
  return out;
}

/**
 * A representative set of the programs that build and run in a plain module
 * (no experiments, no extra files), failing and clean: a use after free and an
 * overflow in Go code, Go memory poisoned for C (the preamble line), a global
 * overflow in C, unsafe pointer arithmetic, a leak in a preamble function
 * (lost to a tail call without -fno-optimize-sibling-calls), and three that
 * must stay clean. All 17 single-file programs pass the same checks (README).
 */
const CHOSEN = ['asan1_fail.go', 'asan2_fail.go', 'asan3_fail.go', 'asan_global1_fail.go', 'asan_unsafe_fail1.go', 'lsan1.go', 'asan_useAfterReturn.go', 'asan_global5.go', 'lsan2.go'];

describe.skipIf(!goroot)('cgoguard test, with the real toolchain', () => {
  it('finds each sanitizer error of the toolchain table with its kind and location, and nothing in the clean programs', () => {
    const cases = [...toolchainCases('asan_test.go', 'memoryAccessError'), ...toolchainCases('lsan_test.go', 'leakError')].filter((c) => CHOSEN.includes(c.src));
    expect(cases.map((c) => c.src).sort()).toEqual([...CHOSEN].sort());
    const mod = path.join(tmp, 'sanitizers');
    mkdirSync(mod);
    writeFileSync(path.join(mod, 'go.mod'), 'module sanitizers\n\ngo 1.22\n');
    for (const c of cases) {
      const dir = path.join(mod, c.src.replace(/\.go$/, ''));
      mkdirSync(dir);
      copyFileSync(path.join(goroot!, 'src/cmd/cgo/internal/testsanitizers/testdata', c.src), path.join(dir, c.src));
      // A test that runs the program: `cgoguard test` runs tests.
      writeFileSync(path.join(dir, 'main_test.go'), 'package main\n\nimport "testing"\n\nfunc TestMain(m *testing.M) { main() }\n');
    }
    const r = cgoguard(['test', '--stages', 'asan', '--no-static', '--format', 'json', './...'], { cwd: mod });
    expect(r.stderr).not.toMatch(/did not build|internal error/);
    const findings = JSON.parse(r.stdout).findings as Finding[];
    let right = 0;
    for (const c of cases) {
      const mine = findings.filter((f) => path.basename(path.dirname(f.file)) === c.src.replace(/\.go$/, ''));
      if (!c.error) {
        expect(mine, c.src).toEqual([]);
        right++;
        continue;
      }
      expect(mine, c.src).toHaveLength(1);
      const f = mine[0];
      if (c.error === 'detected memory leaks') expect(f.dynamic!.tool, c.src).toBe('lsan');
      else expect(f.dynamic!.kind, c.src).toBe(c.error);
      // The faulting line the toolchain expects is the finding's own line, or a step of its trace
      // (a C line of the preamble is the finding's line, and the Go call a step).
      const where = [`${path.basename(f.file)}:${f.line}`, ...f.trace.map((t) => `${path.basename(t.file)}:${t.line}`)];
      expect(where, c.src).toContain(c.location);
      expect(f.file.endsWith('.go')).toBe(true);
      right++;
    }
    process.stdout.write(`sanitizer programs classified right: ${right}/${cases.length}\n`);
    expect(r.code).toBe(1);
  });

  it('confirms static findings on the examples under cgocheck and valgrind', { skip: !hasValgrind && !process.env.CI }, () => {
    const html = path.join(tmp, 'report.html');
    const junit = path.join(tmp, 'junit.xml');
    const r = cgoguard(['test', '--stages', 'cgocheck,valgrind', '--format', 'json', '--html', html, '--junit', junit, './examples/cstring-leak', './examples/slice-header']);
    const findings = JSON.parse(r.stdout).findings as Finding[];
    // What the stages saw on the very lines of static findings is merged into them: one bug, one finding.
    expect(findings.filter((f) => f.dynamic)).toEqual([]);
    const leak = findings.find((f) => f.rule === 'leak' && f.file === 'examples/cstring-leak/main.go');
    expect(leak).toMatchObject({ line: 11, confirmedBy: ['valgrind'] });
    expect(leak!.runtime).toEqual([expect.objectContaining({ stage: 'valgrind', rule: 'leak', definite: true, bytes: 25, objects: 2, locatedBy: 'call site' })]);
    const header = findings.find((f) => f.rule === 'slice-header')!;
    expect(header).toMatchObject({ file: 'examples/slice-header/main.go', line: 20, confirmedBy: ['cgocheck'] });
    expect(header.runtime).toEqual([expect.objectContaining({ stage: 'cgocheck', rule: 'unpinned-go-pointer', locatedBy: 'traceback' })]);
    const confirmedStatic = findings.filter((f) => !f.dynamic && f.confirmedBy?.length).map((f) => [f.rule, f.confirmedBy]);
    expect(confirmedStatic).toEqual([
      ['leak', ['valgrind']],
      ['slice-header', ['cgocheck']],
    ]);
    expect(r.stderr).toMatch(/fails: dynamic: 1 definite leak/);
    expect(r.code).toBe(1);
    expect(readFileSync(html, 'utf8')).toMatch(/<section class="finding"/);
    const xml = readFileSync(junit, 'utf8');
    expect(xml).toMatch(/<testsuite name="valgrind" tests="\d+" failures="1"/);
    expect(xml).toMatch(/<testsuite name="cgocheck" tests="\d+" failures="1"/);
  });

  it('writes SARIF with the run-time stacks that validates against the schema', () => {
    const r = cgoguard(['test', '--stages', 'cgocheck', '--format', 'sarif', './examples/slice-header']);
    const log = JSON.parse(r.stdout);
    expect(sarifErrors(log)).toBe('');
    const dyn = log.runs[0].results.find((x: { properties?: { runtime?: { stage: string }[] } }) => x.properties?.runtime?.some((e) => e.stage === 'cgocheck'));
    expect(dyn).toMatchObject({ ruleId: 'slice-header', properties: { confirmedBy: ['cgocheck'], runtime: [{ tool: 'cgocheck', kind: expect.stringMatching(/Go pointer/) }] } });
    const frames = dyn.stacks[0].frames as { location: { message: { text: string }; physicalLocation?: { region: { startLine: number } } } }[];
    expect(frames.find((f) => f.location.message.text.endsWith('slice-header.main'))?.location.physicalLocation?.region.startLine).toBe(20);
  });

  it('keeps a stack overflow its test hits alone, and demotes one it does not (stale marks from a panic through C)', () => {
    const r = cgoguard(['test', '--stages', 'asan', '--no-c-analyzer', '--format', 'json', './...'], { cwd: path.join(repoRoot, 'testdata/asan-redzone') });
    // At the C line of the preamble, with the Go call as a step.
    const found = (JSON.parse(r.stdout).findings as Finding[]).map((f) => [f.file, f.line, f.trace.map((t) => t.line), f.severity, f.dynamic?.alone, /not seen when TestSum runs alone/.test(f.message)]);
    expect(found).toEqual([
      ['overflow/overflow.go', 9, [14], 'error', { test: 'TestPastTheEnd', reproduced: true }, false],
      ['stale/stale.go', 17, [33], 'warning', { test: 'TestSum', reproduced: false }, true],
    ]);
    expect(r.stderr).toMatch(/fails: runtime: 1 memory error\(s\)/);
    expect(r.code).toBe(1);
  });

  it("hides the Go heap objects that the toolchain's valgrind build tag declares", { skip: !hasValgrind && !process.env.CI }, () => {
    const r = cgoguard(['test', '--stages', 'valgrind', '--tags', 'valgrind', '--no-static', '--format', 'json', './examples/cstring-leak']);
    const found = (JSON.parse(r.stdout).findings as Finding[]).map((f) => [f.rule, f.line, f.dynamic?.bytes]);
    expect(found).toEqual([['leak', 11, 25]]);
  });

  it('stops cleanly when interrupted: children killed, temporary files removed', { skip: !hasValgrind && !process.env.CI }, async () => {
    const before = new Set(readdirSync(tmpdir()).filter((n) => n.startsWith('cgoguard-test-')));
    const child = spawn(process.execPath, [bin, 'test', '--stages', 'valgrind', '--no-static', './examples/loop-leak'], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    // Interrupt once valgrind runs the test binary.
    await new Promise<void>((resolve) => {
      const poll = setInterval(() => {
        if (valgrindRunning()) {
          clearInterval(poll);
          resolve();
        }
      }, 200);
    });
    child.kill('SIGINT');
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code).toBe(130);
    expect(stderr).toMatch(/valgrind: interrupted after/);
    expect(stderr).toMatch(/interrupted \(SIGINT\) during the valgrind stage: child processes stopped, temporary files removed\n$/);
    expect(valgrindRunning()).toBe(false);
    const after = readdirSync(tmpdir()).filter((n) => n.startsWith('cgoguard-test-') && !before.has(n));
    expect(after).toEqual([]);
  });

  it('names what to install when a stage cannot run, and runs the others', () => {
    const bin = path.join(tmp, 'bin');
    mkdirSync(bin, { recursive: true });
    // A PATH with go and the C compiler but no valgrind.
    for (const tool of ['go', 'gcc', 'cc']) {
      const where = spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim();
      if (where) spawnSync('ln', ['-sf', where, path.join(bin, tool)]);
    }
    const r = cgoguard(['test', '--stages', 'cgocheck,valgrind', '--no-static', './examples/cstring-leak'], { env: { ...process.env, PATH: bin } });
    expect(r.stderr).toMatch(/valgrind: skipped: valgrind is not installed \(apt-get install valgrind\)/);
    expect(r.stderr).toMatch(/cgocheck: done in/);
    const noGo = cgoguard(['test', './examples/cstring-leak'], { env: { ...process.env, PATH: path.join(tmp, 'empty') } });
    expect(noGo.code).toBe(2);
    expect(noGo.stderr.trim()).toBe('cgoguard: cgoguard test needs the go command on PATH: install Go 1.21 or later (https://go.dev/dl/)');
  });
});
