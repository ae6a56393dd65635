// What a rule is: metadata (documented by `cgoguard explain`) and a check
// that turns the engine's observations for one function into findings.
import type { Severity } from '../findings/finding.js';
import type { FlowEvent } from '../flow/events.js';

export interface RuleMeta {
  id: string;
  title: string;
  severity: Severity;
  /** One paragraph: why this is a bug and what the rule looks for. */
  rationale: string;
  bad: string;
  good: string;
}

/** A finding as a rule states it, positioned by offsets in the function's file. */
export interface RuleReport {
  message: string;
  pos: number;
  end: number;
}

export interface FlowRule {
  meta: RuleMeta;
  /** Findings for one engine event, or nothing if the event is not this rule's. */
  check(event: FlowEvent): RuleReport | undefined;
}
