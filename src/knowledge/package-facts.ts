// Ownership facts inferred from the headers a package's preambles include,
// once per set of headers in a process: packages of one module mostly
// include the same library.
import type { CgoFlags } from '../model/cpreprocess.js';
import { includeDirs, libraryHeaders } from './header-files.js';
import { inferFromHeaders, type InferredFact } from './infer-header.js';

const byHeaders = new Map<string, Map<string, InferredFact>>();

/** The facts inferred from the library headers the preambles include (found as the compiler would, without running it). */
export function inferredForPackage(preambles: string[], pkgDir: string, flags: CgoFlags): Map<string, InferredFact> {
  const dirs = includeDirs(pkgDir, flags);
  const includes = [...new Set(preambles.flatMap((p) => p.match(/^\s*#\s*include\s*[<"][^>"]+[>"]/gm) ?? []).map((l) => l.trim()))].sort();
  const key = `${dirs.join('\0')}\n${includes.join('\n')}`;
  let facts = byHeaders.get(key);
  if (!facts) {
    facts = inferFromHeaders(libraryHeaders([includes.join('\n')], dirs).files);
    byHeaders.set(key, facts);
  }
  return facts;
}
