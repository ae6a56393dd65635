// Function declarations of a C header as written, with the comment that
// documents each: what header inference reads. The preprocessor would drop
// the comments, so the raw text is scanned: statements at the top level (an
// `extern "C" {` block is transparent), macro wrappers such as
// GIT_EXTERN(int) and ROCKSDB_LIBRARY_API taken apart, bodies skipped.

export interface HeaderParam {
  name?: string;
  /** The declared type as written (`const char *`, `git_repository **`). */
  type: string;
  /** The type without qualifiers and pointers (`char`, `git_repository`). */
  base: string;
  /** How many `*` the type has (arrays count as one). */
  pointers: number;
  /** `const` before the first `*`: what it points to is read only. */
  isConst: boolean;
}

export interface HeaderDecl {
  name: string;
  /** The result type without API macros (`rocksdb_t *`, `int`). */
  returns: string;
  returnBase: string;
  returnPointers: number;
  /** The result points to `const` data (`const char *`): C lends it more often than not. */
  returnConst: boolean;
  params: HeaderParam[];
  /** The documentation comment right before the declaration, without its markers. */
  doc: string;
  /** The comment documents a group of declarations, not this one alone. */
  docShared?: boolean;
  /** Comments between the previous declaration and the doc (a section's notes: DuckDB's "should always be called ... even if the function returns DuckDBError"). */
  notes?: string;
  /** 1-based line of the declaration. */
  line: number;
}

const QUALIFIERS = new Set(['const', 'volatile', 'restrict', '__restrict', '__restrict__', 'struct', 'union', 'enum', 'unsigned', 'signed', 'extern', 'static', 'inline', '__inline', '__inline__']);
const SKIP_CALLS = /^(__attribute__|__declspec|__asm__|__asm|asm|_Pragma|__THROW|__nonnull|__wur|__attribute_deprecated__|__attribute_malloc__|__attribute_pure__)$/;

export interface ScannedHeader {
  decls: HeaderDecl[];
  /** Typedef names that stand for a pointer (`typedef struct gpgme_context *gpgme_ctx_t;`). */
  pointerTypedefs: Set<string>;
}

/** All function declarations (and inline definitions) of a header's text, and its pointer typedefs. */
export function scanHeader(text: string): ScannedHeader {
  const out: HeaderDecl[] = [];
  const pointerTypedefs = new Set<string>();
  const lineStarts = [0];
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) lineStarts.push(i + 1);
  const lineOf = (pos: number) => {
    let lo = 0;
    let hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (lineStarts[mid] <= pos) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  };
  let doc = '';
  let notes = '';
  let stmt = '';
  let stmtStart = -1;
  let depth = 0; // brace depth of bodies being skipped
  let i = 0;
  const atLineStart = (p: number) => {
    for (let k = p - 1; k >= 0; k--) {
      const c = text[k];
      if (c === '\n') return true;
      if (c !== ' ' && c !== '\t') return false;
    }
    return true;
  };
  // A comment over a group of declarations with no comments of their own, on the lines right
  // after each other and taking the same parameters, documents them all (SQLite's sqlite3_sql,
  // sqlite3_expanded_sql and sqlite3_normalized_sql share one). A blank line ends the group,
  // and so does another signature: a releaser declared under its maker's comment is no member.
  let group: { doc: string; members: HeaderDecl[]; end: number } | undefined;
  const declare = (d: Omit<HeaderDecl, 'line'> | undefined) => {
    if (!d) {
      group = undefined;
      return;
    }
    const decl: HeaderDecl = { ...d, line: lineOf(stmtStart), ...(notes ? { notes } : {}) };
    notes = '';
    if (d.doc) group = { doc: d.doc, members: [decl], end: i };
    else if (group && !/\n[ \t]*\n/.test(text.slice(group.end, stmtStart)) && sameParams(group.members[0], decl)) {
      decl.doc = group.doc;
      group.members.push(decl);
      group.members.forEach((m) => (m.docShared = true));
      group.end = i;
    } else group = undefined;
    out.push(decl);
  };
  const finish = () => {
    if (depth === 0 && stmt.trim()) {
      const ptr = /^\s*typedef\b[^(]*\*\s*([A-Za-z_]\w*)\s*$/.exec(stmt);
      if (ptr) pointerTypedefs.add(ptr[1]);
      declare(parseDecl(stmt, doc));
    }
    stmt = '';
    stmtStart = -1;
    doc = '';
  };
  while (i < text.length) {
    const c = text[i];
    if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      const body = text.slice(i + 2, end < 0 ? text.length : end);
      if (!stmt.trim() && depth === 0) {
        if (doc) notes += `${doc}\n`;
        doc = cleanComment(body);
      }
      i = end < 0 ? text.length : end + 2;
      continue;
    }
    if (c === '/' && text[i + 1] === '/') {
      const end = text.indexOf('\n', i);
      const body = text.slice(i + 2, end < 0 ? text.length : end);
      // Consecutive line comments make one block.
      if (!stmt.trim() && depth === 0) {
        const before = text.slice(Math.max(0, i - 200), i);
        const continues = doc && /\n\s*\/\//.test(before) && !/\n[ \t]*\n[ \t]*$/.test(before);
        if (doc && !continues) notes += `${doc}\n`;
        doc = continues ? `${doc}\n${cleanComment(body)}` : cleanComment(body);
      }
      i = end < 0 ? text.length : end;
      continue;
    }
    if (c === '#' && atLineStart(i)) {
      // A preprocessor line, with its continuations.
      let end = i;
      for (;;) {
        end = text.indexOf('\n', end);
        if (end < 0 || text[end - 1] !== '\\') break;
        end++;
      }
      i = end < 0 ? text.length : end;
      continue;
    }
    if (c === '"' || c === "'") {
      const close = skipString(text, i);
      if (depth === 0) stmt += text.slice(i, close);
      i = close;
      continue;
    }
    if (c === '{') {
      // `extern "C" {` opens no body.
      if (depth === 0 && /\bextern\s*"C"\s*$/.test(stmt)) {
        stmt = '';
        i++;
        continue;
      }
      if (depth === 0 && /\)\s*$/.test(stmt)) {
        // An inline definition: the declaration is what precedes the body.
        declare(parseDecl(stmt, doc));
        stmt = '';
        doc = '';
      }
      depth++;
      i++;
      continue;
    }
    if (c === '}') {
      if (depth > 0) depth--;
      else stmt = '';
      if (depth === 0) stmt = stmt.trim() ? stmt : '';
      i++;
      continue;
    }
    if (c === ';') {
      // A member of a struct body ends nothing outside it (`typedef struct _h { void *p; } *h;`).
      if (depth === 0) finish();
      i++;
      continue;
    }
    if (depth === 0) {
      if (stmtStart < 0 && !/\s/.test(c)) stmtStart = i;
      stmt += c;
    }
    i++;
  }
  return { decls: out, pointerTypedefs };
}

function skipString(text: string, i: number): number {
  const q = text[i];
  for (let k = i + 1; k < text.length; k++) {
    if (text[k] === '\\') k++;
    else if (text[k] === q || text[k] === '\n') return k + 1;
  }
  return text.length;
}

function cleanComment(body: string): string {
  return body
    .split('\n')
    .map((l) => l.replace(/^\s*\*+\s?/, '').replace(/^\s*\/\/+\s?/, '').trim())
    .join('\n')
    .replace(/^[*!<]+/, '')
    .trim();
}

/** A statement's declaration of a function, if it is one. */
function parseDecl(stmt: string, doc: string): Omit<HeaderDecl, 'line'> | undefined {
  const s = stmt.replace(/\s+/g, ' ').trim();
  if (/^(typedef|using|namespace|template|class)\b/.test(s) || s.startsWith('}')) return undefined;
  // Top-level `ident(...)` groups: the function is the last one that is not an attribute or an all-caps macro.
  const groups: { name: string; nameStart: number; open: number; close: number }[] = [];
  let depth = 0;
  let open = -1;
  for (let k = 0; k < s.length; k++) {
    if (s[k] === '(') {
      if (depth === 0) open = k;
      depth++;
    } else if (s[k] === ')') {
      depth--;
      if (depth === 0 && open >= 0) {
        const before = /([A-Za-z_]\w*)\s*$/.exec(s.slice(0, open));
        if (before) groups.push({ name: before[1], nameStart: open - before[0].length, open, close: k });
        open = -1;
      }
    }
  }
  const fn = [...groups].reverse().find((g) => !SKIP_CALLS.test(g.name) && !/^[A-Z][A-Z0-9_]*$/.test(g.name));
  if (!fn) return undefined;
  // What follows the parameters may only be attributes and macros.
  const tail = s.slice(fn.close + 1).replace(/__attribute__\s*\(\(.*\)\)/g, '').replace(/\b[A-Z_][A-Z0-9_]*(\s*\([^)]*\))?/g, '').trim();
  if (tail && !/^(=\s*0|const|noexcept)?$/.test(tail)) return undefined;
  let head = s.slice(0, fn.nameStart);
  // GIT_EXTERN(int) git_x(...): the wrapper's argument is the result type.
  const wrapped = /\b[A-Z][A-Z0-9_]*\s*\(([^()]*)\)\s*$/.exec(head);
  if (wrapped) head = wrapped[1];
  head = head.replace(/__attribute__\s*\(\(.*?\)\)/g, '').replace(/\b[A-Z][A-Z0-9_]*\s*\([^)]*\)/g, ' ');
  const ret = typeParts(head);
  if (!ret.base || /^(return|if|while|for|switch|sizeof)$/.test(fn.name)) return undefined;
  const paramText = s.slice(fn.open + 1, fn.close).trim();
  const params = paramText === '' || paramText === 'void' ? [] : splitTop(paramText).map(param);
  return { name: fn.name, returns: head.replace(/\s+/g, ' ').trim(), returnBase: ret.base, returnPointers: ret.pointers, returnConst: ret.isConst, params, doc };
}

function splitTop(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const c of s) {
    if (c === '(' || c === '[') depth++;
    if (c === ')' || c === ']') depth--;
    if (c === ',' && depth === 0) {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out.map((x) => x.trim()).filter(Boolean);
}

function param(text: string): HeaderParam {
  // A function pointer parameter: `void (*cb)(void *)`.
  const fp = /\(\s*\*\s*([A-Za-z_]\w*)?\s*\)\s*\(/.exec(text);
  if (fp) return { name: fp[1], type: text, base: 'function', pointers: 1, isConst: false };
  const arrays = (text.match(/\[[^\]]*\]/g) ?? []).length;
  const clean = text.replace(/\[[^\]]*\]/g, '').replace(/\b[A-Z][A-Z0-9_]*\s*\([^)]*\)/g, ' ');
  const words = clean.replace(/\*/g, ' * ').split(/\s+/).filter(Boolean);
  // The last word is the name when something else names the type (`SSL *ssl`, `int n`; not `FILE *` alone).
  const last = words[words.length - 1];
  const named = words.filter((w) => w !== '*' && !QUALIFIERS.has(w)).length > 1 && last !== '*' && !QUALIFIERS.has(last);
  const { base, pointers, isConst } = typeParts((named ? words.slice(0, -1) : words).join(' '));
  return { name: named ? last : undefined, type: text.trim(), base: base || 'int', pointers: pointers + arrays, isConst };
}

/**
 * The type of a declaration's head: its base (before the first `*`) and its pointers. All-caps
 * words are API and calling-convention macros (SQLITE_API, ZSTDLIB_API, SDLCALL) unless the
 * type itself is one (CURL *, X509 *, FILE *).
 */
function typeParts(text: string): { base: string; pointers: number; isConst: boolean } {
  const words = text.replace(/\*/g, ' * ').split(/\s+/).filter(Boolean);
  const star = words.indexOf('*');
  const head = star < 0 ? words : words.slice(0, star);
  const idents = head.filter((w) => !QUALIFIERS.has(w));
  const lower = idents.filter((w) => !/^_*[A-Z][A-Z0-9_]*$/.test(w) || /^[A-Z]$/.test(w));
  const base = lower.length ? lower.join(' ') : (idents[idents.length - 1] ?? '');
  return { base, pointers: words.filter((w) => w === '*').length, isConst: head.includes('const') };
}

function sameParams(a: HeaderDecl, b: HeaderDecl): boolean {
  const shape = (d: HeaderDecl) => d.params.map((p) => `${p.base}${'*'.repeat(p.pointers)}`).join(',');
  return shape(a) === shape(b);
}
