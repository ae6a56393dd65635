// clang's analyzer within its budget, through the CLI: a timeout said once,
// remembered and not waited for again; vendored C left out unless asked for;
// the size limit; the run's total; units in parallel up to --jobs. A wrapper
// around clang records what the analyzer was asked to do.
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cgoguard, repoRoot } from './support/cli.js';

const hasClang = spawnSync('clang', ['--version']).status === 0;
const tmp = mkdtempSync(path.join(tmpdir(), 'cgoguard-budget-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

let n = 0;

/**
 * clang, which pauses before each analysis; the log has a line as each
 * analysis is asked for, and one with the pause's start and end.
 */
function recordingClang(pauseSeconds: number): { clang: string; analyses: () => number; pauses: () => { start: number; end: number }[] } {
  const dir = mkdtempSync(path.join(tmp, 'clang-'));
  const log = path.join(dir, 'log');
  const clang = path.join(dir, 'clang');
  writeFileSync(
    clang,
    `#!/bin/sh
case " $* " in
  *" --analyze "*)
    echo "asked" >> "${log}"
    start=$(date +%s.%N)
    sleep ${pauseSeconds}
    echo "paused $start $(date +%s.%N)" >> "${log}"
    exec clang "$@" ;;
esac
exec clang "$@"
`,
  );
  chmodSync(clang, 0o755);
  const lines = () => (existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : []);
  return {
    clang,
    analyses: () => lines().filter((l) => l === 'asked').length,
    pauses: () =>
      lines()
        .filter((l) => l.startsWith('paused '))
        .map((l) => ({ start: Number(l.split(' ')[1]), end: Number(l.split(' ')[2]) })),
  };
}

/** The c_analyzer fixture as a module of its own, with a configuration file. */
function fixtureModule(config = ''): string {
  const dir = path.join(tmp, `mod${n++}`);
  cpSync(path.join(repoRoot, 'testdata/fixtures/c_analyzer'), dir, { recursive: true });
  writeFileSync(path.join(dir, 'go.mod'), 'module example.com/cfix\n\ngo 1.22\n');
  if (config) writeFileSync(path.join(dir, 'cgoguard.yaml'), config);
  return dir;
}

function check(dir: string, env: NodeJS.ProcessEnv, ...extra: string[]) {
  const r = cgoguard(['check', '--format', 'json', ...extra, '.'], { cwd: dir, env });
  const findings = (JSON.parse(r.stdout).findings as { rule: string; file: string; message: string }[]).filter((f) => f.rule === 'c-analyzer');
  return { ...r, findings, clangNotes: r.stderr.split('\n').filter((l) => /clang/.test(l)) };
}

describe.skipIf(!hasClang && !process.env.CI)("clang's budget", () => {
  it('reports a timeout once, remembers it, and does not wait for it again unless given more time', () => {
    // clang pauses 3 s before each analysis, which is given 0.5 s.
    const dir = fixtureModule('c-analyzer:\n  unit-timeout: 0.5\n  unit-timeout-per-kb: 0\n');
    const { clang, analyses } = recordingClang(3);
    const env = { ...process.env, CGOGUARD_CLANG: clang, CGOGUARD_CACHE: path.join(tmp, `cache${n++}`) };
    const first = check(dir, env);
    expect(first.clangNotes).toHaveLength(1);
    expect(first.clangNotes[0]).toMatch(/^cgoguard: clang's analyzer ran out of time on 2 C unit\(s\) \((strings\.go|first\.c) \(after 0\.5 s\), (strings\.go|first\.c) \(after 0\.5 s\)\): their C code was not analysed for memory bugs; this is remembered/);
    expect(first.findings).toEqual([]);
    expect(JSON.parse(first.stdout).stats.cAnalyzerFailed).toBe(2);
    expect(analyses()).toBe(2);
    // An edit to the Go code outside the preamble: the package is analysed again, its C units are not.
    writeFileSync(path.join(dir, 'strings.go'), `${readFileSync(path.join(dir, 'strings.go'), 'utf8')}\n// an edit\n`);
    const second = check(dir, env);
    expect(second.clangNotes).toHaveLength(1);
    expect(second.clangNotes[0]).toMatch(/ran out of time on 2 C unit\(s\) \(\w+\.\w+ \(after 0\.5 s, remembered from an earlier run\), \w+\.\w+ \(after 0\.5 s, remembered/);
    expect(analyses()).toBe(2);
    // More time: analysed again, and the findings come.
    writeFileSync(path.join(dir, 'cgoguard.yaml'), 'c-analyzer:\n  unit-timeout: 120\n');
    const third = check(dir, env);
    expect(third.clangNotes).toEqual([]);
    expect(third.findings.map((f) => f.message).sort()).toEqual([
      'Attempt to free released memory [unix.Malloc]',
      "Potential leak of memory pointed to by 'r' [unix.Malloc]",
      'Use of memory after it is freed [unix.Malloc]',
    ]);
    expect(analyses()).toBe(4);
  });

  it('leaves vendored C out by default, says so, and analyses it with --c-analyzer all or c-analyzer.scope', () => {
    const dir = fixtureModule();
    writeFileSync(path.join(dir, 'LICENSE'), 'Copyright (c) 2020 Jane Q. Example\n');
    const leak = 'void *kept(void) {\n    char *p = malloc(4);\n    p = 0;\n    return p;\n}\n';
    writeFileSync(path.join(dir, 'copied.c'), `/*\n * Copyright (c) 2019 Other Corp.\n */\n#include <stdlib.h>\n${leak.replace('kept', 'copied_kept')}`);
    writeFileSync(path.join(dir, 'own.c'), `// Copyright 2021 Jane Q. Example\n#include <stdlib.h>\n${leak.replace('kept', 'own_kept')}`);
    const env = { ...process.env, CGOGUARD_CACHE: 'off' };
    const files = (r: ReturnType<typeof check>) => [...new Set(r.findings.map((f) => path.basename(f.file)))].sort();
    const own = check(dir, env);
    expect(files(own)).toEqual(['first.c', 'own.c', 'strings.go']);
    expect(own.clangNotes).toEqual(["cgoguard: 1 C file(s) look like copies of other code, which clang's analyzer leaves out (copied.c: copyright of another party (other corp)): --c-analyzer all includes them"]);
    const all = check(dir, env, '--c-analyzer', 'all');
    expect(files(all)).toEqual(['copied.c', 'first.c', 'own.c', 'strings.go']);
    expect(all.clangNotes).toEqual([]);
    writeFileSync(path.join(dir, 'cgoguard.yaml'), 'c-analyzer:\n  scope: all\n');
    expect(files(check(dir, env))).toEqual(['copied.c', 'first.c', 'own.c', 'strings.go']);
    // Copies the signs miss can be named in the configuration.
    writeFileSync(path.join(dir, 'cgoguard.yaml'), 'c-analyzer:\n  vendored: ["own.c"]\n');
    const named = check(dir, env);
    expect(files(named)).toEqual(['first.c', 'strings.go']);
    expect(named.clangNotes[0]).toMatch(/2 C file\(s\) look like copies of other code, which clang's analyzer leaves out \((copied\.c: copyright of another party \(other corp\), own\.c: c-analyzer\.vendored in the configuration|own\.c: c-analyzer\.vendored in the configuration, copied\.c: copyright of another party \(other corp\))\)/);
    // The command line wins over the file.
    const off = check(dir, env, '--c-analyzer', 'off');
    expect(off.findings).toEqual([]);
    expect(off.clangNotes).toEqual([]);
  });

  it('leaves out units over the size limit, and units past the run’s total, which later runs analyse', () => {
    const big = fixtureModule('c-analyzer:\n  max-unit-kb: 0.1\n');
    const env = { ...process.env, CGOGUARD_CACHE: path.join(tmp, `cache${n++}`) };
    const sized = check(big, env);
    expect(sized.findings).toEqual([]);
    expect(sized.clangNotes).toEqual(["cgoguard: 2 C unit(s) over 0.1 KB were not analysed by clang (strings.go: 1 KB, first.c: 1 KB): c-analyzer.max-unit-kb raises the limit"]);
    const late = fixtureModule('c-analyzer:\n  total-timeout: 0.001\n');
    const results = path.join(env.CGOGUARD_CACHE!, 'results');
    const kept = () => (existsSync(results) ? readdirSync(results).length : 0);
    const before = kept();
    const spent = check(late, env);
    expect(spent.findings).toEqual([]);
    expect(spent.clangNotes).toHaveLength(1);
    expect(spent.clangNotes[0]).toMatch(/^cgoguard: clang's analyzer spent the run's 0.001 s: 2 C unit\(s\) were not analysed \((strings\.go, first\.c|first\.c, strings\.go)\)/);
    // The package's result is not kept either: the next run tries the units again rather than repeat this one.
    expect(kept()).toBe(before);
    // Not remembered as timeouts: with the default budget they are analysed.
    rmSync(path.join(late, 'cgoguard.yaml'));
    expect(check(late, env).findings).toHaveLength(3);
  });

  it('runs units at the same time up to --jobs', () => {
    const overlaps = (jobs: string) => {
      const dir = fixtureModule();
      const { clang, pauses } = recordingClang(1);
      check(dir, { ...process.env, CGOGUARD_CLANG: clang, CGOGUARD_CACHE: 'off' }, '-j', jobs);
      const [a, b] = pauses();
      expect(pauses()).toHaveLength(2);
      return a.start < b.end && b.start < a.end;
    };
    expect(overlaps('2')).toBe(true);
    expect(overlaps('1')).toBe(false);
  });
});
