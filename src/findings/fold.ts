// Findings that say the same thing about the same line: one finding, not
// several (two inline C.CString arguments of one call leak the same way).
import type { Finding } from './finding.js';

export function foldSameLine(findings: Finding[]): Finding[] {
  const out: Finding[] = [];
  const byKey = new Map<string, { first: Finding; count: number }>();
  for (const f of findings) {
    const key = `${f.file}\0${f.line}\0${f.rule}\0${f.message}`;
    const seen = byKey.get(key);
    if (!seen) {
      const copy = { ...f, trace: [...f.trace] };
      byKey.set(key, { first: copy, count: 1 });
      out.push(copy);
      continue;
    }
    seen.count++;
    seen.first.trace.push(...f.trace.filter((s) => !seen.first.trace.some((t) => t.file === s.file && t.line === s.line && t.column === s.column && t.message === s.message)));
  }
  for (const { first, count } of byKey.values()) if (count > 1) first.message = `${first.message} (${count} times on this line)`;
  return out;
}
