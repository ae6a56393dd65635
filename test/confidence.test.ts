// Findings that say how sure they are (an optional `confidence`) show it in
// the CI formats and the editor: a low-confidence finding one severity lower,
// and named as such; findings without it read as before.
import { describe, expect, it } from 'vitest';
import type { Finding } from '../src/findings/finding.js';
import { formatCodeQuality } from '../src/report/codequality.js';
import { Fingerprinter } from '../src/report/fingerprint.js';
import { formatGitHub } from '../src/report/github.js';
import { Texts, toDiagnostic } from '../src/lsp/convert.js';

const base: Finding = { rule: 'leak', severity: 'error', message: 'C memory from C.f is never freed', file: 'a.go', line: 3, column: 2, endLine: 3, endColumn: 9, function: 'f', trace: [] };
const guessed = { ...base, confidence: 'low' } as Finding;
const fp = new Fingerprinter('/nowhere', '/nowhere', () => undefined);

describe('confidence', () => {
  it('lowers the shown severity of a low-confidence finding and names it', () => {
    expect(formatGitHub([base], fp)).toMatch(/^::error .*title=cgoguard leak::/);
    expect(formatGitHub([guessed], fp)).toMatch(/^::warning .*title=cgoguard leak \(low confidence\)::/);
    const [plain, low] = JSON.parse(formatCodeQuality([base, guessed], fp));
    expect([plain.severity, low.severity]).toEqual(['critical', 'major']);
    expect(low.description).toBe('C memory from C.f is never freed (low confidence)');
    const texts = new Texts('/nowhere', new Map([['/nowhere/a.go', 'package a\n\nvar x = 1\n']]));
    expect(toDiagnostic(base, texts)).toMatchObject({ severity: 1, message: base.message });
    expect(toDiagnostic(guessed, texts)).toMatchObject({ severity: 2, message: `${base.message} (low confidence)`, data: { confidence: 'low' } });
  });
});
