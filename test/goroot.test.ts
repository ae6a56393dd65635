// Robustness: every .go file under $(go env GOROOT)/src — testdata with its
// deliberately broken files included, whatever the build constraints — is
// parsed and every function analysed, with no internal error and no hang.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
// The built pipeline: it runs on worker threads, which load compiled files.
import { runCheck } from '../dist/pipeline/check.js';
import { defaultConfig } from '../dist/workspace/config.js';

const goroot = execFileSync('go', ['env', 'GOROOT'], { encoding: 'utf8' }).trim();

describe('GOROOT', () => {
  it('analyses every function of every file without crashing', async () => {
    const r = await runCheck({
      cwd: process.cwd(),
      patterns: [`${path.join(goroot, 'src')}/...`],
      config: defaultConfig(),
      tags: [],
      tests: true,
      jobs: 0,
      forceAll: true,
      everyFile: true,
      // Our own parsing and analysis are under test here, not clang.
      cAnalyzer: false,
    });
    const internal = r.notes.filter((n) => /internal error/.test(n));
    expect(internal).toEqual([]);
    expect(r.stats.files).toBeGreaterThan(7000);
    expect(r.stats.syntaxErrors).toBeGreaterThan(0); // the broken testdata is in
    expect(r.stats.functionsAnalyzed).toBe(r.stats.functions);
    // The budget may give up on a few huge generated functions, never on many.
    expect(r.stats.functionsSkipped / r.stats.functions).toBeLessThan(0.005);
  }, 900_000);
});
