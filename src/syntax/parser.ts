// Tree-sitter parsers for Go and C, loaded once per thread from the grammar
// .wasm files vendored under grammars/ (see grammars/README.md).
import { fileURLToPath } from 'node:url';
import { Language, Parser, type Tree } from 'web-tree-sitter';

let ready: Promise<void> | undefined;
let goParser: Parser | undefined;
let cParser: Parser | undefined;

function grammarPath(name: string): string {
  return fileURLToPath(new URL(`../../grammars/${name}`, import.meta.url));
}

export function initParsers(): Promise<void> {
  ready ??= (async () => {
    await Parser.init();
    const [go, c] = await Promise.all([
      Language.load(grammarPath('tree-sitter-go.wasm')),
      Language.load(grammarPath('tree-sitter-c.wasm')),
    ]);
    goParser = new Parser();
    goParser.setLanguage(go);
    cParser = new Parser();
    cParser.setLanguage(c);
  })();
  return ready;
}

function must(p: Parser | undefined): Parser {
  if (!p) throw new Error('parsers used before initParsers() resolved');
  return p;
}

/**
 * Parses Go source. The caller owns the tree and must delete() it. With
 * `previous` (an earlier tree of the file, already edited to match), only
 * what the edit touched is parsed again.
 */
export function parseGo(source: string, previous?: Tree): Tree {
  const tree = must(goParser).parse(source, previous);
  if (!tree) throw new Error('tree-sitter returned no tree for Go source');
  return tree;
}

/** Parses C source. The caller owns the tree and must delete() it. */
export function parseC(source: string): Tree {
  const tree = must(cParser).parse(source);
  if (!tree) throw new Error('tree-sitter returned no tree for C source');
  return tree;
}
