// Small facts about expressions: parentheses and conversions that do not change a pointer.
import { NO_VAR, type Expr } from './goast.js';

export function unparen(e: Expr): Expr {
  while (e.k === 'paren') e = e.x;
  return e;
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
