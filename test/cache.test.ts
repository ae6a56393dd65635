// The result cache through the CLI: findings identical with and without it,
// an unchanged package served from it, a key that moves with everything a
// result depends on, corrupt entries, runs at the same time, cache clean.
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bin, cgoguard, repoRoot } from './support/cli.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'cgoguard-cache-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

let n = 0;
/** A fresh cache folder, and the environment that uses it (with the whole-run cache, or without it to test the per-package one). */
function freshCache(runs = false): { dir: string; env: NodeJS.ProcessEnv } {
  const dir = path.join(tmp, `cache${n++}`);
  return { dir, env: { ...process.env, CGOGUARD_CACHE: dir, CGOGUARD_RUN_CACHE: runs ? '' : 'off' } };
}

function entries(cache: string, kind: string): string[] {
  const d = path.join(cache, kind);
  return existsSync(d) ? readdirSync(d).sort() : [];
}

/**
 * A module with a dependency (its summaries reach the dependent) and a header
 * the preamble includes from outside the package (so only the preprocessor sees it).
 */
function sampleModule(): string {
  const dir = mkdtempSync(path.join(tmp, 'mod-'));
  cpSync(path.join(repoRoot, 'testdata/crosspkg'), dir, { recursive: true });
  mkdirSync(path.join(dir, 'include'));
  writeFileSync(path.join(dir, 'include', 'helper.h'), 'void helper_take(char *p);\n');
  const src = readFileSync(path.join(dir, 'cstr', 'cstr.go'), 'utf8');
  writeFileSync(path.join(dir, 'cstr', 'cstr.go'), src.replace('#include <stdlib.h>', '#cgo CFLAGS: -I${SRCDIR}/../include\n#include <stdlib.h>\n#include "helper.h"'));
  return dir;
}

const checkJSON = (dir: string, env: NodeJS.ProcessEnv, ...extra: string[]) => cgoguard(['check', '--format', 'json', ...extra, './...'], { cwd: dir, env });

describe('the result cache', () => {
  it('gives the same findings, notes and statistics as a run without it, over the examples, the fixtures and a module with a dependency', () => {
    const { dir: cache, env } = freshCache();
    // clang gets all the time it needs: on a loaded machine the run's budget must not decide what is analysed.
    const config = path.join(tmp, 'no-limit.yaml');
    writeFileSync(config, 'c-analyzer:\n  total-timeout: 3600\n  unit-timeout: 600\n');
    const args = ['check', '--format', 'json', '--config', config, './examples/...', './testdata/fixtures/...', './testdata/crosspkg/...'];
    const without = cgoguard([...args, '--no-cache'], { env });
    expect(entries(cache, 'results'), '--no-cache writes nothing').toEqual([]);
    const cold = cgoguard(args, { env });
    const stored = entries(cache, 'results');
    expect(stored.length).toBeGreaterThan(50);
    const warm = cgoguard(args, { env });
    expect(JSON.parse(without.stdout).findings.length).toBeGreaterThan(100);
    for (const run of [cold, warm]) {
      expect(run.stdout).toBe(without.stdout);
      expect(run.stderr).toBe(without.stderr);
      expect(run.code).toBe(without.code);
    }
    // The warm run was served from the entries the cold one wrote: none was added.
    expect(entries(cache, 'results')).toEqual(stored);
  });

  it('serves an unchanged package from its entry, and treats a corrupt entry as a miss', () => {
    const mod = sampleModule();
    const { dir: cache, env } = freshCache();
    const first = checkJSON(mod, env);
    const [cstrEntry] = entries(cache, 'results').filter((e) => readFileSync(path.join(cache, 'results', e), 'utf8').includes('"importPath":"example.com/crosspkg/cstr"'));
    expect(cstrEntry).toBeDefined();
    const file = path.join(cache, 'results', cstrEntry);
    const planted = JSON.parse(readFileSync(file, 'utf8'));
    planted.findings = [{ rule: 'leak', severity: 'error', message: 'planted in the cache', file: 'cstr/cstr.go', line: 1, column: 1, endLine: 1, endColumn: 1, function: '', trace: [] }];
    writeFileSync(file, JSON.stringify(planted));
    expect(checkJSON(mod, env).stdout).toMatch(/planted in the cache/);
    for (const garbage of ['{"importPath": 3}', '{ not json', '']) {
      writeFileSync(file, garbage);
      const r = checkJSON(mod, env);
      expect(r.stdout).toBe(first.stdout);
      // Analysed again and written back.
      expect(JSON.parse(readFileSync(file, 'utf8')).importPath).toBe('example.com/crosspkg/cstr');
    }
  });

  it('misses when a header the preamble includes, the configuration, or a dependency changes', () => {
    const mod = sampleModule();
    const { dir: cache, env } = freshCache();
    checkJSON(mod, env);
    const keys = () => entries(cache, 'results');
    const before = keys();
    expect(before).toHaveLength(2);
    // Nothing changed: nothing new.
    checkJSON(mod, env);
    expect(keys()).toEqual(before);
    // The header reaches the result only through the preprocessor (a macro nothing uses would not):
    // cstr is analysed again, and user is not, since cstr's summaries did not change.
    writeFileSync(path.join(mod, 'include', 'helper.h'), 'void helper_take(char *p, int n);\n');
    checkJSON(mod, env);
    const afterHeader = keys();
    expect(afterHeader).toHaveLength(3);
    // The configuration.
    writeFileSync(path.join(mod, 'cgoguard.yaml'), 'contracts:\n  - "lib_open() returns owned released by lib_close"\n');
    checkJSON(mod, env);
    const afterConfig = keys();
    expect(afterConfig).toHaveLength(5);
    // What the dependency hands out: New no longer returns C memory, so user is analysed against other summaries.
    const cstr = path.join(mod, 'cstr', 'cstr.go');
    writeFileSync(cstr, readFileSync(cstr, 'utf8').replace('return unsafe.Pointer(C.CString(s))', 'return nil'));
    const r = checkJSON(mod, env);
    expect(keys()).toHaveLength(7);
    expect(r.stdout).toBe(cgoguard(['check', '--format', 'json', '--no-cache', './...'], { cwd: mod, env }).stdout);
  });

  it('is shared safely by runs at the same time', async () => {
    const mod = sampleModule();
    const { dir: cache, env } = freshCache();
    const runOne = () =>
      new Promise<string>((resolve) => {
        const child = spawn(process.execPath, [bin, 'check', '--format', 'json', '--c-analyzer', 'all', './...'], { cwd: mod, env });
        let out = '';
        child.stdout.on('data', (b) => (out += b));
        child.on('close', () => resolve(out));
      });
    const outs = await Promise.all([runOne(), runOne(), runOne(), runOne()]);
    expect(new Set(outs).size).toBe(1);
    expect(JSON.parse(outs[0]).findings.length).toBeGreaterThan(0);
    for (const kind of ['results', 'clang', 'csummaries']) {
      for (const e of entries(cache, kind)) {
        expect(e).toMatch(/^[0-9a-f]{64}\.json$/); // no temporary file left behind
        expect(() => JSON.parse(readFileSync(path.join(cache, kind, e), 'utf8'))).not.toThrow();
      }
    }
  });

  it('is cleaned by cgoguard cache clean, which leaves other files alone, and found by cgoguard cache dir', () => {
    const mod = sampleModule();
    const { dir: cache, env } = freshCache();
    checkJSON(mod, env);
    writeFileSync(path.join(cache, 'keep-me'), 'not ours');
    expect(entries(cache, 'results').length).toBeGreaterThan(0);
    expect(cgoguard(['cache', 'dir'], { env }).stdout).toBe(`${cache}\n`);
    const clean = cgoguard(['cache', 'clean'], { env });
    expect(clean.code).toBe(0);
    expect(clean.stderr).toBe(`cgoguard: cache cleaned: ${cache}\n`);
    expect(readdirSync(cache)).toEqual(['keep-me']);
    const off = cgoguard(['cache', 'clean'], { env: { ...process.env, CGOGUARD_CACHE: 'off' } });
    expect(off.stderr).toMatch(/the cache is off/);
  });
});

describe('the run cache', () => {
  const check = (dir: string, env: NodeJS.ProcessEnv, ...extra: string[]) => cgoguard(['check', ...extra, './...'], { cwd: dir, env });

  it('serves an unchanged tree from the last run, with the same report, notes and exit code', () => {
    const mod = sampleModule();
    const { dir: cache, env } = freshCache(true);
    const first = check(mod, env);
    expect(first.stdout).toMatch(/\(leak\)/);
    const [run] = entries(cache, 'runs');
    expect(run).toMatch(/^[0-9a-f]{64}\.json$/);
    const again = check(mod, env);
    expect([again.stdout, again.stderr, again.code]).toEqual([first.stdout, first.stderr, first.code]);
    // Served from the entry: what it holds is what is printed.
    const file = path.join(cache, 'runs', run);
    const record = JSON.parse(readFileSync(file, 'utf8'));
    writeFileSync(file, JSON.stringify({ ...record, stdout: 'planted in the run cache\n' }));
    expect(check(mod, env).stdout).toBe('planted in the run cache\n');
    // A corrupt entry is a miss, and the run writes it again.
    writeFileSync(file, '{ not json');
    expect(check(mod, env).stdout).toBe(first.stdout);
    expect(JSON.parse(readFileSync(file, 'utf8')).stdout).toBe(first.stdout);
  });

  it('misses when a file is edited, added or removed, a header or the configuration changes, or the command differs', () => {
    const mod = sampleModule();
    const { dir: cache, env } = freshCache(true);
    const runs = () => entries(cache, 'runs').length;
    const clean = check(mod, env);
    // A new file with a leak: a folder's entry added.
    const extra = path.join(mod, 'cstr', 'extra.go');
    writeFileSync(extra, 'package cstr\n\n// #include <stdlib.h>\nimport "C"\n\nfunc Extra() { C.malloc(8) }\n');
    const added = check(mod, env);
    expect(added.stdout).toMatch(/extra\.go:6:\d+: C memory from C\.malloc is never freed/);
    // Edited in place, same size: the time tells.
    writeFileSync(extra, readFileSync(extra, 'utf8').replace('C.malloc(8)', 'C.malloc(9)'));
    expect(check(mod, env).stdout).toMatch(/extra\.go:6/);
    rmSync(extra);
    expect(check(mod, env).stdout).toBe(clean.stdout);
    // A header only the preprocessor reads, and a configuration that appears.
    writeFileSync(path.join(mod, 'include', 'helper.h'), 'void helper_take(char *p, int n);\n');
    const before = runs();
    check(mod, env);
    writeFileSync(path.join(mod, 'cgoguard.yaml'), 'rules:\n  leak: off\n');
    const noLeaks = check(mod, env);
    expect(noLeaks.stdout).not.toMatch(/\(leak\)/);
    // Other flags are another command; --no-cache neither reads nor writes it.
    check(mod, env, '--format', 'json');
    expect(runs()).toBe(before + 1);
    const fresh = check(mod, env, '--no-cache');
    expect(fresh.stdout).toBe(noLeaks.stdout);
    expect(runs()).toBe(before + 1);
  });
});
