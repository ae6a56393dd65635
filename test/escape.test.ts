// `cgoguard escape` with the real compiler: verdicts next to cgo calls, and
// what a change introduced against a git revision.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { diffEscapes, parseEscapes, type Escape } from '../src/dynamic/escape.js';
import { cgoguard } from './support/cli.js';

const hasGo = spawnSync('go', ['version']).status === 0;
const tmp = mkdtempSync(path.join(tmpdir(), 'cgoguard-escape-test-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const src = (arg: string) => `package esc

/*
static int use(int *p) { return p ? *p : 0; }
*/
import "C"

func Sum(n int) int {
	x := C.int(n)
	_ = x
	return int(C.use(${arg}))
}

func Plain(n int) *int {
	y := n
	return &y
}
`;

describe('escape output', () => {
  it('keeps the verdicts, places files by their package, and skips cgo-generated files', () => {
    const out = ['# example.com/p', './a.go:3:2: moved to heap: x', './a.go:3:2: moved to heap: x', '_cgo_gotypes.go:60:9: "s" escapes to heap', './a.go:5:9: &T{...} escapes to heap in F:', './a.go:5:9:   flow: ~r0 = &{storage for &T{...}}:', './a.go:7:9: &v escapes to heap', '# other', 'b.go:1:1: moved to heap: z'].join('\n');
    const es = parseEscapes(out, '/work', (ip) => (ip === 'example.com/p' ? '/src/p' : undefined));
    expect(es.map((e) => `${e.file}:${e.line}: ${e.message}`)).toEqual(['/src/p/a.go:3: moved to heap: x', '/src/p/a.go:7: &v escapes to heap', '/work/b.go:1: moved to heap: z']);
  });

  it('compares by file, function and verdict, not by line', () => {
    const e = (line: number, message: string): Escape => ({ file: '/p/a.go', line, column: 1, message, function: 'F', callsC: true });
    const d = diffEscapes([e(3, 'moved to heap: x'), e(9, 'moved to heap: y')], [e(5, 'moved to heap: x'), e(7, 'moved to heap: x'), e(8, 'moved to heap: z')], (x) => x.file);
    expect(d.added.map((x) => `${x.line} ${x.message}`)).toEqual(['7 moved to heap: x', '8 moved to heap: z']);
    expect(d.removed.map((x) => `${x.line} ${x.message}`)).toEqual(['9 moved to heap: y']);
  });
});

describe.skipIf(!hasGo)('cgoguard escape', () => {
  it('reports escapes in functions that call C, and what a change added against --base', () => {
    const dir = path.join(tmp, 'repo');
    mkdirSync(dir);
    const git = (...args: string[]) => spawnSync('git', ['-c', 'user.email=t@t', '-c', 'user.name=t', ...args], { cwd: dir, encoding: 'utf8' });
    writeFileSync(path.join(dir, 'go.mod'), 'module example.com/esc\n\ngo 1.22\n');
    writeFileSync(path.join(dir, 'esc.go'), src('nil'));
    git('init', '-q');
    git('add', '.');
    git('commit', '-qm', 'v1');
    // The change hands C the address of a local: the compiler moves it to the heap.
    writeFileSync(path.join(dir, 'esc.go'), src('&x'));

    const now = cgoguard(['escape', '--format', 'json'], { cwd: dir });
    expect(now.code).toBe(0);
    const escapes = JSON.parse(now.stdout).escapes as Escape[];
    expect(escapes).toContainEqual(expect.objectContaining({ file: 'esc.go', line: 9, message: 'moved to heap: x', function: 'Sum', callsC: true }));
    expect(escapes.some((e) => e.function === 'Plain')).toBe(false); // no C there: shown with --all only
    expect(JSON.parse(cgoguard(['escape', '--all', '--format', 'json'], { cwd: dir }).stdout).escapes).toContainEqual(expect.objectContaining({ function: 'Plain', message: 'moved to heap: y' }));

    const diff = cgoguard(['escape', '--base', 'HEAD'], { cwd: dir });
    expect(diff.stdout).toBe('+ esc.go:9:2: moved to heap: x (in Sum, which calls C)\n');
    expect(diff.code).toBe(1);
    expect(git('worktree', 'list').stdout.trim().split('\n')).toHaveLength(1); // the temporary worktree is gone

    expect(cgoguard(['escape', '--base', 'no-such-rev'], { cwd: dir }).stderr).toMatch(/^cgoguard: --base no-such-rev: /);
  });
});
