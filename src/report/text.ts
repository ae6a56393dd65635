// The go vet style: `path:line:col: message (rule)`, then the trace indented.
// Findings of running code add their stage and the stacks the tool printed.
import { confidenceOf, type DynamicDetail, type Finding } from '../findings/finding.js';

/** Frames shown per stack in text: enough to see the C function and the Go caller. */
const TEXT_FRAMES = 8;

export function formatText(findings: Finding[]): string {
  const lines: string[] = [];
  for (const f of findings) {
    const tag = f.dynamic ? ` [${f.dynamic.stage}${f.confirmed === undefined ? '' : f.confirmed ? ', confirms a static finding' : ', no static rule predicted it'}]` : f.confirmedBy?.length ? ` [confirmed by ${f.confirmedBy.join(', ')}]` : '';
    const sure = confidenceOf(f) === 'high' ? '' : `, ${confidenceOf(f)} confidence`;
    lines.push(`${f.file}:${f.line}:${f.column}: ${f.message} (${f.rule}${sure})${tag}`);
    for (const s of f.trace) lines.push(`    ${s.file}:${s.line}:${s.column}: ${s.message}`);
    if (f.dynamic) lines.push(...stackLines(f.dynamic));
    for (const e of f.runtime ?? []) {
      lines.push(`    seen at run time (${e.stage}): ${e.message}`);
      lines.push(...stackLines(e, '        '));
    }
  }
  return lines.length ? `${lines.join('\n')}\n` : '';
}

function stackLines(d: DynamicDetail, indent = '    '): string[] {
  const out: string[] = [];
  for (const s of d.stacks) {
    if (!s.frames.length) continue;
    out.push(`${indent}${s.title}:`);
    for (const fr of s.frames.slice(0, TEXT_FRAMES)) out.push(`${indent}    ${fr.fn}${fr.file ? ` ${fr.file}${fr.line ? `:${fr.line}` : ''}` : ''}`);
    if (s.frames.length > TEXT_FRAMES) out.push(`${indent}    ... ${s.frames.length - TEXT_FRAMES} more`);
  }
  return out;
}
