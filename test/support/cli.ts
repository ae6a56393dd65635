// Runs the built CLI (bin/cgoguard.js) as a user would.
import { spawnSync } from 'node:child_process';
import path from 'node:path';

export const repoRoot = path.resolve(__dirname, '../..');
/** The CLI under test: this checkout's, or another build's (CGOGUARD_TEST_BIN, to see a test fail on an older one). */
export const bin = process.env.CGOGUARD_TEST_BIN ?? path.join(repoRoot, 'bin/cgoguard.js');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs the CLI. The whole-run cache is off unless the environment given says
 * otherwise (test/cache.test.ts): tests that plant or remove cache entries, or
 * change a file and run again at once, test the analysis, not that cache.
 */
export function cgoguard(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeout?: number } = {}): CliResult {
  const r = spawnSync(process.execPath, [bin, ...args], {
    cwd: opts.cwd ?? repoRoot,
    env: { CGOGUARD_RUN_CACHE: 'off', ...(opts.env ?? process.env) },
    encoding: 'utf8',
    timeout: opts.timeout ?? 300_000,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}
