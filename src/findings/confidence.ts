// How sure a finding is, when the analysis says (an optional field of the
// findings model). Renderers read it through here, so that findings without
// it read as before.
import type { Finding, Severity } from './finding.js';

export type Confidence = 'high' | 'medium' | 'low';

export function confidenceOf(f: Finding): Confidence | undefined {
  const c = (f as { confidence?: unknown }).confidence;
  return c === 'high' || c === 'medium' || c === 'low' ? c : undefined;
}

/** The severity to show: a finding that rests on a guess shows one step lower. */
export function shownSeverity(f: Finding): Severity {
  if (confidenceOf(f) !== 'low') return f.severity;
  return f.severity === 'error' ? 'warning' : 'note';
}

/** ` (low confidence)`, ` (medium confidence)`, or nothing. */
export function confidenceSuffix(f: Finding): string {
  const c = confidenceOf(f);
  return c && c !== 'high' ? ` (${c} confidence)` : '';
}
