// Quick fixes as input → output pairs: a Go file is analysed, its findings'
// fixes applied, and the result compared with the file a developer would
// write. Each output is also analysed again: the fixed finding is gone.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Finding } from '../src/findings/finding.js';
import type { Fix } from '../src/findings/fix.js';
import { applyFixes } from '../src/fix/apply.js';
import { withFixes } from '../src/fix/index.js';
import { analyzePackage } from '../src/pipeline/analyze-package.js';
import { initParsers } from '../src/syntax/parser.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'cgoguard-fix-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
beforeAll(() => initParsers());

let n = 0;
async function analyse(text: string): Promise<{ findings: Finding[]; file: string }> {
  const dir = path.join(tmp, `p${n++}`);
  mkdirSync(dir);
  const file = path.join(dir, 'a.go');
  writeFileSync(file, text);
  const job = { importPath: 'p', name: 'p', dir, files: [{ path: file, display: 'a.go' }], cFiles: [], build: { goos: 'linux', goarch: 'amd64', tags: [], cgo: true, goMinor: 26 } };
  const r = analyzePackage(job, [], { contracts: [], disabledRules: new Set(), cAnalyzer: false });
  const findings = await withFixes(r.findings, () => ({ file: 'a.go', path: file, text }));
  return { findings, file };
}

/** Applies the first fix of each finding of `rule` that `pick` accepts; returns the text and what the analysis says of it. */
async function fixed(text: string, rule: string, pick: (f: Fix) => boolean = (f) => f.safe): Promise<{ text: string; titles: string[]; after: Finding[] }> {
  const { findings } = await analyse(text);
  const fixes = findings.filter((f) => f.rule === rule).flatMap((f) => (f.fixes ?? []).filter(pick).slice(0, 1));
  const a = applyFixes(text, fixes);
  return { text: a.text, titles: a.applied.map((f) => f.title), after: (await analyse(a.text)).findings };
}

const HEAD = `package p

/*
#include <stdio.h>
#include <stdlib.h>
static int check(const char *s) { return s[0] != 0; }
static void use(const char *s) { (void)s; }
static size_t measure(const char *p) { return p[0]; }
static void fill(void *p, size_t n) { (void)p; (void)n; }
static char *last;
static void remember(char *p) { last = p; }
*/
import "C"
`;

describe('quick fixes', () => {
  it('defers C.free right after the allocation, adding the unsafe import', async () => {
    const r = await fixed(`${HEAD}
func put(s string) {
	cs := C.CString(s)
	C.use(cs)
}
`, 'leak');
    expect(r.text).toBe(`${HEAD}
import "unsafe"

func put(s string) {
	cs := C.CString(s)
	defer C.free(unsafe.Pointer(cs))
	C.use(cs)
}
`);
    expect(r.after.filter((f) => f.rule === 'leak')).toEqual([]);
  });

  it('defers after the nil check, and passes C.malloc memory as it is', async () => {
    const r = await fixed(`${HEAD}
import (
	"errors"
	"unsafe"
)

func buffer(n int) error {
	p := C.malloc(C.size_t(n))
	if p == nil {
		return errors.New("out of memory")
	}
	C.use((*C.char)(p))
	return nil
}

var _ unsafe.Pointer
`, 'leak');
    expect(r.text).toContain(`	if p == nil {
		return errors.New("out of memory")
	}
	defer C.free(p)
	C.use((*C.char)(p))`);
    expect(r.after.filter((f) => f.rule === 'leak')).toEqual([]);
  });

  it('frees before the early return when the memory is released later anyway', async () => {
    const src = `${HEAD}
import (
	"errors"
	"unsafe"
)

func put(s string) error {
	cs := C.CString(s)
	if C.check(cs) == 0 {
		return errors.New("rejected")
	}
	C.use(cs)
	C.free(unsafe.Pointer(cs))
	return nil
}
`;
    const r = await fixed(src, 'leak');
    expect(r.text).toBe(src.replace('\t\treturn errors.New("rejected")', '\t\tC.free(unsafe.Pointer(cs))\n\t\treturn errors.New("rejected")'));
    expect(r.titles).toEqual(['Release cs with C.free(unsafe.Pointer(cs)) before the return at line 23']);
    expect(r.after.filter((f) => f.rule === 'leak')).toEqual([]);
  });

  it("uses the contract's releaser with the argument type its declaration takes", async () => {
    const src = `${HEAD}
import "errors"

func firstByte(path, mode *C.char) (int, error) {
	f := C.fopen(path, mode)
	if f == nil {
		return 0, errors.New("cannot open")
	}
	if c := C.fgetc(f); c < 0 {
		return 0, errors.New("empty")
	}
	C.fclose(f)
	return 1, nil
}
`;
    const r = await fixed(src, 'leak');
    expect(r.text).toBe(src.replace('\t\treturn 0, errors.New("empty")', '\t\tC.fclose(f)\n\t\treturn 0, errors.New("empty")'));
    expect(r.after.filter((f) => f.rule === 'leak')).toEqual([]);
  });

  it('passes the address to a releaser that frees through it (releases *P: av_frame_free(&frame))', async () => {
    const src = `package p

/*
#include <libavutil/frame.h>
typedef struct AVFrame AVFrame;
AVFrame *av_frame_alloc(void);
void av_frame_free(AVFrame **frame);
int av_frame_get_buffer(AVFrame *frame, int align);
*/
import "C"

import "errors"

func decode() error {
	frame := C.av_frame_alloc()
	if C.av_frame_get_buffer(frame, 0) < 0 {
		return errors.New("no buffer")
	}
	C.av_frame_free(&frame)
	return nil
}
`;
    const r = await fixed(src, 'leak');
    expect(r.titles).toEqual(['Release frame with C.av_frame_free(&frame) before the return at line 17']);
    expect(r.text).toBe(src.replace('\t\treturn errors.New("no buffer")', '\t\tC.av_frame_free(&frame)\n\t\treturn errors.New("no buffer")'));
    expect(r.after.filter((f) => f.rule === 'leak')).toEqual([]);
  });

  it('offers no release when the pointer leaves the function on another path', async () => {
    const { findings } = await analyse(`${HEAD}
func make(s string, keep bool) *C.char {
	cs := C.CString(s)
	if keep {
		return cs
	}
	C.use(cs)
	return nil
}
`);
    const leak = findings.find((f) => f.rule === 'leak');
    expect(leak).toBeDefined();
    expect(leak!.fixes?.filter((f) => f.safe) ?? []).toEqual([]);
  });

  it('keeps the owner alive after the call, or with a defer around a return', async () => {
    const src = `${HEAD}
import "unsafe"

type Buffer struct{ ptr *C.char }

func New(s string) *Buffer {
	b := &Buffer{ptr: C.CString(s)}
	runtime.SetFinalizer(b, func(b *Buffer) { C.free(unsafe.Pointer(b.ptr)) })
	return b
}

func (b *Buffer) Len() int {
	return int(C.measure(b.ptr))
}

func (b *Buffer) Use() {
	C.use(b.ptr)
}
`.replace('import "unsafe"', 'import (\n\t"runtime"\n\t"unsafe"\n)');
    const r = await fixed(src, 'finalizer-keepalive');
    expect(r.text).toContain('func (b *Buffer) Len() int {\n\tdefer runtime.KeepAlive(b)\n\treturn int(C.measure(b.ptr))\n}');
    expect(r.text).toContain('\tC.use(b.ptr)\n\truntime.KeepAlive(b)\n}');
    expect(r.after.filter((f) => f.rule === 'finalizer-keepalive')).toEqual([]);
  });

  it('passes the data and its length instead of the slice header', async () => {
    const src = `${HEAD}
import "unsafe"

func fillHeader() []byte {
	buf := make([]byte, 64)
	C.fill(unsafe.Pointer(&buf), C.size_t(unsafe.Sizeof(buf)))
	return buf
}

func printString(s string) {
	C.fill(unsafe.Pointer(&s), 4)
}
`;
    const r = await fixed(src, 'slice-header');
    expect(r.text).toContain('\tC.fill(unsafe.Pointer(&buf[0]), C.size_t(len(buf)))\n');
    expect(r.text).toContain('\tC.fill(unsafe.Pointer(unsafe.StringData(s)), 4)\n');
    expect(r.after.filter((f) => f.rule === 'slice-header')).toEqual([]);
  });

  it('suggests a Pinner for memory C keeps, not as a safe fix', async () => {
    const src = `${HEAD}
import "unsafe"

func rememberGoBuffer() {
	buf := make([]byte, 16)
	C.remember((*C.char)(unsafe.Pointer(&buf[0])))
}
`;
    const { findings } = await analyse(src);
    const keep = findings.find((f) => f.rule === 'c-keeps-go-pointer')!;
    expect(keep.fixes?.filter((f) => f.safe)).toEqual([]);
    const r = await fixed(src, 'c-keeps-go-pointer', (f) => f.title.startsWith('Pin'));
    expect(r.text).toContain('\tvar pinner runtime.Pinner\n\tpinner.Pin(&buf[0])\n\tdefer pinner.Unpin()\n\tC.remember(');
    expect(r.text).toContain('import "unsafe"\n\nimport "runtime"\n');
    expect(r.after.filter((f) => f.rule === 'c-keeps-go-pointer' || f.rule === 'pinner')).toEqual([]);
  });

  it('suggests an ignore directive, and removes one that suppresses nothing', async () => {
    const r = await fixed(`${HEAD}
func put(s string) {
	C.use(C.CString(s))
}
`, 'leak', (f) => f.title.startsWith('Ignore'));
    expect(r.text).toContain('\t//cgoguard:ignore leak TODO: say why this is safe\n\tC.use(C.CString(s))');
    expect(r.after).toEqual([]);
    const u = await fixed(`${HEAD}
import "unsafe"

func put(s string) {
	cs := C.CString(s)
	//cgoguard:ignore leak freed below
	C.free(unsafe.Pointer(cs))
}
`, 'unused-ignore');
    expect(u.text).not.toContain('cgoguard:ignore');
    expect(u.after).toEqual([]);
  });

  it('converts byte columns: an edit after non-ASCII text lands in place', async () => {
    const src = `${HEAD}
import "unsafe"

func fillHeader() []byte {
	buf := make([]byte, 64)
	/* größe */ C.fill(unsafe.Pointer(&buf), 64)
	return buf
}
`;
    const { findings } = await analyse(src);
    const f = findings.find((x) => x.rule === 'slice-header')!;
    expect(applyFixes(src, f.fixes!.slice(0, 1)).text).toContain('/* größe */ C.fill(unsafe.Pointer(&buf[0]), 64)');
  });
});
