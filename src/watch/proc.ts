// What /proc says about a process, read without touching its memory and
// without ptrace: status (world-readable: RSS by kind, swap), smaps_rollup
// (Pss; readable for one's own processes, or with CAP_SYS_PTRACE), the
// command, the cgroup, the start time (to tell a reused pid apart).
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import path from 'node:path';

export interface ProcMemory {
  rss: number;
  rssAnon: number;
  rssFile: number;
  rssShmem: number;
  swap: number;
  /** From smaps_rollup, when readable. */
  pss?: number;
}

export interface ProcIdentity {
  pid: number;
  command: string;
  cgroup: string;
  /** Clock ticks after boot: with the pid, it names one process. */
  startTime: number;
}

/** A process that is not there (any more): exited, or never was. */
export class ProcessGone extends Error {}

function read(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ESRCH') throw new ProcessGone(file);
    throw e;
  }
}

/** "RssAnon:   112 kB" lines: values in bytes. */
function kbFields(text: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const line of text.split('\n')) {
    const r = /^(\w+):\s+(\d+) kB$/.exec(line);
    if (r) m.set(r[1], Number(r[2]) * 1024);
  }
  return m;
}

/**
 * The memory of a process. Throws ProcessGone when it is not there; a
 * smaps_rollup that cannot be read (permission) only leaves pss out, and
 * says so through `onDenied`.
 */
export function readMemory(procRoot: string, pid: number, onDenied?: (what: string) => void): ProcMemory {
  const status = kbFields(read(path.join(procRoot, String(pid), 'status')));
  if (!status.has('VmRSS')) throw new ProcessGone(`${pid} has no memory (a kernel thread or a zombie)`);
  const mem: ProcMemory = {
    rss: status.get('VmRSS') ?? 0,
    rssAnon: status.get('RssAnon') ?? 0,
    rssFile: status.get('RssFile') ?? 0,
    rssShmem: status.get('RssShmem') ?? 0,
    swap: status.get('VmSwap') ?? 0,
  };
  try {
    const rollup = kbFields(read(path.join(procRoot, String(pid), 'smaps_rollup')));
    if (rollup.has('Pss')) mem.pss = rollup.get('Pss');
  } catch (e) {
    if (e instanceof ProcessGone) throw e;
    onDenied?.(`smaps_rollup: ${(e as NodeJS.ErrnoException).code === 'EACCES' ? 'permission denied' : (e as Error).message}`);
  }
  return mem;
}

export function readIdentity(procRoot: string, pid: number): ProcIdentity {
  const dir = path.join(procRoot, String(pid));
  const stat = read(path.join(dir, 'stat'));
  // The command in stat is in parentheses and may hold spaces or parentheses itself.
  const close = stat.lastIndexOf(')');
  const comm = stat.slice(stat.indexOf('(') + 1, close);
  const startTime = Number(stat.slice(close + 2).split(' ')[19]);
  return { pid, command: comm, cgroup: cgroupOf(read(path.join(dir, 'cgroup'))), startTime };
}

/** The process's cgroup: the unified (v2) path, or the memory controller's on a v1 or hybrid host. */
export function cgroupOf(text: string): string {
  const lines = text.split('\n').filter(Boolean).map((l) => l.split(':'));
  const unified = lines.find((l) => l[0] === '0' && l[1] === '')?.slice(2).join(':');
  const memory = lines.find((l) => l[1].split(',').includes('memory'))?.slice(2).join(':');
  return unified && unified !== '/' ? unified : (memory ?? unified ?? '/');
}

/** Every cgroup path of a process (all hierarchies). */
function cgroupPaths(procRoot: string, pid: number): string[] {
  return read(path.join(procRoot, String(pid), 'cgroup'))
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split(':').slice(2).join(':'));
}

/** The names a process answers to: its comm (15 characters at most), and the base name of its executable. */
function namesOf(procRoot: string, pid: number): string[] {
  const dir = path.join(procRoot, String(pid));
  const names = [read(path.join(dir, 'comm')).trim()];
  const argv0 = read(path.join(dir, 'cmdline')).split('\0')[0];
  if (argv0) names.push(path.basename(argv0));
  try {
    names.push(path.basename(readlinkSync(path.join(dir, 'exe'))));
  } catch {
    // another user's process: comm and argv[0] must do
  }
  return names;
}

export interface Selection {
  pids: number[];
  names: string[];
  cgroups: string[];
  containers: string[];
  all: boolean;
}

export function listPids(procRoot: string): number[] {
  return readdirSync(procRoot)
    .filter((n) => /^\d+$/.test(n))
    .map(Number)
    .sort((a, b) => a - b);
}

/** The pids a selection covers now (named pids whether or not they exist: reading them says). */
export function selectPids(procRoot: string, sel: Selection, self: number): number[] {
  const out = new Set(sel.pids);
  if (sel.all || sel.names.length || sel.cgroups.length || sel.containers.length) {
    for (const pid of listPids(procRoot)) {
      if (pid === self || out.has(pid)) continue;
      try {
        if (sel.all || matches(procRoot, pid, sel)) out.add(pid);
      } catch {
        // gone while we looked, or not ours to read: not selected
      }
    }
  }
  return [...out].sort((a, b) => a - b);
}

function matches(procRoot: string, pid: number, sel: Selection): boolean {
  if (sel.names.length) {
    const names = namesOf(procRoot, pid);
    if (sel.names.some((n) => names.includes(n) || names[0] === n.slice(0, 15))) return true;
  }
  if (sel.cgroups.length || sel.containers.length) {
    const paths = cgroupPaths(procRoot, pid);
    if (sel.cgroups.some((c) => paths.some((p) => p === c || p.startsWith(c.endsWith('/') ? c : `${c}/`)))) return true;
    if (sel.containers.some((c) => paths.some((p) => p.includes(c)))) return true;
  }
  return false;
}

/** CGOGUARD_LISTEN from the process's environment, when we may read it: where a production build serves. */
export function listenAddressOf(procRoot: string, pid: number): string | undefined {
  try {
    const env = readFileSync(path.join(procRoot, String(pid), 'environ'), 'utf8').split('\0');
    const v = env.find((e) => e.startsWith('CGOGUARD_LISTEN='))?.slice('CGOGUARD_LISTEN='.length);
    const m = v && /^(.*):(\d+)$/.exec(v);
    if (!m || m[2] === '0') return undefined;
    const host = !m[1] || m[1] === '0.0.0.0' || m[1] === '[::]' ? '127.0.0.1' : m[1];
    return `http://${host}:${m[2]}`;
  } catch {
    return undefined;
  }
}
