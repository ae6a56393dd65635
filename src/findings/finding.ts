// The one findings model every stage reports into.
import { CONFIDENCE_RANK, type Confidence, type Severity } from '../rules/rule.js';
import type { TraceStep } from '../syntax/positions.js';
import type { Fix } from './fix.js';

export type { Confidence, Fix, Severity, TraceStep };

export const SEVERITY_RANK: Record<Severity, number> = { note: 0, warning: 1, error: 2 };

export { CONFIDENCE_RANK };

/** The lowest severity that fails a run, or never. */
export type FailOn = Severity | 'never';

/** A finding without a stated confidence is sure (run-time findings, directive problems). */
export function confidenceOf(f: { confidence?: Confidence }): Confidence {
  return f.confidence ?? 'high';
}

/** Whether a finding fails a run: severe enough, and sure enough (by default only high-confidence findings fail). */
export function failsAt(f: { severity: Severity; confidence?: Confidence }, failOn: FailOn, failConfidence: Confidence = 'high'): boolean {
  return failOn !== 'never' && SEVERITY_RANK[f.severity] >= SEVERITY_RANK[failOn] && CONFIDENCE_RANK[confidenceOf(f)] >= CONFIDENCE_RANK[failConfidence];
}

export interface Finding {
  rule: string;
  severity: Severity;
  message: string;
  file: string;
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
  function: string;
  trace: TraceStep[];
  /** How sure the finding is; absent means high. */
  confidence?: Confidence;
  /** Findings of running code (`cgoguard test`): what the tool saw. */
  dynamic?: DynamicDetail;
  /** Static: the stages that saw this bug at run time. Dynamic: whether a static rule predicted it. */
  confirmed?: boolean;
  confirmedBy?: string[];
  /** Static: what the run-time stages saw of this very bug on this line (merged into it rather than reported again). */
  runtime?: RuntimeEvidence[];
  /** Quick fixes, when the source allows one (src/fix). */
  fixes?: Fix[];
}

/** A run-time report merged into the static finding it confirms: what the tool saw, with its own rule, message and severity. */
export type RuntimeEvidence = DynamicDetail & { rule: string; message: string; severity: Severity };

export interface StackFrame {
  fn: string;
  file?: string;
  line?: number;
  /** When the tool gave one. */
  column?: number;
}

export interface DynamicDetail {
  /** The stage that ran the code: asan, cgocheck, cgocheck2, valgrind. */
  stage: string;
  tool: string;
  /** The tool's own name for the error. */
  kind: string;
  package: string;
  bytes?: number;
  objects?: number;
  /** Leaks: definitely lost, not possibly or indirectly. */
  definite?: boolean;
  /** trace: live at exit, but pointed to by an object with a finalizer or cleanup (counted only when the policy says so). */
  heldByFinalizer?: boolean;
  /** How the Go line was found: a Go frame in the tool's stack, the goroutine traceback, or the C function's call sites. */
  locatedBy: 'stack' | 'traceback' | 'call site' | 'none';
  /** located by call site: the constant block size of the call that was chosen because the report's blocks have that size. */
  blockSize?: number;
  /** How many reports were folded into this one (the same bug seen again). */
  count: number;
  /** asan stack errors: the test that hit it, run again alone, and whether it hit it again. */
  alone?: { test: string; reproduced: boolean };
  stacks: { title: string; frames: StackFrame[] }[];
}

/** The order findings are printed in, the same on every run. */
export function compareFindings(a: Finding, b: Finding): number {
  return (
    cmp(a.file, b.file) ||
    a.line - b.line ||
    a.column - b.column ||
    cmp(a.rule, b.rule) ||
    cmp(a.message, b.message)
  );
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** What `check` looked at, reported next to its findings. */
export interface CheckStats {
  packages: number;
  packagesAnalyzed: number;
  files: number;
  bytes: number;
  functions: number;
  functionsAnalyzed: number;
  /** Functions whose paths were not all explored (state budget): findings are real, some may be missing. */
  functionsPartial: number;
  /** Functions given up (analysis budget): no findings, no summary. */
  functionsSkipped: number;
  syntaxErrors: number;
  /** Packages whose C headers were read (through the C preprocessor, when needed), or could not be. */
  cHeadersRead: number;
  cHeadersUnavailable: number;
  /** C units (preambles with function bodies, .c files) clang's analyzer ran on, or could not compile. */
  cAnalyzed: number;
  cAnalyzerFailed: number;
  discovery: string;
}
