// The cgo preamble through the C preprocessor, so that declarations from the
// headers it includes (sqlite3.h, stdlib.h) are known: `cc -E -P` with the
// package's `#cgo CFLAGS` and `#cgo pkg-config` flags. Without a compiler, or
// when a header is missing, the analysis falls back to what the preamble
// itself declares.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { evalPlusBuild, type BuildContext } from '../syntax/buildtags.js';

export interface CgoFlags {
  cflags: string[];
  pkgConfig: string[];
}

/** The `#cgo` directives of a preamble that apply to this build. */
export function cgoFlags(preamble: string, dir: string, ctx: BuildContext): CgoFlags {
  const out: CgoFlags = { cflags: [], pkgConfig: [] };
  for (const line of preamble.split('\n')) {
    const m = /^\s*#cgo\s+([^:]*?)\s*(CFLAGS|CPPFLAGS|pkg-config)\s*:(.*)$/.exec(line);
    if (!m) continue;
    const [, constraint, kind, rest] = m;
    if (constraint.trim() && !evalPlusBuild([constraint.trim()], ctx)) continue;
    const words = shellWords(rest).map((w) => w.replace(/\$\{SRCDIR\}/g, dir));
    if (kind === 'pkg-config') out.pkgConfig.push(...words.filter((w) => !out.pkgConfig.includes(w)));
    else out.cflags.push(...words);
  }
  return out;
}

function shellWords(s: string): string[] {
  const out: string[] = [];
  for (const m of s.matchAll(/"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+)/g)) out.push(m[1] ?? m[2] ?? m[3]);
  return out;
}

export interface Preprocessed {
  text?: string;
  /** Why preprocessing was not possible (missing compiler, missing header). */
  problem?: string;
}

let compilerMissing: boolean | undefined;

/** The compiler flags a cgo build uses: the package directory, CFLAGS, and what pkg-config says. */
export function compileFlags(dir: string, flags: CgoFlags): { args: string[] } | { problem: string } {
  const args = [`-I${dir}`, ...flags.cflags];
  if (flags.pkgConfig.length) {
    const pc = spawnSync('pkg-config', ['--cflags', ...flags.pkgConfig], { encoding: 'utf8', timeout: 10_000 });
    if (pc.error) return { problem: `pkg-config ${flags.pkgConfig.join(' ')} could not run (${(pc.error as NodeJS.ErrnoException).code === 'ENOENT' ? 'pkg-config is not installed' : pc.error.message})` };
    if (pc.status !== 0) {
      const why = (pc.stderr ?? '').split('\n').find((l) => l.trim())?.trim();
      return { problem: `pkg-config ${flags.pkgConfig.join(' ')} failed${why ? `: ${why}` : ''}` };
    }
    args.push(...shellWords(pc.stdout));
  }
  return { args };
}

/** A preamble as C source: #cgo lines blanked (line numbers stay). */
export function preambleSource(preamble: string): string {
  return preamble
    .split('\n')
    .map((l) => (/^\s*#cgo\b/.test(l) ? '' : l))
    .join('\n');
}

/** Runs the preamble (with its #cgo lines blanked) through `$CC -E -P`. */
export function preprocessPreamble(preamble: string, dir: string, flags: CgoFlags): Preprocessed {
  if (compilerMissing) return { problem: 'no C compiler' };
  const cc = process.env.CC?.trim() || 'cc';
  const cf = compileFlags(dir, flags);
  if ('problem' in cf) return cf;
  const input = preambleSource(preamble);
  // cgo compiles with the package directory on the include path.
  const r = spawnSync(cc, ['-E', '-P', '-w', ...cf.args, '-x', 'c', '-'], {
    input,
    cwd: dir,
    encoding: 'utf8',
    timeout: 20_000,
    maxBuffer: 64 << 20,
  });
  if (r.error && (r.error as NodeJS.ErrnoException).code === 'ENOENT') {
    compilerMissing = true;
    return { problem: 'no C compiler' };
  }
  if (r.status !== 0) {
    const first = (r.stderr ?? '').split('\n').find((l) => /error/.test(l)) ?? 'the preprocessor failed';
    return { problem: first.replace(/^<stdin>:\d+:\d+: /, '').trim() };
  }
  return { text: r.stdout };
}

/**
 * A digest of the preamble as the preprocessor gives it (or of why it could
 * not): what the headers it includes bring to a package's results. Runs
 * without blocking the thread.
 */
export async function preprocessedDigest(preamble: string, dir: string, flags: CgoFlags): Promise<string> {
  const hash = createHash('sha256');
  const cf = compileFlags(dir, flags);
  if ('problem' in cf) {
    preprocessedInputs.failed = true;
    return hash.update(`problem\0${cf.problem}`).digest('hex');
  }
  const cc = process.env.CC?.trim() || 'cc';
  const r = await runAsync(cc, ['-E', '-w', ...cf.args, '-x', 'c', '-'], { cwd: dir, timeoutMs: 20_000, input: preambleSource(preamble) });
  if (r.code === 0) for (const m of r.stdout.matchAll(/^# \d+ "([^"<][^"]*)"/gm)) preprocessedInputs.files.add(path.resolve(dir, m[1]));
  else preprocessedInputs.failed = true;
  return hash.update(`${cc}\0${r.code}\0${r.code === 0 ? r.stdout : r.stderr}`).digest('hex');
}

/** The headers the preprocessor read for the keys of this process's runs, and whether it ever failed (then what a run read is not known). */
export const preprocessedInputs = { files: new Set<string>(), failed: false };

export interface RunResult {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/** Runs a command without blocking the thread; SIGKILLed (with its children) when it outlives `timeoutMs`. */
export function runAsync(cmd: string, args: string[], o: { cwd: string; timeoutMs: number; input?: string }): Promise<RunResult> {
  return new Promise((resolve) => {
    // A group of its own, so that running out of time stops what it started too (a compiler driver's cc1).
    const child = spawn(cmd, args, { cwd: o.cwd, stdio: [o.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'], detached: true });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    }, o.timeoutMs);
    child.stdout?.on('data', (b: Buffer) => out.push(b));
    child.stderr?.on('data', (b: Buffer) => err.push(b));
    if (o.input !== undefined) {
      child.stdin?.on('error', () => {}); // a compiler that exits early closes its input
      child.stdin?.end(o.input);
    }
    child.on('error', (e) => {
      clearTimeout(timer);
      resolve({ code: null, signal: null, stdout: '', stderr: `error: ${e.message}`, timedOut: false });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), timedOut });
    });
  });
}
