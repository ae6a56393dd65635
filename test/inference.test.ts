// Ownership inferred from library headers: each source on the header shapes
// real libraries have, evidence that conflicts or is too weak giving no fact,
// and the `contracts infer` / `contracts explain` commands end to end (the
// inferred list, kept as a configuration, makes the same findings sure).
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { inferFromHeaders } from '../src/knowledge/infer-header.js';
import { scanHeader } from '../src/knowledge/header-scan.js';
import { cgoguard, repoRoot } from './support/cli.js';

const facts = (text: string) => {
  const out = new Map<string, { text: string; confidence: string }>();
  for (const [name, f] of inferFromHeaders([{ path: '/x/lib.h', display: 'lib.h', text }])) out.set(name, { text: f.text, confidence: f.contract.confidence ?? 'high' });
  return out;
};

describe('inference from headers', () => {
  it('reads what a doc comment says the caller must release, or must not', () => {
    const f = facts(`
typedef struct lib_repo lib_repo;
/**
 * @param out the repository; it must be freed with lib_repo_free
 * @return 0 or an error code
 */
int lib_repo_open(lib_repo **out, const char *path);
void lib_repo_free(lib_repo *repo);
/**
 * @return the path, owned by the repository; do not free it
 */
const char *lib_repo_path(lib_repo *repo);
`);
    expect(f.get('lib_repo_open')).toEqual({ text: 'lib_repo_open(out, path) writes owned to out released by lib_repo_free on success', confidence: 'high' });
    expect(f.get('lib_repo_path')?.text).toBe('lib_repo_path(repo) returns borrowed');
    expect(f.get('lib_repo_free')?.text).toBe('lib_repo_free(repo) releases repo');
  });

  it('pairs makers and releasers of one type by name, as a likely reading', () => {
    const f = facts(`
typedef struct kv_options_t kv_options_t;
kv_options_t *kv_options_create(void);
void kv_options_destroy(kv_options_t *o);
kv_options_t *kv_options_get_default(void);
`);
    expect(f.get('kv_options_create')).toEqual({ text: 'kv_options_create() returns owned released by kv_options_destroy', confidence: 'medium' });
    // A getter makes nothing.
    expect(f.has('kv_options_get_default')).toBe(false);
  });

  it('gives no fact when the evidence conflicts or is too weak', () => {
    const f = facts(`
typedef struct cache cache;
/** Create the shared cache. It belongs to the library and must not be freed. */
cache *cache_create(void);
void cache_destroy(cache *c);
typedef struct node node;
/* Look up a node. */
node *node_lookup(cache *c, const char *name);
`);
    expect(f.has('cache_create')).toBe(false);
    expect(f.has('node_lookup')).toBe(false);
  });

  it('knows the error-message convention, and what the header says of it', () => {
    const plain = facts('void db_put(void *db, const char *k, char **errptr);\nvoid db_free(void *p);\n');
    expect(plain.get('db_put')).toEqual({ text: 'db_put(db, k, errptr) writes owned to errptr released by db_free', confidence: 'medium' });
    const said = facts('/* errptr: on failure, a malloc()ed error message */\nvoid db_put(void *db, const char *k, char **errptr);\nvoid db_free(void *p);\n');
    expect(said.get('db_put')).toEqual({ text: 'db_put(db, k, errptr) writes owned to errptr released by db_free, free', confidence: 'high' });
    // A releaser that reports errors still reports them.
    expect(facts('void db_delete(void *db, const char *k, char **errptr);\nvoid db_free(void *p);\n').get('db_delete')?.text).toBe('db_delete(db, k, errptr) writes owned to errptr released by db_free');
  });

  it('shares a comment only among declarations on the lines right after it', () => {
    const decls = scanHeader(`/* Returns the SQL text. */
const char *q_sql(void *s);
char *q_expanded_sql(void *s);

int q_other(void);
`).decls;
    expect(decls.map((d) => [d.name, !!d.docShared])).toEqual([
      ['q_sql', true],
      ['q_expanded_sql', true],
      ['q_other', false],
    ]);
  });
});

describe('cgoguard contracts', () => {
  const tmp = mkdtempSync(path.join(tmpdir(), 'cgoguard-contracts-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));
  const mod = path.join(tmp, 'm');
  cpSync(path.join(repoRoot, 'testdata/fixtures/inferred'), mod, { recursive: true });
  writeFileSync(path.join(mod, 'go.mod'), 'module m\n\ngo 1.22\n');
  const check = (args: string[] = []) => JSON.parse(cgoguard(['check', '--no-cache', '--no-c-analyzer', '--format', 'json', ...args, '.'], { cwd: mod }).stdout).findings as { line: number; confidence?: string }[];

  it('infer prints the inferred contracts of the called functions, with their evidence, as a list that check accepts', () => {
    const r = cgoguard(['contracts', 'infer', '.'], { cwd: mod });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('  # widget.h:17 (doc + naming, high confidence): out: doc: "must be freed"');
    expect(r.stdout).toContain('  - "wg_repo_open(out, path) writes owned to out released by wg_repo_free on success"');
    expect(r.stdout).toContain('  - "wg_options_create() returns owned released by wg_options_destroy"');
    expect(r.stdout).not.toContain('CString');
    // The count on stderr is the number of contracts printed.
    const printed = r.stdout.split('\n').filter((l) => l.startsWith('  - "')).length;
    expect(printed).toBeGreaterThan(10);
    expect(r.stderr).toMatch(new RegExp(`1 cgo package\\(s\\), \\d+ C function\\(s\\) called, ${printed} with inferred contracts`));
    // A releaser that returns a status may refuse: it releases only on success.
    expect(r.stdout).toContain('  - "wg_mount_release(m) releases m on success"');
    // A constructor that frees its argument when it succeeds, as its doc says.
    expect(r.stdout).toContain('  - "wg_client_new(conf) returns owned released by wg_client_destroy; releases conf on success"');
    // An error object is made by whatever returns one.
    expect(r.stdout).toContain('  - "wg_repo_serialize(repo, bufferp, sizep) returns owned released by wg_error_destroy; writes owned to bufferp released by wg_free"');
    const before = check();
    expect(before.filter((f) => f.confidence === 'medium').length).toBeGreaterThan(0);
    // Reviewed and kept, the same facts are sure: the same findings, none a guess any more.
    writeFileSync(path.join(mod, 'cgoguard.yaml'), r.stdout);
    const after = check();
    expect(after.map((f) => f.line)).toEqual(before.map((f) => f.line));
    expect(after.filter((f) => f.confidence === 'medium')).toEqual([]);
    rmSync(path.join(mod, 'cgoguard.yaml'));
  });

  it('explain says where a belief comes from', () => {
    const r = cgoguard(['contracts', 'explain', 'C.wg_repo_open'], { cwd: mod });
    expect(r.stdout).toContain('inferred: wg_repo_open(out, path) writes owned to out released by wg_repo_free on success');
    expect(r.stdout).toContain('from: widget.h:17 (doc + naming)');
    expect(cgoguard(['contracts', 'explain', 'C.free'], { cwd: mod }).stdout).toContain('from: builtin');
    expect(cgoguard(['contracts', 'explain', 'C.nothing'], { cwd: mod }).stdout).toBe('C.nothing is not called by the packages matched\n');
    const bad = cgoguard(['contracts', 'explain', 'not a name'], { cwd: mod });
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('reads the package\'s own headers where the system has none', () => {
    const r = cgoguard(['check', '--no-cache', '--no-c-analyzer', '.'], { cwd: mod, env: { ...process.env, CGOGUARD_SYSTEM_INCLUDE: '' } });
    // widget.h is the package's own: still read.
    expect(r.stdout).toContain('wg_repo_open');
  });
});
