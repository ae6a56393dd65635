// cgoguard.yaml: rule severities, the failure threshold, excluded paths,
// build tags and ownership contracts. Validated strictly: a bad key is a
// one-line error that names it.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ignore from 'ignore';
import { parse as parseYAML } from 'yaml';
import { z } from 'zod';
import type { Severity } from '../findings/finding.js';
import { ContractSyntaxError, parseContract } from '../model/contracts.js';
import { ALL_RULES, ruleById } from '../rules/index.js';

export const CONFIG_NAMES = ['cgoguard.yaml', 'cgoguard.yml', '.cgoguard.yaml'];

const severity = z.enum(['error', 'warning', 'note', 'off']);

const schema = z
  .object({
    'fail-on': z.enum(['error', 'warning', 'note', 'never']).optional(),
    rules: z.record(z.string(), severity).optional(),
    exclude: z.array(z.string()).optional(),
    tags: z.array(z.string()).optional(),
    tests: z.boolean().optional(),
    contracts: z.array(z.string()).optional(),
  })
  .strict();

export type FailOn = Severity | 'never';

export interface Config {
  file?: string;
  failOn?: FailOn;
  /** Severity per rule id; 'off' disables. */
  rules: Map<string, Severity | 'off'>;
  excluded: (absPath: string) => boolean;
  tags: string[];
  tests?: boolean;
  contracts: string[];
}

export class ConfigError extends Error {}

export function defaultConfig(): Config {
  return { rules: new Map(), excluded: () => false, tags: [], contracts: [] };
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
    raw = parseYAML(text) ?? {};
  } catch (e) {
    throw new ConfigError(`${file}: invalid YAML: ${firstLine((e as Error).message)}`);
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    let where = issue.path.join('.');
    let msg = issue.message;
    if (issue.code === 'unrecognized_keys') {
      where = [...issue.path, issue.keys[0]].join('.');
      msg = 'unknown key (known: fail-on, rules, exclude, tags, tests, contracts)';
    }
    throw new ConfigError(`${file}: ${where || '(top level)'}: ${msg}`);
  }
  const c = parsed.data;
  const rules = new Map<string, Severity | 'off'>();
  for (const [id, sev] of Object.entries(c.rules ?? {})) {
    if (!ruleById(id)) throw new ConfigError(`${file}: rules.${id}: unknown rule (known: ${ALL_RULES.map((r) => r.id).join(', ')})`);
    rules.set(id, sev);
  }
  (c.contracts ?? []).forEach((text, i) => {
    try {
      parseContract(text, file);
    } catch (e) {
      if (e instanceof ContractSyntaxError) throw new ConfigError(`${file}: contracts[${i}]: ${e.message}`);
      throw e;
    }
  });
  const base = path.dirname(file);
  const ig = ignore().add(c.exclude ?? []);
  return {
    file,
    failOn: c['fail-on'],
    rules,
    excluded: (abs) => {
      const rel = path.relative(base, abs);
      return !rel.startsWith('..') && !path.isAbsolute(rel) && rel !== '' && ig.ignores(rel);
    },
    tags: c.tags ?? [],
    tests: c.tests,
    contracts: c.contracts ?? [],
  };
}

function firstLine(s: string): string {
  return s.split('\n')[0];
}
