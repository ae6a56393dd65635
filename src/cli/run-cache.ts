// Whole runs of `cgoguard check` kept between runs, so that a check of an
// unchanged tree costs a process start and some stat calls: no `go list`, no
// preprocessor, no parser loaded. A run is served again only when the same
// command, in the same folder, with the same environment and the same build
// of cgoguard, finds every file and folder it depended on as it left them
// (size and modification times; a folder's time changes when an entry is
// added or removed). Only runs that wrote nothing but their report are kept,
// and only complete ones (clang did not leave units for later runs).
//
// This module is loaded before anything else, so it imports only Node's own.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cacheRoot, readEntry, writeEntry } from '../model/cachestore.js';

interface RunRecord {
  v: 1;
  /** path, size, mtimeMs, ctimeMs; size -1 for a path that did not exist. */
  files: [string, number, number, number][];
  /** path, mtimeMs (-1: did not exist). */
  dirs: [string, number][];
  stdout: string;
  stderr: string;
  code: number;
}

/** What a run depended on: files (read or looked for) and folders (listed). */
export interface RunInputs {
  files: string[];
  dirs: string[];
}

/** Flags that write files, read files not among the inputs, or ask for a fresh run. */
const UNCACHED = /^(--fix|--diff|-o|--output|--write-baseline|--baseline|--no-cache|--all-functions|-h|--help|--force)(=|$)/;

/** Environment variables a check's result can depend on. */
const ENV = /^(GO\w*|CGO_\w+|CGOGUARD_\w+|CC|CXX|CFLAGS|CPPFLAGS|C_INCLUDE_PATH|CPATH|PKG_CONFIG\w*|PATH|HOME|XDG_CACHE_HOME|NO_COLOR|FORCE_COLOR|TERM|CI)$/;

/** `CGOGUARD_RUN_CACHE=off` keeps the per-package cache but always runs (to measure, or to test that cache). */
function eligible(argv: string[]): boolean {
  return argv[0] === 'check' && !argv.some((a) => UNCACHED.test(a)) && process.env.CGOGUARD_RUN_CACHE?.trim() !== 'off';
}

let stamp: string | undefined;

/** cgoguard's build, by the sizes and times of its files (hashing them would cost what the cache saves). */
function codeStamp(): string {
  if (stamp) return stamp;
  const root = path.dirname(path.dirname(path.dirname(fileURLToPath(import.meta.url))));
  const parts: string[] = [];
  const walk = (dir: string) => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else {
        const s = statSync(p);
        parts.push(`${path.relative(root, p)}:${s.size}:${s.mtimeMs}`);
      }
    }
  };
  for (const d of ['dist', 'grammars', 'assets']) walk(path.join(root, d));
  parts.push(readFileSync(path.join(root, 'package.json'), 'utf8'));
  stamp = createHash('sha256').update(parts.join('\n')).digest('hex');
  return stamp;
}

function runKey(argv: string[], cwd: string): string {
  const env = Object.keys(process.env)
    .filter((k) => ENV.test(k))
    .sort()
    .map((k) => `${k}=${process.env[k]}`);
  const tty = `${!!process.stdout.isTTY}${!!process.stderr.isTTY}`;
  return createHash('sha256').update(JSON.stringify({ argv, cwd, env, tty, code: codeStamp() })).digest('hex');
}

function isRecord(v: unknown): v is RunRecord {
  const r = v as RunRecord | null;
  return typeof r === 'object' && r !== null && r.v === 1 && Array.isArray(r.files) && Array.isArray(r.dirs) && typeof r.stdout === 'string' && typeof r.stderr === 'string' && typeof r.code === 'number';
}

function fileStat(p: string): [number, number, number] {
  try {
    const s = statSync(p);
    return [s.size, s.mtimeMs, s.ctimeMs];
  } catch {
    return [-1, 0, 0];
  }
}

function dirStat(p: string): number {
  try {
    return statSync(p).mtimeMs;
  } catch {
    return -1;
  }
}

/**
 * Serves the run from the cache when nothing it depended on changed: writes
 * its report and notes and returns its exit code; undefined otherwise.
 */
export function servedFromRunCache(argv: string[], cwd = process.cwd()): number | undefined {
  if (!eligible(argv) || !cacheRoot()) return undefined;
  const r = readEntry('runs', runKey(argv, cwd), isRecord);
  if (!r) return undefined;
  for (const [p, size, mtime, ctime] of r.files) {
    const [s, m, c] = fileStat(p);
    if (s !== size || (size >= 0 && (m !== mtime || c !== ctime))) return undefined;
  }
  for (const [p, mtime] of r.dirs) if (dirStat(p) !== mtime) return undefined;
  if (r.stderr) process.stderr.write(r.stderr);
  if (r.stdout) process.stdout.write(r.stdout);
  return r.code;
}

/**
 * Keeps a finished run that started at `startedMs`. The stats are taken
 * after the run: when something changed while it ran (a time later than its
 * start), what it read may not be what is there now, and it is not kept.
 */
export function recordRun(argv: string[], cwd: string, startedMs: number, inputs: RunInputs, stdout: string, stderr: string, code: number): void {
  if (!eligible(argv) || !cacheRoot()) return;
  const files = [...new Set(inputs.files)].map((p): [string, number, number, number] => [p, ...fileStat(p)]);
  const dirs = [...new Set(inputs.dirs)].map((p): [string, number] => [p, dirStat(p)]);
  if (files.some(([, size, m, c]) => size >= 0 && Math.max(m, c) >= startedMs) || dirs.some(([, m]) => m >= startedMs)) return;
  writeEntry('runs', runKey(argv, cwd), { v: 1, files, dirs, stdout, stderr, code } satisfies RunRecord);
}
