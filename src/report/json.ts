// The JSON form other tools read: {"version": 1, "findings": [...], "stats": {...}}.
import { confidenceOf, type CheckStats, type Finding } from '../findings/finding.js';

export const JSON_VERSION = 1;

export function formatJSON(findings: Finding[], stats: CheckStats | object): string {
  const out = {
    version: JSON_VERSION,
    findings: findings.map((f) => ({
      rule: f.rule,
      severity: f.severity,
      confidence: confidenceOf(f),
      message: f.message,
      file: f.file,
      line: f.line,
      column: f.column,
      endLine: f.endLine,
      endColumn: f.endColumn,
      function: f.function,
      trace: f.trace.map((s) => ({ file: s.file, line: s.line, column: s.column, message: s.message })),
      ...(f.confirmedBy?.length ? { confirmedBy: f.confirmedBy } : {}),
      ...(f.runtime?.length ? { runtime: f.runtime } : {}),
      ...(f.dynamic ? { ...(f.confirmed !== undefined ? { confirmed: f.confirmed } : {}), dynamic: f.dynamic } : {}),
      ...(f.fixes?.length ? { fixes: f.fixes } : {}),
    })),
    stats,
  };
  return `${JSON.stringify(out, null, 2)}\n`;
}
