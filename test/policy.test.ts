// The policy of `cgoguard test`, and its configuration.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Finding } from '../src/findings/finding.js';
import { judge, leakReport } from '../src/dynamic/policy.js';
import { ConfigError, DEFAULT_POLICY, loadConfig } from '../src/workspace/config.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'cgoguard-policy-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const base: Finding = { rule: 'leak', severity: 'error', message: 'm', file: 'a.go', line: 3, column: 1, endLine: 3, endColumn: 1, function: '', trace: [] };
const leak = (bytes: number, definite: boolean): Finding => ({
  ...base,
  severity: definite ? 'error' : 'warning',
  dynamic: { stage: 'asan', tool: 'lsan', kind: definite ? 'Direct leak' : 'Indirect leak', package: 'p', bytes, objects: 1, definite, locatedBy: 'stack', count: 1, stacks: [{ title: 'allocated', frames: [{ fn: 'malloc' }, { fn: 'p.F', file: 'a.go', line: 3 }] }] },
});
const uaf: Finding = { ...base, rule: 'use-after-free', dynamic: { ...leak(8, true).dynamic!, tool: 'asan', kind: 'heap-use-after-free', definite: undefined } };

describe('policy', () => {
  it('fails on static findings at the threshold, definite leaks, and run-time errors, saying why', () => {
    expect(judge([{ ...base, severity: 'warning' }], DEFAULT_POLICY).reasons).toEqual(['static: 1 finding(s) at warning or above']);
    expect(judge([{ ...base, severity: 'note' }], DEFAULT_POLICY).failed).toBe(false);
    expect(judge([leak(4, false)], DEFAULT_POLICY).failed).toBe(false); // only definite leaks count
    expect(judge([leak(4, true)], DEFAULT_POLICY).reasons).toEqual(['dynamic: 1 definite leak(s) (the policy fails at 1)']);
    expect(judge([leak(4, true)], { ...DEFAULT_POLICY, leaks: 2 }).failed).toBe(false);
    expect(judge([leak(4, true)], { ...DEFAULT_POLICY, leaks: 0 }).failed).toBe(false);
    expect(judge([uaf], DEFAULT_POLICY).reasons).toEqual(['runtime: 1 memory error(s) at run time']);
    expect(judge([uaf], { ...DEFAULT_POLICY, runtime: false }).failed).toBe(false);
  });

  it('writes the leak report largest first, with the allocation stack', () => {
    const text = leakReport(judge([leak(4, true), { ...leak(100, true), line: 9 }], DEFAULT_POLICY).leaks);
    expect(text.split('\n').slice(0, 3)).toEqual(['# cgoguard leak report: 2 definite leak(s), 104 byte(s)', 'a.go:9: 100 byte(s) in 1 object(s) [asan] p', '    malloc']);
  });

  it('is read from cgoguard.yaml, strictly', () => {
    const file = path.join(tmp, 'cgoguard.yaml');
    writeFileSync(file, 'fail-on: error\npolicy:\n  leaks: 3\n  runtime: false\n  leak-report: out/leaks.txt\n');
    expect(loadConfig(file).policy).toEqual({ static: 'error', staticConfidence: 'high', leaks: 3, runtime: false, leakReport: path.join(tmp, 'out/leaks.txt'), finalizerHeld: false });
    writeFileSync(file, 'policy:\n  leak: 3\n');
    expect(() => loadConfig(file)).toThrow(ConfigError);
    expect(() => loadConfig(file)).toThrow(/policy\.leak: unknown key/);
    writeFileSync(file, 'policy:\n  leaks: -1\n');
    expect(() => loadConfig(file)).toThrow(/policy\.leaks: /);
  });
});
