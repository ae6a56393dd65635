// The GitHub Action (action.yml): its check step's script, run with bash as
// the runner would run it (inputs passed through the step's env, the
// action's path, GITHUB_OUTPUT), writes valid SARIF, prints annotations and
// reports the exit status; the upload step gets that SARIF file.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { repoRoot } from './support/cli.js';
import { githubIngestionProblems, sarifErrors } from './support/sarif.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'cgoguard-action-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

interface ActionStep {
  id?: string;
  name?: string;
  uses?: string;
  run?: string;
  shell?: string;
  env?: Record<string, string>;
  with?: Record<string, string>;
  if?: string;
  'working-directory'?: string;
}

const action = parse(readFileSync(path.join(repoRoot, 'action.yml'), 'utf8')) as {
  inputs: Record<string, { default?: string }>;
  outputs: Record<string, { value: string }>;
  runs: { using: string; steps: ActionStep[] };
};

/** `${{ inputs.x }}` and `${{ github.action_path }}` as the runner would expand them. */
function expand(s: string, inputs: Record<string, string>): string {
  return s.replace(/\$\{\{\s*inputs\.([\w-]+)\s*\}\}/g, (_, k: string) => inputs[k] ?? '');
}

function runCheckStep(overrides: Record<string, string>): { code: number; stdout: string; outputs: Record<string, string>; cwd: string } {
  const inputs = { ...Object.fromEntries(Object.entries(action.inputs).map(([k, v]) => [k, v.default ?? ''])), ...overrides };
  const step = action.runs.steps.find((s) => s.id === 'check')!;
  const cwd = path.resolve(tmp, expand(step['working-directory'] ?? '.', inputs));
  const outputFile = path.join(tmp, `output-${Math.random().toString(36).slice(2)}`);
  writeFileSync(outputFile, '');
  const env = { ...process.env, GITHUB_ACTION_PATH: repoRoot, GITHUB_OUTPUT: outputFile, ...Object.fromEntries(Object.entries(step.env ?? {}).map(([k, v]) => [k, expand(v, inputs)])) };
  const r = spawnSync('bash', ['-e', '-c', step.run!], { cwd, env, encoding: 'utf8', timeout: 120_000 });
  const outputs = Object.fromEntries(
    readFileSync(outputFile, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
  return { code: r.status ?? -1, stdout: r.stdout, outputs, cwd };
}

describe('the GitHub Action', () => {
  it('is a composite action that installs cgoguard, checks, uploads SARIF and fails on findings', () => {
    expect(action.runs.using).toBe('composite');
    const uses = action.runs.steps.map((s) => s.uses ?? s.name);
    expect(uses).toEqual(['actions/setup-node@v4', 'Install cgoguard', 'Check', 'github/codeql-action/upload-sarif@v3', 'Result']);
    const upload = action.runs.steps.find((s) => s.uses?.startsWith('github/codeql-action/upload-sarif'))!;
    expect(upload.with).toMatchObject({ sarif_file: '${{ inputs.working-directory }}/${{ inputs.sarif-file }}', category: 'cgoguard' });
    // Inputs reach the scripts through env only, never spliced into the script text.
    for (const s of action.runs.steps) expect(s.run ?? '').not.toMatch(/\$\{\{/);
  });

  it('writes valid SARIF, prints annotations and reports the exit status', () => {
    const dir = path.join(tmp, 'module');
    mkdirSync(path.join(dir, 'pkg'), { recursive: true });
    writeFileSync(path.join(dir, 'go.mod'), 'module example.com/m\n\ngo 1.21\n');
    writeFileSync(path.join(dir, 'pkg', 'a.go'), 'package pkg\n\n/*\n#include <stdlib.h>\nstatic void use(const char *s) { (void)s; }\n*/\nimport "C"\n\nfunc a(s string) {\n\tC.use(C.CString(s))\n}\n');
    const r = runCheckStep({ 'working-directory': 'module', args: '--no-c-analyzer' });
    expect(r.code).toBe(0);
    expect(r.outputs).toEqual({ 'sarif-file': 'cgoguard.sarif', 'exit-code': '1' });
    const sarif = JSON.parse(readFileSync(path.join(dir, 'cgoguard.sarif'), 'utf8'));
    expect(sarifErrors(sarif)).toBe('');
    expect(githubIngestionProblems(sarif)).toEqual([]);
    expect(sarif.runs[0].results.map((x: { ruleId: string }) => x.ruleId)).toEqual(['leak']);
    expect(r.stdout).toMatch(/^::error file=pkg\/a\.go,line=10,col=8,/m);

    const quiet = runCheckStep({ 'working-directory': 'module', args: '--no-c-analyzer --disable leak', annotations: 'false', 'sarif-file': 'quiet.sarif' });
    expect(quiet.outputs['exit-code']).toBe('0');
    expect(quiet.stdout).toBe('');
    expect(JSON.parse(readFileSync(path.join(dir, 'quiet.sarif'), 'utf8')).runs[0].results).toEqual([]);

    const bad = runCheckStep({ 'working-directory': 'module', patterns: './nothing/...', args: '--no-c-analyzer' });
    expect(bad.outputs['exit-code']).toBe('2');
  });
});
