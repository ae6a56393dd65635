// Fix for `finalizer-keepalive`: keep the owner alive until the C call has
// returned. After a plain statement, `runtime.KeepAlive(owner)` on the next
// line; when the call is part of a statement that may leave the function or
// the loop (a return, an if whose branch returns), `defer
// runtime.KeepAlive(owner)` before it, which holds on every way out.
import type { Finding } from '../findings/finding.js';
import type { Fix } from '../findings/fix.js';
import type { Stmt } from '../syntax/goast.js';
import { importEdit } from './imports.js';
import { childLists, type GoSource } from './source.js';

const KEEPALIVE = /add runtime\.KeepAlive\(([\w.]+)\) after the call(?:$|;)/;

export function keepAliveFixes(f: Finding, src: GoSource): Fix[] {
  const m = KEEPALIVE.exec(f.message);
  if (!m) return [];
  const owner = m[1];
  const place = src.stmtAt(src.offset(f.line, f.column));
  if (!place || !src.ownsItsLines(place.stmt)) return [];
  const s = place.stmt;
  const keep = `runtime.KeepAlive(${owner})`;
  const edit = leaves(s) ? src.insertBefore(s, [`defer ${keep}`]) : src.insertAfter(s, [keep]);
  const imp = importEdit(src, 'runtime');
  return [{ title: `Keep ${owner} alive until C.${calleeOf(f.message)} returns: ${leaves(s) ? `defer ${keep}` : keep}`, safe: true, edits: imp ? [imp, edit] : [edit] }];
}

function calleeOf(message: string): string {
  return /passed to C\.(\w+)/.exec(message)?.[1] ?? '';
}

/** The statement can transfer control away (so a line after it may not run). */
function leaves(s: Stmt): boolean {
  if (s.k === 'return' || s.k === 'branch') return true;
  return childLists(s).some(({ body }) => body.some(leaves));
}
