// Reads the head of a Go file without parsing the rest: the `//go:build`
// constraint, the package name and the imports. Like go/build's own reader,
// it stops at the first declaration that is not an import.

export interface GoHeader {
  buildConstraint?: string; // the expression after //go:build
  plusBuild: string[]; // legacy // +build lines
  pkgName?: string;
  imports: string[];
  importsC: boolean;
  /** The comments among the imports, markers stripped: where a cgo preamble is. */
  importComments: string[];
}

export function readGoHeader(text: string): GoHeader {
  const out: GoHeader = { plusBuild: [], imports: [], importsC: false, importComments: [] };
  const lex = new Lexer(text);
  // Build constraints must appear before the package clause, in line comments.
  let tok = lex.next(true);
  while (tok.kind === 'comment') {
    if (tok.text.startsWith('//')) {
      const line = tok.text.slice(2).trim();
      if (tok.text.startsWith('//go:build ') || tok.text.startsWith('//go:build\t')) {
        out.buildConstraint ??= tok.text.slice('//go:build'.length).trim();
      } else if (/^\+build(\s|$)/.test(line)) {
        out.plusBuild.push(line.slice('+build'.length).trim());
      }
    }
    tok = lex.next(true);
  }
  if (tok.kind !== 'ident' || tok.text !== 'package') return out;
  tok = lex.next();
  if (tok.kind !== 'ident') return out;
  out.pkgName = tok.text;
  const next = (): Token => {
    let t = lex.next(true);
    for (; t.kind === 'comment'; t = lex.next(true)) out.importComments.push(t.text.startsWith('//') ? t.text.slice(2) : t.text.slice(2, -2));
    return t;
  };
  tok = next();
  if (tok.text === ';') tok = next();
  while (tok.kind === 'ident' && tok.text === 'import') {
    tok = next();
    const readSpec = (t: Token): Token => {
      if (t.kind === 'ident' || t.text === '.') t = next();
      if (t.kind === 'string') {
        const path = t.text.slice(1, -1);
        out.imports.push(path);
        if (path === 'C') out.importsC = true;
        t = next();
      }
      return t;
    };
    if (tok.text === '(') {
      tok = next();
      while (tok.kind !== 'eof' && tok.text !== ')') {
        const before = lex.offset;
        tok = readSpec(tok);
        if (tok.text === ';') tok = next();
        else if (lex.offset === before && tok.text !== ')') tok = next();
      }
      tok = next();
    } else {
      tok = readSpec(tok);
    }
    if (tok.text === ';') tok = next();
  }
  return out;
}

interface Token {
  kind: 'ident' | 'string' | 'comment' | 'punct' | 'eof';
  text: string;
}

class Lexer {
  offset = 0;
  constructor(private readonly s: string) {}

  /** Next token; comments are returned only when `comments` is set. */
  next(comments = false): Token {
    const s = this.s;
    for (;;) {
      while (this.offset < s.length) {
        const c = s[this.offset];
        if (c === ' ' || c === '\t' || c === '\r' || c === '\n' || c === '\ufeff') this.offset++;
        else break;
      }
      if (this.offset >= s.length) return { kind: 'eof', text: '' };
      if (s.startsWith('//', this.offset)) {
        const end = s.indexOf('\n', this.offset);
        const text = s.slice(this.offset, end < 0 ? s.length : end);
        this.offset = end < 0 ? s.length : end;
        if (comments) return { kind: 'comment', text };
        continue;
      }
      if (s.startsWith('/*', this.offset)) {
        const end = s.indexOf('*/', this.offset + 2);
        const text = s.slice(this.offset, end < 0 ? s.length : end + 2);
        this.offset = end < 0 ? s.length : end + 2;
        if (comments) return { kind: 'comment', text };
        continue;
      }
      break;
    }
    const c = s[this.offset];
    if (c === '"' || c === '`') {
      let i = this.offset + 1;
      while (i < s.length && s[i] !== c) {
        if (c === '"' && s[i] === '\\') i++;
        if (c === '"' && s[i] === '\n') break;
        i++;
      }
      const text = s.slice(this.offset, i + 1);
      this.offset = i + 1;
      return { kind: 'string', text };
    }
    if (/[\p{L}_]/u.test(c)) {
      let i = this.offset + 1;
      while (i < s.length && /[\p{L}\p{N}_]/u.test(s[i])) i++;
      const text = s.slice(this.offset, i);
      this.offset = i;
      return { kind: 'ident', text };
    }
    this.offset++;
    return { kind: 'punct', text: c };
  }
}
