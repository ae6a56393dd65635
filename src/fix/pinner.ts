// Suggestion for `c-keeps-go-pointer`: pin the Go memory C keeps with a
// runtime.Pinner before the call. The pin is released when the function
// returns; only the author knows whether C lets go of the pointer by then, so
// this is never applied by `check --fix`.
import type { Finding } from '../findings/finding.js';
import type { Fix } from '../findings/fix.js';
import { importEdit } from './imports.js';
import { type GoSource, unwrapPointer } from './source.js';

const KEEPS = /^C\.(\w+) (?:keeps|takes) it\b.*?: argument \d+ \((.+?)\) is a Go pointer/;

export function pinnerFixes(f: Finding, src: GoSource): Fix[] {
  const m = KEEPS.exec(f.message);
  if (!m) return [];
  const [, callee, pointer] = m;
  const pos = src.offset(f.line, f.column);
  const place = src.stmtAt(pos);
  const decl = src.funcAt(pos);
  if (!place || !decl || !src.ownsItsLines(place.stmt)) return [];
  const arg = src.exprAt(place, pos, src.offset(f.endLine, f.endColumn));
  if (!arg || src.slice(unwrapPointer(arg)) !== pointer) return [];
  const pinner = src.freshName(decl, 'pinner');
  const edit = src.insertBefore(place.stmt, [`var ${pinner} runtime.Pinner`, `${pinner}.Pin(${pointer})`, `defer ${pinner}.Unpin()`]);
  const imp = importEdit(src, 'runtime');
  return [{ title: `Pin ${pointer} with a runtime.Pinner for C.${callee} (unpinned when the function returns)`, safe: false, edits: imp ? [imp, edit] : [edit] }];
}
