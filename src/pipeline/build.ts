// `cgoguard build`: `go build` with the trace runtime in sampling mode, for
// production. The cgo files of the main module's packages that the program
// uses are rewritten as for `cgoguard trace` (through -overlay: the user's
// files are never changed), and production.go joins the runtime, with the
// site table and whether the program serves net/http/pprof written next to it.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { toolchain } from '../dynamic/prereqs.js';
import { exec } from '../dynamic/run-stage.js';
import { ContractSet, parseContract } from '../model/contracts.js';
import { initParsers } from '../syntax/parser.js';
import { SiteTable, instrumentFile } from '../trace/instrument.js';
import type { Config } from '../workspace/config.js';
import { UsageError } from '../workspace/discover.js';
import { RUNTIME_ASSETS, RUNTIME_DIR, RUNTIME_FILES } from './trace.js';

/** Go's default mean distance between heap profile samples, which ours follows. */
export const DEFAULT_SAMPLE_RATE = 512 * 1024;

/** go build flags that take a value as the next argument (when not written -flag=value). */
const VALUE_FLAGS = new Set(['o', 'p', 'C', 'asmflags', 'buildmode', 'compiler', 'gccgoflags', 'gcflags', 'installsuffix', 'ldflags', 'mod', 'modfile', 'pgo', 'pkgdir', 'tags', 'toolexec', 'covermode', 'coverpkg', 'overlay', 'reproducible']);

export interface BuildOptions {
  cwd: string;
  /** go build's flags and the package, as the user wrote them. */
  args: string[];
  config: Config;
  sampleRate: number;
  signal: AbortSignal;
}

export interface BuildResult {
  code: number;
  stderr: string;
  /** Allocation and release sites rewritten. */
  sites: number;
  packages: string[];
  /** Whether /debug/cgoguard/* joined the program's net/http/pprof mux. */
  defaultMux: boolean;
}

/** The go build flags, and the one package to build. */
export function splitBuildArgs(args: string[]): { flags: string[]; pkg: string; tags: string[] } {
  const flags: string[] = [];
  const operands: string[] = [];
  const tags: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (!a.startsWith('-') || a === '-') {
      operands.push(a);
      continue;
    }
    const name = a.replace(/^--?/, '').split('=')[0];
    if (name === 'overlay') throw new UsageError('cgoguard build makes its own -overlay; it cannot take another');
    let value: string | undefined = a.includes('=') ? a.slice(a.indexOf('=') + 1) : undefined;
    flags.push(a);
    if (value === undefined && VALUE_FLAGS.has(name)) {
      if (i + 1 >= args.length) throw new UsageError(`flag ${a} needs a value`);
      value = args[++i];
      flags.push(value);
    }
    if (name === 'tags' && value) tags.push(...value.split(/[ ,]/).filter(Boolean));
  }
  if (operands.length > 1) throw new UsageError(`cgoguard build takes one main package, got ${operands.join(' ')}`);
  return { flags, pkg: operands[0] ?? '.', tags };
}

interface ListedPackage {
  ImportPath: string;
  Dir: string;
  Name: string;
  CgoFiles?: string[];
  Module?: { Path: string; Dir: string; Main?: boolean };
  DepOnly?: boolean;
  Error?: { Err: string };
}

/** `go list -deps -json` prints one JSON object after another. */
function parseGoList(text: string): ListedPackage[] {
  const trimmed = text.trim();
  return trimmed ? (JSON.parse(`[${trimmed.replace(/^}\n{/gm, '},{')}]`) as ListedPackage[]) : [];
}

export async function runBuild(o: BuildOptions): Promise<BuildResult> {
  toolchain();
  const { flags, pkg, tags } = splitBuildArgs(o.args);
  const tagFlag = tags.length ? [`-tags=${tags.join(',')}`] : [];
  const listed = await exec('go', ['list', '-deps', '-json=ImportPath,Dir,Name,CgoFiles,Module,DepOnly,Error', ...tagFlag, pkg], { cwd: o.cwd, env: process.env, signal: o.signal });
  if (listed.code !== 0) throw new UsageError(`go list ${pkg}: ${listed.stderr.trim().split('\n')[0] || `exit status ${listed.code}`}`);
  const all = parseGoList(listed.stdout);
  const target = all.find((p) => !p.DepOnly);
  if (!target) throw new UsageError(`no package to build in ${pkg}`);
  if (target.Error) throw new UsageError(`${pkg}: ${target.Error.Err.split('\n')[0]}`);
  if (target.Name !== 'main') throw new UsageError(`cgoguard build needs a main package; ${target.ImportPath} is package ${target.Name}`);
  const main = target.Module;
  if (!main?.Main || !main.Dir) throw new UsageError(`${target.ImportPath} is not in a module (cgoguard build needs go.mod)`);

  await initParsers();
  const contracts = ContractSet.withBuiltins();
  for (const c of o.config.contracts) contracts.add(parseContract(c.text, c.origin));
  const sites = new SiteTable();
  const tmp = mkdtempSync(path.join(tmpdir(), 'cgoguard-build-'));
  try {
    const runtimeDir = path.join(main.Dir, RUNTIME_DIR);
    const replace: Record<string, string> = Object.fromEntries([...RUNTIME_FILES, 'production.go'].map((f) => [path.join(runtimeDir, f), path.join(RUNTIME_ASSETS, f)]));
    const packages: string[] = [];
    let n = 0;
    for (const p of all) {
      if (!p.Module?.Main || !p.CgoFiles?.length) continue;
      packages.push(p.ImportPath);
      for (const name of p.CgoFiles) {
        const file = path.join(p.Dir, name);
        const out = instrumentFile(readFileSync(file, 'utf8'), path.relative(main.Dir, file), `${main.Path}/${RUNTIME_DIR}`, sites, contracts);
        if (out === undefined) continue;
        const backing = path.join(tmp, `${n++}_${name}`);
        writeFileSync(backing, out);
        replace[file] = backing;
      }
    }
    const defaultMux = all.some((p) => p.ImportPath === 'net/http/pprof');
    const config = path.join(tmp, 'production_config.go');
    writeFileSync(config, productionConfig(sites, o.sampleRate, defaultMux));
    replace[path.join(runtimeDir, 'production_config.go')] = config;
    const overlay = path.join(tmp, 'overlay.json');
    writeFileSync(overlay, JSON.stringify({ Replace: replace }));
    const r = await exec('go', ['build', `-overlay=${overlay}`, ...flags, pkg], { cwd: o.cwd, env: process.env, signal: o.signal });
    return { code: r.code, stderr: r.stderr, sites: sites.sites.length, packages, defaultMux };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** The Go file that tells the runtime its sites, its sample rate and its mux. */
function productionConfig(sites: SiteTable, rate: number, defaultMux: boolean): string {
  const rows = sites.sites.map((s) => `\t\t{${JSON.stringify(s.call)}, ${JSON.stringify(s.file)}, ${s.line}},`);
  return `// Code generated by cgoguard build. DO NOT EDIT.\n\npackage cgoguardtrace\n\nvar productionConfig = buildConfig{\n\tsampleRate: ${rate},\n\tdefaultMux: ${defaultMux},\n\tsites: []siteInfo{\n${rows.join('\n')}\n\t},\n}\n`;
}
