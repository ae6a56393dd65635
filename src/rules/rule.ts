// What a rule is: metadata (documented by `cgoguard explain`) and, for the
// rules of the dataflow domains, the wording of its findings from the details
// its domain module observed. The domain module decides when a finding is due
// (src/rules/<domain>/domain.ts); the rule file says what it is called and how
// it reads.

export type Severity = 'error' | 'warning' | 'note';

/**
 * How sure a finding is. high: the facts it rests on are known (a contract,
 * a C body, cgo's own rules). medium: it rests on an inference or a likely
 * reading (ownership inferred from usage, a finalizer on a type whose methods
 * callers may keep alive). low: it rests on a guess (a name that looks like a
 * releaser, a C function nobody said owns what it fills). By default only high
 * findings fail a run.
 */
export type Confidence = 'high' | 'medium' | 'low';

/** Confidences in order, for comparisons. */
export const CONFIDENCE_RANK: Record<Confidence, number> = { low: 0, medium: 1, high: 2 };

export interface RuleMeta {
  id: string;
  title: string;
  severity: Severity;
  /** One paragraph: why this is a bug and what the rule looks for. */
  rationale: string;
  bad: string;
  good: string;
  /** How often the rule's findings are right, for tools that rank them (default high). */
  precision?: Confidence;
}

/** A rule of a dataflow domain: its metadata and the message for the details D its domain reports. */
export interface Rule<D> {
  meta: RuleMeta;
  message(d: D): string;
}

/** "C.free" for libc's free, "C.name" for any other C releaser. */
export function cName(fn: string): string {
  return fn === 'free' ? 'C.free' : `C.${fn}`;
}

export function plural(n: number, unit: string): string {
  return `${n} ${unit}${n === 1 ? '' : 's'}`;
}
