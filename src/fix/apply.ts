// Applying fixes to a text: edits converted to UTF-16 offsets, applied from
// the end so earlier offsets stay valid. Fixes whose edits overlap an edit
// already taken are left for a later pass; an edit several fixes share (the
// same import) is made once.
import type { Fix, TextEdit } from '../findings/fix.js';
import { byteToUtf16Column, LineIndex } from '../syntax/positions.js';

export interface Applied {
  text: string;
  applied: Fix[];
  /** Fixes left out because they overlap one applied before them. */
  deferred: Fix[];
  /** Where a line of the old text is in the new one. */
  newLine: (oldLine: number) => number;
}

interface Span {
  from: number;
  to: number;
  text: string;
}

export function applyFixes(text: string, fixes: Fix[]): Applied {
  const lines = new LineIndex(text);
  const offset = (line: number, column: number) => lines.lineStart(line) + byteToUtf16Column(lines.lineText(line), column) - 1;
  const toSpan = (e: TextEdit): Span => ({ from: offset(e.line, e.column), to: offset(e.endLine, e.endColumn), text: e.text });
  const taken: Span[] = [];
  const applied: Fix[] = [];
  const deferred: Fix[] = [];
  const same = (a: Span, b: Span) => a.from === b.from && a.to === b.to && a.text === b.text;
  // Two inserts at one point conflict (their order would matter); a replacement conflicts with anything inside it.
  const overlaps = (a: Span, b: Span) => (a.from === a.to && b.from === b.to ? a.from === b.from : a.from < b.to && b.from < a.to) || (a.from === b.from && (a.from === a.to || b.from === b.to));
  for (const fix of fixes) {
    const spans = fix.edits.map(toSpan);
    const fresh = spans.filter((s) => !taken.some((t) => same(s, t)));
    if (fresh.some((s) => taken.some((t) => overlaps(s, t)))) {
      deferred.push(fix);
      continue;
    }
    taken.push(...fresh);
    applied.push(fix);
  }
  let out = text;
  for (const s of [...taken].sort((a, b) => b.from - a.from || b.to - a.to)) out = out.slice(0, s.from) + s.text + out.slice(s.to);
  const newlines = (t: string) => t.split('\n').length - 1;
  const newLine = (oldLine: number) => {
    const start = lines.lineStart(oldLine);
    let shift = 0;
    for (const s of taken) if (s.to <= start) shift += newlines(s.text) - newlines(text.slice(s.from, s.to));
    return oldLine + shift;
  };
  return { text: out, applied, deferred, newLine };
}
