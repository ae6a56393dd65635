// The bundled examples (the seed's scenarios) through the real CLI: every
// `// want` is found, nothing else is.
import path from 'node:path';
import { readdirSync, statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { cgoguard, repoRoot } from './support/cli.js';
import { compareWants, readWants } from './support/fixtures.js';

describe('examples', () => {
  it('finds exactly the expected bugs in ./examples/...', () => {
    const r = cgoguard(['check', '--format', 'json', './examples/...']);
    expect(r.stderr).toBe('');
    const out = JSON.parse(r.stdout);
    const examples = path.join(repoRoot, 'examples');
    const dirs = readdirSync(examples).filter((d) => statSync(path.join(examples, d)).isDirectory());
    expect(dirs.length).toBeGreaterThanOrEqual(9);
    const wants = dirs.flatMap((d) => readWants(path.join(examples, d), (abs) => path.relative(repoRoot, abs)));
    expect(wants.length).toBeGreaterThan(0);
    expect(compareWants(out.findings, wants)).toEqual([]);
    expect(r.code).toBe(1);
    expect(out.stats.discovery).toBe('go list');
  });
});
