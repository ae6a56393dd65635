// What a rule is: metadata (documented by `cgoguard explain`) and, for the
// rules of the dataflow domains, the wording of its findings from the details
// its domain module observed. The domain module decides when a finding is due
// (src/rules/<domain>/domain.ts); the rule file says what it is called and how
// it reads.

export type Severity = 'error' | 'warning' | 'note';

export interface RuleMeta {
  id: string;
  title: string;
  severity: Severity;
  /** One paragraph: why this is a bug and what the rule looks for. */
  rationale: string;
  bad: string;
  good: string;
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
