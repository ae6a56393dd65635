// The Go toolchain's own pointer-passing table: every case the runtime
// rejects (cgocheck, and cgocheck2 for the "expensive" ones) is reported, and
// no case it accepts is. The score is printed.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyzePackage } from '../src/pipeline/analyze-package.js';
import { initParsers } from '../src/syntax/parser.js';
import { readPtrTable, writeCase } from './support/ptrtable.js';

const goroot = execFileSync('go', ['env', 'GOROOT'], { encoding: 'utf8' }).trim();
const tmp = mkdtempSync(path.join(tmpdir(), 'cgoguard-ptr-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const POINTER_RULES = new Set(['unpinned-go-pointer', 'go-pointer-in-c-memory', 'export-go-pointer', 'hidden-pointer', 'slice-header', 'c-keeps-go-pointer']);

describe('ptr_test.go', () => {
  beforeAll(() => initParsers());

  it('classifies every case of the pointer-passing table as the runtime does', () => {
    const cases = readPtrTable(goroot);
    expect(cases.length).toBeGreaterThan(40);
    const misses: string[] = [];
    const falseAlarms: string[] = [];
    for (const c of cases) {
      const dir = writeCase(tmp, c);
      const build = { goos: 'linux', goarch: 'amd64', tags: [], cgo: true, goMinor: 26 };
      const r = analyzePackage(
        { importPath: `ptrtest/${c.name}`, name: 'main', dir, files: [{ path: path.join(dir, 'main.go'), display: `${c.name}/main.go` }], cFiles: [], build },
        [],
        { contracts: [], disabledRules: new Set() },
      );
      const flagged = r.findings.filter((f) => POINTER_RULES.has(f.rule));
      if (c.fail && flagged.length === 0) misses.push(c.name);
      // The table is about pointer passing; its programs also leak, which other rules rightly report.
      if (!c.fail && flagged.length > 0) falseAlarms.push(`${c.name}: ${flagged.map((f) => `${f.message} (${f.rule})`).join('; ')}`);
    }
    const right = cases.length - misses.length - falseAlarms.length;
    process.stdout.write(`ptr_test.go: ${right}/${cases.length} right (${cases.filter((c) => c.fail).length} that fail at run time); misses: ${misses.join(', ') || 'none'}; false alarms: ${falseAlarms.length}\n`);
    expect({ misses, falseAlarms }).toEqual({ misses: [], falseAlarms: [] });
  });
});
