// Fix for `slice-header`: pass the data, not the header. `&s` becomes what
// the finding names (`&s[0]` for a slice, `unsafe.StringData(s)` for a
// string), and a size given as `unsafe.Sizeof(s)` (the header's size)
// becomes `len(s)`.
import type { Finding } from '../findings/finding.js';
import type { Fix, TextEdit } from '../findings/fix.js';
import type { Expr } from '../syntax/goast.js';
import { type GoSource, unwrapPointer, visitStmtExprs } from './source.js';

const HEADER = /is the address of the (?:slice|string) header of (.+?), not of its data: pass (.+?) and its length$/;

export function sliceHeaderFixes(f: Finding, src: GoSource): Fix[] {
  const m = HEADER.exec(f.message);
  if (!m) return [];
  const [, name, data] = m;
  const pos = src.offset(f.line, f.column);
  const place = src.stmtAt(pos);
  if (!place) return [];
  const arg = src.exprAt(place, pos, src.offset(f.endLine, f.endColumn));
  if (!arg) return [];
  const addr = unwrapPointer(arg);
  if (addr.k !== 'unary' || addr.op !== '&' || src.slice(addr.x) !== name) return [];
  const edits: TextEdit[] = [src.replace(addr.pos, addr.end, data)];
  const size = headerSizeArgument(src, place.stmt, arg, name);
  if (size) edits.push(src.replace(size.pos, size.end, `len(${name})`));
  return [{ title: `Pass ${data}${size ? ` and len(${name})` : ''} instead of &${name}`, safe: true, edits }];
}

/** The argument after `arg` in its call, when it is `unsafe.Sizeof(name)` (perhaps converted): that sizes the header, not the data. */
function headerSizeArgument(src: GoSource, stmt: Parameters<typeof visitStmtExprs>[0], arg: Expr, name: string): Expr | undefined {
  let found: Expr | undefined;
  visitStmtExprs(stmt, (e) => {
    if (e.k === 'call') {
      const i = e.args.indexOf(arg);
      if (i >= 0 && i + 1 < e.args.length) {
        let next = e.args[i + 1];
        // Only under a conversion (C.size_t(x), written as a call): len's int then converts as the uintptr did.
        let converted = false;
        while ((next.k === 'call' && next.args.length === 1 && !isSizeof(next)) || next.k === 'conv' || next.k === 'paren') {
          next = next.k === 'call' ? next.args[0] : next.x;
          converted = true;
        }
        if (converted && isSizeof(next) && next.k === 'call' && src.slice(next.args[0]) === name) found = next;
      }
    }
    return !found;
  });
  return found;
}

function isSizeof(e: Expr): boolean {
  return e.k === 'call' && e.fun.k === 'sel' && e.fun.x.k === 'ident' && e.fun.x.name === 'unsafe' && e.fun.name === 'Sizeof';
}
