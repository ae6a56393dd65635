// What to analyse. With the go command: `go list`, which knows modules, build
// tags and GOOS/GOARCH. Without it, or for directories `go list` cannot load
// (no go.mod, missing dependencies), a walk of the file tree that evaluates
// build constraints and honours .gitignore, so a folder of .go files copied
// from anywhere can still be checked.
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import ignore, { type Ignore } from 'ignore';
import { KNOWN_OS, evalConstraint, evalPlusBuild, matchesFileName, type BuildContext } from '../syntax/buildtags.js';
import { readGoHeader } from './goheader.js';
import { reason } from './errno.js';

export interface PackageFile {
  path: string; // absolute
  display: string; // as the user gave it: absolute in, absolute out
}

export interface DiscoveredPackage {
  importPath: string;
  name: string;
  dir: string;
  files: PackageFile[];
  /** The package's .c and .h files (compiled with it by cgo). */
  cFiles: PackageFile[];
  imports: string[];
  importsC: boolean;
  source: 'go list' | 'walk';
}

export interface DiscoverOptions {
  cwd: string;
  tags: string[];
  tests: boolean;
  /** True for absolute paths the config excludes. */
  excluded?: (absPath: string) => boolean;
  /** Robustness runs: walk even where go list works, enter testdata and vendor, ignore build constraints. */
  everyFile?: boolean;
}

export interface Discovery {
  packages: DiscoveredPackage[];
  /** What could not be done the usual way (said once, on stderr). */
  notes: string[];
  /** Go files that exist but cannot be read. */
  unreadable: string[];
  /** Go files that cannot be parsed far enough to know their package, or that go list rejects: `path:line:col: why`. */
  unparsable: string[];
  /** The build the packages were selected for. */
  build: BuildContext;
  goVersion?: string;
}

export class UsageError extends Error {}

export interface GoEnv {
  goos: string;
  goarch: string;
  version: string; // go1.26.8
}

/** `go env`, or undefined when the go command is not available. */
export async function goEnv(cwd: string): Promise<GoEnv | undefined> {
  try {
    const out = await run('go', ['env', 'GOOS', 'GOARCH', 'GOVERSION'], cwd, 30_000);
    const [goos, goarch, version] = out.stdout.trim().split('\n');
    if (!goos || !goarch) return undefined;
    return { goos, goarch, version: version ?? '' };
  } catch {
    return undefined;
  }
}

function run(cmd: string, args: string[], cwd: string, timeout: number, env?: NodeJS.ProcessEnv): Promise<{ stdout: string; stderr: string; code: number }> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { cwd, timeout, maxBuffer: 1 << 30, env: env ?? process.env }, (err, stdout, stderr) => {
      if (err && (err as NodeJS.ErrnoException).code === 'ENOENT') return reject(err);
      if (err && err.killed) return reject(new Error(`${cmd} ${args[0]} timed out`));
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ stdout, stderr, code });
    });
  });
}

const PATTERN_RE = /^(\.{1,2}(\/|$)|\/)/;

function isPathArg(arg: string, cwd: string): boolean {
  return PATTERN_RE.test(arg) || arg.endsWith('.go') || existsSync(path.resolve(cwd, arg.replace(/\/\.\.\.$/, '') || '.'));
}

export async function discover(args: string[], opts: DiscoverOptions): Promise<Discovery> {
  if (args.length === 0) args = ['.'];
  const notes: string[] = [];
  const unreadable: string[] = [];
  const unparsable: string[] = [];
  const display = makeDisplay(args, opts.cwd);
  const env = await goEnv(opts.cwd);
  const ctx: BuildContext = {
    goos: env?.goos ?? hostGoos(),
    goarch: env?.goarch ?? hostGoarch(),
    tags: opts.tags,
    cgo: true,
    goMinor: env ? Number(/go1\.(\d+)/.exec(env.version)?.[1] ?? 99) : 99,
  };
  const fileArgs = args.filter((a) => a.endsWith('.go'));
  const otherArgs = args.filter((a) => !a.endsWith('.go'));
  const packages: DiscoveredPackage[] = [];
  const walkArgs: string[] = [];
  if (fileArgs.length) packages.push(...filePackage(fileArgs, opts, display));
  if (otherArgs.length && env && !opts.everyFile) {
    const listed = await goList(otherArgs, opts, ctx, display, { notes, unreadable, unparsable });
    packages.push(...listed.packages);
    walkArgs.push(...listed.fallback);
  } else if (otherArgs.length && opts.everyFile) {
    walkArgs.push(...otherArgs);
  } else if (otherArgs.length) {
    notes.push('the go command was not found: packages are found by walking the file tree (build constraints for ' + `${ctx.goos}/${ctx.goarch}` + ')');
    for (const a of otherArgs) {
      if (!isPathArg(a, opts.cwd)) throw new UsageError(`cannot resolve package pattern "${a}" without the go command; give a directory or ./...`);
      walkArgs.push(a);
    }
  }
  for (const a of walkArgs) packages.push(...walkPattern(a, opts, ctx, display, { unreadable, unparsable }));
  // One package per directory and name, first source wins.
  const seen = new Set<string>();
  const unique = packages.filter((p) => {
    const k = `${p.dir}\0${p.name}\0${p.importPath}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
  for (const p of unique) if (opts.excluded) p.files = p.files.filter((f) => !opts.excluded!(f.path));
  const kept = unique.filter((p) => p.files.length > 0);
  // Like go vet: a pattern that matches nothing is an error, not a clean run.
  if (!kept.length && !unreadable.length && !unparsable.length) throw new UsageError(`${args.join(' ')}: matched no Go packages`);
  return { packages: kept, notes, unreadable: [...new Set(unreadable)], unparsable: [...new Set(unparsable)], build: ctx, goVersion: env?.version };
}

/** Display paths: absolute for files under an absolute argument, else relative to the working directory. */
function makeDisplay(args: string[], cwd: string): (abs: string) => string {
  const absRoots = args.filter((a) => path.isAbsolute(a)).map((a) => path.normalize(a.replace(/\/\.\.\.$/, '') || '/'));
  const under = (abs: string, r: string) => abs === r || abs.startsWith(r.endsWith(path.sep) ? r : r + path.sep);
  return (abs: string) => {
    if (absRoots.some((r) => under(abs, r))) return abs;
    const rel = path.relative(cwd, abs);
    return rel.startsWith('..') || path.isAbsolute(rel) ? abs : rel;
  };
}

interface GoListPackage {
  Dir?: string;
  ImportPath?: string;
  Name?: string;
  GoFiles?: string[];
  CgoFiles?: string[];
  CFiles?: string[];
  HFiles?: string[];
  TestGoFiles?: string[];
  XTestGoFiles?: string[];
  InvalidGoFiles?: string[];
  Imports?: string[];
  Error?: { Err?: string; Pos?: string };
}

/** Where discovery puts what it could not use, for the caller to report. */
interface Problems {
  notes: string[];
  unreadable: string[];
  unparsable: string[];
}

async function goList(args: string[], opts: DiscoverOptions, ctx: BuildContext, display: (abs: string) => string, problems: Problems): Promise<{ packages: DiscoveredPackage[]; fallback: string[] }> {
  const { notes } = problems;
  const fields = 'Dir,ImportPath,Name,GoFiles,CgoFiles,CFiles,HFiles,TestGoFiles,XTestGoFiles,InvalidGoFiles,Imports,Error';
  const flags = ['list', '-e', `-json=${fields}`];
  if (opts.tags.length) flags.push('-tags', opts.tags.join(','));
  // cgo files are listed as ignored when cgo is off (no C compiler): ask for them anyway.
  const env = { ...process.env, CGO_ENABLED: '1' };
  const packages: DiscoveredPackage[] = [];
  const fallback: string[] = [];
  /** Lists patterns from cwd; `ok` is false when nothing usable came back. */
  const listIn = async (cwd: string, patterns: string[]): Promise<{ ok: boolean; stderr: string; errors: string[] }> => {
    const res = await run('go', [...flags, '--', ...patterns], cwd, 300_000, env);
    const objs = splitJSONObjects(res.stdout) as GoListPackage[];
    const before = packages.length + fallback.length;
    const errors: string[] = [];
    for (const p of objs) {
      const dir = p.Dir;
      const files = [...(p.GoFiles ?? []), ...(p.CgoFiles ?? []), ...(opts.tests ? (p.TestGoFiles ?? []) : [])];
      if (p.Error && files.length === 0) {
        if (dir && existsSync(dir)) fallback.push(dir);
        else errors.push(`cannot load ${p.ImportPath ?? '?'}: ${firstLine(p.Error.Err ?? 'unknown error')}`);
        continue;
      }
      if (!dir || !p.ImportPath) continue;
      if (p.InvalidGoFiles?.length) invalidFiles(dir, p, display, problems);
      const mk = (names: string[]): PackageFile[] =>
        names.map((n) => {
          const abs = path.join(dir, n);
          return { path: abs, display: display(abs) };
        });
      const importsC = (p.CgoFiles?.length ?? 0) > 0;
      packages.push({
        importPath: p.ImportPath,
        name: p.Name ?? '',
        dir,
        files: mk(files),
        cFiles: mk([...(p.CFiles ?? []), ...(p.HFiles ?? [])]),
        imports: p.Imports ?? [],
        importsC,
        source: 'go list',
      });
      if (opts.tests && p.XTestGoFiles?.length) {
        packages.push({
          importPath: `${p.ImportPath}_test`,
          name: `${p.Name}_test`,
          dir,
          files: mk(p.XTestGoFiles),
          cFiles: [],
          imports: [p.ImportPath],
          importsC: false,
          source: 'go list',
        });
      }
    }
    return { ok: packages.length + fallback.length > before, stderr: res.stderr, errors };
  };
  const importArgs = args.filter((a) => !isPathArg(a, opts.cwd));
  if (importArgs.length) {
    const r = await listIn(opts.cwd, importArgs);
    if (!r.ok) throw new UsageError(r.errors[0] ?? `cannot load ${importArgs.join(' ')}: ${firstLine(r.stderr || 'go list failed')}`);
    notes.push(...r.errors);
  }
  // Each directory is listed from inside it, so it is read in its own module.
  for (const a of args.filter((x) => isPathArg(x, opts.cwd))) {
    const recursive = a === '...' || a.endsWith('/...');
    const dir = path.resolve(opts.cwd, recursive ? a.slice(0, -4) || '.' : a);
    statDir(dir, a);
    const r = await listIn(dir, [recursive ? './...' : '.']);
    if (!r.ok) {
      fallback.push(a);
      continue;
    }
    notes.push(...r.errors);
    if (!recursive) continue;
    // What go list left out of ./... (a folder whose name is not a valid import
    // path, a package it rejects without naming its folder) is walked, as it
    // would be if named on its own. Nested modules stay out, as for go vet.
    const covered = new Set([...packages.map((p) => p.dir), ...fallback]);
    for (const d of goFolders(dir, opts)) if (!covered.has(d) && buildsHere(d, opts, ctx)) fallback.push(d);
  }
  const shown = (f: string) => (path.isAbsolute(f) ? display(f) || '.' : f);
  if (fallback.length) notes.push(`go list could not load ${fallback.length === 1 ? shown(fallback[0]) : `${fallback.length} directories`}: walking the file tree instead`);
  return { packages, fallback };
}

function firstLine(s: string): string {
  return s.trim().split('\n')[0];
}

/** go list -json prints a stream of objects. */
export function splitJSONObjects(s: string): unknown[] {
  const out: unknown[] = [];
  let depth = 0;
  let start = -1;
  let inStr = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (inStr) {
      if (c === '\\') i++;
      else if (c === '"') inStr = false;
      continue;
    }
    if (c === '"') inStr = true;
    else if (c === '{') {
      if (depth++ === 0) start = i;
    } else if (c === '}') {
      if (--depth === 0 && start >= 0) {
        try {
          out.push(JSON.parse(s.slice(start, i + 1)));
        } catch {
          // skip a broken object
        }
        start = -1;
      }
    }
  }
  return out;
}

function hostGoos(): string {
  const p = process.platform as string;
  return p === 'win32' ? 'windows' : KNOWN_OS.has(p) ? p : 'linux';
}

function hostGoarch(): string {
  const a = process.arch as string;
  return a === 'x64' ? 'amd64' : a === 'ia32' ? '386' : a;
}

// ---------------------------------------------------------------- walk

/** A pattern's folder, which must exist and be a folder: a one-line usage error naming the cause. */
function statDir(dir: string, arg: string): void {
  let st;
  try {
    st = statSync(dir);
  } catch (e) {
    throw new UsageError(`cannot read ${arg}: ${reason(e)}`);
  }
  if (!st.isDirectory()) throw new UsageError(`${arg} is not a directory`);
}

/** The folders under root that hold .go files, as ./... sees them: no testdata, vendor, _ or . folders, no nested module. */
function goFolders(root: string, opts: DiscoverOptions): string[] {
  const out: string[] = [];
  const visit = (dir: string) => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    if (dir !== root && entries.some((e) => e.name === 'go.mod' && e.isFile())) return;
    if (entries.some((e) => e.name.endsWith('.go') && !e.name.startsWith('.') && !e.name.startsWith('_') && !e.isDirectory())) out.push(dir);
    for (const e of entries) {
      if (!e.isDirectory() || /^[._]/.test(e.name) || ['testdata', 'vendor', 'node_modules'].includes(e.name)) continue;
      if (opts.excluded?.(path.join(dir, e.name))) continue;
      visit(path.join(dir, e.name));
    }
  };
  visit(root);
  return out;
}

/** Whether a folder holds a .go file for this build (or one that cannot be read or parsed, which must be said). */
function buildsHere(dir: string, opts: DiscoverOptions, ctx: BuildContext): boolean {
  for (const n of readdirSync(dir)) {
    if (!n.endsWith('.go') || /^[._]/.test(n) || !matchesFileName(n, ctx) || (!opts.tests && n.endsWith('_test.go'))) continue;
    let h;
    try {
      h = readGoHeader(readFileSync(path.join(dir, n), 'utf8'));
    } catch {
      return true;
    }
    if (h.buildConstraint !== undefined ? evalConstraint(h.buildConstraint, ctx) : !h.plusBuild.length || evalPlusBuild(h.plusBuild, ctx)) return true;
  }
  return false;
}

/** The files go list could not use: those it cannot read, and those it cannot parse, with its reason. */
function invalidFiles(dir: string, p: GoListPackage, display: (abs: string) => string, problems: Problems): void {
  for (const name of p.InvalidGoFiles ?? []) {
    const abs = path.join(dir, name);
    try {
      readFileSync(abs);
    } catch (e) {
      problems.unreadable.push(`${display(abs)}: cannot read (${reason(e)})`);
      continue;
    }
    const err = p.Error?.Err ?? 'go list cannot use this file';
    // go list gives a position relative to the working directory it ran in: ours is the file's own.
    const pos = /:(\d+:\d+)$/.exec(p.Error?.Pos ?? '')?.[1];
    const samefile = p.Error?.Pos && path.basename(p.Error.Pos.replace(/:\d+:\d+$/, '')) === name;
    problems.unparsable.push(`${display(abs)}:${samefile && pos ? pos : '1:1'}: ${firstLine(err.replace(/^[^:]*\.go:\d+:\d+: /, ''))}`);
  }
}

function walkPattern(arg: string, opts: DiscoverOptions, ctx: BuildContext, display: (abs: string) => string, problems: Omit<Problems, 'notes'>): DiscoveredPackage[] {
  const recursive = arg.endsWith('/...') || arg === '...';
  const root = path.resolve(opts.cwd, recursive ? arg.slice(0, -4) || '.' : arg);
  statDir(root, arg);
  const dirs: string[] = [];
  if (recursive) {
    const ig = gitignoreAbove(root);
    const visit = (dir: string, igs: { base: string; ig: Ignore }[]) => {
      dirs.push(dir);
      let entries;
      try {
        entries = readdirSync(dir, { withFileTypes: true });
      } catch {
        return;
      }
      const here = readGitignore(dir);
      const chain = here ? [...igs, { base: dir, ig: here }] : igs;
      for (const e of entries) {
        if (!e.isDirectory()) continue;
        const n = e.name;
        if (n.startsWith('.') || n === 'node_modules') continue;
        if (!opts.everyFile && (n.startsWith('_') || n === 'testdata' || n === 'vendor')) continue;
        const abs = path.join(dir, n);
        if (chain.some((c) => c.ig.ignores(`${path.relative(c.base, abs)}/`))) continue;
        visit(abs, chain);
      }
    };
    visit(root, ig);
  } else {
    dirs.push(root);
  }
  const out: DiscoveredPackage[] = [];
  const module = findModule(root);
  for (const dir of dirs) out.push(...dirPackages(dir, opts, ctx, display, module, problems));
  return out;
}

function readGitignore(dir: string): Ignore | undefined {
  try {
    return ignore().add(readFileSync(path.join(dir, '.gitignore'), 'utf8'));
  } catch {
    return undefined;
  }
}

/** .gitignore files of the enclosing repository, from its top down to (not including) dir. */
function gitignoreAbove(dir: string): { base: string; ig: Ignore }[] {
  const chain: string[] = [];
  for (let d = path.dirname(dir); ; d = path.dirname(d)) {
    chain.unshift(d);
    if (existsSync(path.join(d, '.git')) || path.dirname(d) === d) break;
  }
  if (!existsSync(path.join(chain[0], '.git'))) return [];
  const out: { base: string; ig: Ignore }[] = [];
  for (const d of chain) {
    const ig = readGitignore(d);
    if (ig) out.push({ base: d, ig });
  }
  return out;
}

function findModule(dir: string): { root: string; path: string } | undefined {
  for (let d = dir; ; d = path.dirname(d)) {
    try {
      const m = /^module\s+("?)([^\s"]+)\1/m.exec(readFileSync(path.join(d, 'go.mod'), 'utf8'));
      if (m) return { root: d, path: m[2] };
    } catch {
      // no go.mod here
    }
    if (path.dirname(d) === d) return undefined;
  }
}

function dirPackages(
  dir: string,
  opts: DiscoverOptions,
  ctx: BuildContext,
  display: (abs: string) => string,
  module: { root: string; path: string } | undefined,
  problems: Omit<Problems, 'notes'>,
): DiscoveredPackage[] {
  let all: string[];
  try {
    all = readdirSync(dir).filter((n) => !n.startsWith('.') && !n.startsWith('_'));
  } catch {
    return [];
  }
  const names = all.filter((n) => n.endsWith('.go'));
  const cFiles = all
    .filter((n) => /\.[ch]$/.test(n) && (opts.everyFile || matchesFileName(n.replace(/\.[ch]$/, '.go'), ctx)))
    .sort()
    .map((n) => ({ path: path.join(dir, n), display: display(path.join(dir, n)) }));
  const rel = module && (dir === module.root || dir.startsWith(module.root + path.sep)) ? path.relative(module.root, dir) : undefined;
  const importPath = module && rel !== undefined ? (rel ? `${module.path}/${rel.split(path.sep).join('/')}` : module.path) : display(dir) || '.';
  const byName = new Map<string, DiscoveredPackage>();
  for (const n of names.sort()) {
    const isTest = n.endsWith('_test.go');
    if (isTest && !opts.tests) continue;
    if (!opts.everyFile && !matchesFileName(n, ctx)) continue;
    const abs = path.join(dir, n);
    let text: string;
    try {
      text = readFileSync(abs, 'utf8');
    } catch (e) {
      problems.unreadable.push(`${display(abs)}: cannot read (${reason(e)})`);
      continue;
    }
    const h = readGoHeader(text);
    // Robustness runs take every file, even one without a package clause.
    const pkgName = h.pkgName ?? (opts.everyFile ? '_' : undefined);
    if (!pkgName) {
      // A file excluded by its build constraint need not parse; any other must.
      const constrained = h.buildConstraint !== undefined ? !evalConstraint(h.buildConstraint, ctx) : h.plusBuild.length > 0 && !evalPlusBuild(h.plusBuild, ctx);
      if (!constrained) problems.unparsable.push(`${display(abs)}:1:1: expected 'package' clause: not a Go source file`);
      continue;
    }
    const constrained = h.buildConstraint !== undefined ? !evalConstraint(h.buildConstraint, ctx) : h.plusBuild.length > 0 && !evalPlusBuild(h.plusBuild, ctx);
    if (constrained && !opts.everyFile) continue;
    const xtest = isTest && pkgName.endsWith('_test');
    const key = pkgName;
    let p = byName.get(key);
    if (!p) {
      p = { importPath: xtest ? `${importPath}_test` : importPath, name: pkgName, dir, files: [], cFiles: xtest ? [] : cFiles, imports: [], importsC: false, source: 'walk' };
      byName.set(key, p);
    }
    p.files.push({ path: abs, display: display(abs) });
    for (const i of h.imports) if (i !== 'C' && !p.imports.includes(i)) p.imports.push(i);
    if (h.importsC) p.importsC = true;
  }
  // Several package names in one directory (broken or generated code): disambiguate import paths.
  const list = [...byName.values()];
  const nonTest = list.filter((p) => !p.name.endsWith('_test'));
  if (nonTest.length > 1) for (const p of nonTest.slice(1)) p.importPath = `${p.importPath}#${p.name}`;
  return list;
}

/** Files named on the command line form one package, as with go vet file.go. */
function filePackage(files: string[], opts: DiscoverOptions, display: (abs: string) => string): DiscoveredPackage[] {
  const abs = files.map((f) => path.resolve(opts.cwd, f));
  for (const [i, f] of abs.entries()) {
    try {
      statSync(f);
    } catch (e) {
      throw new UsageError(`cannot read ${files[i]}: ${reason(e)}`);
    }
  }
  let name = '';
  const imports: string[] = [];
  let importsC = false;
  for (const f of abs) {
    let text: string;
    try {
      text = readFileSync(f, 'utf8');
    } catch (e) {
      throw new UsageError(`cannot read ${display(f)}: ${reason(e)}`);
    }
    const h = readGoHeader(text);
    if (!h.pkgName) throw new UsageError(`${display(f)}:1:1: expected 'package' clause: not a Go source file`);
    name ||= h.pkgName ?? '';
    imports.push(...h.imports.filter((i) => i !== 'C'));
    importsC ||= h.importsC;
  }
  return [{ importPath: 'command-line-arguments', name, dir: path.dirname(abs[0]), files: abs.map((f) => ({ path: f, display: display(f) })), cFiles: [], imports, importsC, source: 'walk' }];
}
