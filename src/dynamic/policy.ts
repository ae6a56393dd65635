// When `cgoguard test` fails, per the design document's table: static
// findings at or above a severity, a number of definite leaks at run time,
// any other run-time error. Each reason that applies is said in one line.
import { failsAt, type Finding } from '../findings/finding.js';
import type { Policy } from '../workspace/config.js';

export interface Verdict {
  failed: boolean;
  reasons: string[];
  /** Definite leaks at run time, for the leak report, and whether they fail the run. */
  leaks: Finding[];
  leaksFail: boolean;
}

export function judge(findings: Finding[], policy: Policy): Verdict {
  const reasons: string[] = [];
  const statics = findings.filter((f) => !f.dynamic && failsAt(f.severity, policy.static));
  if (statics.length) reasons.push(`static: ${statics.length} finding(s) at ${policy.static} or above`);
  const leaks = findings.filter((f) => f.dynamic && f.rule === 'leak' && f.dynamic.definite);
  const leaksFail = policy.leaks > 0 && leaks.length >= policy.leaks;
  if (leaksFail) reasons.push(`dynamic: ${leaks.length} definite leak(s) (the policy fails at ${policy.leaks})`);
  // A stack error its test does not hit alone is shown, not counted.
  const runtime = findings.filter((f) => f.dynamic && f.rule !== 'leak' && f.dynamic.alone?.reproduced !== false);
  if (policy.runtime && runtime.length) reasons.push(`runtime: ${runtime.length} memory error(s) at run time`);
  return { failed: reasons.length > 0, reasons, leaks, leaksFail };
}

/** The leak report: live C memory at exit by Go line, largest first. */
export function leakReport(leaks: Finding[]): string {
  const rows = [...leaks].sort((a, b) => (b.dynamic!.bytes ?? 0) - (a.dynamic!.bytes ?? 0));
  const lines = [`# cgoguard leak report: ${rows.length} definite leak(s), ${rows.reduce((a, f) => a + (f.dynamic!.bytes ?? 0), 0)} byte(s)`];
  for (const f of rows) {
    const d = f.dynamic!;
    lines.push(`${f.file}:${f.line}: ${d.bytes ?? 0} byte(s) in ${d.objects ?? 0} object(s) [${d.stage}] ${d.package}`);
    const st = d.stacks[0];
    for (const fr of st?.frames.slice(0, 8) ?? []) lines.push(`    ${fr.fn}${fr.file ? ` ${fr.file}${fr.line ? `:${fr.line}` : ''}` : ''}`);
  }
  return `${lines.join('\n')}\n`;
}
