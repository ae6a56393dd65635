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
