// `cgoguard escape`: the compiler's escape analysis for the packages, kept to
// the functions that call C (or all, with --all), and what changed against a
// git revision (built in a temporary worktree) or between two saved outputs.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import path from 'node:path';
import { diffEscapes, parseEscapes, tieToFunctions, type Escape } from '../dynamic/escape.js';
import { byModule } from '../dynamic/run-stage.js';
import { UsageError, discover } from '../workspace/discover.js';

export interface EscapeOptions {
  cwd: string;
  patterns: string[];
  tags: string[];
  /** A git revision to compare with. */
  base?: string;
  /** Two saved outputs of `go build -gcflags=-m=2` to compare, instead of building. */
  compare?: [string, string];
  /** Told as each build begins (progress on the terminal). */
  phase?: (text: string) => void;
}

export interface EscapeResult {
  escapes: Escape[];
  diff?: { added: Escape[]; removed: Escape[] };
  /** How paths are shown: relative to the working directory (or to the tree, for the base revision). */
  display: (e: Escape) => string;
}

/** What -m=2 says about inlining and escapes, as opposed to a compile error. */
const ESCAPE_DIAGNOSTIC = /^\S+:\d+:\d+: (can inline|cannot inline|inlining call|moved to heap|.*escapes to heap|.*does not escape|leaking param|parameter |\s)/;

/**
 * Runs the compiler with -m=2 on the packages, one go build per module; its
 * diagnostics come on stderr, the binaries are discarded. Returns the verdicts.
 */
async function compilerEscapes(cwd: string, patterns: string[], tags: string[]): Promise<Omit<Escape, 'function' | 'callsC'>[]> {
  const found = await discover(patterns, { cwd, tags, tests: false });
  const dirs = new Map(found.packages.map((p) => [p.importPath, p.dir]));
  const out: Omit<Escape, 'function' | 'callsC'>[] = [];
  for (const [dir, targets] of byModule(found.packages)) {
    const args = ['build', '-gcflags=-m=2', '-o', os.devNull, ...(tags.length ? [`-tags=${tags.join(',')}`] : []), ...targets];
    const r = spawnSync('go', args, { cwd: dir, encoding: 'utf8', maxBuffer: 1 << 30 });
    if (r.error) throw new UsageError('cgoguard escape needs the go command on PATH: install Go (https://go.dev/dl/)');
    if (r.status !== 0) {
      const lines = r.stderr.split('\n');
      const compileErr = lines.find((l) => /^\S+\.go:\d+:\d+: /.test(l) && !ESCAPE_DIAGNOSTIC.test(l));
      throw new UsageError(`go build failed: ${compileErr ?? lines.find((l) => l && !l.startsWith('#')) ?? 'see go build'}`);
    }
    out.push(...parseEscapes(r.stderr, dir, (ip) => dirs.get(ip)));
  }
  return out;
}

/** Stable output: by file, line and column. */
function byPlace(a: Escape, b: Escape): number {
  return a.file < b.file ? -1 : a.file > b.file ? 1 : a.line - b.line || a.column - b.column;
}

export async function runEscape(o: EscapeOptions): Promise<EscapeResult> {
  const rel = (root: string) => (e: Escape) => path.relative(root, e.file);
  if (o.compare) {
    const [a, b] = o.compare.map((f) => {
      try {
        return readFileSync(path.resolve(o.cwd, f), 'utf8');
      } catch {
        throw new UsageError(`${f}: cannot read`);
      }
    });
    const base = await tieToFunctions(parseEscapes(a, o.cwd));
    const head = await tieToFunctions(parseEscapes(b, o.cwd));
    return { escapes: head, diff: diffEscapes(base, head, rel(o.cwd)), display: rel(o.cwd) };
  }
  o.phase?.('building with -gcflags=-m=2');
  const head = (await tieToFunctions(await compilerEscapes(o.cwd, o.patterns, o.tags))).sort(byPlace);
  if (!o.base) return { escapes: head, display: rel(o.cwd) };
  const top = spawnSync('git', ['rev-parse', '--show-toplevel'], { cwd: o.cwd, encoding: 'utf8' });
  if (top.status !== 0) throw new UsageError('--base needs a git repository');
  const root = top.stdout.trim();
  const tree = mkdtempSync(path.join(tmpdir(), 'cgoguard-base-'));
  const add = spawnSync('git', ['worktree', 'add', '--detach', '--quiet', tree, o.base], { cwd: root, encoding: 'utf8' });
  if (add.status !== 0) {
    rmSync(tree, { recursive: true, force: true });
    throw new UsageError(`--base ${o.base}: ${add.stderr.trim().split('\n').pop() ?? 'not a revision'}`);
  }
  try {
    const dir = path.join(tree, path.relative(root, o.cwd));
    o.phase?.(`building ${o.base} with -gcflags=-m=2`);
    const base = await tieToFunctions(await compilerEscapes(dir, o.patterns, o.tags));
    const fromRoot = (r: string) => (e: Escape) => path.relative(r, e.file);
    // Both sides keyed by the path inside their own tree.
    const key = (e: Escape) => (e.file.startsWith(tree + path.sep) ? fromRoot(tree)(e) : fromRoot(root)(e));
    return { escapes: head, diff: diffEscapes(base, head, key), display: (e) => (e.file.startsWith(tree + path.sep) ? path.relative(o.cwd, path.join(root, fromRoot(tree)(e))) : rel(o.cwd)(e)) };
  } finally {
    spawnSync('git', ['worktree', 'remove', '--force', tree], { cwd: root });
    rmSync(tree, { recursive: true, force: true });
    spawnSync('git', ['worktree', 'prune'], { cwd: root });
  }
}
