// The declarations of a C text without the cost of its bodies: a lexical pass
// drops the insides of function bodies, of top-level initializers (the big
// tables of generated parsers) and top-level comments. tree-sitter then parses
// what is left quickly, and a body is parsed on its own only when the analysis
// needs it. Braces are matched by a lexer that knows comments, strings,
// character literals and preprocessor lines; what it cannot classify with
// confidence is kept as it is. A text whose braces it cannot match the way
// tree-sitter would (a body whose `#if` branches open braces they do not
// close) has no skeleton: it is parsed whole.

export interface BlankedRegion {
  /** Offsets of the braces in the text; what lies strictly between them is dropped. */
  open: number;
  close: number;
  kind: 'body' | 'initializer';
}

export interface CSkeleton {
  /** The text without the regions' insides; a comment becomes its newlines, or a space. */
  text: string;
  regions: BlankedRegion[];
  /** Maps an offset in `text` back to the original text. */
  original: (offset: number) => number;
  /** The offset in `text` of an offset of the original that was kept. */
  skeletal: (offset: number) => number;
}

const NL = 10;
const SLASH = 47;
const STAR = 42;
const QUOTE = 34;
const APOS = 39;
const BACKSLASH = 92;
const HASH = 35;
const LBRACE = 123;
const RBRACE = 125;
const SEMI = 59;

/** Type keywords whose `{` opens a member list, not a body. */
const TYPE_KEYWORDS = new Set(['struct', 'union', 'enum']);

/**
 * The skeleton of a C text, or undefined when its braces cannot be matched
 * (the caller then parses the text whole).
 */
export function cSkeleton(text: string): CSkeleton | undefined {
  const n = text.length;
  const regions: BlankedRegion[] = [];
  const comments: [number, number][] = [];
  /** The tokens of the current top-level item (since the last `;` or `}`), enough to classify a `{`. */
  let item: string[] = [];
  /** `extern "C" {` blocks open at top level: their closing braces are not items' ends. */
  let linkageBlocks = 0;
  let lineStart = true;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === NL) {
      lineStart = true;
      i++;
      continue;
    }
    if (c === 32 || c === 9 || c === 13 || c === 12 || c === 11) {
      i++;
      continue;
    }
    if (c === HASH && lineStart) {
      i = endOfDirective(text, i);
      continue;
    }
    lineStart = false;
    if (c === SLASH && text.charCodeAt(i + 1) === SLASH) {
      const end = endOfLineComment(text, i);
      comments.push([i, end]);
      i = end;
      continue;
    }
    if (c === SLASH && text.charCodeAt(i + 1) === STAR) {
      const close = text.indexOf('*/', i + 2);
      const end = close < 0 ? n : close + 2;
      comments.push([i, end]);
      i = end;
      continue;
    }
    if (c === QUOTE || c === APOS) {
      const end = endOfQuoted(text, i);
      item.push(c === QUOTE ? text.slice(i, end) : "'");
      i = end;
      continue;
    }
    if (isIdentStart(c)) {
      let j = i + 1;
      while (j < n && isIdentPart(text.charCodeAt(j))) j++;
      item.push(text.slice(i, j));
      i = j;
      continue;
    }
    if (c === LBRACE) {
      const kind = classifyBrace(item);
      if (kind === 'linkage') {
        linkageBlocks++;
        item = [];
        i++;
        continue;
      }
      const close = matchingBrace(text, i);
      if (close < 0) return undefined;
      if (kind === 'body' || kind === 'initializer') regions.push({ open: i, close, kind });
      if (kind === 'body') item = [];
      else item.push('{}');
      i = close + 1;
      continue;
    }
    if (c === RBRACE) {
      // The end of an `extern "C"` block; any other stray brace is left to the parser.
      if (linkageBlocks > 0) linkageBlocks--;
      item = [];
      i++;
      continue;
    }
    if (c === SEMI) {
      item = [];
      i++;
      continue;
    }
    item.push(text[i]);
    i++;
  }
  return compact(text, regions, comments);
}

/** What a `{` at top level opens, from the tokens of the item before it. */
function classifyBrace(item: string[]): 'body' | 'initializer' | 'linkage' | 'other' {
  const last = item[item.length - 1];
  if (last === '=') return 'initializer';
  if (last === '"C"' && item[item.length - 2] === 'extern') return 'linkage';
  if (last === ')') {
    // `struct __attribute__((packed)) {` and the like keep their members.
    return item.some((t) => TYPE_KEYWORDS.has(t)) && !hasParameterList(item) ? 'other' : 'body';
  }
  return 'other';
}

/** True when a parenthesised group follows an identifier outside any attribute: a declarator's parameters. */
function hasParameterList(item: string[]): boolean {
  for (let k = 1; k < item.length; k++) {
    if (item[k] !== '(') continue;
    const before = item[k - 1];
    if (/^[A-Za-z_]\w*$/.test(before) && !/^(__attribute__|__declspec|_Alignas|alignas|__typeof__|typeof|__asm__|asm)$/.test(before)) return true;
    if (before === ')') return true; // `(*fp)(int)`
  }
  return false;
}

/**
 * The offset of the `}` that closes the `{` at `open`; -1 when there is none,
 * or when a conditional inside opens or closes more braces in one branch than
 * it closes (tree-sitter cannot parse such a body as one, and neither can we
 * say where it ends).
 */
function matchingBrace(text: string, open: number): number {
  const n = text.length;
  let depth = 0;
  let lineStart = false;
  /** The depth at the start of each open conditional's current branch. */
  const branches: number[] = [];
  let i = open;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === NL) {
      lineStart = true;
      i++;
      continue;
    }
    if (c === 32 || c === 9 || c === 13) {
      i++;
      continue;
    }
    if (c === HASH && lineStart) {
      const word = directiveWord(text, i + 1);
      if (word === 'if' || word === 'ifdef' || word === 'ifndef') branches.push(depth);
      else if (word === 'elif' || word === 'else' || word === 'elifdef' || word === 'elifndef' || word === 'endif') {
        if (!branches.length || branches[branches.length - 1] !== depth) return -1;
        if (word === 'endif') branches.pop();
      }
      i = endOfDirective(text, i);
      continue;
    }
    lineStart = false;
    if (c === SLASH && text.charCodeAt(i + 1) === SLASH) {
      i = endOfLineComment(text, i);
    } else if (c === SLASH && text.charCodeAt(i + 1) === STAR) {
      const close = text.indexOf('*/', i + 2);
      i = close < 0 ? n : close + 2;
    } else if (c === QUOTE || c === APOS) {
      i = endOfQuoted(text, i);
    } else {
      if (c === LBRACE) depth++;
      else if (c === RBRACE && --depth === 0) return branches.length ? -1 : i;
      i++;
    }
  }
  return -1;
}

/** The directive's name after `#` (and blanks). */
function directiveWord(text: string, i: number): string {
  while (text.charCodeAt(i) === 32 || text.charCodeAt(i) === 9) i++;
  let j = i;
  while (j < text.length && isIdentPart(text.charCodeAt(j))) j++;
  return text.slice(i, j);
}

/** The end of a preprocessor directive starting at `i`: its logical line, with comments that span lines. */
function endOfDirective(text: string, i: number): number {
  const n = text.length;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === NL) return i;
    if (c === BACKSLASH) {
      // A continuation: backslash, optional \r, newline.
      if (text.charCodeAt(i + 1) === NL) i += 2;
      else if (text.charCodeAt(i + 1) === 13 && text.charCodeAt(i + 2) === NL) i += 3;
      else i++;
      continue;
    }
    if (c === SLASH && text.charCodeAt(i + 1) === STAR) {
      const close = text.indexOf('*/', i + 2);
      i = close < 0 ? n : close + 2;
      continue;
    }
    if (c === SLASH && text.charCodeAt(i + 1) === SLASH) return endOfLineComment(text, i);
    if (c === QUOTE || c === APOS) {
      i = endOfQuoted(text, i);
      continue;
    }
    i++;
  }
  return n;
}

/** The end of a `//` comment (before its newline), following backslash continuations. */
function endOfLineComment(text: string, i: number): number {
  for (;;) {
    const nl = text.indexOf('\n', i);
    if (nl < 0) return text.length;
    const before = text.charCodeAt(nl - 1) === 13 ? nl - 2 : nl - 1;
    if (text.charCodeAt(before) !== BACKSLASH) return nl;
    i = nl + 1;
  }
}

/** The end of a string or character literal starting at `i` (a newline ends a broken one). */
function endOfQuoted(text: string, i: number): number {
  const quote = text.charCodeAt(i);
  const n = text.length;
  let j = i + 1;
  while (j < n) {
    const c = text.charCodeAt(j);
    if (c === BACKSLASH) j += 2;
    else if (c === quote) return j + 1;
    else if (c === NL) return j;
    else j++;
  }
  return n;
}

function isIdentStart(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || c > 127;
}

function isIdentPart(c: number): boolean {
  return isIdentStart(c) || (c >= 48 && c <= 57);
}

/** The text without the regions' insides and comments, with the maps between the two texts' offsets. */
function compact(text: string, regions: BlankedRegion[], comments: [number, number][]): CSkeleton {
  const cuts: [number, number, string][] = [...regions.map((r): [number, number, string] => [r.open + 1, r.close, '']), ...comments.map(([a, b]): [number, number, string] => [a, b, commentStandIn(text, a, b)])].sort((a, b) => a[0] - b[0]);
  const parts: string[] = [];
  // Kept stretches: [offset in the skeleton, offset in the text].
  const from: number[] = [0];
  const to: number[] = [0];
  let at = 0;
  let out = 0;
  for (const [a, b, standIn] of cuts) {
    parts.push(text.slice(at, a), standIn);
    out += a - at + standIn.length;
    at = b;
    from.push(out);
    to.push(b);
  }
  parts.push(text.slice(at));
  const search = (keys: number[], x: number) => {
    let lo = 0;
    let hi = keys.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (keys[mid] <= x) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  };
  return {
    text: parts.join(''),
    regions,
    original: (offset) => {
      const k = search(from, offset);
      return to[k] + (offset - from[k]);
    },
    skeletal: (offset) => {
      const k = search(to, offset);
      return from[k] + (offset - to[k]);
    },
  };
}

/** What a comment leaves: its newlines (lines matter to the preprocessor), or one space. */
function commentStandIn(text: string, a: number, b: number): string {
  let lines = 0;
  for (let i = text.indexOf('\n', a); i >= 0 && i < b; i = text.indexOf('\n', i + 1)) lines++;
  return lines ? '\n'.repeat(lines) : ' ';
}
