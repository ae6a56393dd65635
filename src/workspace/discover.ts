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
    const listed = await goList(otherArgs, opts, display, notes);
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
  for (const a of walkArgs) packages.push(...walkPattern(a, opts, ctx, display, unreadable));
  // One package per directory and name, first source wins.
  const seen = new Set<string>();
  const unique = packages.filter((p) => {
    const k = `${p.dir}\0${p.name}\0${p.importPath}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
  for (const p of unique) if (opts.excluded) p.files = p.files.filter((f) => !opts.excluded!(f.path));
  return { packages: unique.filter((p) => p.files.length > 0), notes, unreadable, build: ctx, goVersion: env?.version };
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
  Imports?: string[];
  Error?: { Err?: string };
}

async function goList(
  args: string[],
  opts: DiscoverOptions,
  display: (abs: string) => string,
  notes: string[],
): Promise<{ packages: DiscoveredPackage[]; fallback: string[] }> {
  const fields = 'Dir,ImportPath,Name,GoFiles,CgoFiles,CFiles,HFiles,TestGoFiles,XTestGoFiles,Imports,Error';
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
    if (!existsSync(dir)) throw new UsageError(`cannot read ${a}: no such file or directory`);
    if (!statSync(dir).isDirectory()) throw new UsageError(`${a} is not a directory`);
    const r = await listIn(dir, [recursive ? './...' : '.']);
    if (r.ok) notes.push(...r.errors);
    else fallback.push(a);
  }
  if (fallback.length) notes.push(`go list could not load ${fallback.length === 1 ? fallback[0] : `${fallback.length} directories`}: walking the file tree instead`);
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

function walkPattern(arg: string, opts: DiscoverOptions, ctx: BuildContext, display: (abs: string) => string, unreadable: string[]): DiscoveredPackage[] {
  const recursive = arg.endsWith('/...') || arg === '...';
  const root = path.resolve(opts.cwd, recursive ? arg.slice(0, -4) || '.' : arg);
  let st;
  try {
    st = statSync(root);
  } catch {
    throw new UsageError(`cannot read ${arg}: no such file or directory`);
  }
  if (!st.isDirectory()) throw new UsageError(`${arg} is not a directory`);
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
  for (const dir of dirs) out.push(...dirPackages(dir, opts, ctx, display, module, unreadable));
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
  unreadable: string[],
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
      unreadable.push(`${display(abs)}: cannot read (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
      continue;
    }
    const h = readGoHeader(text);
    // Robustness runs take every file, even one without a package clause.
    const pkgName = h.pkgName ?? (opts.everyFile ? '_' : undefined);
    if (!pkgName) continue;
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
  for (const [i, f] of abs.entries()) if (!existsSync(f)) throw new UsageError(`cannot read ${files[i]}: no such file`);
  let name = '';
  const imports: string[] = [];
  let importsC = false;
  for (const f of abs) {
    let text: string;
    try {
      text = readFileSync(f, 'utf8');
    } catch (e) {
      throw new UsageError(`cannot read ${display(f)} (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    const h = readGoHeader(text);
    name ||= h.pkgName ?? '';
    imports.push(...h.imports.filter((i) => i !== 'C'));
    importsC ||= h.importsC;
  }
  return [{ importPath: 'command-line-arguments', name, dir: path.dirname(abs[0]), files: abs.map((f) => ({ path: f, display: display(f) })), cFiles: [], imports, importsC, source: 'walk' }];
}
