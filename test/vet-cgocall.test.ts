// go vet's own cgocall testdata (golang.org/x/tools, from the Go module
// proxy): every `// want` line is counted, found or not. The lines left out
// are the four README names: the first word of a nil slice of ints, which
// the runtime accepts (vet flags it by type alone). The score is printed.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { analyzePackage } from '../src/pipeline/analyze-package.js';
import { initParsers } from '../src/syntax/parser.js';

const TOOLS = 'golang.org/x/tools@v0.52.0';
const POINTER_RULES = new Set(['unpinned-go-pointer', 'go-pointer-in-c-memory', 'export-go-pointer', 'hidden-pointer', 'slice-header', 'c-keeps-go-pointer']);

/** Lines deliberately not reported (README, "go vet's cgocall testdata"): C gets the data pointer of a []int, which holds no Go pointer. */
const NOT_REPORTED = ['a/cgo.go:28', 'a/cgo.go:32', 'a/cgo.go:36', 'a/cgo.go:40'];

function testdataDir(): string | undefined {
  try {
    const out = execFileSync('go', ['mod', 'download', '-json', TOOLS], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 300_000 });
    const dir = path.join(JSON.parse(out).Dir, 'go/analysis/passes/cgocall/testdata/src');
    return existsSync(dir) ? dir : undefined;
  } catch {
    return undefined;
  }
}

describe("go vet's cgocall testdata", () => {
  beforeAll(() => initParsers());

  it('reports every want line but the documented ones, and nothing else', (ctx) => {
    const src = testdataDir();
    if (!src) {
      if (process.env.CI) expect.fail(`${TOOLS} could not be downloaded from the Go module proxy`);
      ctx.skip();
      return;
    }
    const wants = new Set<string>();
    const flagged = new Set<string>();
    for (const pkg of readdirSync(src).sort()) {
      const dir = path.join(src, pkg);
      const names = readdirSync(dir).filter((f) => f.endsWith('.go')).sort();
      for (const name of names) {
        readFileSync(path.join(dir, name), 'utf8')
          .split('\n')
          .forEach((text, i) => {
            if (/\/\/ want "/.test(text)) wants.add(`${pkg}/${name}:${i + 1}`);
          });
      }
      const files = names.map((f) => ({ path: path.join(dir, f), display: `${pkg}/${f}` }));
      const build = { goos: 'linux', goarch: 'amd64', tags: [], cgo: true, goMinor: 26 };
      const r = analyzePackage({ importPath: `vettest/${pkg}`, name: pkg, dir, files, cFiles: [], build }, [], { contracts: [], disabledRules: new Set() });
      for (const f of r.findings) if (POINTER_RULES.has(f.rule)) flagged.add(`${f.file}:${f.line}`);
    }
    const found = [...wants].filter((w) => flagged.has(w));
    const missed = [...wants].filter((w) => !flagged.has(w));
    const extra = [...flagged].filter((f) => !wants.has(f));
    process.stdout.write(`go vet cgocall testdata (${TOOLS}): ${found.length}/${wants.size} want lines reported; not reported: ${missed.join(', ') || 'none'}; reported without a want: ${extra.join(', ') || 'none'}\n`);
    expect(wants.size).toBe(18);
    expect({ missed, extra }).toEqual({ missed: NOT_REPORTED, extra: [] });
  });
});
