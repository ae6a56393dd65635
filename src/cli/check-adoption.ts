// What `check` offers for adopting it in a codebase that has findings already
// and in CI: quick fixes (`--fix`, `--diff`), baselines (`--baseline`,
// `--write-baseline`), findings on changed lines only (`--new-from-rev`), and
// the CI formats (`github`, `codequality`).
import path from 'node:path';
import { Option, type Command } from 'commander';
import type { Finding } from '../findings/finding.js';
import { unifiedDiff } from '../fix/diff.js';
import { withFixes } from '../fix/index.js';
import { digestText } from '../pipeline/analyze-package.js';
import type { CheckResult } from '../pipeline/check.js';
import { writeFixedFiles, type FixOutcome } from '../pipeline/fix.js';
import { formatBaseline, readBaseline, subtractBaseline, BaselineError } from '../report/baseline.js';
import { formatCodeQuality } from '../report/codequality.js';
import { Fingerprinter, readFromDisk } from '../report/fingerprint.js';
import { formatGitHub } from '../report/github.js';
import { repositoryRoot } from '../report/sarif.js';
import { UsageError } from '../workspace/discover.js';
import { changedSince, GitError, touchesChange } from '../workspace/git-changes.js';
import { writeOutput } from './outputs.js';

export const CHECK_FORMATS = ['text', 'json', 'sarif', 'github', 'codequality'] as const;

export interface AdoptionFlags {
  fix?: boolean;
  diff?: boolean;
  baseline?: string;
  writeBaseline?: string;
  newFromRev?: string;
  format: string;
}

export function adoptionOptions<T extends Command>(c: T): T {
  return c
    .option('--fix', 'apply the safe quick fixes to the files (atomically; never to a file changed since the analysis)')
    .option('--diff', 'print the safe quick fixes as a unified diff instead of applying them')
    .option('--baseline <file>', 'report only findings that are not in this baseline file')
    .option('--write-baseline <file>', 'write the findings to this baseline file (exit status 0 unless the input is bad)')
    .addOption(new Option('--new-from-rev <rev>', 'report only findings on lines changed since this git revision')) as T;
}

/** Refuses flags that contradict each other, before any work. */
export function checkAdoptionFlags(o: AdoptionFlags): void {
  if (o.fix && o.diff) throw new UsageError('--fix and --diff cannot be used together (--diff shows what --fix would change)');
  if (o.newFromRev !== undefined && !o.newFromRev.trim()) throw new UsageError('--new-from-rev: expected a git revision');
}

/** The findings fixes are offered for, in the formats that carry them. */
export async function findingsWithFixes(result: CheckResult, cwd: string, format: string): Promise<Finding[]> {
  if (format !== 'json' && format !== 'sarif') return result.findings;
  return withFixes(result.findings, (file) => {
    const abs = path.resolve(cwd, file);
    const text = readFromDisk(abs);
    return text !== undefined && result.sources.get(abs) === digestText(text) ? { file, path: abs, text } : undefined;
  });
}

/**
 * Writes the baseline when asked, then keeps the findings the baseline does
 * not hold and, with --new-from-rev, those on changed lines. Says on stderr
 * how many were left out.
 */
export function selectFindings(findings: Finding[], o: AdoptionFlags, cwd: string, err: (s: string) => void): Finding[] {
  const root = repositoryRoot(cwd);
  const fp = new Fingerprinter(cwd, root);
  if (o.writeBaseline) {
    writeOutput(path.resolve(cwd, o.writeBaseline), formatBaseline(findings, fp));
    err(`cgoguard: wrote ${findings.length} finding(s) to the baseline ${o.writeBaseline}\n`);
  }
  let kept = findings;
  if (o.baseline) {
    try {
      const r = subtractBaseline(kept, readBaseline(path.resolve(cwd, o.baseline), o.baseline), fp);
      kept = r.kept;
      if (r.hidden) err(`cgoguard: ${r.hidden} finding(s) in the baseline ${o.baseline} not shown\n`);
    } catch (e) {
      if (e instanceof BaselineError) throw new UsageError(e.message);
      throw e;
    }
  }
  if (o.newFromRev) {
    let changes;
    try {
      changes = changedSince(o.newFromRev, cwd);
    } catch (e) {
      if (e instanceof GitError) throw new UsageError(e.message);
      throw e;
    }
    const before = kept.length;
    kept = kept.filter((f) => touchesChange(changes, realPath(path.resolve(cwd, f.file), changes.root, root), f.line, f.endLine));
    if (before > kept.length) err(`cgoguard: ${before - kept.length} finding(s) on lines unchanged since ${o.newFromRev} not shown\n`);
  }
  return kept;
}

/** git names files under its own top folder, which may be spelt differently (a symlink) from the one paths were resolved in. */
function realPath(abs: string, gitRoot: string, root: string): string {
  return gitRoot !== root && abs.startsWith(root + path.sep) ? path.join(gitRoot, abs.slice(root.length + 1)) : abs;
}

/** The report in the CI formats (the others are rendered where they always were). */
export function formatForCI(format: string, findings: Finding[], cwd: string): string | undefined {
  if (format !== 'github' && format !== 'codequality') return undefined;
  const fp = new Fingerprinter(cwd, repositoryRoot(cwd));
  return format === 'github' ? formatGitHub(findings, fp) : formatCodeQuality(findings, fp);
}

/** `--diff`: the unified diff of the fixes; `--fix`: writes them and says what changed. Returns whether anything was (or would be) fixed. */
export function finishFixes(outcome: FixOutcome, o: AdoptionFlags, out: (s: string) => void, err: (s: string) => void): boolean {
  for (const f of outcome.changedSince) err(`cgoguard: ${f}: changed since the analysis: not fixed\n`);
  if (o.diff) {
    for (const f of outcome.files) out(unifiedDiff(`a/${f.file}`, `b/${f.file}`, f.before, f.after));
    return outcome.files.length > 0;
  }
  const refused = new Set(writeFixedFiles(outcome.files));
  for (const f of outcome.files) {
    if (refused.has(f.file)) {
      err(`cgoguard: ${f.file}: changed since the analysis: not fixed\n`);
      continue;
    }
    for (const a of f.applied) err(`cgoguard: fixed ${f.file}:${a.line}: ${a.title} (${a.rule})\n`);
  }
  return outcome.files.some((f) => !refused.has(f.file));
}
