// C bodies read lazily: the same summaries as reading every body at once,
// for the functions reached, and nothing read for the functions not reached.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CBodies } from '../src/model/cbodies.js';
import { emptyCModel, type CFunc, type CModel } from '../src/model/cdecls.js';
import { addCSource } from '../src/model/cmodel.js';
import { ContractSet, parseContract } from '../src/model/contracts.js';
import { cSkeleton } from '../src/model/cskeleton.js';
import { PackageModel } from '../src/model/program.js';
import { convertGoFile } from '../src/syntax/goconvert.js';
import { initParsers, parseGo } from '../src/syntax/parser.js';

const repoRoot = path.resolve(__dirname, '..');

function summary(f: CFunc | undefined): string {
  if (!f) return 'none';
  return JSON.stringify({ frees: [...f.frees], freedBy: f.freedBy && [...f.freedBy], retains: [...f.retains], returns: f.returns, returnsArg: f.returnsArg, releasedBy: f.releasedBy, writes: [...f.writes] });
}

/** Every body summarised as each text is added (the reference), and lazily. */
function both(texts: string[], contractsAt: (i: number) => ContractSet) {
  const eager = emptyCModel();
  const lazy = emptyCModel();
  const bodies = new CBodies();
  texts.forEach((t, i) => {
    const cs = contractsAt(i);
    eager.contractOf = (n) => cs.get(n);
    lazy.contractOf = eager.contractOf;
    addCSource(eager, t, { source: `t${i}`, bodies: true });
    bodies.add(lazy, t, `t${i}`, () => ({ get: (n) => cs.get(n), digest: cs.digest() }));
  });
  return { eager, lazy, bodies };
}

function defined(m: CModel): CFunc[] {
  return [...m.funcs.values()].filter((f) => f.defined);
}

/** The differences between the two, after asking for each function alone and then for all at once. */
function differences(texts: string[], contractsAt: (i: number) => ContractSet = () => ContractSet.withBuiltins()): string[] {
  const out: string[] = [];
  for (const mode of ['one by one', 'all at once']) {
    const { eager, lazy, bodies } = both(texts, contractsAt);
    const fns = defined(lazy);
    if (mode === 'one by one') for (const f of fns) bodies.summarize([f]);
    else bodies.summarize(fns);
    expect(fns.map((f) => f.name).sort()).toEqual(defined(eager).map((f) => f.name).sort());
    for (const f of fns) {
      const want = summary(eager.funcs.get(f.name));
      if (summary(f) !== want) out.push(`${mode}: ${f.name}: ${summary(f)} != ${want}`);
    }
  }
  return out;
}

/** The cgo preamble of a Go file. */
function preamble(file: string): string | undefined {
  const text = readFileSync(file, 'utf8');
  const tree = parseGo(text);
  try {
    return convertGoFile(file, text, tree).preamble?.text;
  } finally {
    tree.delete();
  }
}

/** The C texts of a package folder as the analysis adds them: preambles, then .c and .h files. */
function packageTexts(dir: string): string[] {
  const names = readdirSync(dir).sort();
  const pre = names.filter((n) => n.endsWith('.go')).flatMap((n) => preamble(path.join(dir, n)) ?? []);
  return [...pre, ...names.filter((n) => /\.[ch]$/.test(n)).map((n) => readFileSync(path.join(dir, n), 'utf8'))];
}

describe('C bodies read lazily', () => {
  beforeAll(() => initParsers());

  it('give every function the summary reading all bodies gives: a callee defined in a later text stays unseen, as before', () => {
    const texts = [
      // g is only declared here: f's summary cannot use g's body, which comes later.
      'void g(char *p);\nvoid f(char *p) { g(p); }\nstatic void helper(char *p) { free(p); }\nvoid usesHelper(char *p) { helper(p); }',
      'void g(char *p) { free(p); k(p); }\nstatic void helper(char *p) { }\nvoid k(char *p);\nvoid usesHelper2(char *p) { helper(p); }',
      'static char *kept;\nvoid k(char *p) { kept = p; }\nvoid afterAll(char *p) { g(p); k(p); }',
    ];
    expect(differences(texts)).toEqual([]);
    const { lazy, bodies } = both(texts, () => ContractSet.withBuiltins());
    bodies.summarize([lazy.funcs.get('afterAll')!]);
    expect([...lazy.funcs.get('afterAll')!.frees]).toEqual([0]);
    expect([...lazy.funcs.get('afterAll')!.retains]).toEqual([0]);
  });

  it('stop where reading all bodies stops: a call chain longer than the rounds of the fixpoint', () => {
    // Callers before callees: each round carries the free one step up the chain.
    const chain = Array.from({ length: 10 }, (_, i) => `void c${i}(char *p) { c${i + 1}(p); }`).join('\n');
    const texts = [`void c10(char *p);\n${chain}\nvoid c10(char *p) { free(p); }`];
    expect(differences(texts)).toEqual([]);
    const { lazy, bodies } = both(texts, () => ContractSet.withBuiltins());
    bodies.summarize([lazy.funcs.get('c0')!]);
    // Far enough from the free, the summary does not know it (as before).
    expect(lazy.funcs.get('c9')!.frees.size).toBe(1);
    expect(lazy.funcs.get('c0')!.frees.size).toBe(0);
  });

  it('see the contracts as they stood when each text was added', () => {
    const base = ContractSet.withBuiltins();
    const later = base.clone();
    later.add(parseContract('lib_close(h) releases h', 'test'));
    const texts = ['void early(void *h) { lib_close(h); }', 'void late(void *h) { lib_close(h); }'];
    expect(differences(texts, (i) => (i === 0 ? base : later))).toEqual([]);
    const { lazy, bodies } = both(texts, (i) => (i === 0 ? base : later));
    bodies.summarize(defined(lazy));
    expect(lazy.funcs.get('early')!.frees.size).toBe(0);
    expect([...lazy.funcs.get('late')!.frees]).toEqual([0]);
  });

  it('agree on the C of the examples, the fixtures and the Go tree', () => {
    const dirs = [
      ...readdirSync(path.join(repoRoot, 'examples')).map((d) => path.join(repoRoot, 'examples', d)),
      ...readdirSync(path.join(repoRoot, 'testdata/fixtures')).map((d) => path.join(repoRoot, 'testdata/fixtures', d)),
    ];
    try {
      const goroot = execFileSync('go', ['env', 'GOROOT'], { encoding: 'utf8' }).trim();
      for (const d of ['src/runtime/cgo', 'src/cmd/cgo/internal/test', 'src/cmd/cgo/internal/testerrors/testdata']) dirs.push(path.join(goroot, d));
    } catch {
      // no go command: the repository's own C only
    }
    let functions = 0;
    for (const dir of dirs.filter((d) => existsSync(d) && !d.endsWith('go.mod'))) {
      const texts = packageTexts(dir);
      expect(differences(texts), dir).toEqual([]);
      functions += defined(both(texts, () => ContractSet.withBuiltins()).lazy).length;
    }
    expect(functions).toBeGreaterThan(100);
  });

  it('read only the bodies the Go code reaches, and a skeleton of the rest', () => {
    const unused = Array.from({ length: 300 }, (_, i) => `static int table${i}[] = { ${i}, ${i + 1} };\nint unused${i}(char *p) { return p[${i}]; }`).join('\n');
    const c = `#include <stdlib.h>\n${unused}\nstatic void release(char *p) { free(p); }\nvoid drop(char *p) { release(p); }\n`;
    const goText = 'package p\n\n// void drop(char *p);\nimport "C"\n\nfunc F(p *C.char) { C.drop(p) }\n';
    const pkg = new PackageModel('example.com/p', 'p', ContractSet.withBuiltins());
    const tree = parseGo(goText);
    pkg.addFile(convertGoFile('/p/p.go', goText, tree), 'p.go');
    tree.delete();
    pkg.cFileLoader = () => pkg.addCFile('lib.c', c);
    const drop = pkg.cFunc('drop')!;
    expect(drop.defined).toBe(true);
    expect([...drop.frees]).toEqual([0]);
    // drop and release, of 302 definitions.
    expect(pkg.cBodies.stats).toMatchObject({ definitions: 302, summarized: 2, readWhole: 0 });
    // The declarations of the rest are known.
    expect(pkg.c.funcs.get('unused299')?.defined).toBe(true);
    expect(pkg.c.globals.get('table7')?.k).toBe('array');
  });

  it('parse a text whole when a body opens braces in only one branch of an #if', () => {
    const irregular = 'int f(int x) {\n#if A\n  if (x) {\n#else\n  if (!x) {\n#endif\n    return 1;\n  }\n  return 0;\n}\n';
    expect(cSkeleton(irregular)).toBeUndefined();
    const regular = 'int f(int x) {\n#if A\n  if (x) { return 2; }\n#else\n  if (!x) { return 3; }\n#endif\n  return 0;\n}\nstatic const int t[] = { 1, 2, 3 };\n';
    const sk = cSkeleton(regular)!;
    expect(sk.regions.map((r) => r.kind)).toEqual(['body', 'initializer']);
    expect(sk.text).toBe('int f(int x) {}\nstatic const int t[] = {};\n');
    expect(differences([irregular, regular.replace('int f', 'int g')])).toEqual([]);
  });

  it('keep the summaries they made, keyed by the texts and their contracts', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cgoguard-csum-'));
    const saved = process.env.CGOGUARD_CACHE;
    process.env.CGOGUARD_CACHE = dir;
    try {
      const texts = ['void g(char *p);\nvoid f(char *p) { g(p); free(p); }', 'void g(char *p) { free(p); }\nvoid h(char *p) { g(p); }'];
      const run = (t: string[], contracts = ContractSet.withBuiltins()) => {
        const { lazy, bodies } = both(t, () => contracts);
        bodies.summarize([lazy.funcs.get('h')!, lazy.funcs.get('f')!]);
        return { lazy, bodies };
      };
      const first = run(texts);
      expect(first.bodies.stats).toMatchObject({ summarized: 3, fromCache: 0 });
      const again = run(texts);
      expect(again.bodies.stats).toMatchObject({ summarized: 0, fromCache: 3 });
      for (const n of ['f', 'g', 'h']) expect(summary(again.lazy.funcs.get(n))).toBe(summary(first.lazy.funcs.get(n)));
      // Another text, or other contracts, is another key.
      expect(run([texts[0], `${texts[1]}\n`]).bodies.stats.fromCache).toBe(0);
      const more = ContractSet.withBuiltins();
      more.add(parseContract('g(p) takes p', 'test'));
      expect(run(texts, more).bodies.stats.fromCache).toBe(0);
      // A big text read whole keeps its declarations: the next run does not parse it for them.
      const filler = Array.from({ length: 1800 }, (_, i) => `int filler${i}(int x) { return x + ${i}; }`).join('\n');
      const big = `${filler}\nint f(int x) {\n#if A\n  if (x) {\n#else\n  if (!x) {\n#endif\n    return 1;\n  }\n  return 0;\n}\nvoid rel(char *p) { free(p); }\n`;
      expect(big.length).toBeGreaterThan(64 * 1024);
      const once = both([big], () => ContractSet.withBuiltins());
      const twice = both([big], () => ContractSet.withBuiltins());
      expect([once.bodies.stats.readWhole, once.bodies.stats.treesFromCache, twice.bodies.stats.treesFromCache]).toEqual([1, 0, 1]);
      for (const b of [once, twice]) b.bodies.summarize([b.lazy.funcs.get('rel')!, b.lazy.funcs.get('f')!]);
      expect(summary(twice.lazy.funcs.get('rel'))).toBe(summary(once.eager.funcs.get('rel')));
      expect(defined(twice.lazy).map((f) => f.name).sort()).toEqual(defined(once.eager).map((f) => f.name).sort());
    } finally {
      if (saved === undefined) delete process.env.CGOGUARD_CACHE;
      else process.env.CGOGUARD_CACHE = saved;
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
