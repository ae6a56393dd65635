// Small facts about expressions: parentheses and conversions that do not change a pointer.
import { NO_VAR, type Expr } from './goast.js';
import { parseGoInt } from './golit.js';

export function unparen(e: Expr): Expr {
  while (e.k === 'paren') e = e.x;
  return e;
}

/** `C.name`, cgo's pseudo-package selector: the name (whatever it names: a function, a type, a constant). */
export function cgoName(e: Expr): string | undefined {
  const x = unparen(e);
  return x.k === 'sel' && x.x.k === 'ident' && x.x.v === NO_VAR && x.x.name === 'C' ? x.name : undefined;
}

/** `unsafe.Pointer((*C.char)(p))` is p. */
export function stripConversions(e: Expr): Expr {
  for (;;) {
    if (e.k === 'paren') e = e.x;
    else if (e.k === 'conv') e = e.x;
    else if (e.k === 'call' && e.args.length === 1 && isConversionLike(e.fun)) e = e.args[0];
    else return e;
  }
}

function isConversionLike(f: Expr): boolean {
  f = unparen(f);
  if (f.k === 'sel' && f.x.k === 'ident' && f.x.v === NO_VAR) {
    if (f.x.name === 'unsafe') return f.name === 'Pointer';
    if (f.x.name === 'C') return /^(u?(char|short|int|long|longlong)|schar|size_t|uintptr_t|float|double)$/.test(f.name) || /_t$/.test(f.name);
  }
  return f.k === 'type';
}

/**
 * The value of a constant integer expression (literals, conversions, + - * << of
 * those); with `named`, package-level constants by name.
 */
export function constInt(e: Expr | undefined, named?: (name: string) => number | undefined): number | undefined {
  if (!e) return undefined;
  const x = unparen(e);
  switch (x.k) {
    case 'ident':
      return x.v === NO_VAR ? named?.(x.name) : undefined;
    case 'lit':
      if (x.kind !== 'int') return undefined;
      return parseGoInt(x.value);
    case 'conv':
      return constInt(x.x, named);
    case 'call':
      // C.size_t(16), C.int(n): conversions of a constant.
      return x.args.length === 1 && unparen(x.fun).k !== 'funclit' && /^(C\.\w+|u?int\d*|uintptr)$/.test(qualifiedName(unparen(x.fun))) ? constInt(x.args[0], named) : undefined;
    case 'binary': {
      const a = constInt(x.x, named);
      const b = constInt(x.y, named);
      if (a === undefined || b === undefined) return undefined;
      switch (x.op) {
        case '+':
          return a + b;
        case '-':
          return a - b;
        case '*':
          return a * b;
        case '<<':
          return b < 53 ? a * 2 ** b : undefined;
        default:
          return undefined;
      }
    }
    default:
      return undefined;
  }
}

function qualifiedName(e: Expr): string {
  if (e.k === 'ident') return e.name;
  if (e.k === 'sel' && e.x.k === 'ident') return `${e.x.name}.${e.name}`;
  return '';
}
