// Bugs inside the C code itself (leaks, double frees, use after free in C
// functions) from clang's static analyzer, run on each preamble and each .c
// file of a package with the cgo flags. Its SARIF output is mapped back to
// the Go file (for preambles) or the .c file, with the analyzer's path.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { LineIndex, type TraceStep as Step } from '../syntax/positions.js';
import { readEntry, writeEntry } from './cachestore.js';
import { compileFlags, preambleSource, runAsync, type CgoFlags } from './cpreprocess.js';
import { preambleOffsetToGo, type Located } from './program.js';

/** One translation unit: a preamble (positions map into its Go file) or a .c file. */
export type CUnit =
  | { k: 'preamble'; file: Located; text: string; lineOffsets: number[] }
  | { k: 'c'; display: string; path: string };

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
  /** Units analysed, those clang could not compile (a missing header, flags it rejects), and those that ran out of time. */
  analyzed: number;
  failed: number;
  timedOut: number;
  /** Why nothing ran (no clang), when nothing did. */
  unavailable?: string;
  /** Why units could not be compiled (distinct reasons: a failing pkg-config, clang's first error). */
  problems: string[];
  /** The units that ran out of time: `file (after 12 s)`. */
  timeouts: string[];
  /** Units left out: copies of other code, too big for the budget, or after the run's time was spent. */
  skipped: SkippedUnit[];
}

export interface SkippedUnit {
  display: string;
  why: 'vendored' | 'size' | 'budget';
  /** The sign it is vendored, or its size. */
  detail: string;
}

/** How much of clang a check may spend. */
export interface CBudget {
  /** The package's own C only, or vendored copies of other code too. */
  scope: 'own' | 'all';
  /** A unit's time limit: this many seconds, plus `secondsPerKB` per KB of its source. */
  unitSeconds: number;
  secondsPerKB: number;
  /** For all units of a run together, from the first one's start. */
  totalSeconds: number;
  /** Units over this size are not analysed (amalgamations, generated code). */
  maxUnitKB: number;
  /** Files the user says are vendored (gitignore-style patterns, relative to `base`: cgoguard.yaml's folder). */
  vendored?: { base: string; patterns: string[] };
}

export const DEFAULT_C_BUDGET: CBudget = { scope: 'own', unitSeconds: 5, secondsPerKB: 0.25, totalSeconds: 10, maxUnitKB: 512 };

/** The time limit of a unit of `bytes` bytes, in milliseconds. */
export function unitLimitMs(b: CBudget, bytes: number): number {
  return Math.round(Math.min(b.totalSeconds, b.unitSeconds + (b.secondsPerKB * bytes) / 1024) * 1000);
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

/** What a check asks of clang for one package: its units, and what they are compiled with. */
export interface CPlan {
  dir: string;
  flags: CgoFlags;
  /** The preambles of the files with //export functions: cgo copies them into _cgo_export.h. */
  exportPreambles: string[];
  units: PlannedUnit[];
}

/** A unit as plain data (it crosses from worker threads): a preamble, with its Go file's text, or a .c file. */
export type PlannedUnit =
  | { k: 'preamble'; display: string; goText: string; text: string; lineOffsets: number[] }
  | { k: 'c'; display: string; path: string };

/** A package's units ready for clang: the folder with the generated headers, and each unit's arguments. */
export interface PreparedPlan {
  dir: string;
  tmp: string;
  units: { unit: CUnit; src: string; args: string[] }[];
}

/** Writes the headers cgo would generate and the preambles as files; a problem when the flags cannot be had. */
export function preparePlan(plan: CPlan, units: CUnit[]): PreparedPlan | { problem: string } {
  const cf = compileFlags(plan.dir, plan.flags);
  if ('problem' in cf) return cf;
  const tmp = mkdtempSync(path.join(tmpdir(), 'cgoguard-clang-'));
  // cgo generates _cgo_export.h at build time, which .c files include: the prologue, the
  // preambles of files with exports, and Go's types (the exported functions stay undeclared).
  const prologue = path.join(tmp, '_cgoguard_prologue.h');
  writeFileSync(prologue, PROLOGUE);
  const exportHeader = [...plan.exportPreambles.map((p) => preambleSource(p).replace(CGO_EXPORT_INCLUDE, '')), EXPORT_TYPES];
  writeFileSync(path.join(tmp, '_cgo_export.h'), exportHeader.join('\n'));
  const out = units.map((unit, i) => {
    const src = unit.k === 'preamble' ? path.join(tmp, `preamble${i}.c`) : unit.path;
    if (unit.k === 'preamble') writeFileSync(src, preambleSource(unit.text).replace(CGO_EXPORT_INCLUDE, ''));
    return { unit, src, args: ['-w', '-include', prologue, `-iquote${tmp}`, `-iquote${plan.dir}`, ...cf.args, '-x', 'c', src] };
  });
  return { dir: plan.dir, tmp, units: out };
}

/** A planned unit with its positions ready (the Go file's line index). */
export function unitOf(u: PlannedUnit): CUnit {
  if (u.k === 'preamble') return { k: 'preamble', file: { display: u.display, lines: new LineIndex(u.goText) }, text: u.text, lineOffsets: u.lineOffsets };
  return { k: 'c', display: u.display, path: u.path };
}

/** What became of one unit. */
export type UnitOutcome =
  | { k: 'analyzed'; findings: CAnalyzerFinding[]; cached: boolean }
  | { k: 'failed'; problem: string; cached: boolean }
  | { k: 'timeout'; limitMs: number; cached: boolean };

type CachedOutcome = { v: 2; k: 'analyzed'; findings: UnitFinding[] } | { v: 2; k: 'failed'; problem: string } | { v: 2; k: 'timeout'; limitMs: number };

function isCachedOutcome(v: unknown): v is CachedOutcome {
  const o = v as CachedOutcome | null;
  return (
    typeof o === 'object' &&
    o !== null &&
    o.v === 2 &&
    ((o.k === 'analyzed' && Array.isArray(o.findings)) || (o.k === 'failed' && typeof o.problem === 'string') || (o.k === 'timeout' && typeof o.limitMs === 'number'))
  );
}

/**
 * Runs clang's analyzer on one unit, or reads what it gave before. The key is
 * the unit as the compiler sees it (its preprocessed text, with the headers it
 * includes), the arguments and clang's version. `limitOf` gives its time
 * limit from its size outside system headers. A unit clang cannot compile, or
 * that ran out of time (unless `cacheTimeout` is false: the run's budget cut
 * it short, not its own limit), is remembered too: a later run does not wait
 * for it again unless it grants more time.
 */
export async function analyzeUnit(p: PreparedPlan, i: number, limitOf: (bytes: number) => { ms: number; cacheTimeout: boolean }): Promise<UnitOutcome> {
  const { unit, src, args } = p.units[i];
  const norm = (s: string) => s.split(p.tmp).join('$TMP');
  const pre = await runAsync(clangCommand(), ['-E', ...args], { cwd: p.dir, timeoutMs: 60_000 });
  if (pre.code !== 0) return { k: 'failed', problem: clangProblem(pre), cached: false };
  const { ms: limitMs, cacheTimeout } = limitOf(nonSystemBytes(pre.stdout));
  const key = createHash('sha256').update(`${clangVersion()}\0${ANALYZER_ARGS.join(' ')}\0${norm(args.join('\0'))}\0`).update(norm(pre.stdout)).digest('hex');
  const cached = readEntry('clang', key, isCachedOutcome);
  if (cached?.k === 'analyzed') return { k: 'analyzed', findings: placedAll(cached.findings, unit), cached: true };
  if (cached?.k === 'failed') return { k: 'failed', problem: cached.problem, cached: true };
  if (cached?.k === 'timeout' && cached.limitMs >= limitMs) return { k: 'timeout', limitMs: cached.limitMs, cached: true };
  const sarif = path.join(p.tmp, `out${i}.sarif`);
  const r = await runAsync(clangCommand(), [...ANALYZER_ARGS, '-o', sarif, ...args], { cwd: p.dir, timeoutMs: limitMs });
  if (r.timedOut) {
    if (cacheTimeout) writeEntry('clang', key, { v: 2, k: 'timeout', limitMs });
    return { k: 'timeout', limitMs, cached: false };
  }
  if (r.code !== 0) {
    const problem = clangProblem(r);
    writeEntry('clang', key, { v: 2, k: 'failed', problem });
    return { k: 'failed', problem, cached: false };
  }
  let log: SarifLog;
  try {
    log = JSON.parse(readFileSync(sarif, 'utf8')) as SarifLog;
  } catch {
    return { k: 'failed', problem: 'clang wrote no readable results', cached: false };
  }
  const found = unitFindings(log, src);
  writeEntry('clang', key, { v: 2, k: 'analyzed', findings: found });
  return { k: 'analyzed', findings: placedAll(found, unit), cached: false };
}

const ANALYZER_ARGS = ['--analyze', '-Xclang', '-analyzer-output=sarif'];

/**
 * The bytes of preprocessed text outside system headers: the code the unit
 * brings to the analyzer (a two-line .c file may include a whole scanner).
 * Line markers say where each stretch comes from; flag 3 marks a system header.
 */
export function nonSystemBytes(preprocessed: string): number {
  let bytes = 0;
  let system = false;
  for (const line of preprocessed.split('\n')) {
    const m = /^# \d+ "[^"]*"((?: \d)*)$/.exec(line);
    if (m) system = m[1].split(' ').includes('3');
    else if (!system) bytes += line.length + 1;
  }
  return bytes;
}

/** clang's first error, or how it ended. */
function clangProblem(r: { code: number | null; signal: string | null; stderr: string }): string {
  const first = r.stderr.split('\n').find((l) => /\berror\b/.test(l)) ?? `clang exited with status ${r.code ?? r.signal}`;
  return `clang: ${first.replace(/^.*?:\d+:\d+: /, '').trim()}`;
}

/** Removes a prepared plan's folder. */
export function disposePlan(p: PreparedPlan): void {
  rmSync(p.tmp, { recursive: true, force: true });
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
 * Which clang would run, without running it: the file the command resolves
 * to on PATH, with its size and time (a new clang is a new file), or its
 * version when it cannot be found that way.
 */
export function clangIdentity(): string {
  const cmd = clangCommand();
  const dirs = cmd.includes('/') ? [''] : (process.env.PATH ?? '').split(path.delimiter).filter(Boolean);
  for (const d of dirs) {
    try {
      const real = realpathSync(path.resolve(d, cmd));
      const st = statSync(real);
      if (st.isFile()) return `${real}:${st.size}:${st.mtimeMs}`;
    } catch {
      // not in this folder
    }
  }
  return clangVersion();
}

let version: string | undefined;
/** `clang --version`, or empty without clang. */
function clangVersion(): string {
  version ??= spawnSync(clangCommand(), ['--version'], { encoding: 'utf8', timeout: 10_000 }).stdout ?? '';
  return version;
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

function placedAll(found: UnitFinding[], u: CUnit): CAnalyzerFinding[] {
  return found.map((f) => placed(f, u)).filter((f) => f !== undefined);
}

/** A unit finding placed in the file the user has: the .c file, or the Go file of the preamble. */
function placed(f: UnitFinding, u: CUnit): CAnalyzerFinding | undefined {
  const where = (line: number, column: number): { file: string; line: number; column: number } | undefined => {
    if (u.k === 'c') return { file: u.display, line, column };
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
