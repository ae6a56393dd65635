// `check --fix` and `--diff`: apply the safe fixes, in passes, each pass
// checked by analysing the fixed texts before anything is written. A fix
// whose finding is still there afterwards, or after which a finding appears
// that was not there before, is taken back and not offered again. Files are
// written only at the end, atomically, and only if they still hold what was
// analysed.
import { chmodSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Finding } from '../findings/finding.js';
import type { Fix } from '../findings/fix.js';
import { applyFixes } from '../fix/apply.js';
import { withFixes, type FixSource } from '../fix/index.js';
import { Fingerprinter, readFromDisk } from '../report/fingerprint.js';
import { repositoryRoot } from '../report/sarif.js';
import { digestText } from './analyze-package.js';
import { runCheck, type CheckOptions, type CheckResult } from './check.js';

/** Enough for a few early returns of one allocation, each pass fixing one. */
const MAX_PASSES = 6;

export interface AppliedFix {
  rule: string;
  /** The finding's line in the fixed file. */
  line: number;
  title: string;
}

export interface FileFix {
  /** Absolute path. */
  path: string;
  /** As the findings name it. */
  file: string;
  before: string;
  after: string;
  applied: AppliedFix[];
}

export interface FixOutcome {
  /** The check of the files as they are on disk. */
  first: CheckResult;
  /** The check of the fixed texts, findings with their remaining fixes. */
  final: CheckResult;
  files: FileFix[];
  /** Files that got no fixes because they changed since the analysis. */
  changedSince: string[];
}

export async function runFixes(opts: CheckOptions): Promise<FixOutcome> {
  const first = await runCheck(opts);
  const root = repositoryRoot(opts.cwd);
  const overlay = new Map<string, string>();
  const originals = new Map<string, string>();
  const applied = new Map<string, AppliedFix[]>();
  const rejected = new Set<string>();
  const changedSince = new Set<string>();
  const textOf = (abs: string) => overlay.get(abs) ?? readFromDisk(abs);
  const sourceOf =
    (result: CheckResult) =>
    (file: string): FixSource | undefined => {
      const abs = path.resolve(opts.cwd, file);
      const text = textOf(abs);
      if (text === undefined) return undefined;
      // A file on disk must still be what the analysis read.
      if (!overlay.has(abs) && result.sources.get(abs) !== digestText(text)) {
        changedSince.add(file);
        return undefined;
      }
      return { file, path: abs, text };
    };

  let result = first;
  for (let pass = 0; pass < MAX_PASSES; pass++) {
    const fp = new Fingerprinter(opts.cwd, root, textOf);
    const findings = await withFixes(result.findings, sourceOf(result));
    const chosen = new Map<string, { finding: Finding; fix: Fix }[]>();
    for (const f of findings) {
      const fix = f.fixes?.find((x) => x.safe && !rejected.has(fixKey(fp, f, x)));
      if (!fix) continue;
      const abs = path.resolve(opts.cwd, f.file);
      chosen.set(abs, [...(chosen.get(abs) ?? []), { finding: f, fix }]);
    }
    if (!chosen.size) break;
    const next = new Map(overlay);
    const passApplied = new Map<string, { finding: Finding; fix: Fix; newLine: (l: number) => number }[]>();
    for (const [abs, list] of chosen) {
      const before = textOf(abs)!;
      const a = applyFixes(before, list.map((c) => c.fix));
      if (!a.applied.length) continue;
      if (!originals.has(abs)) originals.set(abs, before);
      next.set(abs, a.text);
      passApplied.set(abs, list.filter((c) => a.applied.includes(c.fix)).map((c) => ({ ...c, newLine: a.newLine })));
    }
    const checked = await runCheck({ ...opts, overlay: next });
    const bad = badFiles(result, checked, passApplied, fp, new Fingerprinter(opts.cwd, root, (p) => next.get(p) ?? readFromDisk(p)), opts.cwd);
    for (const abs of bad) for (const c of passApplied.get(abs) ?? []) rejected.add(fixKey(fp, c.finding, c.fix));
    for (const [abs, list] of passApplied) {
      if (bad.has(abs)) continue;
      overlay.set(abs, next.get(abs)!);
      const moved = (applied.get(abs) ?? []).map((a) => ({ ...a, line: list[0].newLine(a.line) }));
      applied.set(abs, [...moved, ...list.map((c) => ({ rule: c.finding.rule, line: c.newLine(c.finding.line), title: c.fix.title }))]);
    }
    result = bad.size ? await runCheck({ ...opts, overlay }) : checked;
  }
  const final = { ...result, findings: await withFixes(result.findings, sourceOf(result)) };
  const files = [...overlay]
    .filter(([abs, text]) => originals.get(abs) !== text)
    .map(([abs, after]) => ({ path: abs, file: displayOf(first, abs, opts.cwd), before: originals.get(abs)!, after, applied: applied.get(abs) ?? [] }))
    .sort((a, b) => (a.file < b.file ? -1 : 1));
  return { first, final, files, changedSince: [...changedSince].sort() };
}

/** A fix is known by its finding's fingerprint and what it does, not by lines. */
function fixKey(fp: Fingerprinter, f: Finding, fix: Fix): string {
  return `${fp.fingerprint(f)}\0${fix.title.replace(/\d+/g, 'N')}`;
}

/**
 * Files whose fixes of this pass must be taken back: a fixed finding is still
 * there (at its new place, with its line numbers moved), or a finding
 * appeared that the texts before the pass did not have.
 */
function badFiles(
  before: CheckResult,
  after: CheckResult,
  applied: Map<string, { finding: Finding; fix: Fix; newLine: (l: number) => number }[]>,
  fpBefore: Fingerprinter,
  fpAfter: Fingerprinter,
  cwd: string,
): Set<string> {
  const bad = new Set<string>();
  const abs = (f: Finding) => path.resolve(cwd, f.file);
  for (const [file, list] of applied) {
    for (const { finding, newLine } of list) {
      const message = finding.message.replace(/\bline (\d+)/g, (_, n: string) => `line ${newLine(Number(n))}`);
      if (after.findings.some((g) => abs(g) === file && g.rule === finding.rule && g.line === newLine(finding.line) && g.message === message)) bad.add(file);
    }
  }
  const count = new Map<string, number>();
  for (const f of before.findings) count.set(fpBefore.fingerprint(f), (count.get(fpBefore.fingerprint(f)) ?? 0) + 1);
  for (const g of after.findings) {
    const key = fpAfter.fingerprint(g);
    const left = count.get(key) ?? 0;
    if (left > 0) {
      count.set(key, left - 1);
      continue;
    }
    // New: blame its file if a fix changed it, else every file this pass changed.
    if (applied.has(abs(g))) bad.add(abs(g));
    else for (const file of applied.keys()) bad.add(file);
  }
  return bad;
}

function displayOf(result: CheckResult, abs: string, cwd: string): string {
  for (const p of result.packages) for (const f of p.files) if (f.path === abs) return f.display;
  return path.relative(cwd, abs) || abs;
}

/**
 * Writes the fixed files, each atomically (a temporary file in its folder,
 * renamed over it, with its mode kept), unless its content changed since it
 * was analysed. Returns the files refused.
 */
export function writeFixedFiles(files: FileFix[]): string[] {
  const refused: string[] = [];
  for (const f of files) {
    let now: string;
    try {
      now = readFileSync(f.path, 'utf8');
    } catch {
      refused.push(f.file);
      continue;
    }
    if (now !== f.before) {
      refused.push(f.file);
      continue;
    }
    const tmp = path.join(path.dirname(f.path), `.${path.basename(f.path)}.cgoguard-fix-${process.pid}`);
    try {
      writeFileSync(tmp, f.after, { flag: 'wx' });
      chmodSync(tmp, statSync(f.path).mode & 0o7777);
      renameSync(tmp, f.path);
    } catch (e) {
      rmSync(tmp, { force: true });
      throw e;
    }
  }
  return refused;
}
