// Contract packs: the built-in YAML files, when a preamble turns one on, user packs,
// and each pack's functions against the library's own headers where they are installed.
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseContract } from '../src/model/contracts.js';
import { BUILTIN_PACK_DIR, PackError, builtinPackNames, builtinPacks, includesHeader, loadPack, packContracts, packsForPreamble } from '../src/model/packs.js';
import { analyzePackage } from '../src/pipeline/analyze-package.js';
import { initParsers } from '../src/syntax/parser.js';
import { cgoguard } from './support/cli.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'cgoguard-packs-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const names = (preamble: string) => packsForPreamble(preamble).map((p) => p.name);

describe('built-in packs', () => {
  it('are the YAML files of assets/packs, each naming itself and its headers', () => {
    expect(builtinPackNames()).toEqual(['ffmpeg', 'libgit2', 'rocksdb', 'sqlite3', 'stdio']);
    for (const pack of builtinPacks()) {
      expect(pack.headers.length, pack.name).toBeGreaterThan(0);
      expect(pack.description, pack.name).toBeTruthy();
    }
  });

  it('parse, and name each function once', () => {
    for (const pack of builtinPacks()) {
      const contracts = packContracts(pack);
      expect(contracts.length, pack.name).toBe(pack.contracts.length);
      const seen = contracts.map((c) => c.name);
      expect(seen.filter((n, i) => seen.indexOf(n) !== i), pack.name).toEqual([]);
    }
  });

  it('say what a release on success, through a pointer, or a lent name means', () => {
    const sqlite = packContracts(loadPack('sqlite3', tmp));
    for (const name of ['sqlite3_close', 'sqlite3_close_v2']) {
      const c = sqlite.find((x) => x.name === name)!;
      expect(c.releases, name).toEqual([0]);
      expect(c.releasesOnSuccess, name).toEqual([0]);
    }
    const ffmpeg = packContracts(loadPack('ffmpeg', tmp));
    expect(ffmpeg.find((c) => c.name === 'av_frame_free')).toMatchObject({ releases: [], releasesPointee: [0] });
    expect(parseContract('f(pp, x) releases *pp', 'test')).toMatchObject({ releases: [], releasesPointee: [0] });
    const git = packContracts(loadPack('libgit2', tmp));
    expect(git.find((c) => c.name === 'git_commit_message')?.returns).toMatchObject({ kind: 'borrowed', from: 0 });
  });
});

describe('a preamble turns a pack on', () => {
  beforeAll(() => initParsers());

  it('when it includes one of the pack’s headers, by name or by the end of its path', () => {
    expect(names('#include <sqlite3.h>')).toEqual(['sqlite3']);
    expect(names('#include "vendor/sqlite3.h"')).toEqual(['sqlite3']);
    expect(names('#include <git2.h>\n#include <stdio.h>')).toEqual(['libgit2', 'stdio']);
    expect(names('#include "rocksdb/c.h"')).toEqual(['rocksdb']);
    expect(names('# include <libavformat/avformat.h>')).toEqual(['ffmpeg']);
    expect(names('#include <libavutil/frame.h>')).toEqual(['ffmpeg']);
  });

  it('and not when a header only shares a name or a suffix', () => {
    expect(names('#include "c.h"')).toEqual([]);
    expect(names('#include <mygit2.h>')).toEqual([]);
    expect(names('#include <frame.h>')).toEqual([]);
    expect(names('// sqlite3_open without its header')).toEqual([]);
    expect(includesHeader('third_party\\rocksdb\\c.h', 'rocksdb/c.h')).toBe(true);
    expect(includesHeader('notrocksdb/c.h', 'rocksdb/c.h')).toBe(false);
  });

  it('for the analysis: the same code is checked against the pack only when it includes the header', () => {
    const body = `
typedef struct git_repository git_repository;
int git_repository_open(git_repository **out, const char *path);
void git_repository_free(git_repository *repo);
*/
import "C"

func open(p *C.char) int {
	var repo *C.git_repository
	if C.git_repository_open(&repo, p) != 0 {
		return -1
	}
	return 0
}
`;
    expect(findings([`#include <git2.h>\n${body}`])).toEqual([expect.stringMatching(/C memory from C.git_repository_open is not released by C.git_repository_free/)]);
    expect(findings([`#include <stdlib.h>\n${body}`])).toEqual([]);
  });

  it('below the configuration and the directives of every file, and once when also listed in cgoguard.yaml', () => {
    const decls = `
typedef struct git_repository git_repository;
typedef struct git_commit git_commit;
typedef struct git_oid git_oid;
int git_repository_open(git_repository **out, const char *path);
void git_repository_free(git_repository *repo);
int git_commit_lookup(git_commit **commit, git_repository *repo, const git_oid *id);
void git_commit_free(git_commit *commit);
const char *git_commit_message(const git_commit *commit);
`;
    const use = `package repo

/*
#include <git2.h>
${decls}
*/
import "C"

func message(repo *C.git_repository, id *C.git_oid) string {
	var commit *C.git_commit
	if C.git_commit_lookup(&commit, repo, id) != 0 {
		return ""
	}
	msg := C.git_commit_message(commit)
	C.git_commit_free(commit)
	return C.GoString(msg)
}

func open(p *C.char) *C.git_repository {
	var repo *C.git_repository
	if C.git_repository_open(&repo, p) != 0 {
		return nil
	}
	return repo
}
`;
    const uaf = [expect.stringMatching(/msg is read by C.GoString after being freed/)];
    expect(findings([use])).toEqual(uaf);
    // The pack as cgoguard.yaml lists it, and turned on by the header: the same clauses, once.
    const listed = loadPack('libgit2', tmp).contracts.map((text) => ({ text, origin: 'pack libgit2' }));
    expect(findings([use], listed)).toEqual(uaf);
    // The configuration's contract replaces the pack's `returns`, though the header turns the pack on later.
    const mine = [{ text: 'git_commit_message(commit) returns borrowed', origin: 'cgoguard.yaml' }];
    expect(findings([use], mine)).toEqual([]);
    // So does a directive in a file read before the one that includes the header.
    const directive = 'package repo\n\n/*\n// cgoguard:contract git_commit_message(commit) returns borrowed\n*/\nimport "C"\n';
    expect(findings([directive, use])).toEqual([]);
  });
});

/** The messages of the findings in a package of these Go files, with these contracts from cgoguard.yaml. */
function findings(sources: string[], contracts: { text: string; origin: string }[] = []): string[] {
  const dir = mkdtempSync(path.join(tmp, 'pkg-'));
  const files = sources.map((text, i) => {
    const file = path.join(dir, `f${i}.go`);
    writeFileSync(file, text.startsWith('package ') ? text : `package repo\n\n/*\n${text}`);
    return { path: file, display: `f${i}.go` };
  });
  const build = { goos: 'linux', goarch: 'amd64', tags: [], cgo: true, goMinor: 26 };
  const job = { importPath: 'example.com/repo', name: 'repo', dir, files, cFiles: [], build };
  return analyzePackage(job, [], { contracts, disabledRules: new Set(), cAnalyzer: false }).findings.map((f) => f.message);
}

it('cgoguard contracts explain names the pack a contract comes from', () => {
  const dir = path.resolve(__dirname, '../testdata/fixtures');
  const close = cgoguard(['contracts', 'explain', 'C.sqlite3_close', './sqlite3_pack_ok'], { cwd: dir });
  expect(close.stdout).toContain('contract: releases argument 1 on success');
  expect(close.stdout).toContain('from: pack sqlite3');
  const free = cgoguard(['contracts', 'explain', 'C.av_frame_free', './ffmpeg_pack_ok'], { cwd: dir });
  expect(free.stdout).toContain('contract: releases what argument 1 points to, and sets it to NULL');
  expect(free.stdout).toContain('from: pack ffmpeg');
});

describe('packs by name or file', () => {
  it('loads a built-in pack by name, and names the built-in ones for an unknown name', () => {
    expect(loadPack('rocksdb', tmp).name).toBe('rocksdb');
    expect(() => loadPack('libfoo', tmp)).toThrow(new PackError('unknown contract pack "libfoo" (built in: ffmpeg, libgit2, rocksdb, sqlite3, stdio; or give a path to a YAML file)'));
  });

  it('reads a user’s YAML file relative to the configuration', () => {
    writeFileSync(path.join(tmp, 'libfoo.yaml'), 'contracts:\n  - foo_new() returns owned released by foo_free\n  - foo_free(f) releases f\n');
    expect(loadPack('./libfoo.yaml', tmp)).toMatchObject({ name: './libfoo.yaml', headers: [], contracts: ['foo_new() returns owned released by foo_free', 'foo_free(f) releases f'] });
    expect(() => loadPack('./missing.yaml', tmp)).toThrow('./missing.yaml: no such file');
    writeFileSync(path.join(tmp, 'bad.yaml'), 'contracts: foo\n');
    expect(() => loadPack('./bad.yaml', tmp)).toThrow('expected a "contracts:" list of strings');
  });
});

/** The C text of a pack's headers where installed: each header, and the folder of its own headers (git2/ for git2.h). */
function installedHeaders(headers: string[]): string | undefined {
  const roots = ['/usr/include', ...(existsSync('/usr/include') ? readdirSync('/usr/include').filter((d) => d.includes('-linux-')).map((d) => `/usr/include/${d}`) : [])];
  const files = new Set<string>();
  const walk = (dir: string) => {
    for (const f of readdirSync(dir)) {
      const p = path.join(dir, f);
      if (statSync(p).isDirectory()) walk(p);
      else if (f.endsWith('.h')) files.add(p);
    }
  };
  for (const h of headers) {
    const root = roots.find((r) => existsSync(path.join(r, h)));
    if (!root) continue;
    files.add(path.join(root, h));
    const own = h.includes('/') ? path.join(root, path.dirname(h)) : path.join(root, h.replace(/\.h$/, ''));
    if (existsSync(own) && statSync(own).isDirectory()) walk(own);
  }
  if (!files.size) return undefined;
  return [...files].map((f) => readFileSync(f, 'utf8').replace(/\/\*[\s\S]*?\*\//g, ' ').replace(/\/\/.*$/gm, '')).join('\n');
}

/** The parameters of a C function's first declaration in `text`, counted at the top level of its parentheses (`...` is not one). */
function declaredParams(text: string, name: string): number | undefined {
  const m = new RegExp(`\\b${name}\\s*\\(`).exec(text);
  if (!m) return undefined;
  let depth = 1;
  let i = m.index + m[0].length;
  let commas = 0;
  const start = i;
  for (; depth; i++) {
    if (text[i] === '(') depth++;
    else if (text[i] === ')') depth--;
    else if (text[i] === ',' && depth === 1) commas++;
  }
  const inside = text.slice(start, i - 1).trim();
  if (inside === '' || inside === 'void') return 0;
  return inside.endsWith('...') ? commas : commas + 1;
}

describe('each pack against its library’s headers, where installed', () => {
  for (const pack of builtinPacks()) {
    it(pack.name, (ctx) => {
      const text = installedHeaders(pack.headers);
      if (!text) {
        // scripts/system-deps.sh installs them: in CI a missing header is a failure, not a skip.
        if (process.env.CI) expect.fail(`the headers of pack ${pack.name} are not installed (scripts/system-deps.sh installs them)`);
        ctx.skip();
      }
      const wrong: string[] = [];
      for (const c of packContracts(pack)) {
        const source = pack.contracts.find((t) => t.startsWith(`${c.name}(`) || t.startsWith(`${c.name} `));
        const written = /^\w+\(([^)]*)\)/.exec(source ?? '')?.[1];
        const params = declaredParams(text!, c.name);
        if (params === undefined) wrong.push(`${c.name}: not declared`);
        else if (written !== undefined && written.split(',').filter((p) => p.trim()).length !== params) wrong.push(`${c.name}: ${params} parameters in the header`);
      }
      expect(wrong).toEqual([]);
    });
  }
});

it('the built-in packs folder ships with the package', () => {
  const pkg = JSON.parse(readFileSync(path.resolve(__dirname, '../package.json'), 'utf8')) as { files: string[] };
  expect(pkg.files).toContain('assets');
  expect(path.relative(path.resolve(__dirname, '..'), BUILTIN_PACK_DIR)).toBe(path.join('assets', 'packs'));
});
