// The lines changed since a git revision (`check --new-from-rev`): what
// `git diff REV` shows for the working tree (committed, staged and unstaged
// changes alike), plus every line of files git does not track yet.
import { spawnSync } from 'node:child_process';
import path from 'node:path';

export class GitError extends Error {}

export interface ChangedLines {
  /** The work tree's top folder. */
  root: string;
  /** Changed lines (1-based) by absolute path; 'all' for files new since the revision. */
  files: Map<string, Set<number> | 'all'>;
}

function git(args: string[], cwd: string): { ok: boolean; out: string; err: string } {
  const r = spawnSync('git', args, { cwd, encoding: 'utf8', maxBuffer: 1 << 30, timeout: 120_000 });
  if (r.error) throw new GitError(`--new-from-rev needs git (${(r.error as NodeJS.ErrnoException).code === 'ENOENT' ? 'git is not installed' : r.error.message})`);
  return { ok: r.status === 0, out: r.stdout, err: r.stderr };
}

export function changedSince(rev: string, cwd: string): ChangedLines {
  const top = git(['rev-parse', '--show-toplevel'], cwd);
  if (!top.ok) throw new GitError(`--new-from-rev: ${cwd} is not in a git work tree`);
  const root = top.out.trim();
  if (rev.startsWith('-') || !git(['rev-parse', '--verify', '--quiet', `${rev}^{commit}`], root).ok) throw new GitError(`--new-from-rev: unknown revision "${rev}"`);
  const diff = git(['diff', '--no-color', '--no-ext-diff', '--no-renames', '-U0', rev, '--'], root);
  if (!diff.ok) throw new GitError(`--new-from-rev: git diff ${rev} failed: ${diff.err.split('\n')[0]}`);
  const files = parseDiff(diff.out, root);
  const untracked = git(['ls-files', '--others', '--exclude-standard', '-z'], root);
  for (const f of untracked.out.split('\0').filter(Boolean)) files.set(path.join(root, f), 'all');
  return { root, files };
}

/** Added or changed lines of the new side of a `git diff -U0`. */
export function parseDiff(text: string, root: string): Map<string, Set<number> | 'all'> {
  const files = new Map<string, Set<number> | 'all'>();
  let current: Set<number> | 'all' | undefined;
  let newFile = false;
  for (const line of text.split('\n')) {
    if (line.startsWith('diff --git ')) {
      current = undefined;
      newFile = false;
    } else if (line.startsWith('new file mode')) newFile = true;
    else if (line.startsWith('+++ ')) {
      const name = line.slice(4);
      if (name === '/dev/null') continue;
      const abs = path.join(root, unquote(name).replace(/^b\//, ''));
      current = newFile ? 'all' : new Set<number>();
      files.set(abs, current);
    } else if (line.startsWith('@@') && current instanceof Set) {
      const m = /^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@/.exec(line);
      if (!m) continue;
      const start = Number(m[1]);
      const count = m[2] === undefined ? 1 : Number(m[2]);
      for (let i = 0; i < count; i++) current.add(start + i);
    }
  }
  return files;
}

/** git quotes paths with unusual characters in C style. */
function unquote(name: string): string {
  if (!name.startsWith('"')) return name;
  const bytes: number[] = [];
  const body = name.slice(1, -1);
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c !== '\\') {
      bytes.push(...Buffer.from(c));
      continue;
    }
    const n = body[++i];
    if (/[0-7]/.test(n)) {
      bytes.push(parseInt(body.slice(i, i + 3), 8));
      i += 2;
    } else bytes.push(({ n: 10, t: 9, '"': 34, '\\': 92 } as Record<string, number>)[n] ?? n.charCodeAt(0));
  }
  return Buffer.from(bytes).toString('utf8');
}

/** The finding's lines were changed since the revision. */
export function touchesChange(changes: ChangedLines, absPath: string, line: number, endLine: number): boolean {
  const lines = changes.files.get(absPath);
  if (!lines) return false;
  if (lines === 'all') return true;
  for (let l = line; l <= Math.max(line, endLine); l++) if (lines.has(l)) return true;
  return false;
}
