// Every rule's positive and negative fixtures under testdata/fixtures.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { clangAvailable } from '../src/model/canalyzer.js';
import { inferFromUsage } from '../src/knowledge/usage.js';
import { analyzePackageWithC } from '../src/pipeline/analyze-package.js';
import { initParsers } from '../src/syntax/parser.js';
import { readGoHeader } from '../src/workspace/goheader.js';
import { compareWants, readWants } from './support/fixtures.js';

const root = path.resolve(__dirname, '../testdata/fixtures');

describe('fixtures', () => {
  beforeAll(() => initParsers());
  for (const name of readdirSync(root).sort()) {
    it(name, async (ctx) => {
      // clang's analyzer runs only for its own fixtures; CI installs clang, elsewhere they need it.
      const cAnalyzer = name.startsWith('c_analyzer');
      if (cAnalyzer && !clangAvailable()) {
        if (process.env.CI) expect.fail('clang is required in CI (.ci/run installs it)');
        ctx.skip();
      }
      const dir = path.join(root, name);
      const files = readdirSync(dir)
        .filter((f) => f.endsWith('.go'))
        .sort()
        .map((f) => ({ path: path.join(dir, f), display: `${name}/${f}` }));
      expect(files.length, 'a fixture directory holds a Go package').toBeGreaterThan(0);
      const display = (abs: string) => `${name}/${path.basename(abs)}`;
      const wants = readWants(dir, display);
      // Positive fixtures must expect something; *_ok fixtures expect nothing.
      if (name.endsWith('_ok')) expect(wants).toEqual([]);
      else expect(wants.length).toBeGreaterThan(0);
      const pkgName = readGoHeader(readFileSync(files[0].path, 'utf8')).pkgName ?? name;
      const cFiles = readdirSync(dir)
        .filter((f) => /\.[ch]$/.test(f))
        .sort()
        .map((f) => ({ path: path.join(dir, f), display: `${name}/${f}` }));
      const build = { goos: 'linux', goarch: 'amd64', tags: [], cgo: true, goMinor: 26 };
      const job = { importPath: `fixtures/${name}`, name: pkgName, dir, files, cFiles, build };
      // The fixture is its own module: what its usage says applies, as in check.
      const usage = inferFromUsage(files.map((f) => ({ display: f.display, text: readFileSync(f.path, 'utf8') })));
      const result = await analyzePackageWithC(job, [], { contracts: [], usage, disabledRules: new Set(), cAnalyzer });
      expect(compareWants(result.findings, wants)).toEqual([]);
      expect(result.stats.aborted).toBe(0);
    });
  }
});
