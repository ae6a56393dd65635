// `cgoguard gen tests` on the fixture wrapper (testdata/gen) and the examples:
// what the generated file calls and skips, that it is gofmt-clean, vets and
// is stable, that the generated leak tests find the leaks under `cgoguard
// trace` (on the examples: every run-time-detectable leak the static check
// reports), that `cgoguard test` runs them, and that the fuzz targets fuzz
// under -asan without harness errors.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Finding } from '../src/findings/finding.js';
import { combinations } from '../src/gen/plan.js';
import { ImportSet, fuzzType, representatives, type ValueContext } from '../src/gen/values.js';
import { runTrace } from '../src/pipeline/trace.js';
import { initParsers } from '../src/syntax/parser.js';
import { defaultConfig } from '../src/workspace/config.js';
import { cgoguard, repoRoot } from './support/cli.js';

const hasGo = spawnSync('go', ['version']).status === 0;
const tmp = mkdtempSync(path.join(tmpdir(), 'cgoguard-gen-test-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A copy of a folder of the repository, to generate into (the repository's own files stay as they are). */
function copy(from: string, name: string): string {
  const to = path.join(tmp, name);
  cpSync(path.join(repoRoot, from), to, { recursive: true });
  return to;
}

function go(args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env) {
  const r = spawnSync('go', args, { cwd, encoding: 'utf8', env, timeout: 600_000 });
  return { code: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}

/** The body of one generated function, from its line to the closing brace at the start of a line. */
function funcBody(text: string, name: string): string {
  const start = text.indexOf(`\nfunc ${name}(`);
  if (start < 0) return '';
  return text.slice(start, text.indexOf('\n}\n', start) + 3);
}

describe('representative values', () => {
  const ctx = (): ValueContext => ({ importPath: 'example.com/p', types: new Map(), imports: new ImportSet(new Set(['math'])) });

  it('writes C numbers as constants that fit on every platform, and C pointers as nil', () => {
    const c = ctx();
    expect(representatives({ k: 'c', name: 'int' }, 'C.int', c)).toEqual({ exprs: ['0', '1', '-1', '2147483647', '-2147483648'] });
    expect(representatives({ k: 'c', name: 'char' }, 'C.char', c)).toEqual({ exprs: ['0', '1', '127'] });
    expect(representatives({ k: 'pointer', elem: { k: 'c', name: 'char' } }, '*C.char', c)).toEqual({ exprs: ['nil'] });
    expect(representatives({ k: 'c', name: 'struct_point' }, 'C.struct_point', c)).toEqual({ unsupported: expect.stringMatching(/^C\.struct_point: a C value type/) });
  });

  it('gives boundary integers, both bools, short and long strings, nil and empty slices', () => {
    const c = ctx();
    // The package declares `math` itself: the import is aliased.
    expect(representatives({ k: 'basic', name: 'int8' }, 'int8', c)).toEqual({ exprs: ['0', '1', '-1', 'cgoguardmath.MaxInt8', 'cgoguardmath.MinInt8'] });
    expect(c.imports.specs()).toEqual(['cgoguardmath "math"']);
    expect(representatives({ k: 'basic', name: 'bool' }, 'bool', c)).toEqual({ exprs: ['false', 'true'] });
    expect(representatives({ k: 'basic', name: 'string' }, 'string', c)).toEqual({ exprs: ['""', '"cgoguard"', 'cgoguardLongString'] });
    expect(representatives({ k: 'slice', elem: { k: 'basic', name: 'string' } }, '[]string', c)).toEqual({ exprs: ['nil', '[]string{}', '[]string{""}', '[]string{"cgoguard", cgoguardLongString}'] });
    expect(representatives({ k: 'chan', elem: { k: 'basic', name: 'int' } }, 'chan int', c)).toEqual({ unsupported: expect.stringMatching(/^chan int: a channel/) });
  });

  it('fuzzes []byte, strings and integers only', () => {
    const c = ctx();
    expect(fuzzType({ k: 'slice', elem: { k: 'basic', name: 'uint8' } }, c)?.type).toBe('[]byte');
    expect(fuzzType({ k: 'basic', name: 'uint32' }, c)?.type).toBe('uint32');
    expect(fuzzType({ k: 'basic', name: 'bool' }, c)).toBeUndefined();
    expect(fuzzType({ k: 'c', name: 'int' }, c)).toBeUndefined();
  });

  it('varies one argument at a time from the first values', () => {
    expect(combinations([['a', 'b'], ['0', '1', '2']], 10)).toEqual([
      ['a', '0'],
      ['b', '0'],
      ['a', '1'],
      ['a', '2'],
    ]);
    expect(combinations([['a', 'b'], ['0', '1', '2']], 2)).toHaveLength(2);
  });
});

describe.skipIf(!hasGo && !process.env.CI)('cgoguard gen tests', () => {
  let generated = '';
  let mod = '';
  beforeAll(async () => {
    await initParsers();
    const r = cgoguard(['gen', 'tests', '--stdout', './testdata/gen/store']);
    expect(r.code, r.stderr).toBe(0);
    generated = r.stdout;
    mod = copy('testdata/gen', 'gen');
  });

  it('writes a header that says it is generated and how to regenerate it', () => {
    expect(generated.split('\n').slice(0, 2)).toEqual(['// Code generated by cgoguard gen tests; DO NOT EDIT.', '// Regenerate with: cgoguard gen tests example.com/cgoguard-gen/store']);
    expect(generated).toMatch(/^package store$/m);
  });

  it('makes receivers with the constructor, releases them with the closer, and does not close twice', () => {
    const maker = funcBody(generated, 'cgoguardWithStore');
    expect(maker).toContain('k(NewStore(""))');
    expect(maker).toContain('defer v.Close()');
    expect(funcBody(generated, 'TestCgoguardLeak_Store_Put')).toContain('cgoguardWithStore(false, func(o0 *Store) {\n\t\t\t\t_ = o0.Put("", -1)');
    // Close releases its receiver itself.
    expect(funcBody(generated, 'TestCgoguardLeak_Store_Close')).toContain('cgoguardWithStore(true, func(o0 *Store) {\n\t\t\t\t_ = o0.Close()');
    // NewStore's own result is closed.
    expect(funcBody(generated, 'TestCgoguardLeak_NewStore')).toContain('r0, _ := NewStore("")\n\t\t\tif r0 != nil {\n\t\t\t\tr0.Close()');
    // A type made by a method of another: the cursor lives inside the store's helper, and Release frees it.
    const cursor = funcBody(generated, 'cgoguardWithCursor');
    expect(cursor).toContain('cgoguardWithStore(false, func(o0 *Store) {\n\t\t\t\tk(o0.Cursor())');
    expect(cursor).toContain('defer v.Release()');
    expect(funcBody(generated, 'TestCgoguardLeak_Store_Cursor')).toContain('r0.Release()');
    // A type handed out behind an interface (io.Closer): asserted back, and what the call returns closed.
    expect(funcBody(generated, 'cgoguardWithSnapshot')).toContain('r, err := o0.Snapshot()\n\t\t\t\tv, _ := r.(*Snapshot)\n\t\t\t\tk(v, err)');
    expect(funcBody(generated, 'TestCgoguardLeak_Store_Snapshot')).toContain('r0, _ := o0.Snapshot()\n\t\t\t\tcgoguardRelease(r0)');
  });

  it('skips what it cannot build with a TODO naming the type, and never calls it', () => {
    expect(funcBody(generated, 'TestCgoguardLeak_Store_Watch')).toContain('t.Skip("TODO: cannot build argument ch of type chan<- string: a channel');
    expect(funcBody(generated, 'TestCgoguardLeak_SumPair')).toContain('t.Skip("TODO: cannot build argument p of type Pair[int32]: a generic type');
    // WrapRaw would get nil for its C handle: Raw has no constructor a test can use.
    expect(funcBody(generated, 'TestCgoguardLeak_Raw_Items')).toContain('t.Skip("TODO: no way to make a *Raw for the receiver');
    expect(generated).not.toContain('WrapRaw(');
    expect(generated).not.toMatch(/\.Watch\(|[^\w]SumPair\(/);
  });

  it('calls a function that only borrows with nil, empty and filled slices and releases nothing', () => {
    const body = funcBody(generated, 'TestCgoguardLeak_Checksum');
    for (const arg of ['nil', '[]byte{}', '[]byte{0}', '[]byte("cgoguard")', 'cgoguardLongBytes']) expect(body).toContain(`\t\t\t_ = Checksum(${arg})\n`);
    expect(body).not.toMatch(/r0|Close|Release/);
    expect(funcBody(generated, 'FuzzCgoguard_Checksum')).toContain('f.Fuzz(func(t *testing.T, z0 []byte) {');
  });

  it('hands C memory a function returns to the Go function that releases it, and C numbers as constants', () => {
    expect(funcBody(generated, 'TestCgoguardLeak_Dup')).toContain('r0 := Dup("")\n\t\t\tif r0 != nil {\n\t\t\t\tFreeDup(r0)');
    expect(funcBody(generated, 'TestCgoguardLeak_Clamp')).toContain('Clamp(-2147483648)');
  });

  it('has one leak test per function that reaches C, and fuzz targets for those whose []byte, string or integer inputs reach C', () => {
    const tests = [...generated.matchAll(/^func (Test\w+|Fuzz\w+)\(/gm)].map((m) => m[1]);
    expect(tests).toEqual([
      'TestCgoguardLeak_Cursor_Release',
      'TestCgoguardLeak_Raw_Items',
      'TestCgoguardLeak_Snapshot_Close',
      'TestCgoguardLeak_Snapshot_Items',
      'TestCgoguardLeak_Store_Close',
      'TestCgoguardLeak_Store_Cursor',
      'TestCgoguardLeak_Store_Put',
      'TestCgoguardLeak_Store_Snapshot',
      'TestCgoguardLeak_Store_Watch',
      'TestCgoguardLeak_Checksum',
      'TestCgoguardLeak_Clamp',
      'TestCgoguardLeak_Dup',
      'TestCgoguardLeak_FreeDup',
      'TestCgoguardLeak_NewStore',
      'TestCgoguardLeak_Scale',
      'TestCgoguardLeak_SumPair',
      'FuzzCgoguard_Store_Put',
      'FuzzCgoguard_Checksum',
      'FuzzCgoguard_Dup',
      'FuzzCgoguard_NewStore',
      'FuzzCgoguard_Scale',
    ]);
    // Only what flows into C is fuzzed: Scale's v, not its label.
    expect(funcBody(generated, 'FuzzCgoguard_Scale')).toContain('f.Fuzz(func(t *testing.T, z0 int) {\n\t\tcgoguardCall(func() {\n\t\t\t_ = Scale(z0, "")');
    // Position reads a field without calling C.
    expect(generated).not.toContain('Position');
  });

  it('gives the same bytes every run', () => {
    const again = cgoguard(['gen', 'tests', '--stdout', './testdata/gen/store']);
    expect(again.stdout).toBe(generated);
  });

  it('writes the files, which are gofmt-clean, pass go vet, and build and run without the trace', () => {
    const r = cgoguard(['gen', 'tests', './...'], { cwd: mod });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('wrote store/cgoguard_mem_test.go: 16 leak test(s) (3 skipped), 5 fuzz target(s)');
    expect(readFileSync(path.join(mod, 'store/cgoguard_mem_test.go'), 'utf8')).toBe(generated);
    const fmt = spawnSync('gofmt', ['-l', '.'], { cwd: mod, encoding: 'utf8' });
    expect(fmt.status).toBe(0);
    expect(fmt.stdout).toBe('');
    const vet = go(['vet', './...'], mod);
    expect(vet.code, vet.out).toBe(0);
    // Plain go test: the leak is not measured, and the tests say where it is.
    const plain = go(['test', '-count=1', '-v', '-run', 'TestCgoguardLeak_Store_Put', './store'], mod);
    expect(plain.code, plain.out).toBe(0);
    expect(plain.out).toContain('live C memory is measured under cgoguard trace');
  });

  it('overwrites its own file but never a file it did not generate, and says why in one line', () => {
    const dir = copy('testdata/gen', 'foreign');
    const file = path.join(dir, 'store/cgoguard_mem_test.go');
    writeFileSync(file, 'package store\n');
    const r = cgoguard(['gen', 'tests', './store'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(/cgoguard_mem_test\.go exists and was not generated by cgoguard: not overwritten$/)]);
    expect(readFileSync(file, 'utf8')).toBe('package store\n');
    expect(cgoguard(['gen', 'tests', '--runs', '0', './store'], { cwd: dir }).stderr).toBe('cgoguard: --runs: expected an integer from 1 to 100000, got "0"\n');
    const missing = cgoguard(['gen', 'tests', './nowhere'], { cwd: dir });
    expect(missing.code).toBe(2);
    expect(missing.stderr).not.toMatch(/\n\s+at /);
  });

  it('finds the leak on the error path under cgoguard trace, and no leak elsewhere', async () => {
    expect(cgoguard(['gen', 'tests', './store'], { cwd: mod }).code).toBe(0);
    const r = await runTrace({ cwd: mod, patterns: ['./store'], config: defaultConfig(), tags: [], mode: 'test', args: ['-v'], guard: false, abort: false, fullStacks: false, static: false, cAnalyzer: false, jobs: 1, stdio: 'pipe' });
    expect(r.exitCode).toBe(1);
    // Put(key, -1) and Put(key, math.MinInt) leak the key: two blocks per run, ten runs.
    expect(r.output).toMatch(/cgoguard_mem_test\.go:\d+: C memory leaked: \d+ byte\(s\) in 20 block\(s\) still live after 10 runs of 7 call\(s\)\n--- FAIL: TestCgoguardLeak_Store_Put/);
    const failed = [...r.output.matchAll(/^--- FAIL: (\w+)/gm)].map((m) => m[1]);
    expect(failed).toEqual(['TestCgoguardLeak_Store_Put']);
    const passed = [...r.output.matchAll(/^--- PASS: (TestCgoguardLeak_\w+)/gm)].map((m) => m[1]);
    expect(passed).toHaveLength(12);
    // The package's external tests run too.
    expect(r.output).toMatch(/^--- PASS: TestChecksumOfNothing /m);
    // The CLI says the traced tests failed.
    const cli = cgoguard(['trace', '--no-static', './store'], { cwd: mod });
    expect(cli.code).toBe(1);
    expect(cli.stderr).toContain('cgoguard: the traced tests failed');
  });

  it('gives cgoguard test tests to run: a C overflow only a call shows', () => {
    const dir = copy('testdata/gen', 'overflow');
    const run = () => {
      const out = path.join(dir, `report-${Date.now()}.json`);
      cgoguard(['test', '--stages', 'asan', '--no-static', '--format', 'json', '-o', out, './overflow'], { cwd: dir });
      return (JSON.parse(readFileSync(out, 'utf8')) as { findings: Finding[] }).findings;
    };
    expect(run()).toEqual([]);
    expect(cgoguard(['gen', 'tests', './overflow'], { cwd: dir }).code).toBe(0);
    const found = run();
    // At the faulting C line of the preamble (the memset), with the Go call that reached it in the trace.
    expect(found.map((f) => `${f.rule} ${f.file}:${f.line}`)).toEqual(['c-overflow overflow/overflow.go:15']);
    expect(found[0].trace.some((s) => s.file === 'overflow/overflow.go' && s.line === 29)).toBe(true);
    expect(found[0].message).toMatch(/heap-buffer-overflow/);
  });

  // Each fuzz target fuzzes for 10 s; CI runs two (one with a receiver, one over []byte), CGOGUARD_FUZZ_ALL=1 all of store's.
  const FUZZ = process.env.CGOGUARD_FUZZ_ALL ? ['FuzzCgoguard_Store_Put', 'FuzzCgoguard_Checksum', 'FuzzCgoguard_Dup', 'FuzzCgoguard_NewStore', 'FuzzCgoguard_Scale'] : ['FuzzCgoguard_Store_Put', 'FuzzCgoguard_Checksum'];
  it.each(FUZZ)('fuzzes %s for 10 s under -asan without harness errors', (target) => {
    const dir = copy('testdata/gen', `fuzz-${target}`);
    expect(cgoguard(['gen', 'tests', './store'], { cwd: dir }).code).toBe(0);
    // Leaks are the leak tests' business; the fuzzer looks for memory errors.
    const env = { ...process.env, ASAN_OPTIONS: 'detect_leaks=0' };
    const r = go(['test', '-asan', '-run', '^$', '-fuzz', `^${target}$`, '-fuzztime', '10s', './store'], dir, env);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/fuzz: elapsed: \d+s, execs: [1-9]\d*/);
    expect(r.out).not.toMatch(/fuzzing process|harness|panic:/);
  }, 300_000);
});

describe.skipIf(!hasGo && !process.env.CI)('gen tests on the examples', () => {
  it('has a failing leak test under cgoguard trace for every leak the static check reports, and no other', async () => {
    await initParsers();
    const dir = copy('examples', 'examples');
    const check = cgoguard(['check', '--format', 'json', '--no-c-analyzer', './...'], { cwd: dir });
    const leaks = (JSON.parse(check.stdout) as { findings: Finding[] }).findings.filter((f) => f.rule === 'leak');
    expect(leaks.length).toBe(4);
    expect(cgoguard(['gen', 'tests', './...'], { cwd: dir }).code).toBe(0);
    const r = await runTrace({ cwd: dir, patterns: ['./...'], config: defaultConfig(), tags: [], mode: 'test', args: ['-v', '-run', 'Cgoguard'], guard: false, abort: false, fullStacks: false, static: false, cAnalyzer: false, jobs: 1, stdio: 'pipe' });
    const failed = [...r.output.matchAll(/^--- FAIL: TestCgoguardLeak_(\w+)/gm)].map((m) => m[1]).sort();
    expect(failed).toEqual([...new Set(leaks.map((f) => f.function))].sort());
    for (const f of failed) expect(r.output).toMatch(new RegExp(`C memory leaked: \\d+ byte\\(s\\) in \\d+ block\\(s\\)[^\\n]*\\n--- FAIL: TestCgoguardLeak_${f} `));
    // C memory a finalizer frees is not a leak.
    expect(r.output).toMatch(/^--- PASS: TestCgoguardLeak_NewCBuffer /m);
  });
});

// Real wrappers from the Go module proxy, opt-in (CGOGUARD_REAL_MODULES=1): building go-sqlite3's
// amalgamation alone takes about a minute on two cores. README has what their tests find.
const REAL = [
  { module: 'github.com/DataDog/zstd@v1.5.7', tests: 18, fuzz: 12 },
  { module: 'github.com/mattn/go-sqlite3@v1.14.53', tests: 58, fuzz: 21 },
];
describe.skipIf(!process.env.CGOGUARD_REAL_MODULES)('gen tests on real modules', () => {
  it.each(REAL)('writes tests for $module that build and vet', ({ module, tests, fuzz }) => {
    const dl = go(['mod', 'download', '-json', module], tmp);
    expect(dl.code, dl.out).toBe(0);
    const dir = path.join(tmp, module.replace(/[/@]/g, '_'));
    cpSync((JSON.parse(dl.out) as { Dir: string }).Dir, dir, { recursive: true });
    spawnSync('chmod', ['-R', 'u+w', dir]);
    const r = cgoguard(['gen', 'tests', '.'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(new RegExp(`wrote cgoguard_mem_test\\.go: ${tests} leak test\\(s\\) \\(\\d+ skipped\\), ${fuzz} fuzz target\\(s\\)`));
    const build = go(['test', '-count=1', '-run', '^$', '.'], dir);
    expect(build.code, build.out).toBe(0);
    // The modules' own files may have vet findings; the generated one has none.
    expect(go(['vet', '.'], dir).out).not.toContain('cgoguard_mem_test.go');
  }, 900_000);
});
