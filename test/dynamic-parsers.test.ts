// The parsers of `cgoguard test` on outputs recorded from real runs (Go 1.26,
// gcc 12's libasan, valgrind 3.19), whole, cut short and garbled.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { crashingTest, hitsStackRedzone, parseSanitizerOutput } from '../src/dynamic/sanitizer.js';
import { parseValgrindXML } from '../src/dynamic/valgrind.js';
import { parseTestJSON } from '../src/dynamic/run-stage.js';
import { cgoStubName } from '../src/dynamic/report.js';
import { repoRoot } from './support/cli.js';

const rec = (name: string) => readFileSync(path.join(repoRoot, 'testdata/dynamic', name), 'utf8');

describe('AddressSanitizer and LeakSanitizer text', () => {
  it('reads a use after free with its access, free and allocation stacks', () => {
    const { reports, problems } = parseSanitizerOutput(rec('asan-uaf.txt'));
    expect(problems).toEqual([]);
    expect(reports).toHaveLength(1);
    const r = reports[0];
    expect(r).toMatchObject({ tool: 'asan', kind: 'heap-use-after-free', rule: 'use-after-free', bytes: 8 });
    expect(r.message).toBe('AddressSanitizer: heap-use-after-free: write of 4 byte(s) 0 bytes inside of 8-byte region');
    expect(r.stacks.map((s) => s.title)).toEqual(['access', 'freed', 'allocated']);
    expect(r.stacks[0].frames[0]).toEqual({ fn: 'main.main', file: '/usr/local/go/src/cmd/cgo/internal/testsanitizers/testdata/asan1_fail.go', line: 25 });
    expect(r.stacks[1].frames[1]).toMatchObject({ fn: 'test', line: 14 });
  });

  it('takes the Go side of an overflow from the traceback of the abort', () => {
    const { reports } = parseSanitizerOutput(rec('asan-overflow.txt'));
    expect(reports).toHaveLength(1);
    const r = reports[0];
    expect(r).toMatchObject({ kind: 'heap-buffer-overflow', rule: 'c-overflow', bytes: 5 });
    expect(r.message).toMatch(/write of 10 byte\(s\) 0 bytes to the right of 5-byte region/);
    const g = r.stacks.find((s) => s.title.startsWith('goroutine'))!;
    expect(g.frames.map((f) => f.fn)).toEqual(['runtime.cgocall', 'main._Cfunc_overflow', 'main.main', 'runtime.main', 'runtime.goexit']);
    expect(g.frames[2]).toMatchObject({ file: '/tmp/san/cs.go', line: 19 });
  });

  it('reads leaks with bytes and objects, and ignores the abort that follows them', () => {
    const { reports, problems } = parseSanitizerOutput(rec('lsan-leak.txt'));
    expect(problems).toEqual([]);
    expect(reports).toEqual([
      expect.objectContaining({ tool: 'lsan', kind: 'Direct leak', rule: 'leak', bytes: 4, objects: 1, definite: true }),
    ]);
    expect(reports[0].stacks[0].frames.map((f) => f.fn)).toEqual(['__interceptor_malloc', '_cgo_5653e873e678_Cfunc_test']);
  });

  it('keeps what parses from a report cut short, and says it is incomplete', () => {
    const text = rec('asan-uaf.txt');
    const cut = text.slice(0, text.indexOf('previously allocated'));
    const { reports, problems } = parseSanitizerOutput(cut);
    expect(reports).toHaveLength(1);
    expect(reports[0].stacks.map((s) => s.title)).toEqual(['access', 'freed']);
    expect(problems).toEqual([expect.stringMatching(/heap-use-after-free report is incomplete/)]);
    const leakCut = rec('lsan-leak.txt').split('\n').slice(0, 6).join('\n');
    const l = parseSanitizerOutput(leakCut);
    expect(l.reports).toHaveLength(1);
    expect(l.problems).toEqual([expect.stringMatching(/LeakSanitizer report is incomplete/)]);
  });

  it('titles the stacks of a stack-buffer-overflow: the access, the frame, the threads', () => {
    const text = [
      '==1==ERROR: AddressSanitizer: stack-buffer-overflow on address 0x7f at pc 0x1 bp 0x2 sp 0x3',
      'READ of size 8 at 0x7f thread T4',
      '    #0 0x5 in doAdd /src/cthread_unix.c:33',
      '',
      'Address 0x7f is located in stack of thread T4 at offset 40 in frame',
      '    #0 0x6 in doAdd /src/cthread_unix.c:23',
      '',
      'Thread T4 created by T3 here:',
      '    #0 0x7 in __interceptor_pthread_create ../asan_interceptors.cpp:207',
      '    #1 0x8 in _cgo_try_pthread_create /go/src/runtime/cgo/gcc_libinit.c:220',
      '',
      'SUMMARY: AddressSanitizer: stack-buffer-overflow /src/cthread_unix.c:33 in doAdd',
      '==1==ABORTING',
    ].join('\n');
    const { reports, problems } = parseSanitizerOutput(text);
    expect(problems).toEqual([]);
    expect(reports[0]).toMatchObject({ kind: 'stack-buffer-overflow', rule: 'c-overflow', message: 'AddressSanitizer: stack-buffer-overflow: read of 8 byte(s)' });
    expect(reports[0].stacks.map((st) => [st.title, st.frames.map((f) => f.fn)])).toEqual([
      ['access', ['doAdd']],
      ['stack frame of the variable', ['doAdd']],
      ['thread T4 created by T3', ['__interceptor_pthread_create', '_cgo_try_pthread_create']],
    ]);
  });

  it('names the test whose goroutine hit a stack redzone, to run it again alone', () => {
    const text = rec('asan-stale-redzone.txt');
    expect(hitsStackRedzone(text)).toBe(true);
    expect(hitsStackRedzone(rec('asan-overflow.txt'))).toBe(false); // a heap error: not a stack mark
    // A goroutine the test started: named by its closure and its creator.
    expect(crashingTest(text)).toBe('TestSum');
    // The test's own goroutine.
    const own = ['goroutine 360 gp=0x1 m=4 mp=0x2 [syscall]:', 'runtime.cgocall(0x1, 0x2)', 'cmd/cgo/internal/test._Cfunc_doAdd(0xa, 0x6)', 'cmd/cgo/internal/test.testCthread(0xc0001a4700)', 'cmd/cgo/internal/test.TestCthread(0xc0001a4700)', 'testing.tRunner(0xc0001a4700, 0x8)', 'created by testing.(*T).Run in goroutine 1', ''].join('\n');
    expect(crashingTest(own)).toBe('TestCthread');
    // Only the first goroutine counts; no traceback, no test.
    expect(crashingTest(['goroutine 1 [running]:', 'main.main()', '', 'goroutine 2 [chan receive]:', 'example.com/p.TestOther(0x1)', ''].join('\n'))).toBeUndefined();
    expect(crashingTest('==1==ERROR: AddressSanitizer: stack-buffer-overflow on address 0x7f')).toBeUndefined();
  });

  it('survives garbage, interleaved test output and binary noise', () => {
    const noisy = `=== RUN TestX\n\u0000\u00ff garbage ==\n#0 0x12 in\n${rec('lsan-leak2.txt')}\n--- FAIL: TestX\nSIGFOO: what\n\tnot/a/frame.go\n`;
    const { reports } = parseSanitizerOutput(noisy);
    expect(reports.map((r) => r.rule)).toEqual(['leak']);
    expect(parseSanitizerOutput('')).toEqual({ reports: [], problems: [] });
  });
});

describe('Go runtime: cgocheck and signals', () => {
  it('reads the cgocheck panic with the goroutine that made the call', () => {
    const { reports } = parseSanitizerOutput(rec('cgocheck-arg.txt'));
    expect(reports).toEqual([expect.objectContaining({ tool: 'cgocheck', rule: 'unpinned-go-pointer' })]);
    expect(reports[0].stacks[0].frames[1]).toEqual({ fn: 'main.main', file: '/tmp/san/cc/main.go', line: 23 });
  });

  it('reads the cgocheck2 throw, first goroutine only', () => {
    const { reports } = parseSanitizerOutput(rec('cgocheck2-store.txt'));
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatchObject({ rule: 'go-pointer-in-c-memory', kind: 'unpinned Go pointer stored into non-Go memory' });
    expect(reports[0].stacks).toHaveLength(1);
    expect(reports[0].stacks[0].frames.find((f) => f.fn === 'main.main')).toMatchObject({ line: 27 });
  });

  it('reads a SIGSEGV during a C call', () => {
    const { reports } = parseSanitizerOutput(rec('signal-segv.txt'));
    expect(reports).toEqual([expect.objectContaining({ tool: 'signal', kind: 'SIGSEGV', rule: 'c-crash' })]);
    expect(reports[0].stacks[0].frames[1].fn).toBe('main._Cfunc_crash');
  });
});

describe('valgrind XML', () => {
  it('reads definite and possible leaks with bytes, blocks and stacks', () => {
    const { reports, problems } = parseValgrindXML(rec('valgrind-leak.xml'));
    expect(problems).toEqual([]);
    expect(reports.map((r) => [r.kind, r.bytes, r.objects, r.definite])).toEqual([
      ['Leak_DefinitelyLost', 4, 1, true],
      ['Leak_DefinitelyLost', 6, 1, true],
      ['Leak_PossiblyLost', 288, 1, false],
      ['Leak_PossiblyLost', 864, 3, false],
    ]);
    expect(reports[0].stacks[0].frames[1]).toEqual({ fn: '_cgo_e25da29d03bd_Cfunc_test', file: '/tmp/san/lk2/main.go', line: 6 });
  });

  it('applies the shipped suppressions: a test binary leaves only its own leak', () => {
    const { reports } = parseValgrindXML(rec('valgrind-test-leak.xml'));
    expect(reports.map((r) => [r.kind, r.bytes, r.objects])).toEqual([['Leak_DefinitelyLost', 90, 20]]);
  });

  it('keeps the whole errors of a file cut short, and says so', () => {
    const xml = rec('valgrind-leak.xml');
    const cut = xml.slice(0, xml.indexOf('<unique>0x3</unique>'));
    const { reports, problems } = parseValgrindXML(cut);
    expect(reports).toHaveLength(2);
    expect(problems).toEqual([expect.stringMatching(/incomplete/)]);
    expect(parseValgrindXML('not xml at all <<<').reports).toEqual([]);
  });

  it('classifies invalid accesses by the block they hit', () => {
    const err = (kind: string, aux: string) =>
      `<valgrindoutput><error><kind>${kind}</kind><what>Invalid write of size 1</what><stack><frame><fn>strcpy</fn></frame></stack><auxwhat>${aux}</auxwhat><stack><frame><fn>malloc</fn></frame></stack></error></valgrindoutput>`;
    expect(parseValgrindXML(err('InvalidWrite', 'Address 0x4a is 0 bytes after a block of size 5 alloc&apos;d')).reports[0]).toMatchObject({ rule: 'c-overflow', bytes: 5 });
    expect(parseValgrindXML(err('InvalidRead', "Address 0x4a is 0 bytes inside a block of size 8 free'd")).reports[0]).toMatchObject({ rule: 'use-after-free', bytes: 8 });
    expect(parseValgrindXML(err('InvalidFree', "Address 0x4a is 0 bytes inside a block of size 8 free'd")).reports[0].rule).toBe('double-free');
  });
});

describe('go test -json and cgo names', () => {
  it('gathers output by package and tells build failures from test failures', () => {
    const lines = [
      { Action: 'build-output', ImportPath: 'ex/a [ex/a.test]', Output: 'a.go:3: undefined: x\n' },
      { Action: 'build-fail', ImportPath: 'ex/a [ex/a.test]' },
      { Action: 'output', Package: 'ex/b', Output: 'panic: boom\n' },
      { Action: 'fail', Package: 'ex/b', Test: 'TestB' },
      { Action: 'fail', Package: 'ex/b' },
      { Action: 'pass', Package: 'ex/c' },
    ].map((l) => JSON.stringify(l));
    const { packages, stray } = parseTestJSON(`${lines.join('\n')}\ngo: warning: something\n`);
    expect(packages.map((p) => [p.importPath, p.buildFailed, p.failed])).toEqual([
      ['ex/a', true, false],
      ['ex/b', false, true],
      ['ex/c', false, false],
    ]);
    expect(packages[0].output).toMatch(/undefined: x/);
    expect(stray).toBe('go: warning: something\n');
  });

  it('names the C function behind a cgo stub', () => {
    expect(cgoStubName('_cgo_5653e873e678_Cfunc_test')).toBe('test');
    expect(cgoStubName('main._Cfunc_overflow')).toBe('overflow');
    expect(cgoStubName('_cgo_fe8661b35c66_Cfunc__Cmalloc')).toBe('malloc');
    expect(cgoStubName('runtime.cgocall')).toBeUndefined();
  });
});
