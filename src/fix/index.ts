// Quick fixes for findings, computed from the finding (its rule, position and
// message) and the Go file's syntax. The same edits feed the editor's code
// actions, `check --fix` and `--diff`, SARIF's `fixes` and the JSON output.
import path from 'node:path';
import { confidenceOf, type Finding } from '../findings/finding.js';
import type { Fix } from '../findings/fix.js';
import { initParsers } from '../syntax/parser.js';
import { CDeclarations } from './cdecls.js';
import { ignoreFixes, unusedIgnoreFixes } from './ignore.js';
import { keepAliveFixes } from './keepalive.js';
import { pinnerFixes } from './pinner.js';
import { releaseFixes } from './release.js';
import { sliceHeaderFixes } from './slice-header.js';
import { GoSource } from './source.js';

type FixMaker = (f: Finding, src: GoSource, c: CDeclarations) => Fix[];

/** The fixes each rule has, besides the ignore directive every rule can take. */
const BY_RULE: Record<string, FixMaker> = {
  leak: releaseFixes,
  'finalizer-keepalive': keepAliveFixes,
  'slice-header': sliceHeaderFixes,
  'c-keeps-go-pointer': pinnerFixes,
  'unused-ignore': unusedIgnoreFixes,
};

/** Rules a suppression cannot or should not be offered for. */
const NO_IGNORE = new Set(['unused-ignore', 'bad-directive']);

export interface FixSource {
  /** The file as the findings name it. */
  file: string;
  /** Absolute path (for the C preprocessor's include path). */
  path: string;
  text: string;
}

/**
 * Returns the findings with `fixes` set where the source allows one.
 * `sourceOf` gives a finding's file as it was analysed, or undefined when it
 * cannot be had (unreadable, changed since the analysis): no fixes then.
 * Findings of running code get none: they are not tied to an expression.
 */
export async function withFixes(findings: Finding[], sourceOf: (file: string) => FixSource | undefined): Promise<Finding[]> {
  const byFile = new Map<string, Finding[]>();
  for (const f of findings) {
    if (f.dynamic || !f.file.endsWith('.go')) continue;
    byFile.set(f.file, [...(byFile.get(f.file) ?? []), f]);
  }
  if (!byFile.size) return findings;
  await initParsers();
  const fixes = new Map<Finding, Fix[]>();
  for (const [file, list] of byFile) {
    const s = sourceOf(file);
    if (!s) continue;
    const src = new GoSource(file, s.text, list.map((f) => f.line));
    const cdecls = new CDeclarations(src, path.resolve(s.path));
    for (const f of list) {
      const own = fixesFor(f, src, cdecls);
      if (own.length) fixes.set(f, own);
    }
  }
  return findings.map((f) => (fixes.has(f) ? { ...f, fixes: fixes.get(f) } : f));
}

function fixesFor(f: Finding, src: GoSource, cdecls: CDeclarations): Fix[] {
  if (f.line < 1 || f.line > src.lines.lineCount) return [];
  try {
    // A release added for a leak that rests on a guess could free what C kept: a suggestion only,
    // never applied by --fix (a KeepAlive added where it was not needed does no harm).
    const unsure = f.rule === 'leak' && confidenceOf(f) !== 'high';
    const own = (BY_RULE[f.rule]?.(f, src, cdecls) ?? []).map((x) => (unsure ? { ...x, safe: false } : x));
    return NO_IGNORE.has(f.rule) ? own : [...own, ...ignoreFixes(f, src)];
  } catch {
    // A fix is a convenience: a shape of code no fix foresaw must not cost the report.
    return [];
  }
}
