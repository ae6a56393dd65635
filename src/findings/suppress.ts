// `//cgoguard:ignore RULE[,RULE...] reason` suppressions. An ignore covers
// findings on its own line and on the line below it. Ignores without a rule
// or a reason, naming unknown rules, or matching nothing are reported.
import { badDirective } from '../rules/bad-directive.js';
import { ruleById } from '../rules/index.js';
import { unusedIgnore } from '../rules/unused-ignore.js';
import { parseDirective } from '../syntax/directives.js';
import type { Finding } from './finding.js';

export interface IgnoreDirective {
  file: string; // display path
  line: number;
  column: number;
  endColumn: number;
  text: string; // the comment text
}

interface ParsedIgnore {
  d: IgnoreDirective;
  rules: string[];
  used: boolean;
}

export interface SuppressOptions {
  /** Rules that are switched off: ignores naming only these are not called unused. */
  disabled: ReadonlySet<string>;
  /** Lines of functions whose analysis was cut short: an ignore there may have matched. */
  uncertain: (file: string, line: number) => boolean;
}

export function applySuppressions(findings: Finding[], directives: IgnoreDirective[], opts: SuppressOptions): Finding[] {
  const out: Finding[] = [];
  const ignores: ParsedIgnore[] = [];
  const problem = (d: IgnoreDirective, rule: string, severity: Finding['severity'], message: string): Finding => ({
    rule,
    severity,
    message,
    file: d.file,
    line: d.line,
    column: d.column,
    endLine: d.line,
    endColumn: d.endColumn,
    function: '',
    trace: [],
  });
  for (const d of directives) {
    const parsed = parseDirective(d.text);
    if (!parsed) continue;
    const { verb, text: rest } = parsed;
    if (verb === 'contract') continue; // read by the model
    if (verb !== 'ignore') {
      out.push(problem(d, badDirective.id, badDirective.severity, `unknown directive cgoguard:${verb} (known: ignore, contract)`));
      continue;
    }
    const [ruleList = '', ...reasonWords] = rest.split(/\s+/).filter(Boolean);
    if (!ruleList) {
      out.push(problem(d, badDirective.id, badDirective.severity, 'cgoguard:ignore needs a rule and a reason: //cgoguard:ignore RULE reason'));
      continue;
    }
    const rules = ruleList.split(',').filter(Boolean);
    const unknown = rules.filter((r) => !ruleById(r));
    if (unknown.length) {
      out.push(problem(d, badDirective.id, badDirective.severity, `cgoguard:ignore names unknown rule ${unknown.join(', ')} (see cgoguard rules)`));
      continue;
    }
    if (reasonWords.length === 0) {
      out.push(problem(d, badDirective.id, badDirective.severity, `cgoguard:ignore ${ruleList} has no reason: say why the finding is wrong or acceptable`));
      continue;
    }
    ignores.push({ d, rules, used: false });
  }
  const byLine = new Map<string, ParsedIgnore[]>();
  for (const ig of ignores) {
    for (const line of [ig.d.line, ig.d.line + 1]) {
      const k = `${ig.d.file}:${line}`;
      const list = byLine.get(k) ?? [];
      list.push(ig);
      byLine.set(k, list);
    }
  }
  for (const f of findings) {
    const match = byLine.get(`${f.file}:${f.line}`)?.find((ig) => ig.rules.includes(f.rule));
    if (match) match.used = true;
    else out.push(f);
  }
  for (const ig of ignores) {
    if (ig.used) continue;
    if (ig.rules.every((r) => opts.disabled.has(r))) continue;
    if (opts.uncertain(ig.d.file, ig.d.line)) continue;
    out.push(problem(ig.d, unusedIgnore.id, unusedIgnore.severity, `cgoguard:ignore ${ig.rules.join(',')} suppresses nothing on this line or the next`));
  }
  return out;
}
