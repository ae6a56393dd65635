// Contract packs: the ownership rules of a C library, written once. A pack is
// used when a preamble includes one of its headers, or when cgoguard.yaml
// lists it under `packs:` (a built-in name, or a YAML file with a
// `contracts:` list). The built-in packs are data: one YAML file per library
// in assets/packs, read once per process when first needed.
import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseContract, type Contract } from './contracts.js';

export interface ContractPack {
  name: string;
  /** Headers whose inclusion turns the pack on: a file name (`git2.h`) or the end of a path (`rocksdb/c.h`). */
  headers: string[];
  /** What the pack covers, in a line. */
  description?: string;
  contracts: string[];
}

export class PackError extends Error {}

/** The built-in packs' folder: assets/packs, two levels above this module in src/ and in dist/ alike. */
export const BUILTIN_PACK_DIR = fileURLToPath(new URL('../../assets/packs/', import.meta.url));

let builtins: readonly ContractPack[] | undefined;

/** The built-in packs, by name, read from their folder on first use. */
export function builtinPacks(): readonly ContractPack[] {
  builtins ??= builtinPackNames().map((name) => readPackFile(path.join(BUILTIN_PACK_DIR, `${name}.yaml`), name, true));
  return builtins;
}

/** The built-in packs' names: their files' names in the folder. */
export function builtinPackNames(): string[] {
  return readdirSync(BUILTIN_PACK_DIR)
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => f.slice(0, -'.yaml'.length))
    .sort();
}

const parsedContracts = new WeakMap<ContractPack, readonly Contract[]>();

/** A pack's contracts, parsed once (a pack's text is checked by its tests, and by the config loader for user packs). */
export function packContracts(pack: ContractPack): readonly Contract[] {
  let out = parsedContracts.get(pack);
  if (!out) parsedContracts.set(pack, (out = pack.contracts.map((text) => parseContract(text, `pack ${pack.name}`))));
  return out;
}

/** A pack by built-in name, or read from a YAML file (`contracts:` list), named by its path. */
export function loadPack(ref: string, baseDir: string): ContractPack {
  const builtin = builtinPacks().find((p) => p.name === ref);
  if (builtin) return builtin;
  if (!/[./]/.test(ref)) throw new PackError(`unknown contract pack "${ref}" (built in: ${builtinPackNames().join(', ')}; or give a path to a YAML file)`);
  return readPackFile(path.isAbsolute(ref) ? ref : path.join(baseDir, ref), ref, false);
}

/**
 * One pack file. A built-in one must name itself as its file does and list
 * its headers; a user's file needs only `contracts:` and is named `ref`.
 */
function readPackFile(file: string, ref: string, builtin: boolean): ContractPack {
  let raw: unknown;
  try {
    // yaml is loaded only when a pack file is read (it is slow to load).
    raw = (createRequire(import.meta.url)('yaml') as typeof import('yaml')).parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new PackError(`${ref}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : 'invalid YAML'}`);
  }
  const { name, headers, description, contracts } = (raw ?? {}) as Record<string, unknown>;
  const strings = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');
  if (!strings(contracts)) throw new PackError(`${ref}: expected a "contracts:" list of strings`);
  if (builtin && name !== ref) throw new PackError(`${ref}: expected "name: ${ref}"`);
  if (builtin && (!strings(headers) || !headers.length)) throw new PackError(`${ref}: expected a "headers:" list of strings`);
  return {
    name: ref,
    headers: Array.isArray(headers) ? headers.filter((h): h is string => typeof h === 'string') : [],
    description: typeof description === 'string' ? description : undefined,
    contracts,
  };
}

/** Whether `#include` of the path `included` brings in `header`: the same path, or one that ends in `/header`. */
export function includesHeader(included: string, header: string): boolean {
  const p = included.replace(/\\/g, '/');
  return p === header || p.endsWith(`/${header}`);
}

/** Packs whose headers a preamble includes. */
export function packsForPreamble(preamble: string): ContractPack[] {
  const included = [...preamble.matchAll(/#\s*include\s*[<"]([^>"]+)[>"]/g)].map((m) => m[1].trim());
  if (!included.length) return [];
  return builtinPacks().filter((p) => p.headers.some((h) => included.some((i) => includesHeader(i, h))));
}
