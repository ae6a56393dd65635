// Function results kept across analyses (what the language server does on
// every edit) must give exactly what a fresh analysis gives: every fixture is
// edited at random places (blank lines, comments, removed statements,
// changed lines) and analysed both ways after each edit.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { analyzePackage } from '../src/pipeline/analyze-package.js';
import { AnalysisCancelled, FunctionMemo } from '../src/pipeline/function-memo.js';
import { initParsers } from '../src/syntax/parser.js';

const root = path.resolve(__dirname, '../testdata/fixtures');
const build = { goos: 'linux', goarch: 'amd64', tags: [], cgo: true, goMinor: 26 };
const fixtures = readdirSync(root).filter((d) => !d.startsWith('c_analyzer') && d !== 'malformed');

function job(name: string, texts: Map<string, string>) {
  const dir = path.join(root, name);
  const files = [...texts].map(([f, text]) => ({ path: path.join(dir, f), display: `${name}/${f}`, text }));
  return { importPath: `fixtures/${name}`, name, dir, files, cFiles: [], build };
}

/** A small deterministic generator, so that a failure can be replayed. */
function random(seed: number) {
  let s = seed;
  return (n: number) => {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    return s % n;
  };
}

describe('function results kept across edits', () => {
  beforeAll(() => initParsers());

  for (const seed of [1, 2]) {
    it(`equal a fresh analysis after random edits (seed ${seed})`, () => {
      const rnd = random(seed);
      let reused = 0;
      for (const name of fixtures) {
        const dir = path.join(root, name);
        const texts = new Map(readdirSync(dir).filter((f) => f.endsWith('.go')).sort().map((f) => [f, readFileSync(path.join(dir, f), 'utf8')]));
        const memo = new FunctionMemo();
        for (let step = 0; step < 8; step++) {
          const names = [...texts.keys()];
          const file = names[rnd(names.length)];
          const before = texts.get(file)!;
          const lines = before.split('\n');
          const at = rnd(lines.length);
          const kind = rnd(5);
          if (kind === 0) lines.splice(at, 0, '');
          else if (kind === 1) lines.splice(at, 0, '// a comment');
          else if (kind === 2 && /^\t[a-z]/.test(lines[at] ?? '')) lines.splice(at, 1);
          else if (kind === 3) lines.splice(at, 0, '', '');
          else lines[at] = `${lines[at] ?? ''} `;
          texts.set(file, lines.join('\n'));
          memo.moveThroughEdit(`${name}/${file}`, before, texts.get(file)!);
          const kept = analyzePackage(job(name, texts), [], { contracts: [], disabledRules: new Set(), cAnalyzer: false, memo });
          memo.prune();
          const fresh = analyzePackage(job(name, texts), [], { contracts: [], disabledRules: new Set(), cAnalyzer: false });
          expect(kept.findings, `${name} after edit ${step} of ${file} at line ${at + 1}`).toEqual(fresh.findings);
          expect(kept.summaries).toEqual(fresh.summaries);
        }
        reused += memo.hits;
      }
      // Most functions are not touched by an edit: their results are reused.
      expect(reused).toBeGreaterThan(1000);
    });
  }

  it('stops an analysis when asked, and keeps what it finished', () => {
    const name = 'leak';
    const texts = new Map([['leak.go', readFileSync(path.join(root, name, 'leak.go'), 'utf8')]]);
    const memo = new FunctionMemo();
    let polls = 0;
    expect(() => analyzePackage(job(name, texts), [], { contracts: [], disabledRules: new Set(), cAnalyzer: false, memo, cancelled: () => ++polls > 5 })).toThrow(AnalysisCancelled);
    expect(memo.size).toBe(5);
    const again = analyzePackage(job(name, texts), [], { contracts: [], disabledRules: new Set(), cAnalyzer: false, memo });
    expect(memo.hits).toBe(5);
    expect(again.findings).toEqual(analyzePackage(job(name, texts), [], { contracts: [], disabledRules: new Set(), cAnalyzer: false }).findings);
  });
});
