// The headers of the C libraries a package includes, as files: what header
// inference reads. The preprocessor would drop the doc comments, so the raw
// files are located the way the compiler would: the package's folder, its
// `#cgo CFLAGS: -I` folders, the folders pkg-config files name (read directly,
// so that no pkg-config program is needed), then the system folders. From each
// header the preamble includes, includes of the same library are followed;
// libc and other libraries' headers are not. Reading stops at fixed limits.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { CgoFlags } from '../model/cpreprocess.js';

export interface HeaderFile {
  /** Absolute path. */
  path: string;
  /** The path as an include names it (`git2/repository.h`). */
  display: string;
  text: string;
}

export interface HeaderSet {
  files: HeaderFile[];
  /** Included headers that were not found, by name. */
  missing: string[];
  /** Set when a limit stopped the reading. */
  truncated?: string;
}

/** Reading stops at this many files or bytes; one file larger than FILE_LIMIT is skipped. */
const FILE_COUNT_LIMIT = 400;
const BYTE_LIMIT = 24 << 20;
const FILE_LIMIT = 4 << 20;

/** libc's, POSIX's and the compiler's headers: they declare no library ownership to infer (libc's is built in). */
const SYSTEM_HEADER = /^(assert|complex|ctype|errno|fenv|float|inttypes|iso646|limits|locale|math|setjmp|signal|stdalign|stdarg|stdatomic|stdbool|stddef|stdint|stdio|stdlib|stdnoreturn|string|strings|tgmath|threads|time|uchar|wchar|wctype|unistd|fcntl|dlfcn|pthread|sched|semaphore|poll|termios|syslog|dirent|libgen|malloc|alloca|byteswap|endian|features|getopt|glob|grp|pwd|netdb|ifaddrs|regex|search|spawn|utime|utmp)\.h$|^(sys|bits|asm|asm-generic|linux|arpa|netinet|net|gnu)\//;

/**
 * The system's include folders. CGOGUARD_SYSTEM_INCLUDE (a colon-separated
 * list, possibly empty) stands in for them and for pkg-config's folders: a
 * machine without the library's headers, for the benchmarks and tests.
 */
const SYSTEM_OVERRIDE = process.env.CGOGUARD_SYSTEM_INCLUDE;
const SYSTEM_DIRS = SYSTEM_OVERRIDE !== undefined ? SYSTEM_OVERRIDE.split(':').filter(Boolean) : ['/usr/local/include', '/usr/include/x86_64-linux-gnu', '/usr/include/aarch64-linux-gnu', '/usr/include'];

/** Where pkg-config files are looked for, as pkg-config itself would (PKG_CONFIG_PATH first). */
function pkgConfigDirs(): string[] {
  if (SYSTEM_OVERRIDE !== undefined) return [];
  const env = (process.env.PKG_CONFIG_PATH ?? '').split(':').filter(Boolean);
  const multiarch = ['/usr/lib/x86_64-linux-gnu/pkgconfig', '/usr/lib/aarch64-linux-gnu/pkgconfig'];
  return [...env, '/usr/local/lib/pkgconfig', ...multiarch, '/usr/lib/pkgconfig', '/usr/share/pkgconfig'];
}

/** The include folders a pkg-config package (and what it requires) adds, read from its .pc file. */
export function pkgConfigIncludeDirs(names: string[], dirs = pkgConfigDirs()): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  const visit = (name: string, depth: number) => {
    if (seen.has(name) || depth > 6) return;
    seen.add(name);
    const file = dirs.map((d) => path.join(d, `${name}.pc`)).find((f) => existsSync(f));
    if (!file) return;
    const vars = new Map<string, string>([['pcfiledir', path.dirname(file)]]);
    const expand = (s: string) => s.replace(/\$\{(\w+)\}/g, (_, v: string) => vars.get(v) ?? '');
    let cflags = '';
    let requires = '';
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      const v = /^(\w+)\s*=\s*(.*)$/.exec(line);
      if (v) vars.set(v[1], expand(v[2].trim()));
      const f = /^(Cflags|Requires)\s*:\s*(.*)$/.exec(line);
      if (f?.[1] === 'Cflags') cflags = expand(f[2]);
      if (f?.[1] === 'Requires') requires = expand(f[2]);
    }
    for (const m of cflags.matchAll(/-I\s*(\S+)/g)) if (!out.includes(m[1])) out.push(m[1]);
    // `glib-2.0 >= 2.56, gobject-2.0`: names, without versions.
    for (const r of requires.split(/[\s,]+/).filter((w) => /^[A-Za-z_][\w.+-]*$/.test(w))) visit(r, depth + 1);
  };
  names.forEach((n) => visit(n, 0));
  return out;
}

/** The include folders of a cgo build: the package's folder, -I flags, pkg-config's folders, the system's. */
export function includeDirs(pkgDir: string, flags: CgoFlags): string[] {
  const fromFlags: string[] = [];
  for (let i = 0; i < flags.cflags.length; i++) {
    const f = flags.cflags[i];
    const dir = f === '-I' || f === '-isystem' ? flags.cflags[++i] : /^-I(.+)$/.exec(f)?.[1] ?? /^-isystem(.+)$/.exec(f)?.[1];
    if (dir) fromFlags.push(path.resolve(pkgDir, dir));
  }
  const dirs = [pkgDir, ...fromFlags, ...pkgConfigIncludeDirs(flags.pkgConfig), ...SYSTEM_DIRS];
  return [...new Set(dirs)].filter((d) => isDir(d));
}

function isDir(d: string): boolean {
  try {
    return statSync(d).isDirectory();
  } catch {
    return false;
  }
}

function includesOf(text: string): { name: string; quoted: boolean }[] {
  return [...text.matchAll(/^[ \t]*#[ \t]*include[ \t]*([<"])([^>"\n]+)[>"]/gm)].map((m) => ({ name: m[2].trim(), quoted: m[1] === '"' }));
}

/**
 * The headers of the libraries `sources` (preambles, the package's own .h
 * files) include, with the same library's headers they include in turn.
 */
export function libraryHeaders(sources: string[], dirs: string[]): HeaderSet {
  const files: HeaderFile[] = [];
  const missing: string[] = [];
  const seen = new Set<string>();
  let bytes = 0;
  let truncated: string | undefined;
  const systemRoots = new Set(SYSTEM_DIRS);
  const resolve = (name: string, from?: string): string | undefined => {
    const candidates = [...(from ? [path.dirname(from)] : []), ...dirs].map((d) => path.join(d, name));
    return candidates.find((f) => existsSync(f) && !isDir(f));
  };
  // A library's own folder: the folder of its top header, unless that is a system root (then the
  // folder named after the header: git2.h's git2/).
  const libraryRoots = (file: string): string[] => {
    const dir = path.dirname(file);
    const stem = path.join(dir, path.basename(file).replace(/\.h$/, ''));
    return systemRoots.has(dir) ? [stem] : [dir, stem];
  };
  const visit = (file: string, display: string, roots: string[]) => {
    if (seen.has(file) || truncated) return;
    seen.add(file);
    if (files.length >= FILE_COUNT_LIMIT) {
      truncated = `more than ${FILE_COUNT_LIMIT} header files`;
      return;
    }
    let size = 0;
    try {
      size = statSync(file).size;
    } catch {
      return;
    }
    if (size > FILE_LIMIT) return;
    if (bytes + size > BYTE_LIMIT) {
      truncated = `more than ${BYTE_LIMIT >> 20} MB of headers`;
      return;
    }
    bytes += size;
    const text = readFileSync(file, 'utf8');
    files.push({ path: file, display, text });
    for (const inc of includesOf(text)) {
      if (SYSTEM_HEADER.test(inc.name)) continue;
      const next = resolve(inc.name, inc.quoted ? file : undefined);
      // Only the same library: under one of its folders.
      if (next && roots.some((r) => next === `${r}.h` || next.startsWith(`${r}${path.sep}`))) visit(next, inc.name, roots);
    }
  };
  for (const text of sources) {
    for (const inc of includesOf(text)) {
      if (SYSTEM_HEADER.test(inc.name)) continue;
      const file = resolve(inc.name);
      if (!file) {
        if (!missing.includes(inc.name)) missing.push(inc.name);
        continue;
      }
      visit(file, inc.name, libraryRoots(file));
    }
  }
  return { files, missing, truncated };
}

/** Header files under a folder (for the benchmark and `contracts infer` on a library's headers alone). */
export function headersUnder(dir: string, prefix = ''): HeaderFile[] {
  const out: HeaderFile[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...headersUnder(full, `${prefix}${e.name}/`));
    else if (e.name.endsWith('.h')) out.push({ path: full, display: `${prefix}${e.name}`, text: readFileSync(full, 'utf8') });
  }
  return out;
}
