// Position conversions. Tree-sitter (web binding) reports offsets in UTF-16
// code units of the JS string; Go tools print 1-based lines and 1-based *byte*
// columns. Every conversion between the two lives here.

export interface Position {
  line: number; // 1-based
  column: number; // 1-based, UTF-8 bytes
}

/** A resolved place with what happens there: one step of a finding's trace. */
export interface TraceStep extends Position {
  file: string;
  message: string;
}

export class LineIndex {
  private readonly starts: number[];

  constructor(private readonly text: string) {
    const starts = [0];
    for (let i = 0; i < text.length; i++) {
      if (text.charCodeAt(i) === 10) starts.push(i + 1);
    }
    this.starts = starts;
  }

  get lineCount(): number {
    return this.starts.length;
  }

  /** Index of the first UTF-16 unit of a 1-based line. */
  lineStart(line: number): number {
    return this.starts[Math.max(0, Math.min(line - 1, this.starts.length - 1))];
  }

  /** 1-based line of a UTF-16 offset. */
  lineOf(offset: number): number {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  }

  /** Go-style position (byte column) of a UTF-16 offset. */
  position(offset: number): Position {
    const line = this.lineOf(offset);
    const start = this.starts[line - 1];
    return { line, column: utf8Length(this.text, start, offset) + 1 };
  }

  /** 0-based UTF-16 column, as LSP and SARIF (by default) count. */
  utf16Column(offset: number): number {
    return offset - this.starts[this.lineOf(offset) - 1];
  }

  lineText(line: number): string {
    const start = this.lineStart(line);
    let end = line < this.starts.length ? this.starts[line] - 1 : this.text.length;
    if (end > start && this.text.charCodeAt(end - 1) === 13) end--;
    return this.text.slice(start, end);
  }
}

/** Number of UTF-8 bytes encoding text[from, to). */
export function utf8Length(text: string, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < to) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

/** Converts a 1-based byte column of `lineText` to a 1-based UTF-16 column. */
export function byteToUtf16Column(lineText: string, byteColumn: number): number {
  let bytes = 0;
  let i = 0;
  while (i < lineText.length && bytes < byteColumn - 1) {
    const c = lineText.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      bytes += 4;
      i++;
    } else bytes += 3;
    i++;
  }
  return i + 1 + Math.max(0, byteColumn - 1 - bytes);
}
