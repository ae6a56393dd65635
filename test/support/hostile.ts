// Helpers for the hostile-user tests: Go modules written on the fly, the CLI
// started in the background (to interrupt it), its processes found through
// /proc, and a module proxy on disk (a GOPROXY=file:// folder, so that go
// prints "go: downloading" without a network).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { bin, repoRoot } from './cli.js';

/** Writes files (path → text) under dir, making folders as needed; returns dir. */
export function writeTree(dir: string, files: Record<string, string | Buffer>): string {
  for (const [f, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
    writeFileSync(path.join(dir, f), text);
  }
  return dir;
}

/** A go.mod for module `name`. */
export const goMod = (name: string, extra = '') => `module ${name}\n\ngo 1.22\n${extra}`;

/** A cgo package with one C.CString leak at line 11 and a C function of its own. */
export function leakyPackage(pkg: string, fn = 'Leak'): string {
  return `package ${pkg}

/*
#include <stdlib.h>
static int first(const char *s) { return s[0]; }
*/
import "C"

func ${fn}(s string) int {
	p := C.CString(s)
	return int(C.first(p))
}
`;
}

export interface Background {
  child: ChildProcess;
  stderr: () => string;
  stdout: () => string;
  /** Resolves with the exit code when the process has ended. */
  exited: Promise<number | null>;
}

/** Starts the CLI without waiting for it. */
export function startCli(args: string[], o: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Background {
  const child = spawn(process.execPath, [bin, ...args], { cwd: o.cwd ?? repoRoot, env: o.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (err += b.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { child, stderr: () => err, stdout: () => out, exited };
}

/** The command lines of every descendant of pid (from /proc). */
export function descendantCommands(pid: number): string[] {
  const parent = new Map<number, number>();
  for (const n of readdirSync('/proc').filter((x) => /^\d+$/.test(x))) {
    try {
      const stat = readFileSync(`/proc/${n}/stat`, 'utf8');
      const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (state !== 'Z') parent.set(Number(n), Number(ppid));
    } catch {
      // gone
    }
  }
  const out: string[] = [];
  for (const p of parent.keys()) {
    let q: number | undefined = p;
    while (q && q !== pid && q > 1) q = parent.get(q);
    if (q !== pid || p === pid) continue;
    try {
      out.push(readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0').join(' ').trim());
    } catch {
      // gone
    }
  }
  return out;
}

/** The CGOGUARD_TRACE_DIR a traced process below pid was given (from /proc/PID/environ). */
export function tracedEventsDir(pid: number): string | undefined {
  for (const n of readdirSync('/proc').filter((x) => /^\d+$/.test(x))) {
    try {
      const env = readFileSync(`/proc/${n}/environ`, 'utf8').split('\0');
      const dir = env.find((e) => e.startsWith('CGOGUARD_TRACE_DIR='))?.slice('CGOGUARD_TRACE_DIR='.length);
      if (dir && isDescendant(Number(n), pid)) return dir;
    } catch {
      // gone, or not ours to read
    }
  }
  return undefined;
}

function isDescendant(p: number, root: number): boolean {
  for (let q = p, hops = 0; q > 1 && hops < 64; hops++) {
    if (q === root) return true;
    try {
      const stat = readFileSync(`/proc/${q}/stat`, 'utf8');
      q = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    } catch {
      return false;
    }
  }
  return false;
}

/** Whether any process's command line contains text (a fixture's unique folder). */
export function anyProcessWith(text: string): boolean {
  for (const n of readdirSync('/proc').filter((x) => /^\d+$/.test(x))) {
    try {
      if (n !== String(process.pid) && readFileSync(`/proc/${n}/cmdline`, 'utf8').includes(text)) return true;
    } catch {
      // gone
    }
  }
  return false;
}

/** Polls until pred holds; fails after timeoutMs. */
export async function waitFor(pred: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** The zip format's CRC-32 (node:zlib has one only from Node 20.15). */
function crc32(data: Buffer): number {
  let c = 0xffffffff;
  for (const byte of data) {
    c ^= byte;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}

/** A zip archive of stored (uncompressed) files: enough for a module proxy's .zip. */
export function storedZip(files: Record<string, string>): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const [name, text] of Object.entries(files)) {
    const data = Buffer.from(text);
    const nameBuf = Buffer.from(name);
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameBuf.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(nameBuf.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, nameBuf, data);
    centrals.push(central, nameBuf);
    offset += local.length + nameBuf.length + data.length;
  }
  const dir = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(Object.keys(files).length, 8);
  end.writeUInt16LE(Object.keys(files).length, 10);
  end.writeUInt32LE(dir.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, dir, end]);
}

/** A GOPROXY folder serving one module version made of files (path → text, relative to the module root). */
export function moduleProxy(dir: string, module: string, version: string, files: Record<string, string>): string {
  const at = path.join(dir, module, '@v');
  const zipped: Record<string, string> = {};
  for (const [f, text] of Object.entries(files)) zipped[`${module}@${version}/${f}`] = text;
  writeTree(at, {
    list: `${version}\n`,
    [`${version}.info`]: JSON.stringify({ Version: version, Time: '2024-01-01T00:00:00Z' }),
    [`${version}.mod`]: files['go.mod'],
    [`${version}.zip`]: storedZip(zipped),
  });
  return `file://${dir}`;
}
