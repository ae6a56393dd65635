// Progress: a status line on a terminal, nothing when output is not a
// terminal or with --quiet. The terminal is a real pseudo-terminal (script(1)).
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bin, cgoguard, repoRoot } from './support/cli.js';

const hasScript = spawnSync('script', ['--version']).status === 0;
const hasClang = spawnSync('clang', ['--version']).status === 0;
const tmp = mkdtempSync(path.join(tmpdir(), 'cgoguard-progress-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A module whose check takes a few seconds: clang pauses before each analysis. */
function slowModule(): { dir: string; env: NodeJS.ProcessEnv } {
  const dir = mkdtempSync(path.join(tmp, 'mod-'));
  cpSync(path.join(repoRoot, 'testdata/fixtures/c_analyzer'), dir, { recursive: true });
  writeFileSync(path.join(dir, 'go.mod'), 'module example.com/slow\n\ngo 1.22\n');
  const clang = path.join(dir, 'slow-clang');
  writeFileSync(clang, '#!/bin/sh\ncase " $* " in *" --analyze "*) sleep 1 ;; esac\nexec clang "$@"\n');
  chmodSync(clang, 0o755);
  const env: NodeJS.ProcessEnv = { ...process.env, CGOGUARD_CLANG: clang, CGOGUARD_CACHE: 'off', COLUMNS: '200' };
  delete env.CI;
  return { dir, env };
}

/** Runs the CLI with stdout and stderr on a pseudo-terminal (unless `redirect` sends one elsewhere); what the terminal received. */
function onTerminal(args: string[], cwd: string, env: NodeJS.ProcessEnv, redirect = ''): string {
  const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const r = spawnSync('script', ['-qec', `${[process.execPath, bin, ...args].map(quote).join(' ')} ${redirect}`, '/dev/null'], { cwd, env, encoding: 'utf8', timeout: 120_000 });
  return r.stdout;
}

describe.skipIf(!hasScript || (!hasClang && !process.env.CI))('progress', () => {
  it('draws a status line on a terminal: packages, and the C units clang is on; cleared before the results', () => {
    const { dir, env } = slowModule();
    const seen = onTerminal(['check', '.'], dir, env);
    expect(seen).toMatch(/\r\x1b\[Kcgoguard: checking: 1\/1 package\(s\); clang 0\/2: (strings\.go|first\.c)/);
    // The line is cleared, then the findings come on lines of their own.
    expect(seen).toMatch(/\r\x1b\[K(\r\n)?first\.c:8:12: Use of memory after it is freed/);
  });

  it('draws nothing with --quiet, or when stdout or stderr is not a terminal', () => {
    const { dir, env } = slowModule();
    const quiet = onTerminal(['check', '--quiet', '.'], dir, env);
    expect(quiet).toMatch(/first\.c:8:12: Use of memory after it is freed/);
    expect(quiet).not.toMatch(/cgoguard: checking/);
    // stdout to a file, stderr on the terminal; and the other way round.
    const toFile = onTerminal(['check', '.'], dir, env, `> ${path.join(dir, 'out.txt')}`);
    expect(toFile).not.toMatch(/cgoguard: checking/);
    const errToFile = onTerminal(['check', '.'], dir, env, `2> ${path.join(dir, 'err.txt')}`);
    expect(errToFile).toMatch(/first\.c:8:12/);
    expect(readFileSync(path.join(dir, 'err.txt'), 'utf8')).toBe('');
    const piped = cgoguard(['check', '.'], { cwd: dir, env });
    expect(piped.stderr).toBe('');
    expect(piped.stdout).toMatch(/first\.c:8:12/);
  });
});
