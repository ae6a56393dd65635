// What cgoguard believes about the C functions a package calls, and why:
// for `cgoguard contracts infer` (the inferred facts as a contract file to
// review) and `cgoguard contracts explain C.f` (one function's facts and
// where each comes from). The order is the analysis's: a contract given
// (built in, configuration, packs, directives) wins; a function the package
// defines in C is summarised from its body; otherwise a fact inferred from
// the library's headers applies.
import { inferredForPackage } from '../knowledge/package-facts.js';
import type { InferredFact } from '../knowledge/infer-header.js';
import { contractDirectives } from '../model/cmodel.js';
import { ContractSet, parseContract, ContractSyntaxError, type Contract } from '../model/contracts.js';
import { packContracts, packsForPreamble } from '../model/packs.js';
import { cgoFlags } from '../model/cpreprocess.js';
import { readText } from '../model/read-text.js';
import type { Config } from '../workspace/config.js';
import { discover } from '../workspace/discover.js';
import { readGoHeader } from '../workspace/goheader.js';

export interface KnowledgeOptions {
  cwd: string;
  patterns: string[];
  config: Config;
  tags: string[];
}

export interface FunctionKnowledge {
  /** The C name. */
  name: string;
  /** Where the belief comes from. */
  source: 'given' | 'inferred' | 'c-body' | 'none';
  /** The contract the analysis uses (given or inferred). */
  contract?: Contract;
  /** An inferred fact: its text in the contract grammar and the sources that agreed. */
  inferred?: InferredFact;
  /** The Go files that call it (C.name), relative to the working folder. */
  calledIn: string[];
}

export interface PackageKnowledge {
  importPath: string;
  dir: string;
  functions: FunctionKnowledge[];
  /** Functions whose facts were inferred from headers (whether called or not). */
  inferredCount: number;
  /** Headers the preambles include that were not found. */
  headersRead: number;
}

export interface Knowledge {
  packages: PackageKnowledge[];
  notes: string[];
}

/** Every cgo package matched by the patterns, with what is believed about each C function its Go code calls. */
export async function gatherKnowledge(o: KnowledgeOptions): Promise<Knowledge> {
  const found = await discover(o.patterns, { cwd: o.cwd, tags: o.tags, tests: true, excluded: o.config.excluded });
  const given = ContractSet.withBuiltins();
  for (const c of o.config.contracts) given.add(parseContract(c.text, c.origin));
  const packages: PackageKnowledge[] = [];
  for (const pkg of found.packages) {
    if (!pkg.importsC) continue;
    const preambles: string[] = [];
    const calls = new Map<string, Set<string>>();
    const own = given.clone();
    for (const f of pkg.files) {
      const text = readText(f.path);
      if (text === undefined) continue;
      if (!/import\s*(\(\s*)?"C"/.test(text)) continue;
      const preamble = readGoHeader(text).importComments.join('\n');
      preambles.push(preamble);
      // The packs the preamble's headers turn on, below what the configuration and directives say.
      for (const pack of packsForPreamble(preamble)) for (const c of packContracts(pack)) own.addBelow(c);
      for (const d of contractDirectives(preamble)) {
        try {
          own.add(parseContract(d.text, `${f.display} (preamble)`));
        } catch (e) {
          if (!(e instanceof ContractSyntaxError)) throw e;
        }
      }
      for (const m of text.matchAll(/\bC\.([A-Za-z_]\w*)\s*\(/g)) {
        const set = calls.get(m[1]) ?? new Set<string>();
        set.add(f.display);
        calls.set(m[1], set);
      }
    }
    const defined = definedInC(preambles, pkg.cFiles.map((c) => c.path));
    const inferred = preambles.length ? inferredForPackage(preambles, pkg.dir, cgoFlags(preambles.join('\n'), pkg.dir, found.build)) : new Map<string, InferredFact>();
    const functions: FunctionKnowledge[] = [...calls.keys()]
      .filter((n) => !CGO_HELPERS.has(n))
      .sort()
      .map((name) => {
        const calledIn = [...calls.get(name)!].sort();
        const contract = own.get(name);
        if (contract) return { name, source: 'given', contract, calledIn };
        if (defined.has(name)) return { name, source: 'c-body', calledIn };
        const fact = inferred.get(name);
        if (fact) return { name, source: 'inferred', contract: fact.contract, inferred: fact, calledIn };
        return { name, source: 'none', calledIn };
      });
    packages.push({ importPath: pkg.importPath, dir: pkg.dir, functions, inferredCount: inferred.size, headersRead: preambles.length });
  }
  return { packages, notes: found.notes };
}

/** cgo's own functions: no C library behind them. */
const CGO_HELPERS = new Set(['CString', 'CBytes', 'GoString', 'GoStringN', 'GoBytes']);

/** Names of the functions the package defines in C (preambles, .c files): their bodies are summarised, never inferred. */
function definedInC(preambles: string[], cFiles: string[]): Set<string> {
  const out = new Set<string>();
  const texts = [...preambles, ...cFiles.filter((f) => f.endsWith('.c')).map((f) => readText(f) ?? '')];
  for (const t of texts) for (const m of t.matchAll(/^[A-Za-z_][\w \t*]*?\b([A-Za-z_]\w*)\s*\([^;{)]*\)\s*\{/gm)) out.add(m[1]);
  return out;
}

/** The inferred facts of the called functions as a configuration file's `contracts:` list, each with its evidence. */
export function inferredAsYAML(k: Knowledge, patterns: string[]): string {
  const lines = [
    `# Ownership contracts cgoguard inferred from library headers (packages: ${patterns.join(' ') || '.'}).`,
    '# Review each one against the library documentation, then keep it under',
    '# `contracts:` in cgoguard.yaml: a contract given there is sure, and findings',
    '# that rest on it are no longer marked medium confidence.',
    'contracts:',
  ];
  const seen = new Set<string>();
  let n = 0;
  for (const p of k.packages) {
    for (const f of p.functions) {
      if (f.source !== 'inferred' || !f.inferred || seen.has(f.name)) continue;
      seen.add(f.name);
      const c = f.inferred.contract;
      lines.push(`  # ${c.origin.replace(/^inferred from /, '')} (${f.inferred.sources.join(' + ')}, ${c.confidence ?? 'high'} confidence): ${c.evidence ?? ''}`);
      lines.push(`  - ${JSON.stringify(f.inferred.text)}`);
      n++;
    }
  }
  if (!n) lines.push('  []');
  return `${lines.join('\n')}\n`;
}

/** What is believed about one C function, in the packages that call it. */
export function explainFunction(k: Knowledge, name: string): string {
  const bare = name.replace(/^C\./, '');
  const out: string[] = [];
  for (const p of k.packages) {
    const f = p.functions.find((x) => x.name === bare);
    if (!f) continue;
    out.push(`C.${bare} in ${p.importPath} (called in ${f.calledIn.join(', ')}):`);
    switch (f.source) {
      case 'given':
        out.push(`  contract: ${describe(f.contract!)}`, `  from: ${f.contract!.origin}`);
        break;
      case 'inferred': {
        const c = f.contract!;
        out.push(`  inferred: ${f.inferred!.text}`, `  from: ${c.origin.replace(/^inferred from /, '')} (${f.inferred!.sources.join(' + ')})`, `  evidence: ${c.evidence ?? ''}`, `  confidence: ${c.confidence ?? 'high'}${c.confidence ? ' (findings that rest on it do not fail a build by default)' : ''}`);
        break;
      }
      case 'c-body':
        out.push('  defined in the package\'s C: what it frees, keeps and returns is read from its body');
        break;
      default:
        out.push('  nothing known: no contract, no body, and the headers say nothing the inference trusts.', '  Memory it returns is not reported as leaked; pointers given to it are taken to leave our view.');
    }
  }
  if (!out.length) return `C.${bare} is not called by the packages matched\n`;
  return `${out.join('\n')}\n`;
}

function describe(c: Contract): string {
  const parts: string[] = [];
  if (c.returns?.kind === 'owned') parts.push(`returns owned, released by ${c.returns.releasedBy.join(' or ')}`);
  if (c.returns?.kind === 'borrowed') parts.push('returns borrowed memory');
  for (const r of c.releases) parts.push(`releases argument ${r + 1}${c.releasesOnSuccess.includes(r) ? ' on success' : ''}`);
  for (const r of c.releasesPointee) parts.push(`releases what argument ${r + 1} points to, and sets it to NULL`);
  for (const t of c.takes) parts.push(`takes argument ${t + 1}`);
  for (const b of c.borrows) parts.push(`borrows argument ${b + 1}`);
  for (const w of c.writesOwned) parts.push(`writes owned memory to argument ${w.param + 1}, released by ${w.releasedBy.join(' or ')}${w.when ? ` on ${w.when}` : ''}`);
  return parts.join('; ') || 'no ownership effect';
}
