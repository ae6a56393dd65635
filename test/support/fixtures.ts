// analysistest-style fixtures: a Go package per directory, with
// `// want "regexp"` on every line that must have a finding. Each regexp must
// match one finding on its line (against "message (rule)"), and every
// finding must be wanted.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Finding } from '../../src/findings/finding.js';

export interface Want {
  file: string;
  line: number;
  re: RegExp;
  matched: boolean;
}

export function readWants(dir: string, display: (abs: string) => string): Want[] {
  const wants: Want[] = [];
  // Go files, and C files (for what clang's analyzer finds in them).
  for (const name of readdirSync(dir).filter((n) => /\.(go|c|h)$/.test(n)).sort()) {
    const abs = path.join(dir, name);
    const lines = readFileSync(abs, 'utf8').split('\n');
    lines.forEach((text, i) => {
      const m = /\/\/ want((?:\s+"(?:[^"\\]|\\.)*")+)\s*$/.exec(text);
      if (!m) return;
      for (const q of m[1].matchAll(/"((?:[^"\\]|\\.)*)"/g)) {
        wants.push({ file: display(abs), line: i + 1, re: new RegExp(JSON.parse(`"${q[1]}"`)), matched: false });
      }
    });
  }
  return wants;
}

/** Problems, as readable lines; empty when findings and wants agree. */
export function compareWants(findings: Finding[], wants: Want[]): string[] {
  const problems: string[] = [];
  for (const f of findings) {
    // As the text output shows it: the confidence is named when it is not high.
    const text = `${f.message} (${f.rule}${f.confidence && f.confidence !== 'high' ? `, ${f.confidence} confidence` : ''})`;
    const w = wants.find((x) => !x.matched && x.file === f.file && x.line === f.line && x.re.test(text));
    if (w) w.matched = true;
    else problems.push(`unexpected finding ${f.file}:${f.line}:${f.column}: ${text}`);
  }
  for (const w of wants) if (!w.matched) problems.push(`missing finding ${w.file}:${w.line}: want ${w.re}`);
  return problems;
}
