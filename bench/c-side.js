// The cost of the C side of `check` on cgo packages, as a share of the whole
// check of the same packages (one thread, so the parts add up): the C
// preprocessor on the preambles, parsing C and summarising its bodies, and
// clang's static analyzer. Prints JSON {wholeMs, ccMs, parseMs, clangMs, ...}.
import { readFileSync } from 'node:fs';
import { runCheck } from '../dist/pipeline/check.js';
import { defaultConfig } from '../dist/workspace/config.js';
import { discover } from '../dist/workspace/discover.js';
import { initParsers, parseGo } from '../dist/syntax/parser.js';
import { convertGoFile } from '../dist/syntax/goconvert.js';
import { cgoFlags, preprocessPreamble } from '../dist/model/cpreprocess.js';
import { addCSource, addHeaderDeclarations, emptyCModel } from '../dist/model/cmodel.js';
import { analyzeC, clangAvailable } from '../dist/model/canalyzer.js';
import { LineIndex } from '../dist/syntax/positions.js';

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
let clangMs = 0;
let packages = 0;
let units = 0;
const withClang = clangAvailable();
for (const pkg of d.packages) {
  if (!pkg.importsC) continue;
  const preambles = [];
  const unitList = [];
  const exportPreambles = [];
  for (const f of pkg.files) {
    const text = readFileSync(f.path, 'utf8');
    if (!text.includes('import "C"')) continue;
    const tree = parseGo(text);
    const go = convertGoFile(f.display, text, tree);
    tree.delete();
    const pre = go.preamble;
    if (!pre) continue;
    preambles.push(pre.text);
    if (/^\/\/export /m.test(text)) exportPreambles.push(pre.text);
    if (/\)\s*\{/.test(pre.text)) unitList.push({ k: 'preamble', file: { display: f.display, lines: new LineIndex(text) }, text: pre.text, lineOffsets: pre.lineOffsets });
  }
  if (!preambles.length) continue;
  packages++;
  const all = preambles.join('\n');
  const flags = cgoFlags(all, pkg.dir, d.build);

  let t = performance.now();
  const headers = preprocessPreamble(all, pkg.dir, flags);
  ccMs += performance.now() - t;

  t = performance.now();
  const model = emptyCModel();
  for (const text of preambles) addCSource(model, text, { source: 'preamble', bodies: true });
  for (const c of pkg.cFiles) addCSource(model, readFileSync(c.path, 'utf8'), { source: c.display, bodies: true });
  if (headers.text) addHeaderDeclarations(model, headers.text);
  parseMs += performance.now() - t;

  for (const c of pkg.cFiles) if (c.path.endsWith('.c')) unitList.push({ k: 'c', file: { display: c.display, lines: new LineIndex('') }, path: c.path });
  if (withClang && unitList.length) {
    t = performance.now();
    analyzeC(unitList, pkg.dir, flags, exportPreambles);
    clangMs += performance.now() - t;
    units += unitList.length;
  }
}
process.stdout.write(`${JSON.stringify({ wholeMs, ccMs, parseMs, clangMs, packages, units, clang: withClang, findings: whole.findings.length })}\n`);
