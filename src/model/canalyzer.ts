// Bugs inside the C code itself (leaks, double frees, use after free in C
// functions) from clang's static analyzer, run on each preamble and each .c
// file of a package with the cgo flags. Its SARIF output is mapped back to
// the Go file (for preambles) or the .c file, with the analyzer's path.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { threadId } from 'node:worker_threads';
import type { TraceStep as Step } from '../syntax/positions.js';
import { compileFlags, preambleSource, type CgoFlags } from './cpreprocess.js';
import { preambleOffsetToGo, type Located } from './program.js';

/** One translation unit: a preamble (positions map into its Go file) or a .c file. */
export type CUnit =
  | { k: 'preamble'; file: Located; text: string; lineOffsets: number[] }
  | { k: 'c'; file: Located; path: string };

export interface CAnalyzerFinding {
  checker: string;
  message: string;
  file: string;
  line: number;
  column: number;
  trace: Step[];
}

export interface CAnalyzerResult {
  findings: CAnalyzerFinding[];
  /** Units analysed, and those clang could not compile (a missing header, flags it rejects). */
  analyzed: number;
  failed: number;
  /** Why nothing ran (no clang), when nothing did. */
  unavailable?: string;
  /** Why units could not be compiled (distinct reasons: a failing pkg-config, clang's first error). */
  problems: string[];
}

/** The checkers whose findings are about memory: leaks, double frees, use after free, mismatched releases. */
const MEMORY_CHECKERS = /^(unix\.(Malloc|MismatchedDeallocator|cstring\.)|cplusplus\.NewDelete|core\.StackAddressEscape)/;

let clangMissing: boolean | undefined;

export function clangAvailable(): boolean {
  if (clangMissing === undefined) {
    const r = spawnSync(clangCommand(), ['--version'], { encoding: 'utf8', timeout: 10_000 });
    clangMissing = r.status !== 0;
  }
  return !clangMissing;
}

function clangCommand(): string {
  return process.env.CGOGUARD_CLANG?.trim() || 'clang';
}

/** What cgo gives every preamble. */
const PROLOGUE = `#ifndef CGOGUARD_PROLOGUE
#define CGOGUARD_PROLOGUE
#include <stddef.h>
typedef struct { const char *p; ptrdiff_t n; } _GoString_;
typedef struct { char *p; ptrdiff_t n; ptrdiff_t c; } _GoBytes_;
#endif
`;

/** The Go types as _cgo_export.h declares them, after the preambles. */
const EXPORT_TYPES = `#ifndef GO_CGO_PROLOGUE_H
#define GO_CGO_PROLOGUE_H
typedef signed char GoInt8;
typedef unsigned char GoUint8;
typedef short GoInt16;
typedef unsigned short GoUint16;
typedef int GoInt32;
typedef unsigned int GoUint32;
typedef long long GoInt64;
typedef unsigned long long GoUint64;
typedef GoInt64 GoInt;
typedef GoUint64 GoUint;
typedef size_t GoUintptr;
typedef float GoFloat32;
typedef double GoFloat64;
typedef _GoString_ GoString;
typedef void *GoMap;
typedef void *GoChan;
typedef struct { void *t; void *v; } GoInterface;
typedef struct { void *data; GoInt len; GoInt cap; } GoSlice;
#endif
`;

const CGO_EXPORT_INCLUDE = /^\s*#\s*include\s*"_cgo_export\.h".*$/gm;

/** @param exportPreambles the preambles of the files with //export functions: cgo copies them into _cgo_export.h */
export function analyzeC(units: CUnit[], dir: string, flags: CgoFlags, exportPreambles: string[]): CAnalyzerResult {
  const out: CAnalyzerResult = { findings: [], analyzed: 0, failed: 0, problems: [] };
  if (!units.length) return out;
  if (!clangAvailable()) return { ...out, unavailable: 'clang is not installed' };
  const cf = compileFlags(dir, flags);
  if ('problem' in cf) return { ...out, failed: units.length, problems: [cf.problem] };
  const tmp = mkdtempSync(path.join(tmpdir(), 'cgoguard-clang-'));
  try {
    // cgo generates _cgo_export.h at build time, which .c files include: the prologue, the
    // preambles of files with exports, and Go's types (the exported functions stay undeclared).
    const prologue = path.join(tmp, '_cgoguard_prologue.h');
    writeFileSync(prologue, PROLOGUE);
    const exportHeader = [...exportPreambles.map((p) => preambleSource(p).replace(CGO_EXPORT_INCLUDE, '')), EXPORT_TYPES];
    writeFileSync(path.join(tmp, '_cgo_export.h'), exportHeader.join('\n'));
      units.forEach((u, i) => {
      const src = u.k === 'preamble' ? path.join(tmp, `preamble${i}.c`) : u.path;
      if (u.k === 'preamble') writeFileSync(src, preambleSource(u.text).replace(CGO_EXPORT_INCLUDE, ''));
      const args = ['-w', '-include', prologue, `-iquote${tmp}`, `-iquote${dir}`, ...cf.args, '-x', 'c', src];
      const raw = analyzeUnit(args, src, dir, tmp, i);
      if (typeof raw === 'string') {
        out.failed++;
        if (!out.problems.includes(raw)) out.problems.push(raw);
        return;
      }
      out.analyzed++;
      out.findings.push(...raw.map((f) => placed(f, u)).filter((f) => f !== undefined));
    });
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return out;
}

interface SarifLocation {
  physicalLocation?: { artifactLocation?: { uri?: string }; region?: { startLine?: number; startColumn?: number } };
}

interface SarifLog {
  runs?: {
    results?: {
      ruleId?: string;
      message?: { text?: string };
      locations?: SarifLocation[];
      codeFlows?: { threadFlows?: { locations?: { location?: SarifLocation & { message?: { text?: string } } }[] }[] }[];
    }[];
  }[];
}

/** A finding in the unit's own coordinates (lines of the preamble text or the .c file). */
interface UnitFinding {
  checker: string;
  message: string;
  line: number;
  column: number;
  trace: { line: number; column: number; message: string }[];
}

/**
 * Runs the analyzer on one unit, or reads its earlier result. The key is what
 * the result depends on, short of running the preprocessor (as slow as a
 * clang start): the unit's text, the flags, the headers of the package and of
 * its -I folders, and clang's version (which moves with the system headers).
 * When clang cannot compile the unit: its first error, as a string.
 */
function analyzeUnit(args: string[], src: string, dir: string, tmp: string, i: number): UnitFinding[] | string {
  const hash = createHash('sha256').update(`${clangVersion()}\0${args.join('\0').split(tmp).join('$TMP')}\0`);
  hash.update(readFileSync(src));
  const includeDirs = [dir, tmp, ...args.filter((a) => a.startsWith('-I') && a.length > 2).map((a) => path.resolve(dir, a.slice(2)))];
  for (const d of includeDirs) {
    for (const h of headersIn(d)) hash.update(`\0${h.slice(d.length)}\0`).update(readFileSync(h));
  }
  const key = hash.digest('hex');
  const cached = cacheRead(key);
  if (cached) return cached;
  const sarif = path.join(tmp, `out${i}.sarif`);
  const r = spawnSync(clangCommand(), ['--analyze', '-Xclang', '-analyzer-output=sarif', '-o', sarif, ...args], { cwd: dir, encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) {
    const first = (r.stderr ?? '').split('\n').find((l) => /\berror\b/.test(l)) ?? `clang exited with status ${r.status ?? r.signal}`;
    return `clang: ${first.replace(/^.*?:\d+:\d+: /, '').trim()}`;
  }
  let log: SarifLog;
  try {
    log = JSON.parse(readFileSync(sarif, 'utf8')) as SarifLog;
  } catch {
    return 'clang wrote no readable results';
  }
  const found = unitFindings(log, src);
  cacheWrite(key, found);
  return found;
}

/** The .h files directly in a folder, in a stable order. */
function headersIn(d: string): string[] {
  try {
    return readdirSync(d)
      .filter((n) => n.endsWith('.h'))
      .sort()
      .map((n) => path.join(d, n));
  } catch {
    return [];
  }
}

let version: string | undefined;
function clangVersion(): string {
  version ??= spawnSync(clangCommand(), ['--version'], { encoding: 'utf8', timeout: 10_000 }).stdout ?? '';
  return version;
}

/** `$CGOGUARD_CACHE` (`off` to disable), else cgoguard's folder in the user's cache. */
function cacheDir(): string | undefined {
  const env = process.env.CGOGUARD_CACHE?.trim();
  if (env === 'off') return undefined;
  if (env) return path.join(env, 'clang');
  const base = process.env.XDG_CACHE_HOME?.trim() || path.join(homedir(), '.cache');
  return path.join(base, 'cgoguard', 'clang');
}

function cacheRead(key: string): UnitFinding[] | undefined {
  const dir = cacheDir();
  if (!dir) return undefined;
  try {
    const v = JSON.parse(readFileSync(path.join(dir, `${key}.json`), 'utf8')) as unknown;
    return Array.isArray(v) ? (v as UnitFinding[]) : undefined;
  } catch {
    return undefined;
  }
}

/** Best effort and atomic: a cache that cannot be written only costs time. */
function cacheWrite(key: string, found: UnitFinding[]): void {
  const dir = cacheDir();
  if (!dir) return;
  try {
    mkdirSync(dir, { recursive: true });
    const tmpFile = path.join(dir, `.${key}.${process.pid}.${threadId}`);
    writeFileSync(tmpFile, JSON.stringify(found));
    renameSync(tmpFile, path.join(dir, `${key}.json`));
  } catch {
    // read-only home, full disk: analyse again next time
  }
}

function unitFindings(log: SarifLog, src: string): UnitFinding[] {
  const out: UnitFinding[] = [];
  const where = (loc: SarifLocation | undefined): { line: number; column: number } | undefined => {
    const uri = loc?.physicalLocation?.artifactLocation?.uri;
    const line = loc?.physicalLocation?.region?.startLine;
    if (!uri || !line) return undefined;
    // Only positions in the unit itself: a header's code is not the package's.
    if (path.resolve(uri.startsWith('file:') ? fileURLToPath(uri) : uri) !== path.resolve(src)) return undefined;
    return { line, column: loc?.physicalLocation?.region?.startColumn ?? 1 };
  };
  for (const run of log.runs ?? []) {
    for (const r of run.results ?? []) {
      const checker = r.ruleId ?? '';
      if (!MEMORY_CHECKERS.test(checker)) continue;
      const at = where(r.locations?.[0]);
      if (!at) continue;
      const trace: UnitFinding['trace'] = [];
      for (const tl of r.codeFlows?.[0]?.threadFlows?.[0]?.locations ?? []) {
        const p = where(tl.location);
        const message = tl.location?.message?.text;
        if (p && message) trace.push({ ...p, message });
      }
      out.push({ checker, message: r.message?.text ?? checker, ...at, trace });
    }
  }
  return out;
}

/** A unit finding placed in the file the user has: the .c file, or the Go file of the preamble. */
function placed(f: UnitFinding, u: CUnit): CAnalyzerFinding | undefined {
  const where = (line: number, column: number): { file: string; line: number; column: number } | undefined => {
    if (u.k === 'c') return { file: u.file.display, line, column };
    const lines = u.text.split('\n');
    if (line > lines.length) return undefined;
    let offset = 0;
    for (let i = 0; i < line - 1; i++) offset += lines[i].length + 1;
    const p = u.file.lines.position(preambleOffsetToGo(u.text, u.lineOffsets, offset + column - 1));
    return { file: u.file.display, line: p.line, column: p.column };
  };
  const at = where(f.line, f.column);
  if (!at) return undefined;
  const trace: Step[] = [];
  for (const t of f.trace) {
    const p = where(t.line, t.column);
    if (p) trace.push({ ...p, message: t.message });
  }
  return { checker: f.checker, message: f.message, ...at, trace };
}
