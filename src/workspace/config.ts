// cgoguard.yaml: rule severities, the failure threshold, excluded paths,
// build tags and ownership contracts. Validated strictly: a bad key is a
// one-line error that names it.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import ignore from 'ignore';
import type { Confidence, FailOn, Severity } from '../findings/finding.js';
import { DEFAULT_C_BUDGET, type CBudget } from '../model/canalyzer.js';
import { ContractSyntaxError, parseContract } from '../model/contracts.js';
import { PackError, loadPack } from '../model/packs.js';
import { ALL_RULES, ruleById } from '../rules/index.js';

export const CONFIG_NAMES = ['cgoguard.yaml', 'cgoguard.yml', '.cgoguard.yaml'];

// zod and yaml cost a fifth of a second to load: only a run with a configuration file pays it.
const requireLazily = createRequire(import.meta.url);
let schemaMemo: ReturnType<typeof buildSchema> | undefined;

function buildSchema() {
  const { z } = requireLazily('zod') as typeof import('zod');
  const severity = z.enum(['error', 'warning', 'note', 'off']);

  return z
    .object({
      'fail-on': z.enum(['error', 'warning', 'note', 'never']).optional(),
      'fail-confidence': z.enum(['high', 'medium', 'low']).optional(),
      rules: z.record(z.string(), severity).optional(),
      exclude: z.array(z.string()).optional(),
      tags: z.array(z.string()).optional(),
      tests: z.boolean().optional(),
      contracts: z.array(z.string()).optional(),
      packs: z.array(z.string()).optional(),
      'c-analyzer': z
        .object({
          scope: z.enum(['own', 'all', 'off']).optional(),
          'unit-timeout': z.number().positive().optional(),
          'unit-timeout-per-kb': z.number().min(0).optional(),
          'total-timeout': z.number().positive().optional(),
          'max-unit-kb': z.number().positive().optional(),
          vendored: z.array(z.string()).optional(),
        })
        .strict()
        .optional(),
      policy: z
        .object({
          static: z.enum(['error', 'warning', 'note', 'never']).optional(),
          leaks: z.number().int().min(0).optional(),
          runtime: z.boolean().optional(),
          'leak-report': z.string().optional(),
          'finalizer-held': z.boolean().optional(),
        })
        .strict()
        .optional(),
    })
    .strict();
}

export interface Config {
  file?: string;
  failOn?: FailOn;
  /** The lowest confidence at which a finding fails the run (default high). */
  failConfidence?: Confidence;
  /** Severity per rule id; 'off' disables. */
  rules: Map<string, Severity | 'off'>;
  excluded: (absPath: string) => boolean;
  tags: string[];
  tests?: boolean;
  /** Contracts from the file and from the packs it lists, with where each comes from. */
  contracts: { text: string; origin: string }[];
  /** When `cgoguard test` fails: per stage, as the design document's table has it. */
  policy: Policy;
  /** clang's analyzer: switched off, or what it may spend and on which C. */
  cAnalyzer: { off: boolean; budget: CBudget };
}

export interface Policy {
  /** Static findings at this severity or above fail (at the confidence of failConfidence). */
  static: FailOn;
  /** The lowest confidence at which a static finding fails (default high: guesses never fail a run). */
  staticConfidence: Confidence;
  /** This many definite leaks at run time fail (0: leaks never fail). */
  leaks: number;
  /** Any other run-time error (sanitizer, cgocheck, crash) fails. */
  runtime: boolean;
  /** Where the leak report is written when leaks fail the run. */
  leakReport?: string;
  /** trace: count C memory still held at exit by an object with a finalizer or cleanup as leaks. */
  finalizerHeld: boolean;
}

export const DEFAULT_POLICY: Policy = { static: 'warning', staticConfidence: 'high', leaks: 1, runtime: true, finalizerHeld: false };

export class ConfigError extends Error {}

export function defaultConfig(): Config {
  return { rules: new Map(), excluded: () => false, tags: [], contracts: [], policy: DEFAULT_POLICY, cAnalyzer: { off: false, budget: DEFAULT_C_BUDGET } };
}

/** Finds the config file: the given one, else the nearest cgoguard.yaml from cwd upward. */
export function locateConfig(cwd: string, explicit?: string): string | undefined {
  if (explicit) {
    const p = path.resolve(cwd, explicit);
    if (!existsSync(p)) throw new ConfigError(`${explicit}: no such file`);
    return p;
  }
  for (let d = cwd; ; d = path.dirname(d)) {
    for (const n of CONFIG_NAMES) {
      const p = path.join(d, n);
      if (existsSync(p)) return p;
    }
    if (existsSync(path.join(d, '.git')) || path.dirname(d) === d) return undefined;
  }
}

export function loadConfig(file: string): Config {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError(`${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  let raw: unknown;
  try {
    raw = (requireLazily('yaml') as typeof import('yaml')).parse(text) ?? {};
  } catch (e) {
    throw new ConfigError(`${file}: invalid YAML: ${firstLine((e as Error).message)}`);
  }
  const parsed = (schemaMemo ??= buildSchema()).safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    let where = issue.path.join('.');
    let msg = issue.message;
    if (issue.code === 'unrecognized_keys') {
      where = [...issue.path, issue.keys[0]].join('.');
      msg = issue.path.length ? 'unknown key' : 'unknown key (known: fail-on, fail-confidence, rules, exclude, tags, tests, contracts, packs, c-analyzer, policy)';
    }
    throw new ConfigError(`${file}: ${where || '(top level)'}: ${msg}`);
  }
  const c = parsed.data;
  const rules = new Map<string, Severity | 'off'>();
  for (const [id, sev] of Object.entries(c.rules ?? {})) {
    if (!ruleById(id)) throw new ConfigError(`${file}: rules.${id}: unknown rule (known: ${ALL_RULES.map((r) => r.id).join(', ')})`);
    rules.set(id, sev);
  }
  const base = path.dirname(file);
  const own = (c.contracts ?? []).map((text) => ({ text, origin: path.basename(file) }));
  // The packs come first: the file's own contracts refine them.
  const fromPacks: { text: string; origin: string }[] = [];
  (c.packs ?? []).forEach((ref, i) => {
    try {
      const pack = loadPack(ref, base);
      fromPacks.push(...pack.contracts.map((text) => ({ text, origin: `pack ${pack.name}` })));
    } catch (e) {
      if (e instanceof PackError) throw new ConfigError(`${file}: packs[${i}]: ${e.message}`);
      throw e;
    }
  });
  const contracts = [...fromPacks, ...own];
  contracts.forEach(({ text, origin }, i) => {
    try {
      parseContract(text, origin);
    } catch (e) {
      if (!(e instanceof ContractSyntaxError)) throw e;
      const where = i < fromPacks.length ? `${origin}: "${text}"` : `contracts[${i - fromPacks.length}]`;
      throw new ConfigError(`${file}: ${where}: ${e.message}`);
    }
  });
  const ig = ignore().add(c.exclude ?? []);
  return {
    file,
    failOn: c['fail-on'],
    failConfidence: c['fail-confidence'],
    rules,
    excluded: (abs) => {
      const rel = path.relative(base, abs);
      return !rel.startsWith('..') && !path.isAbsolute(rel) && rel !== '' && ig.ignores(rel);
    },
    tags: c.tags ?? [],
    tests: c.tests,
    contracts,
    policy: {
      static: c.policy?.static ?? c['fail-on'] ?? DEFAULT_POLICY.static,
      staticConfidence: c['fail-confidence'] ?? DEFAULT_POLICY.staticConfidence,
      leaks: c.policy?.leaks ?? DEFAULT_POLICY.leaks,
      runtime: c.policy?.runtime ?? DEFAULT_POLICY.runtime,
      leakReport: c.policy?.['leak-report'] !== undefined ? path.resolve(base, c.policy['leak-report']) : undefined,
      finalizerHeld: c.policy?.['finalizer-held'] ?? DEFAULT_POLICY.finalizerHeld,
    },
    cAnalyzer: {
      off: c['c-analyzer']?.scope === 'off',
      budget: {
        scope: c['c-analyzer']?.scope === 'all' ? 'all' : 'own',
        unitSeconds: c['c-analyzer']?.['unit-timeout'] ?? DEFAULT_C_BUDGET.unitSeconds,
        secondsPerKB: c['c-analyzer']?.['unit-timeout-per-kb'] ?? DEFAULT_C_BUDGET.secondsPerKB,
        totalSeconds: c['c-analyzer']?.['total-timeout'] ?? DEFAULT_C_BUDGET.totalSeconds,
        maxUnitKB: c['c-analyzer']?.['max-unit-kb'] ?? DEFAULT_C_BUDGET.maxUnitKB,
        ...(c['c-analyzer']?.vendored?.length ? { vendored: { base, patterns: c['c-analyzer'].vendored } } : {}),
      },
    },
  };
}

/**
 * The configuration with the command line's `--c-analyzer own|all|off` (or
 * `--no-c-analyzer`, false) applied over the file's `c-analyzer.scope`.
 */
export function withCAnalyzerFlag(config: Config, flag: string | boolean | undefined): Config {
  if (flag === undefined || flag === true) return config;
  if (flag === false || flag === 'off') return { ...config, cAnalyzer: { ...config.cAnalyzer, off: true } };
  return { ...config, cAnalyzer: { off: false, budget: { ...config.cAnalyzer.budget, scope: flag === 'all' ? 'all' : 'own' } } };
}

function firstLine(s: string): string {
  return s.split('\n')[0];
}
