// The go vet style: `path:line:col: message (rule)`, then the trace indented.
import type { Finding } from '../findings/finding.js';

export function formatText(findings: Finding[]): string {
  const lines: string[] = [];
  for (const f of findings) {
    lines.push(`${f.file}:${f.line}:${f.column}: ${f.message} (${f.rule})`);
    for (const s of f.trace) lines.push(`    ${s.file}:${s.line}:${s.column}: ${s.message}`);
  }
  return lines.length ? `${lines.join('\n')}\n` : '';
}
