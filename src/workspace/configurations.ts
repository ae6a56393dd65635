// Build configurations beyond the default one. A cgo package's files behind
// a custom build tag (`//go:build sqlite_trace`, `//go:build cgo && foo`)
// are never built without it, so a check with the default tags would never
// see them. Each set of custom tags some file needs becomes a configuration
// of its own: the package's files as `go build -tags T` would take them.
// When the user names tags (--tags), only those are checked.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { evalConstraint, evalPlusBuild, KNOWN_ARCH, KNOWN_OS, matchesFileName, type BuildContext } from '../syntax/buildtags.js';
import type { DiscoveredPackage, PackageFile } from './discover.js';
import { readGoHeader } from './goheader.js';

export interface Configuration {
  /** The custom tags that turn the configuration's files on. */
  tags: string[];
  /** The package's Go files under those tags. */
  files: PackageFile[];
  /** Its C files under those tags (a `//go:build test` .c file holds the test framework's C). */
  cFiles: PackageFile[];
  /** Of those, the files it is checked for (absolute paths), with the fewest tags each needs. */
  gated: Map<string, string[]>;
}

/** Besides the build with every tag on, at most this many builds of their own per package. */
const MAX_CONFIGURATIONS = 4;

/** Tags that are not custom: the toolchain, the system, and files meant never to build. */
function isCustom(tag: string): boolean {
  return !KNOWN_OS.has(tag) && !KNOWN_ARCH.has(tag) && !/^(cgo|gc|gccgo|unix|ignore|go1\.\d+)$/.test(tag);
}

/** The configurations of a cgo package beyond the default build, one per set of custom tags a file needs. */
export function tagConfigurations(pkg: DiscoveredPackage, ctx: BuildContext, tests: boolean, display: (abs: string) => string): Configuration[] {
  if (!pkg.importsC) return [];
  const base = new Set(pkg.files.map((f) => f.path));
  let names: string[];
  try {
    names = readdirSync(pkg.dir).filter((n) => n.endsWith('.go') && (tests || !n.endsWith('_test.go'))).sort();
  } catch {
    return [];
  }
  const heads = new Map<string, { constraint?: string; plusBuild: string[]; pkgName?: string; cgo: boolean }>();
  for (const n of names) {
    try {
      const text = readFileSync(path.join(pkg.dir, n), 'utf8');
      const h = readGoHeader(text);
      heads.set(n, { constraint: h.buildConstraint, plusBuild: h.plusBuild, pkgName: h.pkgName, cgo: /^import\s*(\(\s*)?"C"/m.test(text) });
    } catch {
      // Unreadable: discovery has said so.
    }
  }
  const included = (n: string, c: BuildContext) => {
    const h = heads.get(n);
    return !!h && h.pkgName === pkg.name && matchesFileName(n, c) && (h.constraint ? evalConstraint(h.constraint, c) : !h.plusBuild.length || evalPlusBuild(h.plusBuild, c));
  };
  // The fewest tags that build each gated file: one alone when one will do (`// +build sqlite_trace trace`).
  const needs = new Map<string, string[]>();
  for (const n of names) {
    const h = heads.get(n);
    const expr = h?.constraint ?? h?.plusBuild.join(' ');
    if (!h || !expr || base.has(path.join(pkg.dir, n)) || !h.cgo || /\bignore\b/.test(expr)) continue;
    const all = [...new Set(expr.match(/[A-Za-z_][\w.]*/g) ?? [])].filter(isCustom).sort();
    const tags = [...all.map((t) => [t]), all].find((ts) => ts.length && included(n, { ...ctx, tags: [...ctx.tags, ...ts] }));
    if (tags) needs.set(path.join(pkg.dir, n), tags);
  }
  if (!needs.size) return [];
  const make = (tags: string[], only?: Set<string>): Configuration | undefined => {
    const c = { ...ctx, tags: [...ctx.tags, ...tags] };
    const files = names.filter((n) => included(n, c)).map((n) => path.join(pkg.dir, n));
    const gated = new Map(files.filter((f) => needs.has(f) && (!only || only.has(f))).map((f) => [f, needs.get(f)!]));
    return gated.size ? { tags, files: files.map((f) => ({ path: f, display: display(f) })), cFiles: cFilesUnder(pkg, c, display), gated } : undefined;
  };
  // One build with every custom tag on covers most files at once; a file it leaves out (one that needs
  // another tag off) gets a build of its own, fewest tags first.
  const union = make([...new Set([...needs.values()].flat())].sort());
  const out: Configuration[] = union ? [union] : [];
  const left = new Map<string, string[]>();
  for (const [f, tags] of needs) if (!union?.gated.has(f)) left.set(tags.join(','), tags);
  const ordered = [...left.values()].sort((a, b) => a.length - b.length || (a.join(',') < b.join(',') ? -1 : 1));
  for (const tags of ordered.slice(0, MAX_CONFIGURATIONS)) {
    const own = make(tags, new Set([...needs].filter(([, t]) => t.join(',') === tags.join(',')).map(([f]) => f)));
    if (own) out.push(own);
  }
  return out;
}

/** The package folder's .c and .h files a build with these tags compiles (their `//go:build` lines, as for Go files). */
function cFilesUnder(pkg: DiscoveredPackage, c: BuildContext, display: (abs: string) => string): PackageFile[] {
  const known = new Set(pkg.cFiles.map((f) => f.path));
  const out = [...pkg.cFiles];
  let names: string[];
  try {
    names = readdirSync(pkg.dir).filter((n) => /\.[ch]$/.test(n)).sort();
  } catch {
    return out;
  }
  for (const n of names) {
    const abs = path.join(pkg.dir, n);
    if (known.has(abs) || !matchesFileName(n, c)) continue;
    let head = '';
    try {
      head = readFileSync(abs, 'utf8').slice(0, 4096);
    } catch {
      continue;
    }
    const constraint = /^\/\/go:build\s+(.+)$/m.exec(head)?.[1];
    const plusBuild = [...head.matchAll(/^\/\/\s*\+build\s+(.+)$/gm)].map((m) => m[1].trim());
    const included = constraint ? evalConstraint(constraint.trim(), c) : plusBuild.length > 0 && evalPlusBuild(plusBuild, c);
    if (included) out.push({ path: abs, display: display(abs) });
  }
  return out;
}
