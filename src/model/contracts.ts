// Ownership contracts: what a function does with the memory it returns or is
// given. One grammar everywhere (cgo preamble, Go doc comments, config):
//
//   [NAME] [(PARAM, ...)] CLAUSE [; CLAUSE]...
//
//   returns owned [released by FUNC[, FUNC]...]   caller must release the result
//   returns borrowed [from PARAM]                result belongs to someone else (to PARAM: valid until PARAM is released)
//   releases PARAM [on success]                  frees the memory PARAM points to (on every outcome, or only when
//                                                the call succeeds: on failure the caller still owns it)
//   releases *PARAM                              PARAM points to a pointer: frees what that pointer points to,
//                                                and sets it to NULL (av_frame_free(&frame), g_clear_error(&err))
//   takes PARAM                                  ownership of PARAM moves to the callee
//   takes PARAM with destructor PARAM2           ...only when PARAM2 is a function (not SQLITE_STATIC/TRANSIENT)
//   borrows PARAM                                reads PARAM during the call only
//   writes owned to PARAM [released by FUNC] [on success|on failure]
//                                                *PARAM receives memory the caller must release (only when
//                                                the call succeeds or fails: the status is compared with 0 or *_OK)
//   not after FUNC                               must not be called on a handle FUNC was called on
//   invalidates PARAM                            afterwards PARAM may only be released
//   creates [released by FUNC]                   makes a handle: the result if it returns a pointer,
//                                                else the memory its first argument points to
//
// PARAM is a name from the parameter list or a 1-based position. A protocol
// (not after, invalidates) is about the first argument of both functions.
import { createHash } from 'node:crypto';

export type ReturnKind = { kind: 'owned'; releasedBy: string[] } | { kind: 'borrowed'; from?: number };

export interface Contract {
  name: string;
  params?: string[];
  returns?: ReturnKind;
  releases: number[]; // 0-based argument indexes
  /** Of `releases`, those released only when the call succeeds (the caller still owns them on failure). */
  releasesOnSuccess: number[];
  /** `releases *P`: arguments pointing to a pointer whose memory the call frees, setting the pointer to NULL. */
  releasesPointee: number[];
  takes: number[];
  borrows: number[];
  writesOwned: { param: number; releasedBy: string[]; when?: 'success' | 'failure' }[];
  /** takes PARAM with destructor PARAM2: ownership moves only when a destructor function is given. */
  takesWithDestructor: { param: number; destructor: number }[];
  /** Functions after which this one must not be called on the same handle. */
  notAfter: string[];
  /** Arguments that, after the call, may only be released. */
  invalidates: number[];
  /** Makes a handle (the pointer result, or what argument 1 points to) released by these functions. */
  creates?: string[];
  origin: string; // where it was declared, for messages
  /**
   * For a fact the tool inferred rather than was told (headers, usage, C bodies): how sure it is, and
   * the evidence in one line, for traces. Declared contracts leave both out: they are sure.
   */
  confidence?: 'medium' | 'low';
  evidence?: string;
}

export class ContractSyntaxError extends Error {}

/** A contract that says nothing yet: the start of one being parsed or made. */
export function emptyContract(name: string, origin: string): Contract {
  return { name, releases: [], releasesOnSuccess: [], releasesPointee: [], takes: [], borrows: [], writesOwned: [], takesWithDestructor: [], notAfter: [], invalidates: [], origin };
}

const DEFAULT_RELEASER = ['free'];

/**
 * Parses one contract. `defaultName` and `defaultParams` apply when the text
 * leaves them out (a directive in a Go doc comment describes its function).
 */
export function parseContract(text: string, origin: string, defaultName?: string, defaultParams?: string[]): Contract {
  const toks = text.match(/[A-Za-z_][A-Za-z0-9_.]*|\d+|[(),;*]|\S/g) ?? [];
  let i = 0;
  const peek = () => toks[i];
  const next = () => toks[i++];
  const expect = (word: string) => {
    const t = next();
    if (t !== word) throw new ContractSyntaxError(`expected "${word}"${t ? `, found "${t}"` : ' at end'}`);
  };
  const c = emptyContract(defaultName ?? '', origin);
  const CLAUSE_WORDS = new Set(['returns', 'releases', 'takes', 'borrows', 'writes', 'not', 'invalidates', 'creates']);
  if (peek() && !CLAUSE_WORDS.has(peek())) {
    const name = next().replace(/^C\./, '');
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new ContractSyntaxError(`expected a function name, found "${name}"`);
    c.name = name;
  }
  if (!c.name) throw new ContractSyntaxError('missing function name');
  if (peek() === '(') {
    next();
    const params: string[] = [];
    while (peek() !== ')') {
      const p = next();
      if (p === undefined) throw new ContractSyntaxError('unclosed parameter list');
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(p)) throw new ContractSyntaxError(`bad parameter name "${p}"`);
      params.push(p);
      if (peek() === ',') next();
    }
    next();
    c.params = params;
  } else if (defaultParams) {
    c.params = defaultParams;
  }
  const param = (): number => {
    const t = next();
    if (t === undefined) throw new ContractSyntaxError('expected a parameter');
    if (/^\d+$/.test(t)) {
      const n = Number(t);
      if (n < 1) throw new ContractSyntaxError('parameter positions start at 1');
      return n - 1;
    }
    const idx = c.params?.indexOf(t) ?? -1;
    if (idx < 0) throw new ContractSyntaxError(`unknown parameter "${t}"${c.params ? '' : ' (list the parameters or use a 1-based position)'}`);
    return idx;
  };
  const releasers = (): string[] => {
    if (peek() !== 'released') return DEFAULT_RELEASER;
    next();
    expect('by');
    const out: string[] = [];
    do {
      const f = next();
      if (!f || !/^[A-Za-z_][A-Za-z0-9_.]*$/.test(f)) throw new ContractSyntaxError('expected a function name after "released by"');
      out.push(f.replace(/^C\./, ''));
    } while (peek() === ',' && next());
    return out;
  };
  if (i >= toks.length) throw new ContractSyntaxError('no clause (expected returns, releases, takes, borrows, writes, not after, invalidates or creates)');
  while (i < toks.length) {
    const w = next();
    switch (w) {
      case 'returns': {
        const kind = next();
        if (kind === 'owned') c.returns = { kind: 'owned', releasedBy: releasers() };
        else if (kind === 'borrowed') {
          c.returns = { kind: 'borrowed' };
          if (peek() === 'from') {
            next();
            c.returns.from = param();
          }
        }
        else throw new ContractSyntaxError(`expected "owned" or "borrowed" after "returns"${kind ? `, found "${kind}"` : ''}`);
        break;
      }
      case 'releases': {
        if (peek() === '*') {
          next();
          c.releasesPointee.push(param());
          break;
        }
        const p = param();
        c.releases.push(p);
        if (peek() === 'on') {
          next();
          const w = next();
          if (w !== 'success') throw new ContractSyntaxError(`expected "success" after "releases ${c.params?.[p] ?? p + 1} on"${w ? `, found "${w}"` : ''}`);
          c.releasesOnSuccess.push(p);
        }
        break;
      }
      case 'takes': {
        const p = param();
        if (peek() === 'with') {
          next();
          expect('destructor');
          c.takesWithDestructor.push({ param: p, destructor: param() });
        } else {
          c.takes.push(p);
        }
        break;
      }
      case 'not': {
        expect('after');
        const f = next();
        if (!f || !/^[A-Za-z_][A-Za-z0-9_.]*$/.test(f)) throw new ContractSyntaxError('expected a function name after "not after"');
        c.notAfter.push(f.replace(/^C\./, ''));
        if (peek() === '(') while (i < toks.length && next() !== ')');
        break;
      }
      case 'invalidates':
        c.invalidates.push(param());
        break;
      case 'creates':
        c.creates = releasers();
        break;
      case 'borrows':
        c.borrows.push(param());
        break;
      case 'writes': {
        expect('owned');
        expect('to');
        const p = param();
        const releasedBy = releasers();
        let when: 'success' | 'failure' | undefined;
        if (peek() === 'on') {
          next();
          const w = next();
          if (w !== 'success' && w !== 'failure') throw new ContractSyntaxError(`expected "success" or "failure" after "on"${w ? `, found "${w}"` : ''}`);
          when = w;
        }
        c.writesOwned.push({ param: p, releasedBy, when });
        break;
      }
      default:
        throw new ContractSyntaxError(`unknown clause "${w}" (expected returns, releases, takes, borrows, writes, not after, invalidates or creates)`);
    }
    if (i < toks.length) {
      if (peek() !== ';') throw new ContractSyntaxError(`expected ";" between clauses, found "${peek()}"`);
      next();
    }
  }
  return c;
}

/** libc's allocation family, as cgo exposes it. */
export const BUILTIN_CONTRACTS: readonly string[] = [
  'malloc(size) returns owned released by free',
  'calloc(n, size) returns owned released by free',
  'strdup(s) returns owned released by free',
  'strndup(s, n) returns owned released by free',
  'aligned_alloc(align, size) returns owned released by free',
  'posix_memalign(out, align, size) writes owned to out released by free',
  'free(p) releases p',
  // Memory libc lends: static buffers, the environment, pointers into the argument.
  'getenv(name) returns borrowed',
  'secure_getenv(name) returns borrowed',
  'strerror(errnum) returns borrowed',
  'dlerror() returns borrowed',
  'gai_strerror(errcode) returns borrowed',
  'setlocale(category, locale) returns borrowed',
  'ctime(t) returns borrowed',
  'asctime(tm) returns borrowed',
  'localtime(t) returns borrowed',
  'gmtime(t) returns borrowed',
  'inet_ntoa(in) returns borrowed',
  'ttyname(fd) returns borrowed',
  'strchr(s, c) returns borrowed',
  'strrchr(s, c) returns borrowed',
  'strstr(haystack, needle) returns borrowed',
  'strpbrk(s, accept) returns borrowed',
];

export class ContractSet {
  private readonly byName = new Map<string, Contract>();
  /** Functions contracts name as releasers, with where the first did so. */
  private readonly releasers = new Map<string, string>();

  static withBuiltins(): ContractSet {
    const s = new ContractSet();
    for (const text of BUILTIN_CONTRACTS) s.add(parseContract(text, 'builtin'));
    return s;
  }

  add(c: Contract): void {
    this.noteReleasers(c);
    const prev = this.byName.get(c.name);
    // Later declarations refine earlier ones clause by clause.
    this.byName.set(c.name, prev ? refine(prev, c) : c);
  }

  /**
   * A contract that what is already known refines, as if it had come first: a pack's, turned on by a
   * header after the configuration's contracts and perhaps after another file's directives were read.
   */
  addBelow(c: Contract): void {
    this.noteReleasers(c);
    const known = this.byName.get(c.name);
    this.byName.set(c.name, known ? refine(c, known) : c);
  }

  private noteReleasers(c: Contract): void {
    for (const f of [...(c.returns?.kind === 'owned' ? c.returns.releasedBy : []), ...(c.creates ?? []), ...c.writesOwned.flatMap((w) => w.releasedBy)]) {
      if (!this.releasers.has(f)) this.releasers.set(f, c.origin);
    }
  }

  get(name: string): Contract | undefined {
    const c = this.byName.get(name);
    if (c || !this.releasers.has(name)) return c;
    // A function named as a releaser releases its first argument unless its own contract says otherwise.
    return { ...emptyContract(name, this.releasers.get(name)!), releases: [0] };
  }

  /** A copy to which a package's own directives can be added. */
  clone(): ContractSet {
    const s = new ContractSet();
    for (const c of this.byName.values()) s.byName.set(c.name, c);
    for (const [f, origin] of this.releasers) s.releasers.set(f, origin);
    return s;
  }

  /** A digest of every contract in the set, for keys of what depends on them. */
  digest(): string {
    return createHash('sha256').update(JSON.stringify([[...this.byName.values()], [...this.releasers]])).digest('hex');
  }

  /** Functions some contract says must not be called after them (they mark the handle). */
  protocolMarkers(): Set<string> {
    const out = new Set<string>();
    for (const c of this.byName.values()) c.notAfter.forEach((f) => out.add(f));
    return out;
  }

  all(): Contract[] {
    return [...this.byName.values()];
  }
}

/** `prev` refined by `c`: c's returns and creates replace prev's; the other clauses add up. */
function refine(prev: Contract, c: Contract): Contract {
  return {
    ...prev,
    ...c,
    returns: c.returns ?? prev.returns,
    releases: [...new Set([...prev.releases, ...c.releases])],
    releasesOnSuccess: [...new Set([...prev.releasesOnSuccess, ...c.releasesOnSuccess])],
    releasesPointee: [...new Set([...prev.releasesPointee, ...c.releasesPointee])],
    takes: [...new Set([...prev.takes, ...c.takes])],
    borrows: [...new Set([...prev.borrows, ...c.borrows])],
    // The same clause twice (a pack listed in cgoguard.yaml and turned on by a header too) is one clause.
    writesOwned: distinct([...prev.writesOwned, ...c.writesOwned]),
    takesWithDestructor: distinct([...prev.takesWithDestructor, ...c.takesWithDestructor]),
    creates: c.creates ?? prev.creates,
    notAfter: [...new Set([...prev.notAfter, ...c.notAfter])],
    invalidates: [...new Set([...prev.invalidates, ...c.invalidates])],
  };
}

function distinct<T>(xs: T[]): T[] {
  const seen = new Set<string>();
  return xs.filter((x) => {
    const key = JSON.stringify(x);
    return !seen.has(key) && !!seen.add(key);
  });
}

/**
 * The "Contract:" comment shape of the design document, where it fits:
 *
 *   // Contract: C.T* allocated by C.create()
 *   // → owned by Go; freed via C.destroy() [on finalization]
 *   // → NOT passed to C.use() after C.finish()
 *
 * becomes "create creates released by destroy" and "use not after finish".
 * Lines that do not fit are returned as problems.
 */
export function translateSeedContract(lines: string[]): { contracts: string[]; problems: string[] } {
  const fn = (s: string) => s.replace(/^C\./, '').replace(/\(\)$/, '');
  const contracts: string[] = [];
  const problems: string[] = [];
  const head = /allocated by\s+((?:C\.)?[A-Za-z_]\w*)\(\)/.exec(lines[0] ?? '');
  if (!head) return { contracts, problems: ['expected "Contract: TYPE allocated by C.create()"'] };
  const create = fn(head[1]);
  let releasers: string[] = [];
  for (const line of lines.slice(1)) {
    const body = line.replace(/^\s*(→|->)\s*/, '');
    const freed = /freed via\s+((?:C\.)?[A-Za-z_]\w*)\(\)/.exec(body);
    const notPassed = /NOT passed to\s+((?:C\.)?[A-Za-z_]\w*)\(\)\s+after\s+(.*)$/.exec(body);
    if (freed) releasers.push(fn(freed[1]));
    if (notPassed) {
      const after = /^((?:C\.)?[A-Za-z_]\w*)\(\)/.exec(notPassed[2].trim());
      if (after) contracts.push(`${fn(notPassed[1])} not after ${fn(after[1])}`);
      else problems.push(`"after ${notPassed[2].trim()}" names no function: write "after C.f()"`);
    }
    if (!freed && !notPassed && !/owned by Go/.test(body)) problems.push(`"${body.trim()}" does not fit the Contract: shape (freed via C.f(), NOT passed to C.f() after C.g())`);
  }
  if (!releasers.length) releasers = ['free'];
  contracts.unshift(`${create} creates released by ${releasers.join(', ')}`);
  return { contracts, problems };
}

