// cgoguard directives in comments: `cgoguard:VERB text`. A directive's text
// ends where a trailing comment (`// ...`) or the block comment (`*/`) does.

export interface Directive {
  verb: string;
  text: string;
}

/** Parses `//cgoguard:verb text` (or with a space after the slashes). */
export function parseDirective(comment: string): Directive | undefined {
  const m = /^(?:\/\/|\/\*)\s*cgoguard:(\S+)(.*)$/s.exec(comment.trim());
  if (!m) return undefined;
  return { verb: m[1], text: directiveBody(m[2]) };
}

export function directiveBody(s: string): string {
  const i = s.search(/\/\/|\*\//);
  return (i >= 0 ? s.slice(0, i) : s).trim();
}


export interface SeedContractBlock {
  /** Offset of "Contract:" in the text. */
  pos: number;
  end: number;
  /** The head (after "Contract:") and each arrow line, comment markers removed. */
  lines: string[];
}

const SEED_HEAD = /Contract:/g;
const ARROW_LINE = /^[ \t]*(?:\/\/|\*)?[ \t]*(→|->)/;

/**
 * "Contract:" blocks in a text: the head line and the arrow lines right under
 * it. `inComment` says whether an offset lies in a comment.
 */
export function findSeedContracts(text: string, inComment: (offset: number) => boolean): SeedContractBlock[] {
  const out: SeedContractBlock[] = [];
  for (const m of text.matchAll(SEED_HEAD)) {
    const lineStart = text.lastIndexOf('\n', m.index) + 1;
    // Only a comment that begins with it: "// Contract:", "/* Contract:", " * Contract:".
    if (!/^[ \t]*(?:\/\/|\/\*|\*)?[ \t]*$/.test(text.slice(lineStart, m.index)) || !inComment(m.index)) continue;
    let end = text.indexOf('\n', m.index);
    if (end < 0) end = text.length;
    const lines = [stripCommentEnd(text.slice(m.index + m[0].length, end))];
    while (end < text.length) {
      const next = text.indexOf('\n', end + 1);
      const line = text.slice(end + 1, next < 0 ? text.length : next);
      if (!ARROW_LINE.test(line)) break;
      lines.push(stripCommentEnd(line.replace(/^[ \t]*(?:\/\/|\*)?/, '')));
      end = next < 0 ? text.length : next;
    }
    out.push({ pos: m.index, end, lines });
  }
  return out;
}

/** A line's text up to a trailing comment or the end of a block comment. */
function stripCommentEnd(s: string): string {
  return s.replace(/(\/\/|\*\/).*$/, '').trim();
}
