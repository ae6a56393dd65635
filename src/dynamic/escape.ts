// The compiler's escape analysis (`go build -gcflags=-m=2`), tied to the
// functions that call C: a variable "moved to heap" or a value that "escapes
// to heap" next to a cgo call is where Go memory meets C, and where a change
// between two versions deserves a look (the design document, chapters 1 and 2.4).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { initParsers, parseGo } from '../syntax/parser.js';

export interface Escape {
  file: string;
  line: number;
  column: number;
  /** "moved to heap: x" or "&x escapes to heap". */
  message: string;
  /** The enclosing top-level function, and whether it calls C. */
  function: string;
  callsC: boolean;
}

/** The compiler's one-line verdicts; the -m=2 explanations ("escapes to heap in F:", flow lines) are left out. */
const VERDICT = /^(.+?\.go):(\d+):(\d+): (moved to heap: \S+|.+ escapes to heap)$/;

/**
 * Escape verdicts from go build's output. Each package's diagnostics follow a
 * `# import/path` line; go replays cached output with the paths of the build
 * that made it, so a file is placed by its package's directory when known.
 */
export function parseEscapes(output: string, cwd: string, dirOf: (importPath: string) => string | undefined = () => undefined): Omit<Escape, 'function' | 'callsC'>[] {
  const out: Omit<Escape, 'function' | 'callsC'>[] = [];
  const seen = new Set<string>();
  let pkgDir: string | undefined;
  for (const line of output.split('\n')) {
    if (line.startsWith('# ')) {
      pkgDir = dirOf(line.slice(2).trim().replace(/ \[.*\]$/, ''));
      continue;
    }
    const m = VERDICT.exec(line.trimEnd());
    if (!m || path.basename(m[1]).startsWith('_cgo_')) continue;
    const file = pkgDir ? path.join(pkgDir, path.basename(m[1])) : path.resolve(cwd, m[1]);
    const key = `${file}:${m[2]}:${m[3]}:${m[4]}`;
    if (seen.has(key)) continue; // -m=2 repeats some verdicts
    seen.add(key);
    out.push({ file, line: Number(m[2]), column: Number(m[3]), message: m[4] });
  }
  return out;
}

interface FuncRange {
  name: string;
  start: number;
  end: number;
  callsC: boolean;
}

/** Top-level functions and methods of a file, with their line ranges and whether their bodies call C. */
function functionsOf(text: string): FuncRange[] {
  const tree = parseGo(text);
  try {
    const out: FuncRange[] = [];
    for (const n of tree.rootNode.namedChildren) {
      if (!n || (n.type !== 'function_declaration' && n.type !== 'method_declaration')) continue;
      const name = n.childForFieldName('name')?.text ?? '?';
      const recv = n.type === 'method_declaration' ? n.childForFieldName('receiver')?.text.replace(/^\(\s*\w*\s*|\s*\)$/g, '') : undefined;
      const body = n.childForFieldName('body')?.text ?? '';
      out.push({ name: recv ? `(${recv}).${name}` : name, start: n.startPosition.row + 1, end: n.endPosition.row + 1, callsC: /\bC\.\w+\s*\(/.test(body) });
    }
    return out;
  } finally {
    tree.delete();
  }
}

/** Each verdict with its enclosing function; files that cannot be read keep an unknown function. */
export async function tieToFunctions(escapes: Omit<Escape, 'function' | 'callsC'>[]): Promise<Escape[]> {
  await initParsers();
  const funcs = new Map<string, FuncRange[]>();
  return escapes.map((e) => {
    let fs = funcs.get(e.file);
    if (!fs) {
      try {
        fs = functionsOf(readFileSync(e.file, 'utf8'));
      } catch {
        fs = [];
      }
      funcs.set(e.file, fs);
    }
    const f = fs.find((r) => e.line >= r.start && e.line <= r.end);
    return { ...e, function: f?.name ?? '', callsC: !!f?.callsC };
  });
}

/** What differs between two versions, by file, function and verdict (line numbers move with every edit). */
export function diffEscapes(base: Escape[], head: Escape[], rel: (e: Escape) => string): { added: Escape[]; removed: Escape[] } {
  const key = (e: Escape) => `${rel(e)}\0${e.function}\0${e.message}`;
  /** The entries of `a` left over once each of `b` has cancelled one with the same key. */
  const surplus = (a: Escape[], b: Escape[]) => {
    const left = new Map<string, number>();
    for (const e of b) left.set(key(e), (left.get(key(e)) ?? 0) + 1);
    return a.filter((e) => {
      const n = left.get(key(e)) ?? 0;
      if (n > 0) left.set(key(e), n - 1);
      return n === 0;
    });
  };
  return { added: surplus(head, base), removed: surplus(base, head) };
}
