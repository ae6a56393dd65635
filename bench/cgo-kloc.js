// Lines of the .go files that use cgo (import "C") under a module folder,
// leaving out vendor/ and testdata/: the size the precision table divides by.
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

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

// Run as a script (not imported by precision.js, whose own arguments are not folders).
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url) && process.argv[2]) console.log(JSON.stringify(cgoLines(process.argv[2])));
