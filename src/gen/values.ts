// Representative values of a Go type, as Go expressions a test file in the
// package can write: zero values first, then both bools, short and long
// strings, empty and nil slices, boundary integers. A test file cannot use
// cgo, so C types are reached only through what needs no name: nil for
// pointers, untyped constants for C's numbers.
import type { Ty } from '../model/types.js';
import type { ApiType } from '../pipeline/package-api.js';

/** Values of a type, or why a test cannot build one. */
export type Values = { exprs: string[] } | { unsupported: string };

/** The imports a generated file needs, by path, with the names they are used under. */
export class ImportSet {
  private readonly used = new Map<string, string>();
  constructor(private readonly taken: ReadonlySet<string>) {}

  /** The name to write for a standard-library package; aliased when the package already uses the name. */
  use(path: string): string {
    const known = this.used.get(path);
    if (known) return known;
    const base = path.slice(path.lastIndexOf('/') + 1);
    const name = this.taken.has(base) ? `cgoguard${base}` : base;
    this.used.set(path, name);
    return name;
  }

  /** Import specs, sorted by path as gofmt leaves them. */
  specs(): string[] {
    return [...this.used.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([p, n]) => (n === p.slice(p.lastIndexOf('/') + 1) ? `"${p}"` : `${n} "${p}"`));
  }
}

export interface ValueContext {
  importPath: string;
  types: ReadonlyMap<string, ApiType>;
  imports: ImportSet;
}

/** A long string (4 KiB) and its bytes, declared once in the generated file. */
export const LONG_STRING = 'cgoguardLongString';
export const LONG_BYTES = 'cgoguardLongBytes';

const SIGNED: Record<string, number> = { int8: 8, int16: 16, int32: 32, int64: 64, int: 0 };
const UNSIGNED: Record<string, number> = { uint8: 8, uint16: 16, uint32: 32, uint64: 64, uint: 0 };

/**
 * Bounds of cgo's numeric types that hold on every platform Go supports
 * (C.char may be unsigned; long, size_t and the pointer-sized types may have
 * 32 bits), so that the constants compile wherever the test is built.
 */
const C_NUMBERS: Record<string, string[]> = {
  char: ['0', '1', '127'],
  schar: ['0', '1', '-1', '127', '-128'],
  uchar: ['0', '1', '255'],
  short: ['0', '1', '-1', '32767', '-32768'],
  ushort: ['0', '1', '65535'],
  int: ['0', '1', '-1', '2147483647', '-2147483648'],
  uint: ['0', '1', '4294967295'],
  long: ['0', '1', '-1', '2147483647', '-2147483648'],
  ulong: ['0', '1', '4294967295'],
  longlong: ['0', '1', '-1', '9223372036854775807', '-9223372036854775808'],
  ulonglong: ['0', '1', '18446744073709551615'],
  float: ['0', '1', '-1'],
  double: ['0', '1', '-1'],
  size_t: ['0', '1', '4294967295'],
  ssize_t: ['0', '1', '-1', '2147483647'],
  uintptr_t: ['0', '1'],
  intptr_t: ['0', '1', '-1'],
  int8_t: ['0', '1', '-1', '127', '-128'],
  uint8_t: ['0', '1', '255'],
  int16_t: ['0', '1', '-1', '32767', '-32768'],
  uint16_t: ['0', '1', '65535'],
  int32_t: ['0', '1', '-1', '2147483647', '-2147483648'],
  uint32_t: ['0', '1', '4294967295'],
  int64_t: ['0', '1', '-1', '9223372036854775807', '-9223372036854775808'],
  uint64_t: ['0', '1', '18446744073709551615'],
};

/** How a type is written in the test file, or undefined when it cannot be (C types, unresolved ones). */
function typeText(t: Ty, ctx: ValueContext): string | undefined {
  switch (t.k) {
    case 'basic':
      return t.name === 'any' ? 'interface{}' : t.name;
    case 'named':
      if (t.pkg === ctx.importPath) return ctx.types.get(t.name)?.generic ? undefined : t.name;
      return stdlib(t.pkg) ? `${ctx.imports.use(t.pkg)}.${t.name}` : undefined;
    case 'unsafeptr':
      return `${ctx.imports.use('unsafe')}.Pointer`;
    case 'pointer':
    case 'slice':
    case 'chan': {
      const e = typeText(t.elem, ctx);
      return e === undefined ? undefined : `${t.k === 'pointer' ? '*' : t.k === 'slice' ? '[]' : 'chan '}${e}`;
    }
    case 'array': {
      const e = typeText(t.elem, ctx);
      return e === undefined || t.len === undefined ? undefined : `[${t.len}]${e}`;
    }
    case 'map': {
      const k = typeText(t.key, ctx);
      const v = typeText(t.value, ctx);
      return k === undefined || v === undefined ? undefined : `map[${k}]${v}`;
    }
    case 'interface':
      return 'interface{}';
    default:
      return undefined;
  }
}

/** A path of the standard library (no dot in its first element): its package name is its last element. */
function stdlib(path: string): boolean {
  return !path.split('/')[0].includes('.') && !/\/v\d+$/.test(path) && !path.includes('internal');
}

/**
 * Representative values of `t` (written `text` in the source), zero value
 * first. Pointers to the package's own types are not built here (the plan
 * gives them constructed values); here they are nil.
 */
export function representatives(t: Ty, text: string, ctx: ValueContext): Values {
  const none = (why: string): Values => ({ unsupported: `${text}: ${why}` });
  switch (t.k) {
    case 'basic': {
      const exprs = basicValues(t.name, ctx);
      return exprs ? { exprs } : none('a type the generator has no values for');
    }
    case 'c':
      if (C_NUMBERS[t.name]) return { exprs: C_NUMBERS[t.name] };
      return none('a C value type, which a test file cannot name (no cgo in _test.go files)');
    case 'unsafeptr':
      return { exprs: ['nil'] };
    case 'pointer': {
      const e = typeText(t.elem, ctx);
      if (t.elem.k === 'basic' && e) return { exprs: ['nil', `new(${e})`] };
      return { exprs: ['nil'] };
    }
    case 'slice':
      return sliceValues(t.elem, text, ctx);
    case 'array': {
      const tt = typeText(t, ctx);
      return tt ? { exprs: [`${tt}{}`] } : none('an array of a type a test file cannot name');
    }
    case 'map': {
      const tt = typeText(t, ctx);
      return tt ? { exprs: ['nil', `${tt}{}`] } : none('a map of a type a test file cannot name');
    }
    case 'interface':
      return { exprs: ['nil'] };
    case 'chan':
      return none('a channel: sending or receiving could block the test');
    case 'func':
      return none('a function value (a callback): write one by hand');
    case 'named':
      return namedValues(t, text, ctx);
    default:
      return none('a type the generator cannot resolve');
  }
}

function basicValues(name: string, ctx: ValueContext): string[] | undefined {
  if (name === 'bool') return ['false', 'true'];
  if (name === 'string') return ['""', '"cgoguard"', LONG_STRING];
  if (name === 'error' || name === 'any') return ['nil'];
  if (name === 'byte') name = 'uint8';
  if (name === 'rune') name = 'int32';
  if (name in SIGNED) {
    const bits = SIGNED[name] ? String(SIGNED[name]) : '';
    const math = ctx.imports.use('math');
    return ['0', '1', '-1', `${math}.MaxInt${bits}`, `${math}.MinInt${bits}`];
  }
  if (name in UNSIGNED) {
    const bits = UNSIGNED[name] ? String(UNSIGNED[name]) : '';
    return ['0', '1', `${ctx.imports.use('math')}.MaxUint${bits}`];
  }
  if (name === 'uintptr') return ['0', '1'];
  if (name === 'float32' || name === 'float64') return ['0', '1', '-1', `${ctx.imports.use('math')}.MaxFloat${name.slice(5)}`];
  if (name === 'complex64' || name === 'complex128') return ['0', '1i'];
  return undefined;
}

function sliceValues(elem: Ty, text: string, ctx: ValueContext): Values {
  if (elem.k === 'basic' && (elem.name === 'uint8' || elem.name === 'byte')) {
    return { exprs: ['nil', '[]byte{}', '[]byte{0}', '[]byte("cgoguard")', LONG_BYTES] };
  }
  const et = typeText(elem, ctx);
  if (et === undefined) {
    // Only nil can be written for a slice of C values.
    return elem.k === 'c' || elem.k === 'pointer' ? { exprs: ['nil'] } : { unsupported: `${text}: a slice of a type a test file cannot name` };
  }
  const ev = representatives(elem, et, ctx);
  const out = ['nil', `[]${et}{}`];
  if ('exprs' in ev) {
    out.push(`[]${et}{${ev.exprs[0]}}`);
    if (ev.exprs.length > 1) out.push(`[]${et}{${ev.exprs.slice(1).join(', ')}}`);
  }
  return { exprs: out };
}

function namedValues(t: Ty & { k: 'named' }, text: string, ctx: ValueContext): Values {
  if (t.pkg !== ctx.importPath) return externalValues(t, text, ctx);
  const decl = ctx.types.get(t.name);
  if (!decl) return { unsupported: `${text}: a type the generator cannot resolve` };
  if (decl.generic) return { unsupported: `${text}: a generic type, whose type arguments the generator does not choose` };
  if (decl.struct) return { exprs: [`${t.name}{}`] };
  const u = decl.underlying;
  if (u.k === 'interface' || (u.k === 'basic' && (u.name === 'error' || u.name === 'any'))) return { exprs: ['nil'] };
  if (u.k === 'pointer' || u.k === 'unsafeptr' || u.k === 'map' || u.k === 'slice') {
    const inner = representatives(u, text, ctx);
    return 'exprs' in inner ? { exprs: inner.exprs.map((e) => `${t.name}(${e})`) } : inner;
  }
  if (u.k === 'basic' || u.k === 'c') {
    const inner = representatives(u, text, ctx);
    // Constants convert without naming the type; others need T(x).
    return 'exprs' in inner ? { exprs: inner.exprs.map((e) => (/^-?\d+$/.test(e) ? e : `${t.name}(${e})`)) } : inner;
  }
  if (u.k === 'array') return { exprs: [`${t.name}{}`] };
  return representatives(u, text, ctx);
}

/** Types of the standard library a test can build a useful value of; other ones get their zero value. */
function externalValues(t: Ty & { k: 'named' }, text: string, ctx: ValueContext): Values {
  if (!stdlib(t.pkg)) return { unsupported: `${text}: a type of another module, which the generator does not build` };
  const q = `${t.pkg}.${t.name}`;
  if (q === 'context.Context') return { exprs: [`${ctx.imports.use('context')}.Background()`] };
  if (q === 'time.Duration') return { exprs: ['0', '1', `${ctx.imports.use('time')}.Second`] };
  if (q === 'io.Reader') return { exprs: [`${ctx.imports.use('strings')}.NewReader("cgoguard")`] };
  if (q === 'io.Writer') return { exprs: [`${ctx.imports.use('io')}.Discard`] };
  return { exprs: [`*new(${ctx.imports.use(t.pkg)}.${t.name})`] };
}

/**
 * The types a fuzz target can take for a parameter of this type, with the
 * conversion that turns the fuzzed value into the argument; undefined when
 * it is not a []byte, a string or an integer.
 */
export function fuzzType(t: Ty, ctx: ValueContext): { type: string; convert: (x: string) => string } | undefined {
  const plain = (x: string) => x;
  if (t.k === 'slice' && t.elem.k === 'basic' && (t.elem.name === 'uint8' || t.elem.name === 'byte')) return { type: '[]byte', convert: plain };
  if (t.k === 'basic' && (t.name === 'string' || t.name in SIGNED || t.name in UNSIGNED)) return { type: t.name, convert: plain };
  if (t.k === 'named' && t.pkg === ctx.importPath) {
    const u = ctx.types.get(t.name)?.underlying;
    const inner = u && u.k !== 'named' ? fuzzType(u, ctx) : undefined;
    return inner ? { type: inner.type, convert: (x) => `${t.name}(${x})` } : undefined;
  }
  return undefined;
}
