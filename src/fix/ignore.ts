// Suppressions as fixes: `//cgoguard:ignore RULE reason` above the statement
// or declaration a finding is on (a suggestion: the reason is the author's to
// write), and the removal of an ignore that suppresses nothing.
import type { Finding } from '../findings/finding.js';
import type { Fix } from '../findings/fix.js';
import type { GoSource } from './source.js';

/** The reason the inserted directive carries until the author writes theirs. */
const IGNORE_REASON_PLACEHOLDER = 'TODO: say why this is safe';

export function ignoreFixes(f: Finding, src: GoSource): Fix[] {
  const pos = src.offset(f.line, f.column);
  const place = src.stmtAt(pos);
  const onLine = (p: number) => src.lines.lineOf(p) === f.line;
  let edit;
  if (place && onLine(place.stmt.pos) && src.ownsItsLines(place.stmt)) {
    edit = src.insertBefore(place.stmt, [`//cgoguard:ignore ${f.rule} ${IGNORE_REASON_PLACEHOLDER}`]);
  } else {
    const decl = src.go.funcs.find((d) => onLine(d.pos) && src.lines.lineText(f.line).startsWith('func'));
    if (!decl) return [];
    edit = { file: src.file, line: f.line, column: 1, endLine: f.line, endColumn: 1, text: `//cgoguard:ignore ${f.rule} ${IGNORE_REASON_PLACEHOLDER}\n` };
  }
  return [{ title: `Ignore ${f.rule} here (//cgoguard:ignore, with a reason to write)`, safe: false, edits: [edit] }];
}

/** Deletes an ignore directive that suppresses nothing: its whole line when it stands alone. */
export function unusedIgnoreFixes(f: Finding, src: GoSource): Fix[] {
  const text = src.lines.lineText(f.line);
  const start = src.offset(f.line, f.column) - src.lines.lineStart(f.line);
  if (!text.startsWith('//cgoguard:ignore', start)) return [];
  const before = text.slice(0, start);
  const edit = /^[ \t]*$/.test(before)
    ? { file: src.file, line: f.line, column: 1, endLine: f.line + 1, endColumn: 1, text: '' }
    : { file: src.file, line: f.line, column: Buffer.byteLength(before.trimEnd()) + 1, endLine: f.line, endColumn: Buffer.byteLength(text) + 1, text: '' };
  return [{ title: 'Remove the ignore that suppresses nothing', safe: true, edits: [edit] }];
}
