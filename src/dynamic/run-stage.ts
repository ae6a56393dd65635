// Runs one stage of `cgoguard test` and collects what each package printed.
// cgocheck and cgocheck2 are `go test -json` runs with the right build and
// environment; asan and valgrind build each test binary (`go test -c`) and
// run it, under AddressSanitizer or under memcheck with XML output. Child processes are killed and
// temporary files removed when the stage ends, however it ends.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { StageName, Toolchain } from './prereqs.js';
import { GRACE_MS, signalOf } from './processes.js';
import { crashingTest, hitsStackRedzone } from './sanitizer.js';

export interface PackageRun {
  importPath: string;
  /** What the test binary and go test printed for the package. */
  output: string;
  /** valgrind's XML, for the valgrind stage. */
  xml?: string;
  failed: boolean;
  buildFailed: boolean;
  /** asan: the test that hit a stack redzone, run again alone, and whether it hit one again. */
  alone?: { test: string; reproduced: boolean };
}

export interface StageRun {
  stage: StageName;
  packages: PackageRun[];
  ms: number;
  /** Output of go itself that belongs to no package (a bad flag, a pattern matching nothing). */
  stray: string;
}

export interface StageOptions {
  /** Per test binary, as go test's -timeout (valgrind runs get ten times as long). */
  timeout: string;
  tags: string[];
  /** Flags after `--`, for go test (and, as -test.* flags, for the valgrind run of each binary). */
  testFlags: string[];
  /** The packages the stage runs: all of them for go test, those with test files for the binary stages. */
  packages: { importPath: string; dir: string; source: 'go list' | 'walk' }[];
  tmp: string;
  toolchain: Toolchain;
  signal: AbortSignal;
  /** Told when a binary stage moves to the next package. */
  onPackage?: (importPath: string, index: number, total: number) => void;
}

/** Sanitizer settings for complete, parseable reports; the user's own ASAN_OPTIONS come after and win. */
const ASAN_OPTIONS = 'abort_on_error=1:halt_on_error=1:detect_leaks=1:print_legend=0:color=never';

/**
 * C compiled so that every C function keeps its frame: no tail calls (a
 * preamble function ending in `return malloc(n)` would vanish from the
 * stack), and for ASan frame pointers, which its fast unwinder follows to
 * cgo's stub. A report then names the preamble function and line where the
 * error is. After the user's own CGO_CFLAGS (or go's default). valgrind
 * unwinds with the debug information and needs no frame pointers.
 */
export function stackPreservingCFlags(user: string | undefined, stage: 'asan' | 'valgrind'): string {
  return `${user?.trim() || '-g -O2'} -fno-optimize-sibling-calls${stage === 'asan' ? ' -fno-omit-frame-pointer' : ''}`;
}

const VALGRIND_SUPPRESSIONS = fileURLToPath(new URL('../../assets/valgrind/go.supp', import.meta.url));

export async function runStage(stage: StageName, o: StageOptions): Promise<StageRun> {
  const t0 = performance.now();
  const run = stage === 'asan' || stage === 'valgrind' ? await binaryStage(stage, o) : await goTestStage(stage, o);
  return { ...run, stage, ms: performance.now() - t0 };
}

function tagsFlag(tags: string[]): string[] {
  return tags.length ? [`-tags=${tags.join(',')}`] : [];
}

async function goTestStage(stage: StageName, o: StageOptions): Promise<{ packages: PackageRun[]; stray: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  const args = ['test', '-json', '-count=1', `-timeout=${o.timeout}`, ...tagsFlag(o.tags)];
  if (stage === 'cgocheck') {
    env.GODEBUG = ['cgocheck=1', process.env.GODEBUG].filter(Boolean).join(',');
  } else if (stage === 'cgocheck2') {
    env.GOEXPERIMENT = ['cgocheck2', process.env.GOEXPERIMENT].filter(Boolean).join(',');
  }
  const packages: PackageRun[] = [];
  let stray = '';
  for (const [cwd, targets] of byModule(o.packages)) {
    if (o.signal.aborted) break;
    const r = await exec('go', [...args, ...targets, ...o.testFlags], { cwd, env, signal: o.signal });
    const parsed = parseTestJSON(r.stdout);
    packages.push(...parsed.packages);
    stray += `${parsed.stray}${r.stderr}`;
  }
  return { packages, stray };
}

/** A Go duration ("10m", "90s", "1h") times n. */
function scaleDuration(d: string, n: number): string {
  const m = /^(\d+(?:\.\d+)?)(ns|us|ms|s|m|h)$/.exec(d);
  return m ? `${Number(m[1]) * n}${m[2]}` : d;
}

/**
 * Packages grouped for one go command per module, run from the module's root
 * (where import paths resolve, whatever the working directory): root → targets.
 * A package found without go list is built alone, from its own folder.
 */
export function byModule(packages: { importPath: string; dir: string; source: 'go list' | 'walk' }[]): Map<string, string[]> {
  const runs = new Map<string, string[]>();
  for (const p of packages) {
    const root = p.source === 'go list' ? moduleRoot(p.dir) : undefined;
    const key = root ?? p.dir;
    runs.set(key, [...(runs.get(key) ?? []), root ? p.importPath : '.']);
  }
  return runs;
}

/** The directory of the go.mod that governs dir, if any. */
export function moduleRoot(dir: string): string | undefined {
  for (let d = dir; ; d = path.dirname(d)) {
    if (existsSync(path.join(d, 'go.mod'))) return d;
    if (path.dirname(d) === d) return undefined;
  }
}

/** `go test -json` events, gathered by package. Lines that are not JSON (go's own errors) are kept apart. */
export function parseTestJSON(text: string): { packages: PackageRun[]; stray: string } {
  const byPkg = new Map<string, PackageRun>();
  let stray = '';
  const pkg = (p: string) => {
    let r = byPkg.get(p);
    if (!r) byPkg.set(p, (r = { importPath: p, output: '', failed: false, buildFailed: false }));
    return r;
  };
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    let ev: { Action?: string; Package?: string; ImportPath?: string; Output?: string; Test?: string; FailedBuild?: string };
    try {
      ev = JSON.parse(line);
    } catch {
      stray += `${line}\n`;
      continue;
    }
    // Build events name the package being built (a test variant: "p [p.test]").
    const name = (ev.Package ?? ev.ImportPath?.replace(/ \[.*\]$/, '')) || undefined;
    if (!name) {
      if (ev.Output) stray += ev.Output;
      continue;
    }
    const r = pkg(name);
    if (ev.Output) r.output += ev.Output;
    if (ev.Action === 'build-fail' || ev.FailedBuild) r.buildFailed = true;
    if (ev.Action === 'fail' && !ev.Test) r.failed = true;
  }
  return { packages: [...byPkg.values()], stray };
}

/**
 * Builds each test binary with `go test -c` (which keeps the symbols and
 * DWARF that `go test` strips, so the sanitizer can name C frames) and runs it
 * in its package's directory: under AddressSanitizer, or under valgrind.
 */
async function binaryStage(stage: 'asan' | 'valgrind', o: StageOptions): Promise<{ packages: PackageRun[]; stray: string }> {
  const packages: PackageRun[] = [];
  let stray = '';
  const binFlags = o.testFlags.map((f) => (/^-(?!test\.)\w/.test(f) ? f.replace(/^-+/, '-test.') : f));
  const env: NodeJS.ProcessEnv = { ...process.env };
  if (stage === 'asan') env.ASAN_OPTIONS = [ASAN_OPTIONS, process.env.ASAN_OPTIONS].filter(Boolean).join(':');
  for (const [i, p] of o.packages.entries()) {
    if (o.signal.aborted) break;
    o.onPackage?.(p.importPath, i, o.packages.length);
    const bin = path.join(o.tmp, `${stage}${i}.test`);
    const buildArgs = ['test', '-c', '-o', bin, ...(stage === 'asan' ? ['-asan'] : []), ...tagsFlag(o.tags), '.'];
    const build = await exec('go', buildArgs, { cwd: p.dir, env: { ...process.env, CGO_CFLAGS: stackPreservingCFlags(process.env.CGO_CFLAGS, stage) }, signal: o.signal });
    if (build.code !== 0) {
      packages.push({ importPath: p.importPath, output: `${build.stdout}${build.stderr}`, failed: true, buildFailed: true });
      continue;
    }
    if (!existsSync(bin)) continue; // no test files
    if (stage === 'asan') {
      const args = ['-test.count=1', `-test.timeout=${o.timeout}`, ...binFlags];
      const r = await exec(bin, args, { cwd: p.dir, env, signal: o.signal });
      const run: PackageRun = { importPath: p.importPath, output: `${r.stdout}${r.stderr}`, failed: r.code !== 0, buildFailed: false };
      // ASan's marks on a thread's stack go stale when a Go panic unwinds C
      // frames it never saw return, and a later, correct C function on that
      // thread trips over them: such a report is only trusted if its test
      // hits it again alone (the last -test.run wins over the user's).
      const test = hitsStackRedzone(run.output) ? crashingTest(run.output) : undefined;
      if (test && !o.signal.aborted) {
        const again = await exec(bin, [...args, `-test.run=^${test}$`], { cwd: p.dir, env, signal: o.signal });
        run.alone = { test, reproduced: hitsStackRedzone(`${again.stdout}${again.stderr}`) };
      }
      packages.push(run);
      continue;
    }
    const xmlFile = path.join(o.tmp, `valgrind${i}.xml`);
    const args = [
      '--tool=memcheck',
      '--xml=yes',
      `--xml-file=${xmlFile}`,
      '--leak-check=full',
      '--show-leak-kinds=definite,indirect,possible',
      '--child-silent-after-fork=yes',
      // No gdb server: its FIFOs (vgdb-pipe-*) would be left behind by an interrupted run.
      '--vgdb=no',
      `--suppressions=${VALGRIND_SUPPRESSIONS}`,
      bin,
      '-test.count=1',
      `-test.timeout=${scaleDuration(o.timeout, 10)}`,
      ...binFlags,
    ];
    const r = await exec('valgrind', args, { cwd: p.dir, env, signal: o.signal });
    let xml = '';
    try {
      xml = readFileSync(xmlFile, 'utf8');
    } catch {
      stray += `valgrind wrote no report for ${p.importPath}\n`;
    }
    packages.push({ importPath: p.importPath, output: `${r.stdout}${r.stderr}`, xml, failed: r.code !== 0, buildFailed: false });
  }
  return { packages, stray };
}

interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs a command to its end, in a process group of its own; an abort passes
 * the user's signal on to the group (go test's children), then kills what is
 * left after a grace period. With stdio 'inherit' the command talks to the
 * user's terminal.
 */
export function exec(cmd: string, args: string[], o: { cwd: string; env: NodeJS.ProcessEnv; signal: AbortSignal; stdio?: 'inherit' | 'pipe' }): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: o.cwd, env: o.env, detached: true, stdio: o.stdio === 'inherit' ? 'inherit' : ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on('data', (b: Buffer) => out.push(b));
    child.stderr?.on('data', (b: Buffer) => err.push(b));
    const signalGroup = (sig: NodeJS.Signals) => {
      try {
        process.kill(-child.pid!, sig);
      } catch {
        // already gone
      }
    };
    // The user's signal goes on to the command's whole group, which has a
    // grace period to clean up (go removes its work folder) before SIGKILL.
    let killer: NodeJS.Timeout | undefined;
    const stop = () => {
      signalGroup(signalOf(o.signal));
      killer = setTimeout(() => signalGroup('SIGKILL'), GRACE_MS);
    };
    if (o.signal.aborted) stop();
    else o.signal.addEventListener('abort', stop, { once: true });
    const done = () => {
      o.signal.removeEventListener('abort', stop);
      if (killer) clearTimeout(killer);
    };
    child.on('error', (e) => {
      done();
      reject(e);
    });
    child.on('close', (code, sig) => {
      done();
      resolve({ code: code ?? (sig ? 128 : 1), stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
  });
}
