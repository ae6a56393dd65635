// Baselines: the findings a project has accepted for now, so that a check
// reports only new ones. Matched by fingerprint (rule, file, function,
// message and code, not line numbers), counting duplicates: a baseline with
// one copy of a finding hides one copy.
import { readFileSync } from 'node:fs';
import type { Finding } from '../findings/finding.js';
import type { Fingerprinter } from './fingerprint.js';

export const BASELINE_VERSION = 1;

export interface BaselineEntry {
  fingerprint: string;
  rule: string;
  file: string;
  function: string;
  /** For people reading the file; not used to match. */
  message: string;
  line: number;
}

export interface Baseline {
  version: number;
  tool: 'cgoguard';
  findings: BaselineEntry[];
}

export class BaselineError extends Error {}

export function formatBaseline(findings: Finding[], fp: Fingerprinter): string {
  const entries: BaselineEntry[] = findings.map((f) => ({
    fingerprint: fp.fingerprint(f),
    rule: f.rule,
    file: fp.relativePath(f.file),
    function: f.function,
    message: f.message,
    line: f.line,
  }));
  entries.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : a.line - b.line || (a.fingerprint < b.fingerprint ? -1 : a.fingerprint > b.fingerprint ? 1 : 0)));
  const b: Baseline = { version: BASELINE_VERSION, tool: 'cgoguard', findings: entries };
  return `${JSON.stringify(b, null, 2)}\n`;
}

/** Reads a baseline file; a clear one-line error when it cannot be used. */
export function readBaseline(file: string, shown: string): Baseline {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new BaselineError(`--baseline: cannot read ${shown} (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new BaselineError(`--baseline: ${shown} is not JSON (write one with --write-baseline)`);
  }
  const b = data as Partial<Baseline>;
  if (!b || typeof b !== 'object' || b.tool !== 'cgoguard' || !Array.isArray(b.findings)) throw new BaselineError(`--baseline: ${shown} is not a cgoguard baseline (write one with --write-baseline)`);
  if (b.version !== BASELINE_VERSION) throw new BaselineError(`--baseline: ${shown} has version ${String(b.version)}; this cgoguard reads version ${BASELINE_VERSION}`);
  if (!b.findings.every((e) => e && typeof e.fingerprint === 'string')) throw new BaselineError(`--baseline: ${shown} has an entry without a fingerprint`);
  return b as Baseline;
}

/** The findings the baseline does not account for, and how many it hid. */
export function subtractBaseline(findings: Finding[], baseline: Baseline, fp: Fingerprinter): { kept: Finding[]; hidden: number } {
  const budget = new Map<string, number>();
  for (const e of baseline.findings) budget.set(e.fingerprint, (budget.get(e.fingerprint) ?? 0) + 1);
  const kept: Finding[] = [];
  let hidden = 0;
  for (const f of findings) {
    const key = fp.fingerprint(f);
    const left = budget.get(key) ?? 0;
    if (left > 0) {
      budget.set(key, left - 1);
      hidden++;
    } else kept.push(f);
  }
  return { kept, hidden };
}
