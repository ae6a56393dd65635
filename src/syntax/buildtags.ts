// Build constraints, as the go command applies them: `//go:build`
// expressions, legacy `// +build` lines and _GOOS/_GOARCH file name suffixes.

export const KNOWN_OS = new Set([
  'aix', 'android', 'darwin', 'dragonfly', 'freebsd', 'hurd', 'illumos', 'ios', 'js', 'linux', 'nacl',
  'netbsd', 'openbsd', 'plan9', 'solaris', 'wasip1', 'windows', 'zos',
]);

export const KNOWN_ARCH = new Set([
  '386', 'amd64', 'amd64p32', 'arm', 'armbe', 'arm64', 'arm64be', 'loong64', 'mips', 'mipsle', 'mips64',
  'mips64le', 'mips64p32', 'mips64p32le', 'ppc', 'ppc64', 'ppc64le', 'riscv', 'riscv64', 's390', 's390x',
  'sparc', 'sparc64', 'wasm',
]);

const UNIX_OS = new Set([
  'aix', 'android', 'darwin', 'dragonfly', 'freebsd', 'hurd', 'illumos', 'ios', 'linux', 'netbsd', 'openbsd', 'solaris',
]);

export interface BuildContext {
  goos: string;
  goarch: string;
  tags: string[]; // from -tags
  cgo: boolean;
  goMinor: number; // go1.N release tags hold for N <= goMinor
}

export function satisfies(ctx: BuildContext, tag: string): boolean {
  if (tag === ctx.goos || tag === ctx.goarch) return true;
  if (tag === 'unix') return UNIX_OS.has(ctx.goos);
  if (tag === 'linux' && ctx.goos === 'android') return true;
  if ((tag === 'solaris' && ctx.goos === 'illumos') || (tag === 'darwin' && ctx.goos === 'ios')) return true;
  if (tag === 'cgo') return ctx.cgo;
  if (tag === 'gc') return true;
  const m = /^go1\.(\d+)$/.exec(tag);
  if (m) return Number(m[1]) <= ctx.goMinor;
  return ctx.tags.includes(tag);
}

/** Evaluates a //go:build expression. Malformed expressions exclude the file, as the go command does. */
export function evalConstraint(expr: string, ctx: BuildContext): boolean {
  const toks = expr.match(/\|\||&&|!|\(|\)|[\p{L}\p{N}_.]+|\S/gu) ?? [];
  let i = 0;
  const fail = () => {
    throw new SyntaxError('bad build constraint');
  };
  const or = (): boolean => {
    let v = and();
    while (toks[i] === '||') {
      i++;
      const r = and();
      v = v || r;
    }
    return v;
  };
  const and = (): boolean => {
    let v = not();
    while (toks[i] === '&&') {
      i++;
      const r = not();
      v = v && r;
    }
    return v;
  };
  const not = (): boolean => {
    if (toks[i] === '!') {
      i++;
      return !not();
    }
    if (toks[i] === '(') {
      i++;
      const v = or();
      if (toks[i++] !== ')') fail();
      return v;
    }
    const t = toks[i++];
    if (!t || !/^[\p{L}\p{N}_.]+$/u.test(t)) fail();
    return satisfies(ctx, t);
  };
  try {
    const v = or();
    return i === toks.length ? v : false;
  } catch {
    return false;
  }
}

/** Legacy `// +build` lines: lines are ANDed, space-separated options ORed, commas ANDed. */
export function evalPlusBuild(lines: string[], ctx: BuildContext): boolean {
  return lines.every((line) =>
    line
      .split(/\s+/)
      .filter(Boolean)
      .some((opt) =>
        opt.split(',').every((term) => (term.startsWith('!') ? !satisfies(ctx, term.slice(1)) : satisfies(ctx, term))),
      ),
  );
}

/** The _GOOS, _GOARCH and _GOOS_GOARCH file name rules. */
export function matchesFileName(name: string, ctx: BuildContext): boolean {
  let base = name.replace(/\.go$/, '');
  if (base.endsWith('_test')) base = base.slice(0, -5);
  const parts = base.split('_');
  if (parts.length < 2) return true;
  const last = parts[parts.length - 1];
  const prev = parts.length >= 3 ? parts[parts.length - 2] : undefined;
  if (prev && KNOWN_OS.has(prev) && KNOWN_ARCH.has(last)) return satisfies(ctx, prev) && satisfies(ctx, last);
  if (KNOWN_OS.has(last) || KNOWN_ARCH.has(last)) return satisfies(ctx, last);
  return true;
}
