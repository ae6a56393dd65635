// cgoguard's cache on disk: `$CGOGUARD_CACHE` (`off` disables it), else
// `$XDG_CACHE_HOME/cgoguard`, else `~/.cache/cgoguard`. One folder per kind
// of entry (clang's results, C summaries, whole-package results), one JSON
// file per key. Runs may share it at the same time: entries are written to a
// temporary name and renamed into place, and an entry that cannot be read or
// does not have the expected shape is a miss.
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { threadId } from 'node:worker_threads';

/** The kinds of entries, each in its own folder. */
export const CACHE_KINDS = ['clang', 'csummaries', 'results'] as const;
export type CacheKind = (typeof CACHE_KINDS)[number];

/** Switched off for a run (--no-cache); worker threads are told with each package. */
let disabled = false;

export function setCacheEnabled(on: boolean): void {
  disabled = !on;
}

/** The cache folder, or undefined when the cache is off. */
export function cacheRoot(): string | undefined {
  if (disabled) return undefined;
  const env = process.env.CGOGUARD_CACHE?.trim();
  if (env === 'off') return undefined;
  if (env) return path.resolve(env);
  const base = process.env.XDG_CACHE_HOME?.trim() || path.join(homedir(), '.cache');
  return path.join(base, 'cgoguard');
}

/** An entry's value, or undefined when it is missing, unreadable or not what `valid` accepts. */
export function readEntry<T>(kind: CacheKind, key: string, valid: (v: unknown) => v is T): T | undefined {
  const root = cacheRoot();
  if (!root) return undefined;
  try {
    const v = JSON.parse(readFileSync(path.join(root, kind, `${key}.json`), 'utf8')) as unknown;
    return valid(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

/** Writes an entry atomically; best effort (a cache that cannot be written only costs time). */
export function writeEntry(kind: CacheKind, key: string, value: unknown): void {
  const root = cacheRoot();
  if (!root) return;
  const dir = path.join(root, kind);
  const tmp = path.join(dir, `.${key}.${process.pid}.${threadId}.tmp`);
  try {
    mkdirSync(dir, { recursive: true });
    writeFileSync(tmp, JSON.stringify(value));
    renameSync(tmp, path.join(dir, `${key}.json`));
  } catch {
    rmSync(tmp, { force: true });
  }
}

/** Removes every entry cgoguard wrote (other files in the folder are left alone). Returns the folder. */
export function cleanCache(): string | undefined {
  const root = cacheRoot();
  if (!root) return undefined;
  for (const kind of CACHE_KINDS) rmSync(path.join(root, kind), { recursive: true, force: true });
  return root;
}
