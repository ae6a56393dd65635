// Adopting cgoguard in a codebase with findings: baselines, findings on
// changed lines only, and the CI formats (GitHub workflow commands, GitLab
// Code Quality, SARIF fingerprints).
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseDiff } from '../src/workspace/git-changes.js';
import { cgoguard } from './support/cli.js';
import { githubIngestionProblems, sarifErrors } from './support/sarif.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'cgoguard-baseline-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const HEAD = `package leaky

/*
#include <stdlib.h>
static void use(const char *s) { (void)s; }
*/
import "C"
`;

const LEAK_A = `
func a(s string) {
	C.use(C.CString(s))
}
`;

const LEAK_B = `
func b(s string) {
	C.use(C.CString(s + "b"))
}
`;

function repo(name: string, files: Record<string, string>): string {
  const dir = path.join(tmp, name);
  mkdirSync(path.join(dir, 'pkg'), { recursive: true });
  for (const [f, text] of Object.entries(files)) writeFileSync(path.join(dir, f), text);
  const git = (...args: string[]) => {
    const r = spawnSync('git', ['-c', 'user.email=t@example.com', '-c', 'user.name=t', ...args], { cwd: dir, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
  };
  git('init', '-q');
  git('add', '-A');
  git('commit', '-qm', 'initial');
  return dir;
}

const check = (cwd: string, ...args: string[]) => cgoguard(['check', '--no-c-analyzer', ...args], { cwd });

describe('baseline', () => {
  it('hides the findings it holds, even after edits elsewhere in the file, and not after an edit of their own line', () => {
    const dir = repo('base', { 'pkg/a.go': HEAD + LEAK_A });
    const w = check(dir, '--write-baseline', 'cgoguard-baseline.json', './...');
    expect(w.code, w.stderr).toBe(0);
    expect(w.stdout).toMatch(/leak/); // the report is still printed
    const b = JSON.parse(readFileSync(path.join(dir, 'cgoguard-baseline.json'), 'utf8'));
    expect(b).toMatchObject({ version: 1, tool: 'cgoguard', findings: [{ rule: 'leak', file: 'pkg/a.go', function: 'a' }] });
    expect(b.findings[0].fingerprint).toMatch(/^[0-9a-f]{20}$/);

    const quiet = check(dir, '--baseline', 'cgoguard-baseline.json', './...');
    expect(quiet.code).toBe(0);
    expect(quiet.stdout).toBe('');
    expect(quiet.stderr).toContain('1 finding(s) in the baseline cgoguard-baseline.json not shown');

    // Unrelated lines above the finding: it moves down and stays hidden; a new finding shows.
    writeFileSync(path.join(dir, 'pkg/a.go'), HEAD + '\n// A comment that moves everything down.\nfunc helper() int { return 1 }\n' + LEAK_B + LEAK_A);
    const moved = check(dir, '--baseline', 'cgoguard-baseline.json', '--format', 'json', './...');
    expect(moved.code).toBe(1);
    expect(JSON.parse(moved.stdout).findings.map((f: { function: string }) => f.function)).toEqual(['b']);

    // The finding's own line changed: it is new.
    writeFileSync(path.join(dir, 'pkg/a.go'), HEAD + LEAK_A.replace('C.CString(s)', 'C.CString(s + "!")'));
    const own = check(dir, '--baseline', 'cgoguard-baseline.json', '--format', 'json', './...');
    expect(own.code).toBe(1);
    expect(JSON.parse(own.stdout).findings.map((f: { function: string }) => f.function)).toEqual(['a']);
  });

  it('counts copies: a baseline with one copy of a finding hides one', () => {
    const dir = repo('copies', { 'pkg/a.go': HEAD + LEAK_A });
    expect(check(dir, '--write-baseline', 'b.json', './...').code).toBe(0);
    writeFileSync(path.join(dir, 'pkg/a.go'), HEAD + LEAK_A.replace('}\n', '\tC.use(C.CString(s))\n}\n'));
    const r = check(dir, '--baseline', 'b.json', '--format', 'json', './...');
    expect(JSON.parse(r.stdout).findings).toHaveLength(1);
  });

  it('refuses a baseline it cannot use with one line and status 2', () => {
    const dir = repo('bad', { 'pkg/a.go': HEAD + LEAK_A });
    writeFileSync(path.join(dir, 'not-json.json'), '{');
    writeFileSync(path.join(dir, 'other.json'), '{"findings": []}');
    for (const [file, why] of [
      ['missing.json', /cannot read missing\.json \(ENOENT\)/],
      ['not-json.json', /is not JSON/],
      ['other.json', /is not a cgoguard baseline/],
    ] as const) {
      const r = check(dir, '--baseline', file, './...');
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split('\n').filter((l) => l.includes('--baseline'))).toHaveLength(1);
      expect(r.stderr).toMatch(why);
    }
  });
});

describe('--new-from-rev', () => {
  it('reports only findings on lines changed since the revision, new files whole', () => {
    const dir = repo('rev', { 'pkg/a.go': HEAD + LEAK_A });
    writeFileSync(path.join(dir, 'pkg/a.go'), HEAD + LEAK_A + LEAK_B);
    writeFileSync(path.join(dir, 'pkg/c.go'), 'package leaky\n\nimport "C"\n\nfunc c(s string) {\n\tC.use(C.CString(s))\n}\n');
    const r = check(dir, '--new-from-rev', 'HEAD', '--format', 'json', './...');
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).findings.map((f: { function: string }) => f.function).sort()).toEqual(['b', 'c']);
    expect(r.stderr).toContain('1 finding(s) on lines unchanged since HEAD not shown');
    const all = check(dir, '--format', 'json', './...');
    expect(JSON.parse(all.stdout).findings).toHaveLength(3);
  });

  it('says in one line when the revision is unknown or there is no repository', () => {
    const dir = repo('norev', { 'pkg/a.go': HEAD + LEAK_A });
    const r = check(dir, '--new-from-rev', 'no-such-branch', './...');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--new-from-rev: unknown revision "no-such-branch"');
    const plain = path.join(tmp, 'plain');
    mkdirSync(plain);
    writeFileSync(path.join(plain, 'a.go'), HEAD + LEAK_A);
    const n = cgoguard(['check', '--no-c-analyzer', '--new-from-rev', 'HEAD', 'a.go'], { cwd: plain, env: { ...process.env, GIT_CEILING_DIRECTORIES: tmp } });
    expect(n.code).toBe(2);
    expect(n.stderr).toMatch(/--new-from-rev: .* is not in a git work tree/);
  });

  it('reads the new side of git diff -U0 hunks', () => {
    const files = parseDiff(
      [
        'diff --git a/x.go b/x.go',
        'index 1..2 100644',
        '--- a/x.go',
        '+++ b/x.go',
        '@@ -3,0 +4,2 @@ func f() {',
        '+a',
        '+b',
        '@@ -10 +12 @@',
        '-c',
        '+d',
        '@@ -20,2 +21,0 @@',
        'diff --git a/new.go b/new.go',
        'new file mode 100644',
        '--- /dev/null',
        '+++ b/new.go',
        '@@ -0,0 +1,3 @@',
      ].join('\n'),
      '/r',
    );
    expect(files.get('/r/x.go')).toEqual(new Set([4, 5, 12]));
    expect(files.get('/r/new.go')).toBe('all');
  });
});

describe('CI formats', () => {
  it('prints GitHub workflow commands with paths from the repository root, escaped', () => {
    const dir = repo('gh', { 'pkg/a.go': HEAD + LEAK_A });
    const r = cgoguard(['check', '--no-c-analyzer', '--format', 'github', '.'], { cwd: path.join(dir, 'pkg') });
    expect(r.code).toBe(1);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^::error file=pkg\/a\.go,line=10,col=8,endColumn=20,title=cgoguard leak::C memory from C\.CString is never freed: the pointer is not kept \(leak\)%0A  pkg\/a\.go:10:8: /);
  });

  it('writes GitLab Code Quality issues with unique, stable fingerprints', () => {
    const dir = repo('cq', { 'pkg/a.go': HEAD + LEAK_A.replace('}\n', '\tC.use(C.CString(s))\n}\n') });
    const r = check(dir, '--format', 'codequality', './...');
    expect(r.code).toBe(1);
    const issues = JSON.parse(r.stdout);
    expect(issues).toHaveLength(2);
    for (const i of issues) {
      expect(i).toMatchObject({ type: 'issue', check_name: 'leak', severity: 'critical', categories: ['Security'], location: { path: 'pkg/a.go', positions: { begin: { line: expect.any(Number) } } } });
      expect(i.description).toMatch(/never freed/);
    }
    expect(new Set(issues.map((i: { fingerprint: string }) => i.fingerprint)).size).toBe(2);
    // Stable across an unrelated edit above.
    writeFileSync(path.join(dir, 'pkg/a.go'), HEAD + '\n// moved\n' + LEAK_A.replace('}\n', '\tC.use(C.CString(s))\n}\n'));
    const again = JSON.parse(check(dir, '--format', 'codequality', './...').stdout);
    expect(again.map((i: { fingerprint: string }) => i.fingerprint)).toEqual(issues.map((i: { fingerprint: string }) => i.fingerprint));
    expect(again[0].location.positions.begin.line).toBe(issues[0].location.positions.begin.line + 2);
  });

  it("gives SARIF results the baseline's fingerprint and the fixes", () => {
    const dir = repo('sarif', { 'pkg/a.go': HEAD + '\nimport "unsafe"\n\nfunc d(s string) {\n\tcs := C.CString(s)\n\tC.use(cs)\n}\n\nvar _ unsafe.Pointer\n' });
    const r = check(dir, '--format', 'sarif', './...');
    const log = JSON.parse(r.stdout);
    expect(sarifErrors(log)).toBe('');
    expect(githubIngestionProblems(log)).toEqual([]);
    const result = log.runs[0].results[0];
    check(dir, '--write-baseline', 'b.json', './...');
    const fp = JSON.parse(readFileSync(path.join(dir, 'b.json'), 'utf8')).findings[0].fingerprint;
    expect(result.partialFingerprints).toEqual({ 'cgoguard/v2': `${fp}:1` });
    expect(result.fixes[0]).toMatchObject({
      description: { text: 'Release cs with defer C.free(unsafe.Pointer(cs))' },
      artifactChanges: [{ artifactLocation: { uri: 'pkg/a.go', uriBaseId: '%SRCROOT%' }, replacements: [{ deletedRegion: { startLine: 12, startColumn: 20, endLine: 12, endColumn: 20 }, insertedContent: { text: '\n\tdefer C.free(unsafe.Pointer(cs))' } }] }],
      properties: { safe: true },
    });
  });
});
