// `cgoguard trace` on real Go programs with the real toolchain: the seed's
// leak with its bytes and line, a leak only on an error path, a double free,
// a use after free, os.Exit, a panic, a fatal signal, many goroutines; and
// the outputs: pprof read by `go tool pprof`, the event log, the HTML graph.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Finding } from '../src/findings/finding.js';
import { initParsers } from '../src/syntax/parser.js';
import { readTraceDir, summarize } from '../src/trace/events.js';
import { SiteTable, instrumentFile } from '../src/trace/instrument.js';
import { ContractSet, parseContract } from '../src/model/contracts.js';
import { cgoguard, repoRoot } from './support/cli.js';

const hasGo = spawnSync('go', ['version']).status === 0;
const tmp = mkdtempSync(path.join(tmpdir(), 'cgoguard-trace-test-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
beforeAll(() => initParsers());

interface Report {
  findings: Finding[];
  stats: { processes: number; allocations: number; frees: number; exitCode: number };
}

/** `trace run` on a program of testdata/trace: its report, from a file (the program owns stdout). */
function traceRun(name: string, ...flags: string[]): { report: Report; stderr: string; code: number } {
  const out = path.join(tmp, `${name}-${flags.join('')}.json`);
  const r = cgoguard(['trace', 'run', '--no-static', '--format', 'json', '-o', out, ...flags, `./testdata/trace/${name}`]);
  return { report: JSON.parse(readFileSync(out, 'utf8')), stderr: r.stderr, code: r.code };
}

const leaks = (r: Report) => r.findings.filter((f) => f.rule === 'leak' && f.dynamic?.stage === 'trace');

describe('instrumentation', () => {
  it('rewrites allocation, release and read sites on their own lines, and nothing else', () => {
    const src = `package p

/*
#include <stdlib.h>
// cgoguard:contract obj_new() returns owned released by obj_free
typedef struct obj obj;
obj *obj_new(void);
void obj_free(obj *o);
*/
import "C"

import "unsafe"

func f(s string, n int) string {
	p := C.CString(s)
	defer C.free(unsafe.Pointer(p))
	b := C.malloc(C.size_t(n))
	b = C.realloc(b, 64)
	o := C.obj_new()
	C.obj_free(o)
	C.free(b)
	return C.GoString(p) + "é" // non-ASCII after a site
}
`;
    const sites = new SiteTable();
    const out = instrumentFile(src, 'p.go', 'example.com/m/zz_cgoguardtrace', sites, ContractSet.withBuiltins())!;
    expect(out.split('\n').slice(0, src.split('\n').length - 1).length).toBe(src.split('\n').length - 1);
    // Each original line keeps its number: the call sites are where they were.
    expect(sites.sites.map((s) => `${s.line} ${s.call}`)).toEqual(['15 C.CString', '16 C.free', '17 C.malloc', '18 C.realloc', '19 C.obj_new', '20 C.obj_free', '21 C.free', '22 C.GoString']);
    const lines = out.split('\n');
    expect(lines[9]).toBe('import "C"; import _cgoguardtrace "example.com/m/zz_cgoguardtrace"; import _cgt_unsafe "unsafe"');
    // The deferred free still evaluates its argument when the defer statement runs.
    expect(lines[15]).toMatch(/^\tdefer func\(_cgt_o _cgt_unsafe\.Pointer\) \{ if _cgoguardtrace\.Free\(_cgt_o, 1\) \{ C\.free\(_cgt_o\) \} \}\(_cgt_unsafe\.Pointer\(unsafe\.Pointer\(p\)\)\)$/);
    expect(lines[19]).toBe('\tif _cgoguardtrace.Free(o, 5) { C.obj_free(o) }');
    expect(lines[21]).toBe('\treturn C.GoString(_cgoguardtrace.Use(p, 7)) + "é" // non-ASCII after a site');
    expect(instrumentFile('package q\n\nfunc g() {}\n', 'q.go', 'x', sites, ContractSet.withBuiltins())).toBeUndefined();
  });

  it('records a release through the address of what it frees (releases *P), in both of av_freep\'s spellings', () => {
    const src = `package p

/*
#include <stdlib.h>
// cgoguard:contract frame_alloc() returns owned released by frame_free
// cgoguard:contract frame_free(pf) releases *pf
// cgoguard:contract buf_alloc(n) returns owned released by buf_freep
// cgoguard:contract buf_freep(pp) releases *pp
typedef struct frame frame;
frame *frame_alloc(void);
void frame_free(frame **pf);
void *buf_alloc(size_t n);
void buf_freep(void *pp);
*/
import "C"

import "unsafe"

func f() {
	fr := C.frame_alloc()
	C.frame_free(&fr)
	b := C.buf_alloc(8)
	C.buf_freep(unsafe.Pointer(&b))
}
`;
    const sites = new SiteTable();
    const contracts = ContractSet.withBuiltins();
    for (const t of ['frame_alloc() returns owned released by frame_free', 'frame_free(pf) releases *pf', 'buf_alloc(n) returns owned released by buf_freep', 'buf_freep(pp) releases *pp']) contracts.add(parseContract(t, 'test'));
    const lines = instrumentFile(src, 'p.go', 'example.com/m/zz_cgoguardtrace', sites, contracts)!.split('\n');
    expect(sites.sites.map((s) => `${s.line} ${s.call}`)).toEqual(['20 C.frame_alloc', '21 C.frame_free', '22 C.buf_alloc', '23 C.buf_freep']);
    expect(lines[20]).toBe('\tif _cgoguardtrace.Free(fr, 1) { C.frame_free(&fr) }');
    expect(lines[22]).toBe('\tif _cgoguardtrace.Free(b, 3) { C.buf_freep(unsafe.Pointer(&b)) }');
  });

  it('marks allocations handed straight to C, which C may free unseen', () => {
    const src = `package p

/*
#include <stdlib.h>
#include <string.h>
void keep(char *s);
*/
import "C"

import "unsafe"

func f(s string) int {
	C.keep(C.CString(s))
	C.keep((*C.char)(C.malloc(8)))
	n := int(C.strlen(C.CString(s)))
	p := C.CString(s)
	_ = unsafe.Pointer(p)
	return n
}

//export make_name
func make_name() *C.char {
	return C.CString("x")
}
`;
    const sites = new SiteTable();
    instrumentFile(src, 'p.go', 'm/zz_cgoguardtrace', sites, ContractSet.withBuiltins());
    expect(sites.sites.map((x) => [x.line, x.call, x.handedTo])).toEqual([
      [13, 'C.CString', 'C.keep'],
      [14, 'C.malloc', 'C.keep'],
      [15, 'C.CString', undefined],
      [16, 'C.CString', undefined],
      [23, 'C.CString', 'C, through an exported function'],
    ]);
  });

  it("wraps other C results so the runtime hears of C's pointers, but never a two-value call", () => {
    const src = `package p

/*
#include <errno.h>
char *name(void);
int setup(void);
*/
import "C"

import "fmt"

func f() (*C.char, error) {
	a := C.name()
	r, err := C.setup()
	var b, e2 = C.setup()
	fmt.Println(C.setup())
	n := C.int(3)
	_, _, _, _ = a, r, b, e2
	_ = n
	return C.name()
}
`;
    const out = instrumentFile(src, 'p.go', 'example.com/m/zz_cgoguardtrace', new SiteTable(), ContractSet.withBuiltins())!.split('\n');
    expect(out[12]).toBe('\ta := _cgoguardtrace.Seen(C.name())');
    expect(out[13]).toBe('\tr, err := C.setup()');
    expect(out[14]).toBe('\tvar b, e2 = C.setup()');
    expect(out[15]).toBe('\tfmt.Println(C.setup())');
    expect(out[16]).toBe('\tn := C.int(3)');
    expect(out[19]).toBe('\treturn C.name()');
  });

  it('reads segments where records are missing or torn, and replays them', () => {
    const dir = path.join(tmp, 'events');
    mkdirSync(path.join(dir, '42'), { recursive: true });
    const kinds = { alloc: 1, free: 2, sample: 6, use: 8, seen: 9, time: 10, size: 11 };
    // [kind, payload, aux, site]
    const recs: [keyof typeof kinds | 'torn', bigint, number, number][] = [
      ['time', 5_000_000n, 0, 0],
      ['alloc', 0x1000n, 11, 0], // 10 bytes
      ['sample', 7n, 1, 0], // goroutine 7, stack 1
      ['alloc', 0x2000n, 0xffffffff, 0], // its size is in the next record
      ['size', 20n, 0, 0],
      ['time', 9_000_000n, 0, 0],
      ['free', 0x1000n, 0, 1],
      ['use', 0x1000n, 0, 1], // read after the free: reported
      ['free', 0x1000n, 0, 1], // freed again: reported
      ['seen', 0x1000n, 0, 0xffffff], // C handed this address out: no longer "freed"
      ['use', 0x1000n, 0, 1], // not reported
      ['torn', 0x2000n, 0, 1], // a free the crash cut: skipped
      ['sample', 8n, 2, 1], // and the extra of that torn record belongs to nothing
    ];
    const buf = Buffer.alloc(16 * recs.length);
    recs.forEach(([kind, payload, aux, site], i) => {
      buf.writeBigUInt64LE(payload, i * 16);
      buf.writeUInt32LE(aux, i * 16 + 8);
      if (kind !== 'torn') buf.writeUInt32LE(((kinds[kind] << 24) | site) >>> 0, i * 16 + 12);
    });
    writeFileSync(path.join(dir, '42', 'events.0000'), buf);
    writeFileSync(path.join(dir, '42', 'stacks.jsonl'), '{"id":1,"frames":[{"fn":"main.f","file":"a.go","line":3}]}\n{"id":2,"fra');
    writeFileSync(path.join(dir, '42', 'lost'), 'no space left on device');
    const procs = readTraceDir(dir);
    expect(procs.map((p) => [p.pid, p.events.length, p.stacks.size, p.lost])).toEqual([[42, 7, 1, 'no space left on device']]);
    expect(procs[0].events.map((e) => [e.kind, e.size, e.site, e.t, e.goroutine, e.stack])).toEqual([
      ['alloc', 10, 0, 5_000_000, 7, 1],
      ['alloc', 20, 0, 5_000_000, 0, 0],
      ['free', 0, 1, 9_000_000, 0, 0],
      ['use', 0, 1, 9_000_000, 0, 0],
      ['free', 0, 1, 9_000_000, 0, 0],
      ['seen', 0, -1, 9_000_000, 0, 0],
      ['use', 0, 1, 9_000_000, 0, 0],
    ]);
    const sites = [
      { file: 'a.go', line: 3, column: 2, call: 'C.malloc' },
      { file: 'a.go', line: 5, column: 2, call: 'C.free' },
    ];
    const s = summarize(procs, sites);
    expect(s.live.map((g) => [g.bytes, g.objects])).toEqual([[20, 1]]);
    expect([s.allocations, s.frees]).toEqual([2, 1]); // the second free released nothing
    expect(s.misuses.map((m) => [m.what, m.allocSite?.line, m.freeSite?.line])).toEqual([
      ['use of freed memory', 3, 5],
      ['double free', 3, 5],
    ]);
  });
});

describe.skipIf(!hasGo)('cgoguard trace, with the real toolchain', () => {
  it("attributes the seed's leak and an error-path leak to their C.CString lines, confirming the static findings, without touching the files", () => {
    const before = ['cstring-leak', 'error-path-leak'].map((d) => statSync(path.join(repoRoot, 'examples', d, 'main.go')).mtimeMs);
    const pprof = path.join(tmp, 'live.pb.gz');
    const events = path.join(tmp, 'events.jsonl');
    const html = path.join(tmp, 'trace.html');
    const r = cgoguard(['trace', '--format', 'json', '--pprof', pprof, '--events', events, '--html', html, './examples/cstring-leak', './examples/error-path-leak']);
    const report = JSON.parse(r.stdout) as Report;
    // What the trace saw on the lines of the static leaks is merged into them.
    expect(leaks(report)).toEqual([]);
    const confirmed = report.findings.filter((f) => f.rule === 'leak' && f.runtime?.length);
    const got = confirmed.map((f) => [f.file, f.line, f.runtime![0].bytes, f.runtime![0].objects, f.confirmedBy]);
    // "hello, gopher\0" and "hello, cgo\0"; the error path of put("") leaks "\0".
    expect(got).toEqual([
      ['examples/cstring-leak/main.go', 11, 25, 2, ['trace']],
      ['examples/error-path-leak/main.go', 22, 1, 1, ['trace']],
    ]);
    expect(report.findings.filter((f) => !f.dynamic && f.rule === 'leak').every((f) => f.confirmedBy?.includes('trace'))).toBe(true);
    expect(confirmed[0].runtime![0].stacks[0].frames[0]).toMatchObject({ fn: 'example.com/cgoguard-examples/cstring-leak.greet', line: 11 });
    expect(r.code).toBe(1);
    expect(['cstring-leak', 'error-path-leak'].map((d) => statSync(path.join(repoRoot, 'examples', d, 'main.go')).mtimeMs)).toEqual(before);
    expect(readdirSync(tmpdir()).filter((n) => n.startsWith('cgoguard-trace-') && statSync(path.join(tmpdir(), n)).mtimeMs > before[0] && n !== path.basename(tmp))).toEqual([]);

    // The real pprof reads the profile: live bytes by function.
    const top = spawnSync('go', ['tool', 'pprof', '-top', '-sample_index=inuse_space', pprof], { encoding: 'utf8' });
    expect(top.stdout).toMatch(/25B .*cstring-leak\.greet/);
    expect(top.stdout).toMatch(/Showing nodes accounting for 26B, 100% of 26B total/);
    const lines = readFileSync(events, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.filter((e) => e.event === 'alloc').length).toBeGreaterThanOrEqual(5);
    expect(lines[0]).toMatchObject({ event: 'stack', frames: expect.arrayContaining([expect.objectContaining({ line: 11 })]) });
    expect(lines.find((e) => e.event !== 'stack')).toMatchObject({ event: 'alloc', call: 'C.CString', file: 'examples/cstring-leak/main.go', line: 11 });
    expect(new Set(lines.map((e) => e.run)).size).toBe(1);
    expect(readFileSync(html, 'utf8')).toMatch(/<svg class="icicle"/);
  });

  it('reports a double free after the run, from the event log, even when glibc kills the program', () => {
    const { report } = traceRun('doublefree');
    expect(report.stats.exitCode).not.toBe(0); // glibc: "free(): double free detected"
    const f = report.findings.find((x) => x.rule === 'double-free' && x.dynamic)!;
    expect(f).toMatchObject({ file: 'testdata/trace/doublefree/main.go', line: 16 });
    expect(f.trace.map((t) => `${t.line} ${t.message}`)).toEqual(['20 allocated here by C.CString', '16 freed here by C.free']);
  });

  it('with --guard, reports a double free with both release stacks, and goes on without performing it', () => {
    const { report, stderr } = traceRun('doublefree', '--guard');
    const f = report.findings.find((x) => x.rule === 'double-free' && x.dynamic)!;
    expect(f).toMatchObject({ file: 'testdata/trace/doublefree/main.go', line: 16 });
    const user = (frames: { fn: string; line?: number }[]) => frames.filter((fr) => fr.fn.startsWith('main.')).map((fr) => `${fr.fn}:${fr.line}`);
    expect(f.dynamic!.stacks.map((st) => [st.title.replace(/ \(goroutine \d+\)/, ''), user(st.frames)])).toEqual([
      ['double free', ['main.release:16', 'main.main:22']],
      ['allocated', ['main.main:20']],
      ['freed', ['main.release:16', 'main.main:21']],
    ]);
    expect(f.trace.map((t) => t.message)).toEqual(['allocated here by C.CString', 'freed here by C.free']);
    expect(report.stats.exitCode).toBe(0);
    expect(stderr).not.toMatch(/double free detected/); // glibc never saw it
  });

  it('stops at the first misuse with --abort', () => {
    const { report, stderr } = traceRun('doublefree', '--abort');
    expect(report.stats.exitCode).toBe(66);
    expect(stderr).toMatch(/stopping at the first violation/);
    expect(report.findings.filter((x) => x.rule === 'double-free' && x.dynamic)).toHaveLength(1);
  });

  it("traces cgo's two-value form: a contract's allocator and releaser with errno", () => {
    const { report } = traceRun('twovalue');
    expect(leaks(report).map((f) => [f.file, f.line, f.dynamic?.objects, f.dynamic?.stacks[0].frames.slice(0, 2).map((fr) => `${fr.fn}:${fr.line}`)])).toEqual([
      ['testdata/trace/twovalue/main.go', 21, 1, ['main.open:21', 'main.main:32']],
    ]);
    // Two files opened, one closed; and the four strings of the paths and modes.
    expect([report.stats.allocations, report.stats.frees]).toEqual([6, 5]);
  });

  it('reports C.GoString over freed memory with the allocation and release sites', () => {
    const { report } = traceRun('uaf');
    const f = report.findings.find((x) => x.rule === 'use-after-free' && x.dynamic)!;
    expect(f).toMatchObject({ line: 17 });
    expect(f.message).toBe('trace: use of freed memory at C.GoString (allocated by C.CString at testdata/trace/uaf/main.go:15, freed by C.free at testdata/trace/uaf/main.go:16)');
  });

  it('keeps every event through os.Exit, a panic and a fatal signal', () => {
    const exit = traceRun('exit');
    expect(exit.report.stats.exitCode).toBe(3);
    expect(leaks(exit.report).map((f) => [f.line, f.dynamic!.bytes])).toEqual([
      [15, 100],
      [17, 13],
    ]);
    const panics = traceRun('panics');
    expect(panics.report.stats.exitCode).toBe(2);
    expect(leaks(panics.report).map((f) => [f.line, f.dynamic!.bytes])).toEqual([[10, 15]]);
    const segv = traceRun('segv');
    expect(segv.report.stats.exitCode).toBe(2);
    expect(leaks(segv.report).map((f) => [f.line, f.dynamic!.bytes])).toEqual([[11, 64]]);
  });

  it('counts exactly when many goroutines allocate at once', () => {
    const { report } = traceRun('goroutines');
    expect(report.stats).toMatchObject({ processes: 1, allocations: 8000, frees: 7992 });
    expect(leaks(report).map((f) => [f.line, f.dynamic!.bytes, f.dynamic!.objects])).toEqual([[21, 64, 8]]);
  });
});
