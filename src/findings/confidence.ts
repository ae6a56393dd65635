// How sure a finding is, as the editor and CI formats show it: a finding that
// rests on a guess shows one severity lower, and says so.
import { confidenceOf, type Finding, type Severity } from './finding.js';

/** The severity to show: a low-confidence finding shows one step lower. */
export function shownSeverity(f: Finding): Severity {
  if (confidenceOf(f) !== 'low') return f.severity;
  return f.severity === 'error' ? 'warning' : 'note';
}

/** ` (low confidence)`, ` (medium confidence)`, or nothing. */
export function confidenceSuffix(f: Finding): string {
  const c = confidenceOf(f);
  return c !== 'high' ? ` (${c} confidence)` : '';
}
