// The interpreter's hooks, one test each: a module registered alone sees
// exactly the events its hooks stand for, in order; and each real domain
// registered alone reports only its own rules.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DomainHooks, DomainModule, Engine, PackageCheck } from '../src/flow/hooks.js';
import { objVal, type Obj, type State, type Val } from '../src/flow/state.js';
import { analyzePackage } from '../src/pipeline/analyze-package.js';
import { DOMAINS } from '../src/rules/index.js';
import { initParsers } from '../src/syntax/parser.js';
import { readGoHeader } from '../src/workspace/goheader.js';

const RULE = { id: 'recorded', severity: 'note' as const };
const dirs: string[] = [];

/** A module that records its hooks' calls, makes C memory for C.CString and owns what it made. */
function recorder(log: string[], extra: Partial<DomainModule> = {}): DomainModule {
  const create = (x: Engine): DomainHooks => {
    const fn = x.info.name;
    const note = (s: string) => log.push(`${fn}: ${s}`);
    const made = (st: State, pos: number): Val => {
      const id = x.allocId(st, `c${pos}`)!;
      st.setObj(id, { kind: 'c', state: 'live', what: 'C.CString', site: pos, nullable: false, steps: [] });
      return objVal(id);
    };
    return {
      captureOperands: (e) => note(`captureOperands ${x.src(e.fun)}`),
      cgoBuiltin: (name, _e, _args, st, pos) => {
        note(`cgoBuiltin ${name}`);
        return name === 'CString' ? [made(st, pos)] : undefined;
      },
      callTarget: () => undefined,
      beforeCCall: (cc) => note(`beforeCCall ${cc.name}`),
      transferArg: (cc, i) => (note(`transferArg ${cc.name} ${i}`), false),
      afterCCall: (cc) => note(`afterCCall ${cc.name}`),
      cCallResult: (cc) => (note(`cCallResult ${cc.name}`), undefined),
      apiCall: (call) => (note(`apiCall ${call.api}`), undefined),
      beforeCall: (e) => note(`beforeCall ${x.src(e.fun)}`),
      onConversion: (to, _x, pos) => note(`onConversion ${to.k} at ${x.line(pos)}`),
      onView: (v) => note(`onView ${v.how}`),
      onStoreIntoC: (s) => note(`onStoreIntoC ${s.dest}`),
      onCopyIntoC: () => note('onCopyIntoC'),
      onUse: (_st, _id, _o, how) => note(`onUse ${how}`),
      escapesWithAddress: (_st, v) => (note(`escapesWithAddress ${x.info.decl.vars[v].name}`), []),
      owns: (o: Obj) => o.kind === 'c' && o.state === 'live',
      onLost: (_st, _id, _o, loss) => (note(`onLost ${loss.how} at ${x.line(loss.at)}`), true),
      onNil: () => note('onNil'),
      onKnownEmpty: () => note('onKnownEmpty'),
      beforeDeferredCall: (rec) => note(`beforeDeferredCall ${x.src(rec.call.fun)}`),
      atExit: (_st, results) => note(`atExit ${results.length}`),
      summarizeInput: (_st, _id, o, path) => {
        note(`summarizeInput ${path}`);
        return fn === 'release' && o.used ? { k: 'freed', path, by: 'free', steps: [] } : undefined;
      },
      summarizeField: (_st, _id, _o, path) => (note(`summarizeField ${path}`), undefined),
      summarizeResult: (_st, _id, o) => (note('summarizeResult'), o.kind === 'c' ? { k: 'owned', what: 'mk', releasedBy: ['free'], nullable: false, steps: [] } : undefined),
      applyEffect: (eff, target) => (note(`applyEffect ${eff.k} ${target.name}`), true),
      applyResult: (r, call, st) => {
        note(`applyResult ${r.k} ${call.display}`);
        return made(st, call.pos);
      },
      ...(extra.create ? extra.create(x) : {}),
    };
  };
  return { id: 'recorder', rules: [RULE], ...extra, create };
}

function packageOf(files: Record<string, string>): { dir: string; job: Parameters<typeof analyzePackage>[0] } {
  const dir = mkdtempSync(path.join(tmpdir(), 'cgoguard-hooks-'));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
  const goFiles = Object.keys(files).filter((n) => n.endsWith('.go')).sort();
  const pkgName = readGoHeader(files[goFiles[0]]).pkgName ?? 'p';
  const job = {
    importPath: 'example.com/p',
    name: pkgName,
    dir,
    files: goFiles.map((n) => ({ path: path.join(dir, n), display: n })),
    cFiles: [],
    build: { goos: 'linux', goarch: 'amd64', tags: [], cgo: true, goMinor: 26 },
  };
  return { dir, job };
}

/** What the recorder saw for `body` (a Go file importing "C" and "unsafe"), limited to lines starting with `only`. */
function seen(body: string, only: string[], extra?: Partial<DomainModule>): string[] {
  const log: string[] = [];
  const src = `package p\n\n/*\n#include <stdlib.h>\nvoid use(char *s);\nchar *mk(void);\n*/\nimport "C"\n\nimport (\n\t"runtime"\n\t"runtime/cgo"\n\t"unsafe"\n)\n\nvar _ = runtime.GC\nvar _ = cgo.NewHandle\nvar _ unsafe.Pointer\n\n${body}\n`;
  const { job } = packageOf({ 'p.go': src });
  analyzePackage(job, [], { contracts: [], disabledRules: new Set(), domains: [recorder(log, extra)] });
  return log.filter((l) => only.some((o) => l.split(': ')[1].startsWith(o)));
}

beforeAll(() => initParsers());
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('hooks, each seen by a module registered alone', () => {
  it('C calls: operands, cgo helpers, checks, arguments, effects, results, in that order', () => {
    const body = `func f() {\n\ts := C.CString("x")\n\tC.use(s)\n\tC.free(unsafe.Pointer(s))\n}`;
    expect(seen(body, ['captureOperands', 'cgoBuiltin', 'beforeCCall', 'transferArg', 'afterCCall', 'cCallResult'])).toEqual([
      'f: captureOperands C.CString',
      'f: cgoBuiltin CString',
      'f: captureOperands C.use',
      'f: cgoBuiltin use',
      'f: beforeCCall use',
      'f: transferArg use 0',
      'f: afterCCall use',
      'f: cCallResult use',
      'f: captureOperands C.free',
      'f: cgoBuiltin free',
      'f: beforeCCall free',
      'f: transferArg free 0',
      'f: afterCCall free',
      'f: cCallResult free',
    ]);
  });

  it('beforeCall and apiCall: every call, and the standard-library APIs a module declares', () => {
    const extra = { apis: { 'runtime.Pinner.*': { evalRecv: false } } };
    const body = `func f() {\n\tvar p runtime.Pinner\n\tb := new(int)\n\tp.Pin(b)\n\tp.Unpin()\n}`;
    expect(seen(body, ['beforeCall', 'apiCall'], extra)).toEqual(['f: beforeCall new', 'f: beforeCall p.Pin', 'f: apiCall runtime.Pinner.Pin', 'f: beforeCall p.Unpin', 'f: apiCall runtime.Pinner.Unpin']);
    // Undeclared, the same calls are not the module's.
    expect(seen(body, ['apiCall'])).toEqual([]);
  });

  it('onConversion and onView: conversions and slices made over memory', () => {
    const body = `func f(p *C.char) []byte {\n\tq := unsafe.Pointer(p)\n\tC.use(p)\n\treturn unsafe.Slice((*byte)(q), 4)\n}`;
    expect(seen(body, ['onConversion', 'onView'])).toEqual(['f: onConversion unsafeptr at 21', 'f: onConversion pointer at 23', 'f: onView unsafe.Slice']);
  });

  it('onStoreIntoC and onCopyIntoC: writes into C memory', () => {
    const body = `func f(b []byte) {\n\tp := (*[4]byte)(unsafe.Pointer(C.CString("abc")))\n\tp[0] = 1\n\tcopy(p[:], b)\n\tx := []byte{1}\n\tcopy(p[:], x)\n}`;
    // copy hands the hook any tracked source: the parameter b, then the Go slice x.
    expect(seen(body, ['onStoreIntoC', 'onCopyIntoC'])).toEqual(['f: onStoreIntoC p[0]', 'f: onCopyIntoC', 'f: onCopyIntoC']);
  });

  it('onUse: reads and hand-overs of tracked memory', () => {
    const body = `func f() {\n\ts := C.CString("x")\n\tC.use(s)\n\t_ = C.GoString(s)\n}`;
    expect(seen(body, ['onUse'])).toEqual(['f: onUse passed to C.use', 'f: onUse read by C.GoString']);
  });

  it('escapesWithAddress: what goes with a variable whose address is given away', () => {
    const body = `func keep(p *int)\n\nfunc f() {\n\tn := 1\n\tkeep(&n)\n\tC.use(nil)\n}`;
    expect(seen(body, ['escapesWithAddress'])).toEqual(['f: escapesWithAddress n']);
  });

  it('onLost: an owned object that nothing reaches any more, and how', () => {
    const body = `func f(bad bool) {\n\ts := C.CString("x")\n\tif bad {\n\t\treturn\n\t}\n\ts = C.CString("y")\n\tC.use(s)\n}`;
    expect(seen(body, ['onLost'])).toEqual(['f: onLost return at 23', 'f: onLost lost at 25', 'f: onLost return at 27']);
  });

  it('onNil and onKnownEmpty: what a condition shows about an allocation', () => {
    const body = `func f() {\n\tp := C.mk()\n\tif p == nil {\n\t\treturn\n\t}\n}\n\nfunc g() {\n\tb := C.GoBytes(nil, 0)\n\t_ = b\n\tp := (*[4]byte)(unsafe.Pointer(C.CString("")))[:]\n\tif len(p) == 0 {\n\t\treturn\n\t}\n}`;
    const extra = {
      create: (x: Engine): Partial<DomainHooks> => ({
        cCallResult: (cc, st) => {
          if (cc.name !== 'mk') return undefined;
          const id = x.allocId(st, `m${cc.pos}`)!;
          st.setObj(id, { kind: 'c', state: 'live', what: 'C.mk', site: cc.pos, nullable: true, steps: [] });
          return [objVal(id)];
        },
      }),
    };
    expect(seen(body, ['onNil', 'onKnownEmpty'], extra)).toEqual(['f: onNil', 'g: onKnownEmpty']);
  });

  it('beforeDeferredCall and atExit: deferred calls run at the return, then the exit', () => {
    const body = `func f() int {\n\ts := C.CString("x")\n\tdefer C.free(unsafe.Pointer(s))\n\treturn 1\n}`;
    expect(seen(body, ['beforeDeferredCall', 'atExit'])).toEqual(['f: beforeDeferredCall C.free', 'f: atExit 1']);
  });

  it('summaries: what a module says about inputs, fields and results, and replays at call sites', () => {
    const body = `type box struct{ p *C.char }\n\nfunc release(s *C.char) {\n\tC.use(s)\n}\n\nfunc fill(b *box) {\n\tb.p = C.CString("x")\n}\n\nfunc make1() *C.char {\n\treturn C.CString("x")\n}\n\nfunc f() {\n\ts := make1()\n\trelease(s)\n}`;
    expect(seen(body, ['summarizeInput', 'summarizeField', 'summarizeResult', 'applyEffect', 'applyResult'])).toEqual([
      'release: summarizeInput p0',
      'fill: summarizeInput p0',
      'fill: summarizeField p0.p',
      'make1: summarizeResult',
      'f: applyResult owned make1',
      'f: applyEffect freed s',
    ]);
  });

  it('packageCheck: runs when its trigger appears, over the functions that mention it', () => {
    const ran: string[] = [];
    const packageCheck: PackageCheck = { trigger: /\bKeepAlive\b/, run: (funcs) => (ran.push(...funcs.map((f) => f.name).sort()), []) };
    seen(`func f() {\n\truntime.KeepAlive(1)\n}\n\nfunc g() {}`, [], { packageCheck });
    expect(ran).toEqual(['f']);
    ran.length = 0;
    seen(`func g() {}`, [], { packageCheck });
    expect(ran).toEqual([]);
  });
});

describe('each domain registered alone reports only its own rules', () => {
  const root = path.resolve(__dirname, '../testdata/fixtures');
  const fixtures = readdirSync(root).filter((n) => !n.startsWith('c_analyzer')).sort();
  const run = (domains: readonly DomainModule[]) =>
    fixtures.flatMap((name) => {
      const dir = path.join(root, name);
      const files = readdirSync(dir).filter((f) => f.endsWith('.go')).sort();
      const pkgName = readGoHeader(readFileSync(path.join(dir, files[0]), 'utf8')).pkgName ?? name;
      const cFiles = readdirSync(dir).filter((f) => /\.[ch]$/.test(f)).sort().map((f) => ({ path: path.join(dir, f), display: `${name}/${f}` }));
      const job = { importPath: `fixtures/${name}`, name: pkgName, dir, files: files.map((f) => ({ path: path.join(dir, f), display: `${name}/${f}` })), cFiles, build: { goos: 'linux', goarch: 'amd64', tags: [], cgo: true, goMinor: 26 } };
      return analyzePackage(job, [], { contracts: [], disabledRules: new Set(), domains }).findings.filter((f) => f.rule !== 'bad-directive' && f.rule !== 'unused-ignore');
    });
  let all: ReturnType<typeof run> = [];
  beforeAll(() => {
    all = run(DOMAINS);
  });

  for (const d of DOMAINS) {
    it(d.id, () => {
      const mine = new Set(d.rules.map((r) => r.id));
      const alone = run([d]);
      expect(alone.filter((f) => !mine.has(f.rule))).toEqual([]);
      // The finalizer checks need no other module: alone they find what they find together.
      if (d.id === 'finalizers') {
        const key = (f: { file: string; line: number; rule: string; message: string }) => `${f.file}:${f.line} ${f.rule} ${f.message}`;
        expect(alone.map(key).sort()).toEqual(all.filter((f) => mine.has(f.rule)).map(key).sort());
      }
      expect(all.some((f) => mine.has(f.rule))).toBe(true);
    });
  }
});
