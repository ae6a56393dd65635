// Lines of the .go files that use cgo (import "C") under a module folder,
// leaving out vendor/ and testdata/: the size the precision table divides by.
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';

export function cgoLines(root) {
  let files = 0;
  let lines = 0;
  const walk = (dir) => {
    for (const d of readdirSync(dir, { withFileTypes: true })) {
      if (d.name.startsWith('.') || d.name === 'vendor' || d.name === 'testdata') continue;
      const p = path.join(dir, d.name);
      if (d.isDirectory()) walk(p);
      else if (d.name.endsWith('.go')) {
        const text = readFileSync(p, 'utf8');
        if (!/^import\s+"C"|^import\s*\([^)]*^\s*"C"\s*$/ms.test(text)) continue;
        files++;
        lines += text.split('\n').length;
      }
    }
  };
  walk(root);
  return { files, lines };
}

if (process.argv[2]) console.log(JSON.stringify(cgoLines(process.argv[2])));
