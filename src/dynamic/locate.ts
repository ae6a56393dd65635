// Ties a dynamic report to the line that caused it. When the top frame of
// the package in the tool's stack is C code of the package (a preamble in a
// .go file, or a .c file), that is the faulting line, and the Go line that
// called into C becomes a trace step. Otherwise it is a Go line. Sanitizer
// stacks often stop at the cgo boundary (runtime.asmcgocall, a
// _cgo_..._Cfunc_ stub), so the Go line comes from, in turn: a Go frame in
// the tool's own stacks, the goroutine traceback the runtime printed, and the
// call sites of the C function the stacks name, found in the package's Go files.
import path from 'node:path';
import type { Finding, TraceStep } from '../findings/finding.js';
import { cgoStubName, type DynamicReport, type Frame } from './report.js';

export interface PackageSource {
  dir: string;
  /** Absolute paths of the Go files (the test files included). */
  goFiles: string[];
  /** Absolute paths of the package's .c and .h files. */
  cFiles: string[];
  /** How paths are shown: as the user gave the package. */
  display(abs: string): string;
  /** A Go file's lines, read once however many reports need them; undefined if unreadable. */
  lines(abs: string): string[] | undefined;
}

export type LocatedBy = 'stack' | 'traceback' | 'call site' | 'none';

export interface Location {
  file: string;
  line: number;
  column: number;
  by: LocatedBy;
  /** Other call sites the report could equally come from. */
  others: TraceStep[];
  /** by 'call site': every call of the C function, with the block size it asks for when that is a constant. */
  sites?: CallSite[];
  /** by 'call site': the C function (malloc for cgo's allocators). */
  callee?: string;
}

export interface CallSite {
  file: string;
  line: number;
  column: number;
  /** Bytes per block, when the call's arguments are constants (C.malloc(64), C.CString("ab")). */
  size?: number;
}

/** The words a trace step uses for another call site of the same C function. */
export function otherCall(callee: string): string {
  return `or this call of ${callee === 'malloc' ? 'a cgo allocator' : `C.${callee}`}`;
}

/** A Go function frame (C functions have no package qualifier) in one of the package's files. */
function goFrameIn(f: Frame, pkg: PackageSource): boolean {
  if (!f.file || !f.line || !f.file.endsWith('.go') || !f.fn.includes('.')) return false;
  if (/^(runtime|testing|_cgo_)/.test(f.fn) || /\._Cfunc_|\._cgo_/.test(f.fn)) return false;
  return pkg.goFiles.includes(path.resolve(f.file));
}

/** C code of the package: a function (no package qualifier) in a preamble of one of its Go files, or in one of its C files. */
function cFrameIn(f: Frame, pkg: PackageSource): boolean {
  if (!f.file || !f.line || f.fn.includes('.') || /^_cgo_|^_?Cfunc_/.test(f.fn)) return false;
  const abs = path.resolve(f.file);
  return pkg.goFiles.includes(abs) || pkg.cFiles.includes(abs);
}

export function locate(r: DynamicReport, pkg: PackageSource): Location | undefined {
  const top = r.stacks[0]?.title.startsWith('goroutine') ? undefined : r.stacks[0]?.frames.find((f) => goFrameIn(f, pkg) || cFrameIn(f, pkg));
  if (top && cFrameIn(top, pkg)) {
    const goSide = goLocation(r, pkg);
    const calledFrom = goSide ? [{ file: goSide.file, line: goSide.line, column: goSide.column, message: `${top.fn} is called from Go here` }, ...goSide.others] : [];
    return { file: pkg.display(path.resolve(top.file!)), line: top.line!, column: top.column ?? 1, by: 'stack', others: calledFrom };
  }
  return goLocation(r, pkg);
}

/** The Go line a report comes from: a Go frame of the package in the tool's stacks, the traceback, or a call site of the C function. */
function goLocation(r: DynamicReport, pkg: PackageSource): Location | undefined {
  const traceback = r.stacks.find((s) => s.title.startsWith('goroutine'));
  const toolStacks = r.stacks.filter((s) => s !== traceback);
  for (const s of toolStacks) {
    const f = s.frames.find((fr) => goFrameIn(fr, pkg));
    if (f) return { file: pkg.display(path.resolve(f.file!)), line: f.line!, column: f.column ?? 1, by: 'stack', others: [] };
  }
  if (traceback) {
    const f = traceback.frames.find((fr) => goFrameIn(fr, pkg));
    if (f) return { file: pkg.display(path.resolve(f.file!)), line: f.line!, column: 1, by: 'traceback', others: [] };
  }
  const cfn = cFunctionOf(r, pkg);
  if (!cfn) return undefined;
  const sites = callSites(cfn, pkg);
  if (!sites.length) return undefined;
  const [first, ...rest] = sites;
  return { file: first.file, line: first.line, column: first.column, by: 'call site', others: rest.map((s) => ({ file: s.file, line: s.line, column: s.column, message: otherCall(cfn) })), sites, callee: cfn };
}

/** The C function Go called: from a cgo stub, else the outermost C frame in the package's C code. */
function cFunctionOf(r: DynamicReport, pkg: PackageSource): string | undefined {
  for (const s of r.stacks) {
    for (const f of s.frames) {
      const stub = cgoStubName(f.fn);
      if (stub) return stub;
    }
  }
  for (const s of r.stacks) {
    const inPkg = s.frames.filter((f) => !f.fn.includes('.') && f.file && path.resolve(f.file).startsWith(pkg.dir + path.sep));
    if (inPkg.length) return inPkg[inPkg.length - 1].fn;
  }
  return undefined;
}

/** Where the package's Go code calls C.name (C.malloc also stands for C.CString and C.CBytes, which allocate through it). */
function callSites(name: string, pkg: PackageSource): CallSite[] {
  const names = name === 'malloc' ? ['malloc', 'CString', 'CBytes'] : [name];
  const re = new RegExp(`\\bC\\.(${names.join('|')})\\s*\\(`, 'g');
  const out: CallSite[] = [];
  for (const abs of [...pkg.goFiles].sort()) {
    pkg.lines(abs)?.forEach((l, i) => {
      const code = l.replace(/\/\/.*$/, '');
      for (const m of code.matchAll(re)) {
        const size = name === 'malloc' || name === 'calloc' ? constantSize(m[1], code.slice(m.index + m[0].length)) : undefined;
        out.push({ file: pkg.display(abs), line: i + 1, column: Buffer.byteLength(code.slice(0, m.index)) + 1, ...(size ? { size } : {}) });
      }
    });
  }
  return out;
}

/** The bytes a cgo allocation asks for when its arguments are constants: C.malloc(64), C.calloc(4, 16), C.CString("ab"). */
function constantSize(fn: string, afterParen: string): number | undefined {
  const args = /^([^()]*)\)/.exec(afterParen)?.[1];
  if (args === undefined) return undefined;
  const parts = args.split(',').map((a) => a.trim());
  const int = (t: string | undefined) => (t && /^(0x[0-9a-f]+|\d+)$/i.test(t) ? Number(t) : undefined);
  if (fn === 'malloc' && parts.length === 1) return int(parts[0]);
  if (fn === 'calloc' && parts.length === 2) {
    const [a, b] = parts.map(int);
    return a !== undefined && b !== undefined ? a * b : undefined;
  }
  if (fn === 'CString' && parts.length === 1 && /^"(?:[^"\\]|\\.)*"$/.test(parts[0])) {
    try {
      return Buffer.byteLength(JSON.parse(parts[0])) + 1;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** Whether a dynamic finding and a static one are the same bug. */
export function sameBug(dyn: Finding, stat: Finding): boolean {
  if (dyn.file !== stat.file) return false;
  const rules = RELATED[dyn.rule] ?? [dyn.rule];
  if (!rules.includes(stat.rule)) return false;
  return stat.line === dyn.line || stat.trace.some((s) => s.file === dyn.file && s.line === dyn.line);
}

/**
 * Marks each run-time finding a static one predicted, and each static finding
 * with the stages that saw it. Without a static check, nothing is marked.
 */
export function confirm(dynamic: Finding[], statics: Finding[], staticRan: boolean): void {
  for (const d of dynamic) {
    for (const s of statics) {
      if (!sameBug(d, s)) continue;
      d.confirmed = true;
      s.confirmed = true;
      s.confirmedBy = [...new Set([...(s.confirmedBy ?? []), d.dynamic!.stage])];
    }
    if (staticRan) d.confirmed ??= false;
  }
}

/** Static rules that predict a dynamic class. */
const RELATED: Record<string, string[]> = {
  'c-overflow': ['c-overflow', 'unbounded-c-write', 'c-slice-bounds', 'element-size'],
  'use-after-free': ['use-after-free', 'c-slice-bounds'],
  'double-free': ['double-free', 'free-borrowed'],
  'free-nonheap': ['free-nonheap', 'free-borrowed'],
  'unpinned-go-pointer': ['unpinned-go-pointer', 'slice-header'],
  // Go memory written past its end shows as poisoned (use-after-poison), not as an overflow.
  'invalid-access': ['c-overflow', 'unbounded-c-write', 'c-slice-bounds', 'element-size', 'use-after-free', 'slice-header'],
  'go-pointer-in-c-memory': ['go-pointer-in-c-memory', 'c-keeps-go-pointer'],
};
