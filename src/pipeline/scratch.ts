// The temporary files of a run, all in one folder that is removed when the
// run ends, however it ends. The run's TMPDIR (and GOTMPDIR, when the user set
// one) point into it, so what go (go-build*, go-link-*), the C compiler
// (cc*.s), valgrind and clang leave behind when they are interrupted goes
// with it too. Worker threads started afterwards inherit the setting.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** Folders made by this run outside the scratch folder (the trace's events in /dev/shm). */
const extra = new Set<string>();
let active: { dir: string; saved: Record<'TMPDIR' | 'GOTMPDIR', string | undefined>; goDir?: string } | undefined;

/** The user's own temporary folder settings, for a program that must see them (trace run). */
export function userTempEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  if (!active) return env;
  const out = { ...env };
  for (const k of ['TMPDIR', 'GOTMPDIR'] as const) {
    if (active.saved[k] === undefined) delete out[k];
    else out[k] = active.saved[k];
  }
  return out;
}

/** Starts the run's scratch folder; `end()` removes it and restores the environment. */
export function beginScratch(): { dir: string; end: () => void } {
  if (active) return { dir: active.dir, end: () => {} };
  const saved = { TMPDIR: process.env.TMPDIR, GOTMPDIR: process.env.GOTMPDIR };
  const dir = mkdtempSync(path.join(tmpdir(), 'cgoguard-run-'));
  // GOTMPDIR is set when the temporary folder cannot run programs (noexec): keep go's work there.
  const goDir = saved.GOTMPDIR ? mkdtempSync(path.join(saved.GOTMPDIR, 'cgoguard-go-')) : undefined;
  active = { dir, saved, goDir };
  process.env.TMPDIR = dir;
  if (goDir) process.env.GOTMPDIR = goDir;
  return { dir, end: endScratch };
}

/** Removes everything the run made and puts TMPDIR back. Safe to call twice. */
export function endScratch(): void {
  for (const d of extra) rmSync(d, { recursive: true, force: true });
  extra.clear();
  if (!active) return;
  const { dir, saved, goDir } = active;
  active = undefined;
  rmSync(dir, { recursive: true, force: true });
  if (goDir) rmSync(goDir, { recursive: true, force: true });
  for (const k of ['TMPDIR', 'GOTMPDIR'] as const) {
    if (saved[k] === undefined) delete process.env[k];
    else process.env[k] = saved[k];
  }
}

/** A new temporary folder, removed with the scratch folder if the run ends before removing it. */
export function makeTempDir(prefix: string, parent = tmpdir()): string {
  const dir = mkdtempSync(path.join(parent, prefix));
  if (!active || !dir.startsWith(active.dir + path.sep)) extra.add(dir);
  return dir;
}

/** Removes a folder made by makeTempDir. */
export function removeTempDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  extra.delete(dir);
}
