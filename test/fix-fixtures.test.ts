// `check --fix` over every rule fixture (copied into a module of their own):
// each fixed finding is gone, the fixed files are gofmt-clean and still pass
// `go vet` where they did, a second run changes nothing, and the suggestions
// (fixes --fix does not apply) type-check too. Also --diff, and the refusal
// to write a file that changed since it was analysed.
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Fix } from '../src/findings/fix.js';
import { applyFixes } from '../src/fix/apply.js';
import { writeFixedFiles } from '../src/pipeline/fix.js';
import { normalizeMessage } from '../src/report/fingerprint.js';
import { cgoguard, repoRoot } from './support/cli.js';

const hasGo = spawnSync('go', ['version']).status === 0;
const tmp = mkdtempSync(path.join(tmpdir(), 'cgoguard-fixall-'));
const mod = path.join(tmp, 'fixtures');
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

interface JsonFinding {
  rule: string;
  file: string;
  line: number;
  function: string;
  message: string;
  fixes?: Fix[];
}

function findings(cwd: string): JsonFinding[] {
  const r = cgoguard(['check', '--no-c-analyzer', '--format', 'json', './...'], { cwd });
  expect(r.code, r.stderr).toBeLessThan(2);
  return JSON.parse(r.stdout).findings;
}

const key = (f: JsonFinding) => `${f.rule}|${f.file}|${f.function}|${normalizeMessage(f.message)}`;

function countBy(list: JsonFinding[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const f of list) m.set(key(f), (m.get(key(f)) ?? 0) + 1);
  return m;
}

/** Every file under dir, with its bytes. */
function snapshot(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.set(path.relative(dir, p), readFileSync(p, 'latin1'));
    }
  };
  walk(dir);
  return out;
}

/** go vet's complaints per package folder, line numbers left out. */
function vet(cwd: string): Map<string, Set<string>> {
  // cgo exits without removing its input file when gcc rejects a fixture's
  // preamble: its temporary files go in the test's own folder.
  const goTmp = mkdtempSync(path.join(tmp, 'gotmp-'));
  const r = spawnSync('go', ['vet', './...'], { cwd, encoding: 'utf8', timeout: 300_000, env: { ...process.env, TMPDIR: goTmp } });
  rmSync(goTmp, { recursive: true, force: true });
  const out = new Map<string, Set<string>>();
  let pkg = '';
  for (const line of `${r.stdout}\n${r.stderr}`.split('\n')) {
    const header = /^# fixtures\/(\S+)/.exec(line);
    if (header) pkg = header[1];
    const diag = /^(?:vet: )?([\w-]+)\/[^:]+:\d+:\d+: (.*)$/.exec(line);
    const name = diag ? diag[1] : pkg;
    if (!name || !line.trim()) continue;
    const set = out.get(name) ?? new Set<string>();
    set.add(diag ? diag[2] : line.replace(/\d+/g, 'N'));
    out.set(name, set);
  }
  return out;
}

function gofmtUnclean(cwd: string): string[] {
  const r = spawnSync('gofmt', ['-l', '.'], { cwd, encoding: 'utf8' });
  return r.stdout.split('\n').filter(Boolean).sort();
}

describe.skipIf(!hasGo && !process.env.CI)('check --fix on every fixture', () => {
  let before: JsonFinding[];
  let vetBefore: Map<string, Set<string>>;
  let gofmtBefore: string[];
  let fixRun: ReturnType<typeof cgoguard>;

  beforeAll(() => {
    // Every fixture but clang's own (C code) and the one that does not parse.
    for (const name of readdirSync(path.join(repoRoot, 'testdata/fixtures'))) {
      if (name.startsWith('c_analyzer') || name === 'malformed') continue;
      cpSync(path.join(repoRoot, 'testdata/fixtures', name), path.join(mod, name), { recursive: true });
    }
    writeFileSync(path.join(mod, 'go.mod'), 'module fixtures\n\ngo 1.21\n');
    before = findings(mod);
    vetBefore = vet(mod);
    gofmtBefore = gofmtUnclean(mod);
    fixRun = cgoguard(['check', '--no-c-analyzer', '--fix', './...'], { cwd: mod });
  });

  it('fixes every finding that has a safe fix, and says so', () => {
    const safe = before.filter((f) => f.fixes?.some((x) => x.safe));
    expect(new Set(safe.map((f) => f.rule))).toEqual(new Set(['leak', 'finalizer-keepalive', 'slice-header', 'unused-ignore']));
    const after = findings(mod);
    // A fixpoint: what is left has no safe fix.
    expect(after.filter((f) => f.fixes?.some((x) => x.safe)).map(key)).toEqual([]);
    const was = countBy(before);
    const now = countBy(after);
    for (const f of safe) expect(now.get(key(f)) ?? 0, key(f)).toBeLessThan(was.get(key(f))!);
    // Nothing new appeared.
    for (const [k, n] of now) expect(n, k).toBeLessThanOrEqual(was.get(k) ?? 0);
    const said = fixRun.stderr.split('\n').filter((l) => l.startsWith('cgoguard: fixed '));
    expect(said.length).toBeGreaterThanOrEqual(safe.length);
    expect(said.join('\n')).toMatch(/cgoguard: fixed slice_header\/header\.go:\d+: Pass &buf\[0\] instead of &buf \(slice-header\)/);
  });

  it('leaves gofmt-clean files that go vet passes where it passed before', () => {
    expect(gofmtUnclean(mod)).toEqual(gofmtBefore);
    const vetAfter = vet(mod);
    for (const [pkg, complaints] of vetAfter) {
      const old = vetBefore.get(pkg) ?? new Set();
      expect([...complaints].filter((c) => !old.has(c)), pkg).toEqual([]);
    }
  });

  it('changes nothing on a second run', () => {
    const snap = snapshot(mod);
    const again = cgoguard(['check', '--no-c-analyzer', '--fix', './...'], { cwd: mod });
    expect(again.stderr).not.toMatch(/cgoguard: fixed/);
    expect(snapshot(mod)).toEqual(snap);
    const diff = cgoguard(['check', '--no-c-analyzer', '--diff', './...'], { cwd: mod });
    expect(diff.stdout).toBe('');
    expect(diff.code).toBe(0);
  });

  it('offers suggestions that type-check too (a Pinner for memory C keeps)', () => {
    const list = findings(mod).filter((f) => f.rule === 'c-keeps-go-pointer');
    const byFile = new Map<string, Fix[]>();
    for (const f of list) {
      const pin = f.fixes?.find((x) => x.title.startsWith('Pin '));
      if (pin) byFile.set(f.file, [...(byFile.get(f.file) ?? []), pin]);
    }
    expect(byFile.size).toBeGreaterThan(0);
    for (const [file, fixes] of byFile) {
      const abs = path.join(mod, file);
      writeFileSync(abs, applyFixes(readFileSync(abs, 'utf8'), fixes).text);
    }
    expect(gofmtUnclean(mod)).toEqual(gofmtBefore);
    const complaints = vet(mod).get('c_keeps_go_pointer') ?? new Set();
    expect([...complaints].filter((c) => !(vetBefore.get('c_keeps_go_pointer') ?? new Set()).has(c))).toEqual([]);
    // Pinned, and unpinned on the way out: neither rule fires there any more.
    const left = findings(mod).filter((f) => f.file.startsWith('c_keeps_go_pointer/') && (f.rule === 'c-keeps-go-pointer' || f.rule === 'pinner'));
    expect(left).toEqual([]);
  });
});

describe('check --diff and --fix on a package', () => {
  const LEAKY = `package leaky

/*
#include <stdlib.h>
static int check(const char *s) { return s[0]; }
*/
import "C"

import (
	"errors"
	"unsafe"
)

func put(s string) error {
	cs := C.CString(s)
	if C.check(cs) == 0 {
		return errors.New("empty")
	}
	C.free(unsafe.Pointer(cs))
	return nil
}
`;

  it('prints a unified diff that git applies, and writes nothing', () => {
    const dir = path.join(tmp, 'diff');
    cpSync(path.join(repoRoot, 'testdata/fixtures/leak'), dir, { recursive: true });
    writeFileSync(path.join(dir, 'leak.go'), LEAKY);
    const r = cgoguard(['check', '--no-c-analyzer', '--diff', 'leak.go'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^--- a\/leak\.go\n\+\+\+ b\/leak\.go\n@@ -14,6 \+14,7 @@\n/);
    expect(readFileSync(path.join(dir, 'leak.go'), 'utf8')).toBe(LEAKY);
    writeFileSync(path.join(tmp, 'fix.patch'), r.stdout);
    const apply = spawnSync('git', ['apply', '-p1', path.join(tmp, 'fix.patch')], { cwd: dir, encoding: 'utf8' });
    expect(apply.status, apply.stderr).toBe(0);
    expect(readFileSync(path.join(dir, 'leak.go'), 'utf8')).toContain('\t\tC.free(unsafe.Pointer(cs))\n\t\treturn errors.New("empty")');
  });

  it('keeps the mode of the files it fixes and refuses --fix with --diff', () => {
    const dir = path.join(tmp, 'mode');
    cpSync(path.join(repoRoot, 'testdata/fixtures/leak'), dir, { recursive: true });
    const file = path.join(dir, 'leak.go');
    writeFileSync(file, LEAKY);
    chmodSync(file, 0o640);
    const both = cgoguard(['check', '--fix', '--diff', 'leak.go'], { cwd: dir });
    expect(both.code).toBe(2);
    expect(both.stderr.trim().split('\n')).toHaveLength(1);
    const r = cgoguard(['check', '--no-c-analyzer', '--fix', 'leak.go'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(statSync(file).mode & 0o777).toBe(0o640);
    expect(readdirSync(dir).filter((f) => f.includes('cgoguard-fix'))).toEqual([]);
  });

  it('never writes a file whose content changed since it was analysed', () => {
    const file = path.join(tmp, 'changed.go');
    writeFileSync(file, 'package p // edited meanwhile\n');
    const refused = writeFixedFiles([{ path: file, file: 'changed.go', before: 'package p\n', after: 'package p // fixed\n', applied: [] }]);
    expect(refused).toEqual(['changed.go']);
    expect(readFileSync(file, 'utf8')).toBe('package p // edited meanwhile\n');
    writeFileSync(file, 'package p\n');
    expect(writeFixedFiles([{ path: file, file: 'changed.go', before: 'package p\n', after: 'package p // fixed\n', applied: [] }])).toEqual([]);
    expect(readFileSync(file, 'utf8')).toBe('package p // fixed\n');
  });
});
