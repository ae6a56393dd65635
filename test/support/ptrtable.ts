// The Go toolchain's own table of pointer-passing cases
// ($GOROOT/src/cmd/cgo/internal/testerrors/ptr_test.go), read from the
// installed Go, each case turned into a small package of its own.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { decodeGoString } from '../../src/syntax/golit.js';
import { parseGo } from '../../src/syntax/parser.js';

export interface PtrCase {
  name: string;
  c: string;
  c1: string;
  imports: string[];
  support: string;
  body: string;
  fail: boolean;
  expensive: boolean;
}

/** Reads the ptrTests table. Call initParsers() first. */
export function readPtrTable(goroot: string): PtrCase[] {
  const file = path.join(goroot, 'src/cmd/cgo/internal/testerrors/ptr_test.go');
  const text = readFileSync(file, 'utf8');
  const start = text.indexOf('var ptrTests = ');
  // Parse just the table as a file of its own.
  const end = text.indexOf('\n}\n', start) + 3;
  const src = `package p\n${text.slice(start, end)}`;
  const tree = parseGo(src);
  const node = tree.rootNode.descendantsOfType('composite_literal')[0];
  const cases: PtrCase[] = [];
  try {
    // A slice of keyed struct literals.
    const body = node?.childForFieldName('body');
    for (const el of body?.namedChildren ?? []) {
      const lit = el?.namedChildren[0];
      const fields = lit?.type === 'literal_value' ? lit : undefined;
      if (!fields) continue;
      const c: PtrCase = { name: '', c: '', c1: '', imports: [], support: '', body: '', fail: false, expensive: false };
      for (const kv of fields.namedChildren) {
        if (kv?.type !== 'keyed_element') continue;
        const key = kv.childForFieldName('key')?.text;
        const valNode = kv.childForFieldName('value')?.namedChildren[0];
        if (!key || !valNode) continue;
        const str = (t: string) => decodeGoString(t)?.text ?? '';
        switch (key) {
          case 'name':
          case 'c':
          case 'c1':
          case 'support':
          case 'body':
            c[key] = str(valNode.text);
            break;
          case 'imports':
            c.imports = [...valNode.text.matchAll(/"([^"]+)"/g)].map((m) => m[1]);
            break;
          case 'fail':
          case 'expensive':
            c[key] = valNode.text === 'true';
            break;
        }
      }
      if (c.name) cases.push(c);
    }
  } finally {
    tree.delete();
  }
  return cases;
}

/** Writes one case as `dir/<name>/main.go`; returns the package directory. */
export function writeCase(dir: string, c: PtrCase): string {
  const pkg = path.join(dir, c.name);
  mkdirSync(pkg, { recursive: true });
  const imports = c.imports.length ? `import (\n${c.imports.map((i) => `\t"${i}"`).join('\n')}\n)\n` : '';
  const text = `package main\n\n/*\n${c.c}\n${c.c1}\n*/\nimport "C"\n\n${imports}\n${c.support}\n\nfunc ${c.name}() {\n${c.body}\n}\n\nfunc main() { ${c.name}() }\n`;
  writeFileSync(path.join(pkg, 'main.go'), text);
  return pkg;
}
