// The workspace as the language server sees it: the configuration (read
// again before every analysis, so that edits of cgoguard.yaml and of the
// packs it lists take effect), the packages (`go list ./...` once, again when
// files come or go), and the analysis of one package with the summaries of
// the packages it imports. Those come from a result cache keyed by what they
// were computed from, so that an edit re-analyses only its own package.
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Finding } from '../findings/finding.js';
import { carriesCMemory, type Summary } from '../flow/summary.js';
import { type PackageJob, type PackageResult } from '../pipeline/analyze-package.js';
import { emptyStats } from '../pipeline/package-stats.js';
import { ConfigError, defaultConfig, loadConfig, locateConfig, type Config } from '../workspace/config.js';
import { discover, UsageError, type DiscoveredPackage, type Discovery } from '../workspace/discover.js';
import type { Analysed, Analyzer } from './analyzer.js';

/** Results of packages by what they were computed from. The server keeps them in memory; a persistent cache can stand in. */
export interface ResultCache {
  get(key: string): PackageResult | undefined;
  set(key: string, result: PackageResult): void;
  clear(): void;
}

export class MemoryResultCache implements ResultCache {
  private readonly map = new Map<string, PackageResult>();
  constructor(private readonly limit = 500) {}
  get(key: string) {
    const r = this.map.get(key);
    if (r) {
      this.map.delete(key);
      this.map.set(key, r);
    }
    return r;
  }
  set(key: string, result: PackageResult) {
    this.map.set(key, result);
    if (this.map.size > this.limit) this.map.delete(this.map.keys().next().value!);
  }
  clear() {
    this.map.clear();
  }
}

export class Project {
  config: Config = defaultConfig();
  private configKey = '';
  private discovery?: Promise<Discovery>;

  constructor(
    readonly root: string,
    private readonly log: (message: string) => void,
    private readonly cache: ResultCache = new MemoryResultCache(),
  ) {}

  /** Reads the configuration again; true when it changed (everything is analysed afresh then). A broken file keeps the last good one and says why. */
  refreshConfig(): { changed: boolean; error?: string } {
    let config: Config;
    let key: string;
    try {
      const file = locateConfig(this.root);
      config = file ? loadConfig(file) : defaultConfig();
      key = JSON.stringify({ file, text: file ? readFileSync(file, 'utf8') : '', contracts: config.contracts });
    } catch (e) {
      if (e instanceof ConfigError) return { changed: false, error: e.message };
      throw e;
    }
    if (key === this.configKey) return { changed: false };
    const first = this.configKey === '';
    this.config = config;
    this.configKey = key;
    this.discovery = undefined;
    this.cache.clear();
    if (!first) this.log(`configuration ${config.file ? path.relative(this.root, config.file) : '(defaults)'} reloaded`);
    return { changed: !first };
  }

  /** Files were added or removed: list the packages again. */
  forgetPackages(): void {
    this.discovery = undefined;
  }

  private packages(): Promise<Discovery> {
    this.discovery ??= discover(['./...'], { cwd: this.root, tags: this.config.tags, tests: this.config.tests ?? true, excluded: this.config.excluded }).catch((e) => {
      if (!(e instanceof UsageError)) throw e;
      return { packages: [], notes: [], unreadable: [], unparsable: [], build: { goos: 'linux', goarch: 'amd64', tags: [], cgo: true, goMinor: 99 } };
    });
    return this.discovery;
  }

  /** The packages a Go file belongs to (a file of a package and of its external test package: one each). */
  async packagesOf(file: string, text: string): Promise<{ pkg: DiscoveredPackage; discovery: Discovery }[]> {
    let d = await this.packages();
    let found = d.packages.filter((p) => p.files.some((f) => f.path === file));
    if (!found.length) {
      this.forgetPackages();
      d = await this.packages();
      found = d.packages.filter((p) => p.files.some((f) => f.path === file));
    }
    if (found.length) return found.map((pkg) => ({ pkg, discovery: d }));
    // Not (yet) on disk, or outside the module: with its folder's package of the same name, else alone.
    const name = /^\s*package\s+(\w+)/m.exec(text)?.[1] ?? '';
    const display = path.relative(this.root, file);
    const own = { path: file, display: display.startsWith('..') ? file : display };
    const sibling = d.packages.find((p) => p.dir === path.dirname(file) && p.name === name);
    const pkg: DiscoveredPackage = sibling
      ? { ...sibling, files: [...sibling.files, own] }
      : { importPath: 'command-line-arguments', name, dir: path.dirname(file), files: [own], cFiles: [], imports: [], importsC: /^import\s+"C"/m.test(text), source: 'walk' };
    return [{ pkg, discovery: d }];
  }

  /**
   * Analyses `pkg` with the editor's buffers, after the packages it imports
   * (from the cache when unchanged). Undefined when `stale()` says a newer
   * edit made the run pointless, or the analysis was cancelled.
   */
  async analyse(target: { pkg: DiscoveredPackage; discovery: Discovery }, buffers: ReadonlyMap<string, string>, analyzer: Analyzer, onRun: (id: number) => void, stale: () => boolean): Promise<Analysed | undefined> {
    const { pkg, discovery } = target;
    const byPath = new Map(discovery.packages.map((p) => [p.importPath, p]));
    const opts = { contracts: this.config.contracts, cAnalyzer: true, disabledRules: [...this.config.rules].filter(([, s]) => s === 'off').map(([id]) => id) };
    const interesting = new Set<string>();
    const summaries = new Map<string, Summary[]>();
    for (const dep of dependencies(pkg, byPath)) {
      if (stale()) return undefined;
      if (!dep.importsC && !dep.imports.some((i) => interesting.has(i))) continue;
      const external = dep.imports.flatMap((i) => summaries.get(i) ?? []);
      const key = resultKey(dep, buffers, external, this.configKey);
      let result = this.cache.get(key);
      if (!result) {
        const run = analyzer.run(this.job(dep, buffers, discovery), external, opts);
        onRun(run.id);
        const done = await run.done;
        if (!done) return undefined;
        result = done.result;
        this.cache.set(key, result);
        this.log(`analysed ${dep.importPath} (imported by ${pkg.importPath}): ${done.analysed} function(s) analysed, ${done.reused} reused`);
      }
      summaries.set(dep.importPath, [...external, ...result.summaries]);
      if (result.summaries.some((s) => carriesCMemory(s) && /^\p{Lu}/u.test(s.key.slice(s.key.lastIndexOf('.') + 1)))) interesting.add(dep.importPath);
    }
    if (!pkg.importsC && !pkg.imports.some((i) => interesting.has(i))) return { result: emptyResult(pkg), reused: 0, analysed: 0 };
    if (stale()) return undefined;
    const run = analyzer.run(this.job(pkg, buffers, discovery), pkg.imports.flatMap((i) => summaries.get(i) ?? []), opts);
    onRun(run.id);
    const done = await run.done;
    return done && { ...done, result: { ...done.result, findings: this.configured(done.result.findings) } };
  }

  /** Severities as the configuration sets them, as `check` reports them. */
  private configured(findings: Finding[]): Finding[] {
    return findings.map((f) => {
      const sev = this.config.rules.get(f.rule);
      return sev && sev !== 'off' ? { ...f, severity: sev } : f;
    });
  }

  private job(pkg: DiscoveredPackage, buffers: ReadonlyMap<string, string>, discovery: Discovery): PackageJob {
    const files = pkg.files.map((f) => (buffers.has(f.path) ? { ...f, text: buffers.get(f.path) } : f));
    return { importPath: pkg.importPath, name: pkg.name, dir: pkg.dir, files, cFiles: pkg.cFiles, build: discovery.build };
  }
}

/** The workspace packages `pkg` imports, directly or not, callees first. */
function dependencies(pkg: DiscoveredPackage, byPath: Map<string, DiscoveredPackage>): DiscoveredPackage[] {
  const out: DiscoveredPackage[] = [];
  const seen = new Set<string>([pkg.importPath]);
  const visit = (p: DiscoveredPackage) => {
    for (const i of p.imports) {
      const d = byPath.get(i);
      if (!d || seen.has(i)) continue;
      seen.add(i);
      visit(d);
      out.push(d);
    }
  };
  visit(pkg);
  return out;
}

/** What a package's result was computed from: its files (buffers, or size and time on disk), its C files, what it imports, the configuration. */
function resultKey(pkg: DiscoveredPackage, buffers: ReadonlyMap<string, string>, external: Summary[], configKey: string): string {
  const h = createHash('sha256').update(`${pkg.importPath}\0${configKey}\0`);
  for (const f of [...pkg.files, ...pkg.cFiles]) {
    const b = buffers.get(f.path);
    if (b !== undefined) h.update(`${f.path}\0buffer\0${b}\0`);
    else {
      try {
        const st = statSync(f.path);
        h.update(`${f.path}\0${st.size}\0${st.mtimeMs}\0`);
      } catch {
        h.update(`${f.path}\0missing\0`);
      }
    }
  }
  h.update(JSON.stringify(external));
  return h.digest('hex');
}

function emptyResult(pkg: DiscoveredPackage): PackageResult {
  return { importPath: pkg.importPath, findings: [], summaries: [], stats: emptyStats(), problems: [], unreadable: [], preprocessProblems: [], cAnalyzerProblems: [], syntaxErrors: [], skipped: [], sources: [] };
}
