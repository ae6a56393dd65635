// The cost of the C side of `check` on cgo packages, as a share of the whole
// check of the same packages (one thread, so the parts add up; no cache): the
// C preprocessor on the preambles, reading C (declarations, and the bodies the
// Go code reaches; every body, as a reference), and clang's static analyzer
// within its default budget. Prints JSON {wholeMs, ccMs, parseMs, eagerMs, clangMs, ...}.
import { readFileSync } from 'node:fs';
import { runCheck } from '../dist/pipeline/check.js';
import { defaultConfig } from '../dist/workspace/config.js';
import { discover } from '../dist/workspace/discover.js';
import { initParsers, parseGo } from '../dist/syntax/parser.js';
import { convertGoFile } from '../dist/syntax/goconvert.js';
import { cgoFlags, preprocessPreamble } from '../dist/model/cpreprocess.js';
import { addCSource } from '../dist/model/cmodel.js';
import { emptyCModel } from '../dist/model/cdecls.js';
import { CBodies } from '../dist/model/cbodies.js';
import { ContractSet } from '../dist/model/contracts.js';
import { clangAvailable, DEFAULT_C_BUDGET } from '../dist/model/canalyzer.js';
import { CAnalysisRun } from '../dist/pipeline/cunits.js';
import { Slots } from '../dist/pipeline/slots.js';

// clang's real cost, not its result cache.
process.env.CGOGUARD_CACHE = 'off';
const patterns = JSON.parse(process.argv[2]);
const cwd = process.cwd();

const t0 = performance.now();
const whole = await runCheck({ cwd, patterns, config: defaultConfig(), tags: [], tests: true, jobs: 1 });
const wholeMs = performance.now() - t0;

await initParsers();
const d = await discover(patterns, { cwd, tags: [], tests: true });
let ccMs = 0;
let parseMs = 0;
let eagerMs = 0;
let clangMs = 0;
let packages = 0;
let units = 0;
let summarized = 0;
let definitions = 0;
const withClang = clangAvailable();
const cRun = new CAnalysisRun(DEFAULT_C_BUDGET, new Slots(1));
for (const pkg of d.packages) {
  if (!pkg.importsC) continue;
  const preambles = [];
  const goTexts = [];
  const planned = [];
  const exportPreambles = [];
  for (const f of pkg.files) {
    const text = readFileSync(f.path, 'utf8');
    goTexts.push(text);
    if (!text.includes('import "C"')) continue;
    const tree = parseGo(text);
    const go = convertGoFile(f.display, text, tree);
    tree.delete();
    const pre = go.preamble;
    if (!pre) continue;
    preambles.push(pre.text);
    if (/^\/\/export /m.test(text)) exportPreambles.push(pre.text);
    if (/\)\s*\{/.test(pre.text)) planned.push({ k: 'preamble', display: f.display, goText: text, text: pre.text, lineOffsets: pre.lineOffsets });
  }
  if (!preambles.length) continue;
  packages++;
  const all = preambles.join('\n');
  const flags = cgoFlags(all, pkg.dir, d.build);
  const cTexts = pkg.cFiles.map((c) => readFileSync(c.path, 'utf8'));

  let t = performance.now();
  preprocessPreamble(all, pkg.dir, flags);
  ccMs += performance.now() - t;

  // As the check reads C: declarations of every text, bodies of what the Go code names and what they call.
  t = performance.now();
  const contracts = ContractSet.withBuiltins();
  const model = emptyCModel();
  model.contractOf = (n) => contracts.get(n);
  const bodies = new CBodies();
  for (const text of [...preambles, ...cTexts]) bodies.add(model, text, 'bench', () => ({ get: (n) => contracts.get(n), digest: '' }));
  const named = new Set(goTexts.flatMap((g) => [...g.matchAll(/\bC\.([A-Za-z_]\w*)/g)].map((m) => m[1])));
  bodies.summarize([...named].flatMap((n) => (model.funcs.get(n) ? [model.funcs.get(n)] : [])));
  parseMs += performance.now() - t;
  summarized += bodies.stats.summarized;
  definitions += bodies.stats.definitions;

  // Every body of every text, as the check did before it read C lazily.
  t = performance.now();
  const eager = emptyCModel();
  eager.contractOf = model.contractOf;
  for (const text of [...preambles, ...cTexts]) addCSource(eager, text, { source: 'bench', bodies: true });
  eagerMs += performance.now() - t;

  for (const c of pkg.cFiles) if (c.path.endsWith('.c')) planned.push({ k: 'c', display: c.display, path: c.path });
  if (withClang && planned.length) {
    t = performance.now();
    await cRun.analyze({ dir: pkg.dir, flags, exportPreambles, units: planned });
    clangMs += performance.now() - t;
    units += planned.length;
  }
}
process.stdout.write(`${JSON.stringify({ wholeMs, ccMs, parseMs, eagerMs, clangMs, packages, units, summarized, definitions, clang: withClang, findings: whole.findings.length })}\n`);
