// Files behind custom build tags are checked in a configuration of their own
// (go-sqlite3's sqlite3_trace.go needs -tags sqlite_trace), reported once,
// with the tags in the trace; --tags checks exactly what it names.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cgoguard } from './support/cli.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'cgoguard-configs-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const write = (name: string, text: string) => writeFileSync(path.join(tmp, name), text);
write('go.mod', 'module cfg\n\ngo 1.22\n');
write('a.go', 'package cfg\n\n// #include <stdlib.h>\nimport "C"\n\nfunc leakAlways(s string) { _ = C.CString(s) }\n');
write('trace.go', '//go:build sqlite_trace || trace\n\npackage cfg\n\n// #include <stdlib.h>\nimport "C"\n\nfunc traced(s string) string {\n\tc := C.CString(s)\n\treturn C.GoString(c)\n}\n');
write('both.go', '//go:build trace && extra\n\npackage cfg\n\n// #include <stdlib.h>\nimport "C"\n\nfunc extra(s string) { _ = C.CString(s) }\n');
write('notrace.go', '//go:build !trace\n\npackage cfg\n\nfunc plain() {}\n');
write('windows.go', '//go:build windows\n\npackage cfg\n\n// #include <stdlib.h>\nimport "C"\n\nfunc win(s string) { _ = C.CString(s) }\n');

const findings = (args: string[]) => {
  const r = cgoguard(['check', '--no-cache', '--no-c-analyzer', '--format', 'json', ...args, './...'], { cwd: tmp });
  expect(r.code, r.stderr).toBeLessThan(2);
  return (JSON.parse(r.stdout).findings as { file: string; line: number; confidence?: string; trace: { message: string }[] }[]).map((f) => ({ at: `${f.file}:${f.line}`, first: f.trace[0].message, confidence: f.confidence ?? 'high' }));
};

describe('build configurations', () => {
  it('checks files behind custom tags in their own configuration, each finding once', () => {
    const got = findings([]);
    expect(got.map((f) => f.at).sort()).toEqual(['a.go:6', 'both.go:8', 'trace.go:9']);
    expect(got.find((f) => f.at === 'trace.go:9')?.first).toMatch(/^trace\.go is left out of the default build: checked with -tags sqlite_trace$/);
    // A build that may never ship: medium at most.
    expect(got.find((f) => f.at === 'trace.go:9')?.confidence).toBe('medium');
    expect(got.find((f) => f.at === 'a.go:6')?.confidence).toBe('high');
    // (One tag alone when one will do; fewest tags first, then by name.) The default build's findings are the default build's: no tags in their trace.
    expect(got.find((f) => f.at === 'a.go:6')?.first).not.toMatch(/-tags/);
  });

  it('checks exactly the tags named', () => {
    expect(findings(['--tags', 'trace']).map((f) => f.at).sort()).toEqual(['a.go:6', 'trace.go:9']);
    expect(findings(['--tags', 'other']).map((f) => f.at)).toEqual(['a.go:6']);
  });
});
