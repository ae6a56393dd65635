// Whole-package results kept between runs: a package whose inputs did not
// change costs a hash. The key holds everything a package's result depends
// on: the contents of its Go, C and header files, what its preambles'
// headers preprocess to, the options and contracts, the summaries of the
// packages it imports that it was analysed against, clang's version, and
// cgoguard's version with a digest of its own analysis code (so that any
// change to the analysis, released or not, is a miss).
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Summary } from '../flow/summary.js';
import { clangIdentity } from '../model/canalyzer.js';
import { analysisDigest, readEntry, writeEntry } from '../model/cachestore.js';
import { cgoFlags, preprocessedDigest } from '../model/cpreprocess.js';
import { readGoHeader } from '../workspace/goheader.js';
import type { AnalyzeOptions, PackageJob, PackageResult } from './analyze-package.js';
import type { CBudget } from '../model/canalyzer.js';

/** What every package's key shares in one run. */
export interface RunInputs {
  opts: AnalyzeOptions;
  budget: CBudget;
}

/** The key of a package's result, or undefined when a file cannot be read (the analysis says why). */
export async function resultKey(job: PackageJob, external: Summary[], run: RunInputs): Promise<string | undefined> {
  const hash = createHash('sha256');
  const line = (...parts: unknown[]) => hash.update(`${parts.map((p) => (typeof p === 'string' ? p : JSON.stringify(p))).join('\0')}\n`);
  const { opts } = run;
  line('code', analysisDigest());
  line('options', opts.contracts, [...opts.disabledRules].sort(), !!opts.cAnalyzer, opts.cAnalyzer ? run.budget : null, opts.cAnalyzer ? clangIdentity() : '');
  line('package', job.importPath, job.name, job.dir, job.build, !!job.everyFunction);
  const preambles: string[] = [];
  const goTexts: string[] = [];
  for (const f of [...job.files, ...job.cFiles]) {
    let bytes: Buffer;
    try {
      // A text given with the job (fixes being verified, an editor's buffer) is what is analysed.
      bytes = 'text' in f && typeof f.text === 'string' ? Buffer.from(f.text, 'utf8') : readFileSync(f.path);
    } catch {
      return undefined;
    }
    line('file', f.path, f.display, createHash('sha256').update(bytes).digest('hex'));
    if (!f.path.endsWith('.go')) continue;
    const text = bytes.toString('utf8');
    goTexts.push(text);
    if (/import\s*(\(\s*)?"C"/.test(text)) preambles.push(readGoHeader(text).importComments.join('\n'));
  }
  if (preambles.length) {
    const all = preambles.join('\n');
    line('headers', await preprocessedDigest(all, job.dir, cgoFlags(all, job.dir, job.build)));
  }
  // Facts from the module's usage, of the C functions this package names.
  line('usage', (opts.usage ?? []).filter((u) => goTexts.some((t) => t.includes(`C.${u.text.slice(0, u.text.indexOf(' '))}`))));
  line('imports', external);
  return hash.digest('hex');
}

function isPackageResult(v: unknown): v is PackageResult {
  const r = v as PackageResult | null;
  return typeof r === 'object' && r !== null && typeof r.importPath === 'string' && Array.isArray(r.findings) && Array.isArray(r.summaries) && typeof r.stats === 'object' && Array.isArray(r.problems);
}

export function readResult(key: string): PackageResult | undefined {
  return readEntry('results', key, isPackageResult);
}

export function writeResult(key: string, r: PackageResult): void {
  writeEntry('results', key, r);
}
