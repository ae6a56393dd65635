// The C side: declarations, struct layouts, body summaries and the preprocessor.
import { execFileSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { emptyCModel, type CModel } from '../src/model/cdecls.js';
import { addCSource, cTypeOfGoName } from '../src/model/cmodel.js';
import { cgoFlags, preprocessPreamble } from '../src/model/cpreprocess.js';
import { cHasPointers, cSizeOf } from '../src/model/ctypes.js';
import { initParsers } from '../src/syntax/parser.js';

const linux = { goos: 'linux', goarch: 'amd64', tags: [], cgo: true, goMinor: 26 };

function model(text: string): CModel {
  const m = emptyCModel();
  addCSource(m, text, { source: 'preamble', bodies: true });
  return m;
}

describe('C declarations', () => {
  beforeAll(() => initParsers());

  it('knows struct layouts, unions and typedefs', () => {
    const m = model(`
typedef struct s1 { int *p; } s1;
struct s3 { int i; int *p; };
typedef union { char **p; unsigned long i; } u29;
typedef union { unsigned long i; } u39;
typedef void *PV11;
struct s15 { char *a[10]; };
struct nested { struct s3 inner; char name[16]; };
`);
    const t = (n: string) => cTypeOfGoName(m, n)!;
    expect(cHasPointers(t('s1'), m)).toBe(true);
    expect(cHasPointers(t('u29'), m)).toBe(true);
    expect(cHasPointers(t('u39'), m)).toBe(false);
    expect(cHasPointers(t('PV11'), m)).toBe(true);
    expect(cSizeOf(t('struct_s3'), m)).toBe(16);
    expect(cSizeOf(t('struct_s15'), m)).toBe(80);
    expect(cSizeOf(t('struct_nested'), m)).toBe(32);
    expect(cSizeOf(t('int'), m)).toBe(4);
  });

  it('summarises what bodies do with pointer arguments', () => {
    const m = model(`
#include <string.h>
#include <stdlib.h>
void unsafe_write(char *p) { strcpy(p, "overflow!"); }
void copy_n(char *dst, const char *src, size_t n) { memcpy(dst, src, n); }
void fill64(char *dst) { memset(dst, 0, 64); }
void wrap(char *d) { unsafe_write(d); }
static char *saved;
void keep(char *s) { saved = s; }
void keep2(char *s) { keep(s); }
void put(struct { char *name; } *box, char *s) { box->name = s; }
void release(void *p) { free((void *)p); }
void lib_set(void *obj, char *v, void (*destroy)(void *));
void set_with_destructor(void *obj, char *v) { lib_set(obj, v, free); }
char *dup(const char *s) { char *r = strdup(s); return r; }
const char *name(void) { return "x"; }
char *skip(char *p) { return p + 1; }
int *freed_then_returned(void) { int *p = malloc(8); free(p); return p; }
void ten_ints(int *a) { a[9] = 1; }
`);
    const f = (n: string) => m.funcs.get(n)!;
    expect(f('unsafe_write').writes.get(0)).toEqual({ k: 'unbounded', via: 'strcpy', bytes: 10 });
    expect(f('copy_n').writes.get(0)).toEqual({ k: 'bounded', by: 2, via: 'memcpy' });
    expect(f('fill64').writes.get(0)).toEqual({ k: 'fixed', bytes: 64, via: 'memset' });
    expect(f('wrap').writes.get(0)).toMatchObject({ k: 'unbounded', bytes: 10, via: 'unsafe_write (strcpy)' });
    expect([...f('keep').retains]).toEqual([0]);
    expect([...f('keep2').retains]).toEqual([0]);
    expect([...f('put').retains]).toEqual([1]);
    expect([...f('release').frees]).toEqual([0]);
    expect([...f('set_with_destructor').retains]).toEqual([1]);
    expect(f('dup').returns).toBe('owned');
    expect(f('name').returns).toBe('static');
    expect(f('skip').returns).toBe('borrowed');
    expect(f('freed_then_returned').returns).not.toBe('owned');
    expect(f('ten_ints').writes.get(0)).toEqual({ k: 'fixed', bytes: 40, via: 'an indexed store' });
    expect(f('lib_set').defined).toBe(false);
  });

  it('reads #cgo flags for this build', () => {
    const flags = cgoFlags('#cgo CFLAGS: -DX=1 -I${SRCDIR}/inc\n#cgo windows CFLAGS: -DWIN\n#cgo linux pkg-config: sqlite3\n', '/src/p', linux);
    expect(flags).toEqual({ cflags: ['-DX=1', '-I/src/p/inc'], pkgConfig: ['sqlite3'] });
  });

  it('preprocesses a preamble with the C compiler, when there is one', () => {
    let cc = true;
    try {
      execFileSync('cc', ['--version'], { stdio: 'ignore' });
    } catch {
      cc = false;
    }
    const r = preprocessPreamble('#cgo CFLAGS: -DWIDTH=3\n#include <stdlib.h>\nint grid[WIDTH];\n', '/tmp', { cflags: ['-DWIDTH=3'], pkgConfig: [] });
    if (!cc) {
      expect(r.problem).toBe('no C compiler');
      return;
    }
    expect(r.text).toMatch(/int grid\[3\];/);
    expect(r.text).toMatch(/malloc/);
    const bad = preprocessPreamble('#include <no/such/header.h>\n', '/tmp', { cflags: [], pkgConfig: [] });
    expect(bad.problem).toMatch(/no\/such\/header\.h/);
  });
});
