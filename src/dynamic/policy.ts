// When `cgoguard test` fails, per the design document's table: static
// findings at or above a severity, a number of definite leaks at run time,
// any other run-time error. Each reason that applies is said in one line.
// What a run saw counts whether it stands as a finding of its own or was
// merged into the static finding it confirms.
import { failsAt, type DynamicDetail, type Finding } from '../findings/finding.js';
import type { Policy } from '../workspace/config.js';

/** One thing a run-time stage saw, at the line it was placed. */
export interface Observed {
  file: string;
  line: number;
  rule: string;
  detail: DynamicDetail;
}

export interface Verdict {
  failed: boolean;
  reasons: string[];
  /** Definite leaks at run time, for the leak report, and whether they fail the run. */
  leaks: Observed[];
  leaksFail: boolean;
}

/** Everything the run-time stages saw: run-time findings, and the evidence merged into static ones. */
export function observed(findings: Finding[]): Observed[] {
  return findings.flatMap((f) =>
    f.dynamic ? [{ file: f.file, line: f.line, rule: f.rule, detail: f.dynamic }] : (f.runtime ?? []).map((e) => ({ file: f.file, line: f.line, rule: e.rule, detail: e })),
  );
}

export function judge(findings: Finding[], policy: Policy): Verdict {
  const reasons: string[] = [];
  const statics = findings.filter((f) => !f.dynamic && failsAt(f, policy.static, policy.staticConfidence));
  if (statics.length) reasons.push(`static: ${statics.length} finding(s) at ${policy.static} or above`);
  const seen = observed(findings);
  // Memory a finalizer-owned object still held at exit counts only when the policy says so.
  const leaks = seen.filter((o) => o.rule === 'leak' && (o.detail.definite || (policy.finalizerHeld && o.detail.heldByFinalizer)));
  const leaksFail = policy.leaks > 0 && leaks.length >= policy.leaks;
  if (leaksFail) reasons.push(`dynamic: ${leaks.length} definite leak(s) (the policy fails at ${policy.leaks})`);
  // A stack error its test does not hit alone is shown, not counted.
  const runtime = seen.filter((o) => o.rule !== 'leak' && o.detail.alone?.reproduced !== false);
  if (policy.runtime && runtime.length) reasons.push(`runtime: ${runtime.length} memory error(s) at run time`);
  return { failed: reasons.length > 0, reasons, leaks, leaksFail };
}

/** The leak report: live C memory at exit by Go line, largest first. */
export function leakReport(leaks: Observed[]): string {
  const rows = [...leaks].sort((a, b) => (b.detail.bytes ?? 0) - (a.detail.bytes ?? 0));
  const lines = [`# cgoguard leak report: ${rows.length} definite leak(s), ${rows.reduce((a, o) => a + (o.detail.bytes ?? 0), 0)} byte(s)`];
  for (const o of rows) {
    const d = o.detail;
    lines.push(`${o.file}:${o.line}: ${d.bytes ?? 0} byte(s) in ${d.objects ?? 0} object(s) [${d.stage}] ${d.package}`);
    const st = d.stacks[0];
    for (const fr of st?.frames.slice(0, 8) ?? []) lines.push(`    ${fr.fn}${fr.file ? ` ${fr.file}${fr.line ? `:${fr.line}` : ''}` : ''}`);
  }
  return `${lines.join('\n')}\n`;
}
