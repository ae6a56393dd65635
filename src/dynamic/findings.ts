// What the run-time tools reported, as findings: each report placed at its
// line (locate), a leak record that holds blocks of several call sites split
// by the sizes the calls ask for, repeats of one bug folded with a count, and
// a run-time finding that confirms a static one on the same line merged into
// it, so that one bug is one finding.
import type { DynamicDetail, Finding, RuntimeEvidence } from '../findings/finding.js';
import { ruleById } from '../rules/index.js';
import { confirm, locate, otherCall, sameBug, type CallSite, type Location, type PackageSource } from './locate.js';
import type { DynamicReport } from './report.js';

export interface ReportContext {
  stage: string;
  /** The package (with its external tests) the report's test binary belongs to. */
  importPath: string;
  /** Where a report that stopped the program but names no line of the package is put. */
  firstFile: string;
  source: PackageSource;
}

/**
 * A report as findings at its line: one, or one per call site when a leak
 * record's size shows blocks of several sites. Leaks and valgrind errors that
 * cannot be tied to the package (the runtime's own) are left out; errors that
 * stopped the program are kept even unplaced, at the package's first file.
 */
export function reportFindings(r: DynamicReport, ctx: ReportContext, alone?: DynamicDetail['alone']): Finding[] {
  const at = locate(r, ctx.source);
  if (!at && (r.rule === 'leak' || r.tool === 'valgrind')) return [];
  const where: Location = at ?? { file: ctx.firstFile, line: 1, column: 1, by: 'none', others: [] };
  const parts = r.rule === 'leak' && where.by === 'call site' ? splitBySize(r.bytes, r.objects, where.sites ?? []) : undefined;
  if (!parts) return [finding(r, ctx, where, alone)];
  return parts.map((p) => {
    const others = where.sites!.filter((s) => s !== p.site).map((s) => ({ file: s.file, line: s.line, column: s.column, message: otherCall(where.callee!) }));
    const bySize = p.site.size !== undefined;
    return finding({ ...r, bytes: p.bytes, objects: p.objects }, ctx, { ...where, file: p.site.file, line: p.site.line, column: p.site.column, others: bySize ? [] : others }, alone, bySize ? p.site.size : undefined);
  });
}

function finding(r: DynamicReport, ctx: ReportContext, where: Location, alone?: DynamicDetail['alone'], sizeMatched?: number): Finding {
  const definiteLeak = r.rule === 'leak' && r.definite;
  const unconfirmed = alone && !alone.reproduced;
  const severity = (r.rule === 'leak' && !definiteLeak) || unconfirmed ? 'warning' : (ruleById(r.rule)?.severity ?? 'error');
  return {
    rule: r.rule,
    severity,
    message: unconfirmed
      ? `${r.message}; not seen when ${alone.test} runs alone: likely stale AddressSanitizer marks left on this thread's stack by an earlier Go panic that unwound C frames`
      : r.message,
    file: where.file,
    line: where.line,
    column: where.column,
    endLine: where.line,
    endColumn: where.column,
    function: '',
    trace: where.others,
    dynamic: {
      stage: ctx.stage,
      tool: r.tool,
      kind: r.kind,
      package: ctx.importPath,
      bytes: r.bytes,
      objects: r.objects,
      definite: r.rule === 'leak' ? !!r.definite : undefined,
      locatedBy: where.by,
      ...(sizeMatched !== undefined ? { blockSize: sizeMatched } : {}),
      count: 1,
      stacks: r.stacks,
      ...(alone ? { alone } : {}),
    },
  };
}

/**
 * A leak record whose stack stops at cgo's allocator cannot say which Go call
 * made its blocks. The calls that ask for a constant size can: a record of
 * n blocks of exactly that size is theirs; a record that holds such blocks
 * and others (its bytes are not a multiple of the size) is split: as many
 * blocks of that size as the bytes allow to one call, the rest (at least a
 * byte each) to the calls of unknown size. Undefined when sizes say nothing.
 */
export function splitBySize(bytes: number | undefined, objects: number | undefined, sites: CallSite[]): { site: CallSite; bytes: number; objects: number }[] | undefined {
  if (!bytes || !objects) return undefined;
  const sized = sites.filter((s) => s.size !== undefined);
  if (!sized.length) return undefined;
  const exact = sized.find((s) => s.size! * objects === bytes);
  if (exact) return [{ site: exact, bytes, objects }];
  const unsized = sites.filter((s) => s.size === undefined);
  if (!unsized.length) return undefined;
  // Sized calls that cannot have made these blocks are left out.
  if (sized.length !== 1 || sized[0].size! <= 1) return [{ site: unsized[0], bytes, objects }];
  const size = sized[0].size!;
  const k = Math.min(objects - 1, Math.floor((bytes - objects) / (size - 1)));
  if (k <= 0) return [{ site: unsized[0], bytes, objects }];
  return [
    { site: sized[0], bytes: k * size, objects: k },
    { site: unsized[0], bytes: bytes - k * size, objects: objects - k },
  ];
}

/**
 * A report placed at one of several call sites of the C function its stack
 * ends in goes to the one a static finding points at, when there is one
 * (unless the block size already chose the call).
 */
function preferPredicted(d: Finding, statics: Finding[]): Finding {
  if (d.dynamic!.locatedBy !== 'call site' || !d.trace.length || d.dynamic!.blockSize !== undefined) return d;
  const sites = [{ file: d.file, line: d.line, column: d.column }, ...d.trace];
  const hit = sites.find((s) => statics.some((st) => sameBug({ ...d, ...s }, st)));
  if (!hit || (hit.file === d.file && hit.line === d.line)) return d;
  const others = sites.filter((s) => s !== hit).map((s) => ({ file: s.file, line: s.line, column: s.column, message: d.trace[0].message }));
  return { ...d, file: hit.file, line: hit.line, column: hit.column, endLine: hit.line, endColumn: hit.column, trace: others };
}

/**
 * One finding per stage, rule, kind and line (and, for C code, the Go line
 * that called it): the same bug seen by several tests, or in a loop.
 */
function fold(fs: Finding[]): Finding[] {
  const by = new Map<string, Finding>();
  for (const f of fs) {
    const d = f.dynamic!;
    const caller = d.locatedBy === 'stack' && f.trace.length === 1 ? `|${f.trace[0].file}:${f.trace[0].line}` : '';
    // Every stage runs with cgocheck on: its panics are one bug, whichever stage saw them.
    const key = `${d.tool === 'cgocheck' ? 'cgocheck' : d.stage}|${f.rule}|${d.kind}|${f.file}|${f.line}${caller}`;
    const prev = by.get(key);
    if (!prev) {
      by.set(key, f);
      continue;
    }
    const pd = prev.dynamic!;
    pd.count += d.count;
    if (f.rule === 'leak') {
      pd.bytes = (pd.bytes ?? 0) + (d.bytes ?? 0);
      pd.objects = (pd.objects ?? 0) + (d.objects ?? 0);
    }
  }
  return [...by.values()].map(describe);
}

/** The message as printed: leak sizes after folding, how often, and how the line was found. */
function describe(f: Finding): Finding {
  const d = f.dynamic!;
  let message = f.message;
  if (f.rule === 'leak' && (d.tool === 'lsan' || d.tool === 'valgrind')) {
    const what = d.tool === 'lsan' ? `LeakSanitizer: ${d.kind.toLowerCase()}` : `valgrind: ${d.kind.replace(/^Leak_/, '').replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase()}`;
    message = `${what}: ${d.bytes ?? 0} byte(s) in ${d.objects ?? 0} object(s)`;
  }
  if (d.count > 1) message += ` (seen ${d.count} times)`;
  if (d.blockSize !== undefined) message += ` (at the call that allocates ${d.blockSize}-byte blocks)`;
  else if (d.locatedBy === 'call site') message += ' (at the call of the C function its stack ends in)';
  if (d.locatedBy === 'none') message += ' (no Go line in its stacks)';
  return { ...f, message };
}

/**
 * Static and run-time findings as one list: run-time findings folded and
 * confirmed against the static ones; one that confirms a static finding on
 * its very line becomes that finding's run-time evidence instead of a second
 * finding there.
 */
export function joinFindings(statics: Finding[], dynamic: Finding[], staticRan: boolean, o: { fold: boolean } = { fold: true }): Finding[] {
  // The trace groups its own reports (by site and stack) and places them exactly.
  const folded = o.fold ? fold(dynamic.map((d) => preferPredicted(d, statics))) : dynamic;
  confirm(folded, statics, staticRan);
  const kept: Finding[] = [];
  for (const d of folded) {
    const same = statics.find((s) => s.file === d.file && s.line === d.line && sameBug(d, s));
    if (!same) {
      kept.push(d);
      continue;
    }
    const evidence: RuntimeEvidence = { ...d.dynamic!, rule: d.rule, message: d.message, severity: d.severity };
    same.runtime = [...(same.runtime ?? []), evidence];
  }
  return [...statics, ...kept];
}
