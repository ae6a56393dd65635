// cgoguard's cache on disk: `$CGOGUARD_CACHE` (`off` disables it), else
// `$XDG_CACHE_HOME/cgoguard`, else `~/.cache/cgoguard`. One folder per kind
// of entry (clang's results, C summaries and declarations, whole-package results, whole runs), one JSON
// file per key. Runs may share it at the same time: entries are written to a
// temporary name and renamed into place, and an entry that cannot be read or
// does not have the expected shape is a miss.
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { threadId } from 'node:worker_threads';

/** The kinds of entries, each in its own folder. */
export const CACHE_KINDS = ['clang', 'csummaries', 'cdecls', 'results', 'runs'] as const;
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

/** The folders of the built code whose changes can change a result (not the command line, reports, or the dynamic stages). */
const ANALYSIS_CODE = ['syntax', 'model', 'knowledge', 'flow', 'rules', 'findings', 'workspace', 'pipeline'];

let codeDigest: string | undefined;

/**
 * cgoguard's version and a digest of its analysis code and grammars, once per
 * process: any change to the analysis, released or not, makes every entry a miss.
 */
export function analysisDigest(): string {
  if (codeDigest) return codeDigest;
  const dist = fileURLToPath(new URL('..', import.meta.url));
  const root = path.dirname(dist);
  const hash = createHash('sha256');
  const add = (file: string) => hash.update(`${path.relative(root, file)}\0`).update(readFileSync(file));
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.(js|ts)$/.test(e.name)) add(p); // .ts when run from the sources (tests)
    }
  };
  for (const d of ANALYSIS_CODE) walk(path.join(dist, d));
  for (const g of readdirSync(path.join(root, 'grammars')).filter((n) => n.endsWith('.wasm')).sort()) add(path.join(root, 'grammars', g));
  const version = (JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string }).version;
  codeDigest = `${version}:${hash.digest('hex')}`;
  return codeDigest;
}
