// Go literal values: string literals decoded with Go's escapes, integer
// literals in all of Go's bases.
import { utf8Length } from './positions.js';

export interface GoString {
  /** The value, with bytes from \x and octal escapes kept as U+0000..U+00FF. */
  text: string;
  /** Length in bytes, as len(s) would say. */
  bytes: number;
}

const SIMPLE: Record<string, string> = { a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\', "'": "'", '"': '"' };

/** Decodes a Go string literal (interpreted or raw); undefined if malformed. */
export function decodeGoString(lit: string): GoString | undefined {
  if (lit.length >= 2 && lit.startsWith('`') && lit.endsWith('`')) {
    const text = lit.slice(1, -1).replace(/\r/g, '');
    return { text, bytes: utf8Length(text, 0, text.length) };
  }
  if (lit.length < 2 || !lit.startsWith('"') || !lit.endsWith('"')) return undefined;
  let text = '';
  let bytes = 0;
  const body = lit.slice(1, -1);
  for (let i = 0; i < body.length; i++) {
    const ch = body[i];
    if (ch !== '\\') {
      const code = body.codePointAt(i) ?? 0;
      const s = String.fromCodePoint(code);
      text += s;
      bytes += utf8Length(s, 0, s.length);
      if (code > 0xffff) i++;
      continue;
    }
    const e = body[++i];
    if (e === undefined) return undefined;
    if (e in SIMPLE) {
      text += SIMPLE[e];
      bytes += 1;
    } else if (e >= '0' && e <= '7') {
      const oct = body.slice(i, i + 3);
      if (!/^[0-7]{3}$/.test(oct)) return undefined;
      text += String.fromCharCode(parseInt(oct, 8) & 0xff);
      bytes += 1;
      i += 2;
    } else if (e === 'x' || e === 'u' || e === 'U') {
      const n = e === 'x' ? 2 : e === 'u' ? 4 : 8;
      const hex = body.slice(i + 1, i + 1 + n);
      if (hex.length !== n || !/^[0-9a-fA-F]+$/.test(hex)) return undefined;
      const code = parseInt(hex, 16);
      if (e === 'x') {
        text += String.fromCharCode(code);
        bytes += 1;
      } else {
        if (code > 0x10ffff) return undefined;
        const s = String.fromCodePoint(code);
        text += s;
        bytes += utf8Length(s, 0, s.length);
      }
      i += n;
    } else {
      return undefined;
    }
  }
  return { text, bytes };
}

/** Value of a Go integer literal (decimal, 0x, 0o, 0b, legacy octal, with _). */
export function parseGoInt(lit: string): number | undefined {
  const s = lit.replace(/_/g, '').toLowerCase();
  let v: number;
  if (/^0x[0-9a-f]+$/.test(s)) v = parseInt(s.slice(2), 16);
  else if (/^0o[0-7]+$/.test(s)) v = parseInt(s.slice(2), 8);
  else if (/^0b[01]+$/.test(s)) v = parseInt(s.slice(2), 2);
  else if (/^0[0-7]+$/.test(s)) v = parseInt(s.slice(1), 8);
  else if (/^[0-9]+$/.test(s)) v = parseInt(s, 10);
  else return undefined;
  return Number.isSafeInteger(v) ? v : undefined;
}
