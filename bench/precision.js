// The precision table: `cgoguard check` on real cgo modules from the Go
// module proxy, with the library headers installed (as on a user's machine)
// and without a C compiler or the headers (CC=false, CGOGUARD_SYSTEM_INCLUDE empty:
// as in a Node-only CI job).
// Each finding is matched against the verdicts in precision-judgments.json;
// findings without a verdict are listed, so that a change in what the tool
// reports is judged before the table is believed.
//
//   node bench/precision.js [--markdown]
//
// The modules are downloaded into $CGOGUARD_BEDS (default: the user cache's
// cgoguard/beds) when missing; without network they are skipped with a note.
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, chmodSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cgoLines } from './cgo-kloc.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const cli = path.join(here, '../bin/cgoguard.js');
const { modules } = JSON.parse(readFileSync(path.join(here, 'precision-modules.json'), 'utf8'));
const { verdicts } = JSON.parse(readFileSync(path.join(here, 'precision-judgments.json'), 'utf8'));
const beds = process.env.CGOGUARD_BEDS ?? path.join(process.env.XDG_CACHE_HOME ?? path.join(homedir(), '.cache'), 'cgoguard', 'beds');
const markdown = process.argv.includes('--markdown');

/** A writable copy of module@version, from the module cache (downloaded when needed). */
function bed(m) {
  const dir = path.join(beds, m.folder);
  if (existsSync(path.join(dir, 'go.mod'))) return dir;
  try {
    const info = JSON.parse(execFileSync('go', ['mod', 'download', '-json', `${m.module}@${m.version}`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }));
    mkdirSync(beds, { recursive: true });
    cpSync(info.Dir, dir, { recursive: true });
    chmodRecursive(dir);
    spawnSync('go', ['mod', 'download'], { cwd: dir, stdio: 'ignore', timeout: 600_000 });
    return dir;
  } catch {
    return undefined;
  }
}

function chmodRecursive(dir) {
  execFileSync('chmod', ['-R', 'u+w', dir]);
}

function check(dir, env) {
  const r = spawnSync(process.execPath, [cli, 'check', '--format', 'json', '--fail-on', 'never', './...'], { cwd: dir, env: { ...process.env, ...env }, encoding: 'utf8', maxBuffer: 1 << 28, timeout: 1_800_000 });
  try {
    return JSON.parse(r.stdout).findings;
  } catch {
    return undefined;
  }
}

const verdictOf = (m, f) => verdicts.find((v) => v.module === m.folder && v.rule === f.rule && v.file === f.file && v.line === f.line);

const rows = [];
const unjudged = [];
for (const m of modules) {
  const dir = bed(m);
  if (!dir) {
    console.error(`precision: ${m.module}@${m.version} could not be downloaded: skipped`);
    continue;
  }
  const size = cgoLines(dir);
  for (const [setting, env] of [['headers', {}], ['no headers', { CC: 'false', CGOGUARD_SYSTEM_INCLUDE: '' }]]) {
    const findings = check(dir, env);
    if (!findings) {
      console.error(`precision: check failed on ${m.name} (${setting})`);
      continue;
    }
    const row = { module: m.name, version: m.version, setting, kloc: size.lines / 1000, byRule: {}, high: { t: 0, f: 0 }, medium: { t: 0, f: 0 }, low: { t: 0, f: 0 } };
    for (const f of findings) {
      const v = verdictOf(m, f);
      row.byRule[f.rule] = (row.byRule[f.rule] ?? 0) + 1;
      if (!v) {
        unjudged.push(`${m.folder}/${f.file}:${f.line} ${f.rule} (${f.confidence}): ${f.message}`);
        continue;
      }
      row[f.confidence][v.verdict ? 't' : 'f']++;
    }
    rows.push(row);
  }
}

const falses = (r) => r.high.f + r.medium.f + r.low.f;
const fmtRules = (r) => Object.entries(r.byRule).map(([k, n]) => `${k} ${n}`).join(', ') || '—';
const tf = (x) => `${x.t}/${x.f}`;
if (markdown) {
  console.log('| module | version | cgo kLOC | headers | findings by rule | high true/false | medium true/false | low true/false | false per kLOC |');
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) console.log(`| ${r.module} | ${r.version} | ${r.kloc.toFixed(1)} | ${r.setting === 'headers' ? 'yes' : 'no'} | ${fmtRules(r)} | ${tf(r.high)} | ${tf(r.medium)} | ${tf(r.low)} | ${(falses(r) / r.kloc).toFixed(3)} |`);
} else {
  for (const r of rows) console.log(`${r.module.padEnd(20)} ${r.setting.padEnd(10)} ${r.kloc.toFixed(1).padStart(6)} kLOC  high ${tf(r.high).padEnd(6)} medium ${tf(r.medium).padEnd(6)} low ${tf(r.low).padEnd(6)} ${fmtRules(r)}`);
}
for (const setting of ['headers', 'no headers']) {
  const of = rows.filter((r) => r.setting === setting);
  const kloc = of.reduce((a, r) => a + r.kloc, 0);
  const ht = of.reduce((a, r) => a + r.high.t, 0);
  const hf = of.reduce((a, r) => a + r.high.f, 0);
  const f = of.reduce((a, r) => a + falses(r), 0);
  console.log(`${setting}: ${of.length} modules, ${kloc.toFixed(1)} cgo kLOC; high-confidence findings ${ht + hf}, ${ht + hf ? ((100 * ht) / (ht + hf)).toFixed(0) : '—'}% true; ${f} false in all, ${(f / kloc).toFixed(3)} per kLOC`);
}
if (unjudged.length) {
  console.log(`\n${unjudged.length} finding(s) without a verdict in bench/precision-judgments.json:`);
  for (const u of unjudged) console.log(`  ${u}`);
}
