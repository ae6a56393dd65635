// What a whole check depended on, for the run cache (cli/run-cache.ts): every
// file of the packages' folders and the folders themselves (an entry added or
// removed changes a folder's time), every folder under a `dir/...` pattern,
// the module files and configurations looked for from the working folder up to
// the module's or repository's root, the headers the preprocessor read, and
// the tools on PATH.
// Not seen: a go.work created above the module's root.
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { preprocessedInputs } from '../model/cpreprocess.js';
import { CONFIG_NAMES } from '../workspace/config.js';
import type { DiscoveredPackage } from '../workspace/discover.js';

export interface RunDependencies {
  files: string[];
  dirs: string[];
  /** False when what the run read is not fully known (a preprocessor failed). */
  known: boolean;
}

const TOOLS = ['go', 'cc', 'gcc', 'clang', 'pkg-config'];

export function runDependencies(cwd: string, patterns: string[], packages: DiscoveredPackage[]): RunDependencies {
  const files = new Set<string>();
  const dirs = new Set<string>();
  for (const p of packages) {
    dirs.add(p.dir);
    try {
      for (const e of readdirSync(p.dir, { withFileTypes: true })) if (e.isFile()) files.add(path.join(p.dir, e.name));
    } catch {
      // An unreadable folder: its time still tells when it changes.
    }
  }
  // go.mod, go.sum, go.work and the configuration, wherever they are (or appear) between the working
  // folder and the module's or repository's root (where the configuration's search stops too).
  // Looked for by name (a folder's time there would move with everything else made in it, /tmp's above all).
  for (let d = cwd; ; d = path.dirname(d)) {
    for (const n of ['go.mod', 'go.sum', 'go.work', 'go.work.sum', ...CONFIG_NAMES]) files.add(path.join(d, n));
    if (path.dirname(d) === d || existsSync(path.join(d, 'go.mod')) || existsSync(path.join(d, '.git'))) break;
  }
  for (const pat of patterns) {
    if (!pat.endsWith('...') || !(pat.startsWith('.') || path.isAbsolute(pat))) continue;
    walkDirs(path.resolve(cwd, pat.slice(0, -3)), dirs);
  }
  for (const f of preprocessedInputs.files) files.add(f);
  for (const env of [process.env.CC, process.env.CGOGUARD_CLANG]) if (env?.trim()) TOOLS.push(env.trim().split(/\s+/)[0]);
  for (const t of TOOLS) for (const f of onPath(t)) files.add(f);
  return { files: [...files], dirs: [...dirs], known: !preprocessedInputs.failed };
}

/** Every folder under root that go's `...` would enter. */
function walkDirs(root: string, out: Set<string>): void {
  out.add(root);
  let entries;
  try {
    entries = readdirSync(root, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    if (!e.isDirectory() || /^[._]/.test(e.name) || e.name === 'testdata') continue;
    walkDirs(path.join(root, e.name), out);
  }
}

/** Where a command name resolves on PATH (each candidate, so that one installed earlier on PATH is noticed). */
function onPath(cmd: string): string[] {
  if (cmd.includes('/')) return [path.resolve(cmd)];
  return (process.env.PATH ?? '').split(path.delimiter).filter(Boolean).map((d) => path.join(d, cmd));
}
