// Bugs inside the C code itself (leaks, double frees, use after free in C
// functions) from clang's static analyzer, run on each preamble and each .c
// file of a package with the cgo flags. Its SARIF output is mapped back to
// the Go file (for preambles) or the .c file, with the analyzer's path.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Step } from '../flow/state.js';
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
  const out: CAnalyzerResult = { findings: [], analyzed: 0, failed: 0 };
  if (!units.length) return out;
  if (!clangAvailable()) return { ...out, unavailable: 'clang is not installed' };
  const cf = compileFlags(dir, flags);
  if ('problem' in cf) return { ...out, failed: units.length };
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
      const sarif = path.join(tmp, `out${i}.sarif`);
      const args = ['--analyze', '-Xclang', '-analyzer-output=sarif', '-o', sarif, '-w', '-include', prologue, `-iquote${tmp}`, `-iquote${dir}`, ...cf.args, '-x', 'c', src];
      const r = spawnSync(clangCommand(), args, {
        cwd: dir,
        encoding: 'utf8',
        timeout: 60_000,
      });
      if (r.status !== 0) {
        out.failed++;
        return;
      }
      out.analyzed++;
      let log: SarifLog;
      try {
        log = JSON.parse(readFileSync(sarif, 'utf8')) as SarifLog;
      } catch {
        out.failed++;
        return;
      }
      out.findings.push(...findingsOf(log, u, src));
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

function findingsOf(log: SarifLog, u: CUnit, src: string): CAnalyzerFinding[] {
  const out: CAnalyzerFinding[] = [];
  const where = (loc: SarifLocation | undefined): { file: string; line: number; column: number } | undefined => {
    const uri = loc?.physicalLocation?.artifactLocation?.uri;
    const line = loc?.physicalLocation?.region?.startLine;
    if (!uri || !line) return undefined;
    // Only positions in the unit itself: a header's code is not the package's.
    if (path.resolve(uri.startsWith('file:') ? fileURLToPath(uri) : uri) !== path.resolve(src)) return undefined;
    const column = loc?.physicalLocation?.region?.startColumn ?? 1;
    if (u.k === 'c') return { file: u.file.display, line, column };
    const lines = u.text.split('\n');
    if (line > lines.length) return undefined;
    let offset = 0;
    for (let i = 0; i < line - 1; i++) offset += lines[i].length + 1;
    const p = u.file.lines.position(preambleOffsetToGo(u.text, u.lineOffsets, offset + column - 1));
    return { file: u.file.display, line: p.line, column: p.column };
  };
  for (const run of log.runs ?? []) {
    for (const r of run.results ?? []) {
      const checker = r.ruleId ?? '';
      if (!MEMORY_CHECKERS.test(checker)) continue;
      const at = where(r.locations?.[0]);
      if (!at) continue;
      const trace: Step[] = [];
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
