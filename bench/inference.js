// Ownership inference from headers, on the C libraries installed here: how many
// functions get facts, which sources agreed, and how many inferred facts are
// right on a hand-verified sample (bench/inference-truth.json, made from the
// libraries' documentation, not from cgoguard). Needs `npm run build` first.
//
//   node bench/inference.js [--json] [--wrong]
//
// A sampled function's inferred clause is right when the truth has a clause of
// the same kind on the same parameter (and, for owned memory, with a releaser
// in common). Entries the truth marks unsure are left out.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const dist = path.join(here, '..', 'dist');
const { inferFromHeaders } = await import(path.join(dist, 'knowledge/infer-header.js'));
const { includeDirs, libraryHeaders } = await import(path.join(dist, 'knowledge/header-files.js'));
const { scanHeader } = await import(path.join(dist, 'knowledge/header-scan.js'));

const libraries = JSON.parse(readFileSync(path.join(here, 'inference-libraries.json'), 'utf8'));
const truth = JSON.parse(readFileSync(path.join(here, 'inference-truth.json'), 'utf8')).filter((e) => !e.unsure);
const asJSON = process.argv.includes('--json');
const showWrong = process.argv.includes('--wrong');

/** A contract's clauses as comparable records (0-based parameters). */
function clausesOf(c) {
  const out = [];
  if (c.returns?.kind === 'owned') out.push({ k: 'returns owned', by: c.returns.releasedBy });
  if (c.returns?.kind === 'borrowed') out.push({ k: 'returns borrowed' });
  for (const w of c.writesOwned) out.push({ k: 'writes owned', p: w.param, by: w.releasedBy });
  for (const p of [...c.releases, ...(c.releasesPointee ?? [])]) out.push({ k: 'releases', p });
  for (const p of c.takes) out.push({ k: 'takes', p });
  return out;
}

/** A truth clause ("writes owned to 1 released by f on success") as a record. */
function parseTruth(text) {
  let m = /^returns owned released by (.+)$/.exec(text);
  if (m) return { k: 'returns owned', by: m[1].split(/,\s*/) };
  if (/^returns borrowed/.test(text)) return { k: 'returns borrowed' };
  m = /^writes owned to (\d+) released by (.+?)(?: on (?:success|failure))?$/.exec(text);
  if (m) return { k: 'writes owned', p: Number(m[1]) - 1, by: m[2].split(/,\s*/) };
  m = /^releases (\d+)/.exec(text);
  if (m) return { k: 'releases', p: Number(m[1]) - 1 };
  m = /^takes (\d+)/.exec(text);
  if (m) return { k: 'takes', p: Number(m[1]) - 1 };
  throw new Error(`truth clause not understood: ${text}`);
}

const matches = (a, b) => a.k === b.k && a.p === b.p && (!a.by || a.by.some((x) => b.by.includes(x)));
const show = (c) => `${c.k}${c.p !== undefined ? ` ${c.p + 1}` : ''}${c.by ? ` by ${c.by.join(',')}` : ''}`;

const rows = [];
const wrong = [];
const missed = [];
let inferredClauses = 0;
let rightClauses = 0;
let truthClauses = 0;
let foundClauses = 0;
for (const [lib, cfg] of Object.entries(libraries)) {
  const dirs = includeDirs('/nonexistent', { cflags: [], pkgConfig: cfg.pkgConfig ?? [] });
  const set = libraryHeaders([cfg.include.map((h) => `#include <${h}>`).join('\n')], dirs);
  if (!set.files.length) {
    rows.push({ library: lib, installed: false });
    continue;
  }
  const t0 = performance.now();
  const facts = inferFromHeaders(set.files);
  const ms = performance.now() - t0;
  const declared = new Set(set.files.flatMap((f) => scanHeader(f.text).decls.map((d) => d.name)));
  const bySource = {};
  const byConfidence = {};
  for (const f of facts.values()) {
    const key = f.sources.join('+');
    bySource[key] = (bySource[key] ?? 0) + 1;
    const conf = f.contract.confidence ?? 'high';
    byConfidence[conf] = (byConfidence[conf] ?? 0) + 1;
  }
  const sample = truth.filter((e) => e.library === lib);
  let right = 0;
  let inferred = 0;
  let tc = 0;
  let found = 0;
  for (const e of sample) {
    const expected = e.facts.map(parseTruth);
    const fact = facts.get(e.function);
    const got = fact ? clausesOf(fact.contract) : [];
    tc += expected.length;
    for (const g of got) {
      inferred++;
      if (expected.some((x) => matches(g, x))) right++;
      else wrong.push({ library: lib, fn: e.function, inferred: show(g), truth: e.facts.join('; ') || 'no fact', evidence: fact.contract.evidence, confidence: fact.contract.confidence ?? 'high' });
    }
    for (const x of expected) {
      if (got.some((g) => matches(g, x))) found++;
      else missed.push({ library: lib, fn: e.function, truth: show(x) });
    }
  }
  inferredClauses += inferred;
  rightClauses += right;
  truthClauses += tc;
  foundClauses += found;
  rows.push({ library: lib, installed: true, headers: set.files.length, functions: declared.size, withFacts: facts.size, bySource, byConfidence, ms: Math.round(ms), sample: sample.length, inferred, right, truthClauses: tc, found });
}

const pct = (a, b) => (b ? `${((100 * a) / b).toFixed(1)}%` : '-');
if (asJSON) {
  console.log(JSON.stringify({ rows, wrong, missed, precision: rightClauses / inferredClauses, recall: foundClauses / truthClauses }));
} else {
  console.log('ownership inference from installed headers');
  for (const r of rows) {
    if (!r.installed) {
      console.log(`  ${r.library.padEnd(12)} headers not installed`);
      continue;
    }
    const src = Object.entries(r.bySource).map(([k, v]) => `${k} ${v}`).join(', ');
    const sample = r.sample ? `  sample ${r.sample} functions: ${r.right}/${r.inferred} inferred right, ${r.found}/${r.truthClauses} of the truth found` : '';
    console.log(`  ${r.library.padEnd(12)} ${String(r.headers).padStart(3)} headers ${String(r.functions).padStart(5)} functions ${String(r.withFacts).padStart(4)} with facts (${src}) ${r.ms} ms${sample}`);
  }
  const libs = rows.filter((r) => r.installed).length;
  console.log(`  ${libs} libraries; on the ${truth.length}-function sample: ${rightClauses}/${inferredClauses} inferred facts right (${pct(rightClauses, inferredClauses)}), ${foundClauses}/${truthClauses} of the truth found (${pct(foundClauses, truthClauses)})`);
  if (showWrong) {
    for (const w of wrong) console.log(`  wrong: ${w.library} ${w.fn}: inferred "${w.inferred}" (${w.confidence}), truth "${w.truth}" — ${w.evidence}`);
    for (const m of missed) console.log(`  missed: ${m.library} ${m.fn}: ${m.truth}`);
  }
}
