// `cgoguard lsp` through a real client: Neovim's built-in LSP client,
// headless. Open a file and see the diagnostic, apply its quick fix and see
// it go, edit and see a new one, cancel a run by editing during it, and
// reload the configuration when it is saved.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generateCorpus } from '../bench/corpus.js';
import { bin } from './support/cli.js';
import { hasNeovim, neovim } from './support/neovim.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'cgoguard-lsp-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const LEAKY = `package leaky

/*
#include <stdlib.h>
static int check(const char *s) { return s[0] != 0; }
static void use(const char *s) { (void)s; }
char *make_label(int n);
*/
import "C"

import (
	"errors"
	"unsafe"
)

func put(s string) error {
	cs := C.CString(s)
	if C.check(cs) == 0 {
		return errors.New("empty")
	}
	C.use(cs)
	C.free(unsafe.Pointer(cs))
	return nil
}

func label() {
	C.use(C.make_label(1))
}
`;

function project(name: string, files: Record<string, string>): string {
  const dir = path.join(tmp, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'go.mod'), `module example.com/${name}\n\ngo 1.21\n`);
  for (const [f, text] of Object.entries(files)) writeFileSync(path.join(dir, f), text);
  return dir;
}

describe.skipIf(!hasNeovim && !process.env.CI)('cgoguard lsp with Neovim as the client', () => {
  it('publishes diagnostics with the trace, offers the fix, and clears the diagnostic once it is applied', async () => {
    const dir = project('fix', { 'leaky.go': LEAKY });
    const file = path.join(dir, 'leaky.go');
    const r = await neovim(dir, [
      { op: 'open', file },
      { op: 'diagnostics', file, code: 'leak' },
      { op: 'code_actions', file, code: 'leak', apply: true },
      { op: 'no_diagnostic', file, code: 'leak' },
      // An edit: a new leak two lines into put.
      { op: 'set_lines', file, from: 17, to: 17, lines: ['\tC.use(C.CString(s))'] },
      { op: 'diagnostics', file, code: 'leak' },
    ]);
    const first = r[1].diagnostics.find((d: { code: string }) => d.code === 'leak');
    expect(first).toMatchObject({
      source: 'cgoguard',
      severity: 1,
      message: 'C memory from C.CString is not freed on the path that returns at line 19',
      range: { start: { line: 16, character: 7 }, end: { line: 16, character: 19 } },
      codeDescription: { href: expect.stringMatching(/#rule-leak$/) },
    });
    expect(first.relatedInformation.map((x: { message: string }) => x.message)).toEqual(['C.CString allocates C memory here', 'C.check(cs) == 0 is true', 'returns here without freeing it']);
    expect(r[2].titles).toEqual(['Release cs with C.free(unsafe.Pointer(cs)) before the return at line 19', 'Ignore leak here (//cgoguard:ignore, with a reason to write)']);
    expect(r[2].applied).toBe(r[2].titles[0]);
    expect(r[2].lines.slice(17, 20)).toEqual(['\tif C.check(cs) == 0 {', '\t\tC.free(unsafe.Pointer(cs))', '\t\treturn errors.New("empty")']);
    expect(r[3].diagnostics).toEqual([]);
    const added = r[5].diagnostics.filter((d: { code: string }) => d.code === 'leak');
    expect(added.map((d: { range: { start: { line: number } }; message: string }) => [d.range.start.line, d.message])).toEqual([[17, 'C memory from C.CString is never freed: the pointer is not kept']]);
    // The file on disk is the editor's business: the server never wrote it.
    expect(readFileSync(file, 'utf8')).toBe(LEAKY);
  });

  it('cancels a run that an edit supersedes, and publishes only the latest version', async () => {
    // A big file, so that a run is under way when the next edit comes.
    generateCorpus(path.join(tmp, 'big'), { packages: 1, files: 1, funcs: 40 });
    const dir = path.join(tmp, 'big');
    const file = path.join(dir, 'pkg0', 'f0.go');
    const lines = readFileSync(file, 'utf8').split('\n');
    const typeLine = lines.findIndex((l) => l.startsWith('type Handle'));
    const r = await neovim(dir, [
      { op: 'open', file },
      { op: 'diagnostics', file, code: 'leak' },
      // A change to a type declaration: every function is analysed again.
      { op: 'set_lines', file, from: typeLine, to: typeLine, lines: ['// The handle.'] },
      // The edit comes while the analysis it started is under way (its second start: the first was the open's).
      { op: 'logs', contains: 'analysing example.com/corpus/pkg0', nth: 2 },
      { op: 'set_lines', file, from: typeLine, to: typeLine + 1, lines: [] },
      { op: 'diagnostics', file, code: 'leak' },
      { op: 'logs', contains: 'cancelled: superseded by an edit' },
    ]);
    expect(r[6].found).toContain('analysis of example.com/corpus/pkg0 cancelled: superseded by an edit');
    expect(r[5].version).toBe(r[4].version);
    expect(r[5].diagnostics.length).toBe(r[1].diagnostics.length);
  });

  it('reloads the configuration and its contracts when cgoguard.yaml is saved', async () => {
    const dir = project('config', { 'leaky.go': LEAKY, 'cgoguard.yaml': 'rules:\n  leak: warning\n' });
    const file = path.join(dir, 'leaky.go');
    const config = path.join(dir, 'cgoguard.yaml');
    const r = await neovim(dir, [
      { op: 'open', file },
      { op: 'diagnostics', file, code: 'leak' },
      { op: 'open', file: config },
      { op: 'set_lines', file: config, from: 0, to: -1, lines: ['contracts:', '  - "make_label(n) returns owned"'] },
      { op: 'write', file: config },
      { op: 'logs', contains: 'reloaded' },
      { op: 'diagnostics', file, message: 'C.make_label' },
    ]);
    const before = r[1].diagnostics.filter((d: { code: string }) => d.code === 'leak');
    expect(before).toHaveLength(1);
    expect(before[0].severity).toBe(2); // a warning, as the configuration says
    const after = r[6].diagnostics.filter((d: { code: string }) => d.code === 'leak').map((d: { message: string }) => d.message);
    expect(after).toContain('C memory from C.make_label is never freed: the pointer is not kept');
  });
});

describe.skipIf(!hasNeovim && !process.env.CI)('cgoguard lsp across packages', () => {
  it("uses an imported package's summaries, and analyses only the edited package again", async () => {
    const dir = project('deps', {});
    mkdirSync(path.join(dir, 'cstr'));
    mkdirSync(path.join(dir, 'app'));
    writeFileSync(
      path.join(dir, 'cstr', 'cstr.go'),
      'package cstr\n\n/*\n#include <stdlib.h>\n*/\nimport "C"\n\n// New returns C memory the caller must free.\nfunc New(s string) *C.char {\n\treturn C.CString(s)\n}\n',
    );
    const app = path.join(dir, 'app', 'app.go');
    writeFileSync(app, 'package app\n\n/*\nstatic void use(void *p) { (void)p; }\n*/\nimport "C"\n\nimport (\n\t"unsafe"\n\n\t"example.com/deps/cstr"\n)\n\nfunc Run(s string) {\n\tp := cstr.New(s)\n\tC.use(unsafe.Pointer(p))\n}\n');
    const r = await neovim(dir, [
      { op: 'open', file: app },
      { op: 'diagnostics', file: app, code: 'leak' },
      { op: 'set_lines', file: app, from: 15, to: 15, lines: ['\t// an edit'] },
      { op: 'diagnostics', file: app, code: 'leak' },
      { op: 'logs', contains: 'analysed example.com/deps/app' },
    ]);
    expect(r[1].diagnostics.map((d: { message: string }) => d.message)).toEqual(['C memory from cstr.New is not freed on the path that returns at line 17']);
    expect(r[3].diagnostics.map((d: { message: string }) => d.message)).toEqual(['C memory from cstr.New is not freed on the path that returns at line 18']);
    const logs: string[] = r[4].logs;
    expect(logs.filter((l) => l.includes('analysed example.com/deps/cstr (imported by example.com/deps/app)'))).toHaveLength(1);
    expect(logs.filter((l) => /analysed example\.com\/deps\/app in \d+ ms/.test(l)).length).toBeGreaterThanOrEqual(2);
  });
});

describe('cgoguard lsp as a process', () => {
  const frame = (msg: object) => {
    const body = JSON.stringify({ jsonrpc: '2.0', ...msg });
    return `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
  };

  it('exits when the client closes its input, and with status 0 after shutdown and exit', async () => {
    const closed = spawnSync(process.execPath, [bin, 'lsp'], { input: '', encoding: 'utf8', timeout: 20_000 });
    expect(closed.status).toBe(1);
    const garbled = spawnSync(process.execPath, [bin, 'lsp'], { input: 'Content-Length: 5\r\n\r\n{bad}', encoding: 'utf8', timeout: 20_000 });
    expect(garbled.status).toBe(1);
    // A client that waits for each answer, as clients do, and keeps its end open until the server exits.
    const p = spawn(process.execPath, [bin, 'lsp'], { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    const answered = (id: number) =>
      new Promise<void>((resolve) => {
        const check = () => (out.includes(`"id":${id}`) ? resolve() : undefined);
        p.stdout.on('data', check);
        check();
      });
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => p.on('exit', resolve));
    p.stdin.write(frame({ id: 1, method: 'initialize', params: { processId: null, rootUri: null, capabilities: {} } }));
    await answered(1);
    p.stdin.write(frame({ method: 'initialized', params: {} }));
    p.stdin.write(frame({ id: 2, method: 'shutdown' }));
    await answered(2);
    p.stdin.write(frame({ method: 'exit' }));
    expect(await exited).toBe(0);
    expect(out).toContain('"codeActionProvider"');
  });
});
