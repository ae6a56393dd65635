// Summaries of C function bodies, for the Go side to use at each call: which
// pointer arguments the body frees, keeps beyond the call, or writes through
// (and how far), and what kind of pointer it returns. The reading is
// syntactic and flow-insensitive within a function, and iterated across the
// functions so that wrappers inherit what they call.
import { fieldChild, namedChildren, type RawNode } from '../syntax/raw.js';
import type { CFunc, CModel, CWrite } from './cdecls.js';
import { looksLikeReleaser } from './cnames.js';
import type { Contract } from './contracts.js';
import { cSizeOf, parseCInt, resolveCType, type CType } from './ctypes.js';

/** Statements and expressions whose parts may not run. */
const CONDITIONAL = new Set(['for_statement', 'while_statement', 'do_statement', 'switch_statement', 'conditional_expression', 'case_statement']);

const ALLOCATORS = new Set(['malloc', 'calloc', 'realloc', 'strdup', 'strndup', 'aligned_alloc']);
/** Writers whose destination is argument 0 and that take no length. */
const UNBOUNDED_WRITERS = new Set(['strcpy', 'strcat', 'stpcpy', 'sprintf', 'vsprintf', 'gets', 'wcscpy', 'wcscat']);
/** Writers whose destination is argument 0, and the argument index of their length. */
const LENGTH_WRITERS: Record<string, number> = { memcpy: 2, memmove: 2, memset: 2, strncpy: 2, snprintf: 1, vsnprintf: 1, strncat: 2, fgets: 1, memccpy: 3, bzero: 1 };
/** read(fd, buf, n): the destination is argument 1. */
const READ_LIKE: Record<string, [number, number]> = { read: [1, 2], pread: [1, 2], recv: [1, 2], fread: [0, 2] };

/** alloc: fresh memory, released by `releasedBy` (free when absent). */
/** static: storage that is never freed (a literal, &global, a global array). */
type Origin = { k: 'param'; i: number } | { k: 'alloc'; releasedBy?: string[] } | { k: 'borrowed' } | { k: 'static' } | { k: 'unknown' };

export function summarizeCBodies(model: CModel, defined: { fn: CFunc; body: RawNode }[], src: (n: RawNode) => string): void {
  const infos = defined.map(({ fn, body }) => ({ fn, body, ...scan(fn, body, src, model.contractOf) }));
  // What callees do propagates to callers: iterate until nothing changes.
  for (let round = 0; round < 6; round++) {
    let changed = false;
    for (const info of infos) if (summarize(model, info, src)) changed = true;
    if (!changed) break;
  }
}

interface Scan {
  locals: Set<string>;
  /** Contracts of the functions bodies call (sqlite3_mprintf returns memory sqlite3_free releases). */
  contractOf?: (name: string) => Contract | undefined;
  /** Local variable → where its value comes from (flow-insensitive: conflicting assignments give unknown). */
  origins: Map<string, Origin>;
}

function stripCasts(n: RawNode | undefined): RawNode | undefined {
  while (n && (n.type === 'cast_expression' || n.type === 'parenthesized_expression')) {
    n = n.type === 'cast_expression' ? fieldChild(n, 'value') : namedChildren(n)[0];
  }
  return n;
}

function scan(fn: CFunc, body: RawNode, src: (n: RawNode) => string, contractOf: Scan['contractOf']): Scan {
  const locals = new Set<string>();
  const assigned = new Map<string, RawNode[]>();
  const walk = (n: RawNode) => {
    if (n.type === 'declaration') {
      for (const d of n.children.filter((c) => c.field === 'declarator')) {
        const id = declaredName(d, src);
        if (!id) continue;
        locals.add(id);
        const v = d.type === 'init_declarator' ? fieldChild(d, 'value') : undefined;
        if (v) assigned.set(id, [...(assigned.get(id) ?? []), v]);
      }
    } else if (n.type === 'assignment_expression') {
      const l = stripCasts(fieldChild(n, 'left'));
      const r = fieldChild(n, 'right');
      if (l?.type === 'identifier' && r) assigned.set(src(l), [...(assigned.get(src(l)) ?? []), r]);
    }
    n.children.forEach(walk);
  };
  walk(body);
  const scanResult: Scan = { locals, origins: new Map(), contractOf };
  // Resolve locals in a few passes so `q = p; r = q;` settles.
  for (let pass = 0; pass < 3; pass++) {
    for (const [name, values] of assigned) {
      if (!locals.has(name) || fn.params.some((p) => p.name === name)) continue;
      const os = values.map((v) => originOf(v, fn, scanResult, src, undefined));
      const first = os[0];
      const same = os.every((o) => o.k === first.k && (o.k !== 'param' || (first.k === 'param' && o.i === first.i)));
      scanResult.origins.set(name, same ? first : { k: 'unknown' });
    }
  }
  return scanResult;
}

function declaredName(d: RawNode, src: (n: RawNode) => string): string | undefined {
  let x: RawNode | undefined = d;
  while (x && x.type !== 'identifier') x = fieldChild(x, 'declarator') ?? undefined;
  return x ? src(x) : undefined;
}

/** Where the value of a C expression comes from. */
function originOf(e: RawNode | undefined, fn: CFunc, s: Scan, src: (n: RawNode) => string, model: CModel | undefined): Origin {
  const x = stripCasts(e);
  if (!x) return { k: 'unknown' };
  switch (x.type) {
    case 'identifier': {
      const name = src(x);
      const pi = fn.params.findIndex((p) => p.name === name);
      if (pi >= 0) return { k: 'param', i: pi };
      if (s.locals.has(name)) return s.origins.get(name) ?? { k: 'unknown' };
      // A global: an array is static storage; a pointer may hold anything.
      return model?.globals.get(name)?.k === 'array' ? { k: 'static' } : { k: 'borrowed' };
    }
    case 'string_literal':
    case 'concatenated_string':
      return { k: 'static' };
    case 'subscript_expression': {
      // An element of a global array of arrays (names[i] in char names[4][16]) is static storage.
      const base = stripCasts(fieldChild(x, 'argument'));
      const t = base?.type === 'identifier' && !s.locals.has(src(base)) ? model?.globals.get(src(base)) : undefined;
      return t?.k === 'array' && t.of.k === 'array' ? { k: 'static' } : { k: 'unknown' };
    }
    case 'pointer_expression': {
      // &global is static; &local is not something to hand out.
      const arg = stripCasts(fieldChild(x, 'argument'));
      if (src(x).startsWith('&') && arg?.type === 'identifier' && !s.locals.has(src(arg))) return { k: 'static' };
      return { k: 'unknown' };
    }
    case 'binary_expression': {
      // Pointer arithmetic keeps pointing into the same block, but never at its start.
      const l = originOf(fieldChild(x, 'left'), fn, s, src, model);
      return l.k === 'param' || l.k === 'borrowed' || l.k === 'static' ? { k: 'borrowed' } : { k: 'unknown' };
    }
    case 'call_expression': {
      const f = fieldChild(x, 'function');
      const callee = f?.type === 'identifier' ? src(f) : '';
      const returns = s.contractOf?.(callee)?.returns;
      if (returns) return returns.kind === 'owned' ? { k: 'alloc', releasedBy: returns.releasedBy } : { k: 'borrowed' };
      const callee_ = model?.funcs.get(callee);
      if (ALLOCATORS.has(callee) || callee_?.returns === 'owned') return { k: 'alloc', releasedBy: callee_?.releasedBy };
      return { k: 'unknown' };
    }
    case 'null':
      return { k: 'unknown' };
    default:
      return { k: 'unknown' };
  }
}

function paramOf(e: RawNode | undefined, fn: CFunc, s: Scan, src: (n: RawNode) => string): number {
  const o = originOf(e, fn, s, src, undefined);
  return o.k === 'param' ? o.i : -1;
}

/** Everything a summary says, to tell whether a pass changed it. */
function summaryKey(fn: CFunc): string {
  return `${[...fn.frees]}|${[...fn.retains]}|${[...(fn.mayRelease ?? [])]}|${[...(fn.derefs ?? [])]}|${fn.returns}|${JSON.stringify([...fn.writes])}|${fn.releasedBy}|${fn.returnsArg}|${JSON.stringify(fn.writesOwned ?? [])}`;
}

/** One pass over a body; returns true when the summary grew. */
function summarize(model: CModel, info: { fn: CFunc; body: RawNode } & Scan, src: (n: RawNode) => string): boolean {
  const { fn, body } = info;
  const before = summaryKey(fn);
  const freedLocals = new Set<string>();
  const returns: Origin[] = [];
  const constant = (n: RawNode | undefined): number | undefined => {
    const x = stripCasts(n);
    if (!x) return undefined;
    if (x.type === 'number_literal') return parseCInt(src(x));
    if (x.type === 'sizeof_expression') {
      const t = fieldChild(x, 'type');
      if (t) {
        const name = src(t).replace(/\s+/g, ' ').trim();
        return cSizeOf(model.typedefs.get(name) ?? { k: 'prim', name }, model);
      }
    }
    if (x.type === 'binary_expression') {
      const a = constant(fieldChild(x, 'left'));
      const b = constant(fieldChild(x, 'right'));
      const op = x.children.find((c) => c.field === 'operator');
      if (a !== undefined && b !== undefined && op) {
        const o = src(op);
        if (o === '*') return a * b;
        if (o === '+') return a + b;
        if (o === '-') return a - b;
      }
    }
    return undefined;
  };
  const write = (pi: number, w: CWrite) => {
    if (pi < 0) return;
    const prev = fn.writes.get(pi);
    // Keep the most dangerous description: unbounded over fixed over bounded.
    const rank = (x: CWrite) => (x.k === 'unbounded' ? 3 : x.k === 'fixed' || x.k === 'sized' ? 2 : 1);
    if (!prev || rank(w) > rank(prev) || (w.k === 'fixed' && prev.k === 'fixed' && w.bytes > prev.bytes)) fn.writes.set(pi, w);
  };
  // The conditions guarding the current node: `if` conditions, or null under a loop, switch or ?:.
  let guards: string[] | null = [];
  // Parameters dereferenced, and the text of every condition (a NULL test anywhere spares the parameter).
  const derefd = new Set<number>(fn.derefs ?? []);
  const conditions: string[] = [];
  const walk = (n: RawNode) => {
    if (n.type === 'call_expression') {
      const f = fieldChild(n, 'function');
      const callee = f?.type === 'identifier' ? src(f) : '';
      const args = fieldChild(n, 'arguments');
      const argList = args ? namedChildren(args) : [];
      const calleeFn = model.funcs.get(callee);
      const s_contract = info.contractOf?.(callee);
      const destructorAt = argList.findIndex((a) => {
        const x = stripCasts(a.type === 'pointer_expression' ? namedChildren(a)[0] : a);
        return x?.type === 'identifier' && src(x) === 'free';
      });
      // `lib_set(obj, value, free)` and `sqlite3_result_text(ctx, s, n, free)`: the destructor
      // goes with the data, not with the object or context passed first.
      const pointerArgs = argList.map((a, i) => ({ a, i })).filter(({ a }) => {
        const pi = paramOf(a, fn, info, src);
        return pi >= 0 && fn.params[pi].type.k === 'ptr';
      });
      const handedOver = new Set(destructorAt < 0 ? [] : pointerArgs.length > 1 ? pointerArgs.slice(1).map((x) => x.i) : pointerArgs.map((x) => x.i));
      for (const i of callee === 'free' ? [0] : (s_contract?.releases ?? [])) {
        const x = stripCasts(argList[i]);
        if (x?.type === 'identifier') freedLocals.add(src(x));
      }
      argList.forEach((a, i) => {
        const pi = paramOf(a, fn, info, src);
        if (pi < 0) return;
        if (calleeFn?.derefs?.has(i) && stripCasts(a)?.type === 'identifier') derefd.add(pi);
        // A library's own releaser (named by a contract, or reached through callees) counts only
        // where it surely runs: unguarded, or under a test of that argument. Libraries free
        // conditionally all the time (sqlite3VdbeMemSetStr frees only for SQLITE_DYNAMIC).
        const sure = guards !== null && guards.every((g) => new RegExp(`\\b${src(a).replace(/\W/g, '')}\\b`).test(g));
        const libraryBy = s_contract?.releases.includes(i) ? callee : calleeFn?.frees.has(i) ? calleeFn.freedBy?.get(i) : undefined;
        if ((callee === 'free' && i === 0) || (calleeFn?.frees.has(i) && !libraryBy) || (libraryBy && sure)) {
          fn.frees.add(pi);
          if (libraryBy) (fn.freedBy ??= new Map()).set(pi, libraryBy);
        }
        if (calleeFn?.retains.has(i) || handedOver.has(i)) fn.retains.add(pi);
        // A wrapper forwarding its out parameter (`return sqlite3_open_v2(f, ppDb, ...)`): *ppDb is filled as the callee's contract says.
        const w = s_contract?.writesOwned.find((x) => x.param === i) ?? calleeFn?.writesOwned?.find((x) => x.param === i);
        if (w && !fn.writesOwned?.some((x) => x.param === pi)) (fn.writesOwned ??= []).push({ param: pi, releasedBy: w.releasedBy, ...(w.when ? { when: w.when } : {}), via: callee });
        // Handed to a function named like a releaser that we cannot see, or through a function
        // pointer (the Arrow C data interface's schema->release(schema)): no longer ours to track.
        const unseen = f?.type !== 'identifier' || (!s_contract && !calleeFn?.defined && looksLikeReleaser(callee));
        if (calleeFn?.mayRelease?.has(i) || unseen) (fn.mayRelease ??= new Set()).add(pi);
        const cw = calleeFn?.writes.get(i);
        if (cw) {
          if (cw.k === 'bounded') {
            const bound = argList[cw.by];
            const bj = paramOf(bound, fn, info, src);
            const bc = constant(bound);
            if (bj >= 0) write(pi, { k: 'bounded', by: bj, via: callee });
            else if (bc !== undefined) write(pi, { k: 'fixed', bytes: bc, via: callee });
            else write(pi, { k: 'unbounded', via: callee });
          } else {
            write(pi, { ...cw, via: cw.via === callee ? callee : `${callee} (${cw.via})` });
          }
        }
      });
      // Library writers: the destination and what bounds the write.
      const dest = (idx: number) => paramOf(argList[idx], fn, info, src);
      // A struct moved whole (Arrow's ArrowArrayStreamMove: memcpy(dest, src, sizeof(struct ArrowArrayStream))):
      // what the source holds now lives in the destination, out of our view.
      if ((callee === 'memcpy' || callee === 'memmove') && sizeofOperand(argList[2], fn, model, src)?.type?.k === 'struct' && dest(1) >= 0) (fn.mayRelease ??= new Set()).add(dest(1));
      if (UNBOUNDED_WRITERS.has(callee)) {
        const lit = callee === 'strcpy' || callee === 'stpcpy' || callee === 'sprintf' ? literalBytes(argList[1], src) : undefined;
        write(dest(0), { k: 'unbounded', via: callee, bytes: lit !== undefined && (callee !== 'sprintf' || !/%/.test(src(argList[1]!))) ? lit + 1 : undefined });
      } else if (callee in LENGTH_WRITERS || callee in READ_LIKE) {
        const [d, li] = callee in READ_LIKE ? READ_LIKE[callee] : [0, LENGTH_WRITERS[callee]];
        const len = argList[li];
        const lj = paramOf(len, fn, info, src);
        const lc = constant(len);
        const sized = sizeofOperand(len, fn, model, src);
        if (lj >= 0) write(dest(d), { k: 'bounded', by: lj, via: callee });
        else if (lc !== undefined) write(dest(d), { k: 'fixed', bytes: lc, via: callee });
        else if (sized) write(dest(d), { k: 'sized', type: sized.type, via: callee });
        else write(dest(d), { k: 'unbounded', via: callee });
      }
    } else if (n.type === 'assignment_expression') {
      const left = fieldChild(n, 'left');
      const right = fieldChild(n, 'right');
      // `*schema = (struct ArrowSchema){ .format = fmt, ... }` stores each parameter the literal names.
      for (const value of storedValues(right)) {
        const pi = paramOf(value, fn, info, src);
        if (pi < 0 || !left || fn.params[pi].type.k !== 'ptr') continue;
        const base = baseIdentifier(left, src);
        const isParam = base !== undefined && fn.params.some((p) => p.name === base);
        const isLocal = base !== undefined && info.locals.has(base) && !isParam;
        // Stored into a global, or into memory reachable from a parameter or a global.
        const l = stripCasts(left);
        const retained = l?.type === 'identifier' ? !isLocal && !isParam : !isLocal;
        if (retained) fn.retains.add(pi);
      }
      // p[i] = v with a constant index writes at least i+1 elements.
      const l = stripCasts(left);
      if (l?.type === 'subscript_expression') {
        const arr = fieldChild(l, 'argument');
        const idx = constant(fieldChild(l, 'index') ?? namedChildren(l)[1]);
        const wp = paramOf(arr, fn, info, src);
        if (wp >= 0 && idx !== undefined) {
          const pt = resolveCType(fn.params[wp].type, model);
          const elem = pt.k === 'ptr' ? cSizeOf(pt.to, model) : undefined;
          if (elem !== undefined) write(wp, { k: 'fixed', bytes: (idx + 1) * elem, via: 'an indexed store' });
        }
      }
    } else if (n.type === 'field_expression' || (n.type === 'pointer_expression' && src(n).startsWith('*'))) {
      const arg = fieldChild(n, 'argument');
      const op = n.children.find((c) => c.field === 'operator');
      const pi = arg?.type === 'identifier' ? paramOf(arg, fn, info, src) : -1;
      if (pi >= 0 && (n.type === 'pointer_expression' || (op && src(op) === '->'))) derefd.add(pi);
    } else if (n.type === 'return_statement') {
      const v = namedChildren(n)[0];
      if (v) returns.push(originOf(v, fn, info, src, model));
    }
    descend(n);
  };
  const descend = (n: RawNode) => {
    const saved = guards;
    if (CONDITIONAL.has(n.type) || n.type === 'if_statement') {
      const cond = fieldChild(n, 'condition');
      if (cond) conditions.push(src(cond));
    }
    // `p && p->x`: the left operand tests what the right one dereferences.
    if (n.type === 'binary_expression' && /^(&&|\|\|)$/.test(src(n.children.find((c) => c.field === 'operator') ?? n))) conditions.push(src(fieldChild(n, 'left') ?? n));
    if (n.type === 'if_statement') {
      const cond = fieldChild(n, 'condition');
      if (cond) walk(cond);
      if (guards !== null) guards = [...guards, cond ? src(cond) : ''];
      n.children.filter((c) => c !== cond).forEach(walk);
    } else {
      if (CONDITIONAL.has(n.type)) guards = null;
      n.children.forEach(walk);
    }
    guards = saved;
  };
  walk(body);
  const tested = (pi: number) => {
    const name = fn.params[pi]?.name;
    // The pointer itself in a condition (`if (!p)`, `p == NULL`, `p && p->x`), not a field read through it.
    const bare = new RegExp(`(?<![\\w.>])${name}\\b(?!\\s*(?:->|\\.|\\[|\\())`);
    return !name || conditions.some((c) => bare.test(c)) || new RegExp(`\\bassert\\s*\\([^;]*\\b${name}\\b`).test(src(body));
  };
  const derefs = [...derefd].filter((pi) => fn.params[pi]?.type.k === 'ptr' && !tested(pi));
  if (derefs.length) fn.derefs = new Set(derefs);
  // A local the body frees is not handed out.
  const freedAlloc = [...freedLocals].some((l) => info.origins.get(l)?.k === 'alloc');
  const kinds = returns.map((o) => o.k);
  if (kinds.length && kinds.every((k) => k === 'alloc') && !freedAlloc) {
    fn.returns = 'owned';
    // One releaser for every path, or libc's free.
    const releasers = new Set(returns.map((o) => (o.k === 'alloc' ? (o.releasedBy ?? ['free']).join(',') : '')));
    fn.releasedBy = releasers.size === 1 && !releasers.has('free') ? [...releasers][0].split(',') : undefined;
  }
  else if (kinds.length && kinds.every((k) => k === 'static')) fn.returns = 'static';
  else if (returns.length && returns.every((o) => o.k === 'param' && o.i === (returns[0] as { i: number }).i)) {
    fn.returns = 'borrowed';
    fn.returnsArg = (returns[0] as { i: number }).i;
  }
  else if (kinds.length && kinds.every((k) => k === 'borrowed' || k === 'param' || k === 'static')) fn.returns = 'borrowed';
  const after = summaryKey(fn);
  return before !== after;
}

/**
 * `sizeof(T)`, `sizeof(*p)` or `sizeof(p[0])`: a length that is the size of a type. The type is the
 * one named, or what parameter p is declared to point to; absent when it cannot be told.
 */
function sizeofOperand(n: RawNode | undefined, fn: CFunc, model: CModel, src: (n: RawNode) => string): { type?: CType } | undefined {
  const x = stripCasts(n);
  if (x?.type !== 'sizeof_expression') return undefined;
  const t = fieldChild(x, 'type');
  if (t) {
    const name = src(t).replace(/\s+/g, ' ').trim();
    return { type: model.typedefs.get(name) ?? (/^(struct|union) /.test(name) ? model.structs.get(name) : undefined) ?? { k: 'named', name } };
  }
  let v = stripCasts(fieldChild(x, 'value'));
  // sizeof(name_t) of a typedef parses as an expression.
  if (v?.type === 'identifier' && model.typedefs.has(src(v))) return { type: model.typedefs.get(src(v)) };
  if (v?.type === 'pointer_expression' && src(v).startsWith('*')) v = fieldChild(v, 'argument');
  else if (v?.type === 'subscript_expression' && src(fieldChild(v, 'index') ?? v) === '0') v = fieldChild(v, 'argument');
  else return {};
  const p = v?.type === 'identifier' ? fn.params.find((q) => q.name === src(v!)) : undefined;
  const declared = p ? resolveCType(p.type, model) : undefined;
  return { type: declared?.k === 'ptr' ? declared.to : undefined };
}

function baseIdentifier(n: RawNode, src: (n: RawNode) => string): string | undefined {
  let x: RawNode | undefined = n;
  while (x && x.type !== 'identifier') {
    x = fieldChild(x, 'argument') ?? fieldChild(x, 'declarator') ?? fieldChild(x, 'left') ?? namedChildren(x)[0];
  }
  return x ? src(x) : undefined;
}

/** Bytes of a C string literal (without the terminating NUL). */
function literalBytes(n: RawNode | undefined, src: (n: RawNode) => string): number | undefined {
  const x = stripCasts(n);
  if (!x || x.type !== 'string_literal') return undefined;
  const body = src(x).replace(/^[LuU8]*"/, '').replace(/"$/, '');
  let bytes = 0;
  for (let i = 0; i < body.length; i++) {
    if (body[i] === '\\') {
      const e = body[i + 1];
      if (e === 'x') {
        i += 1;
        while (/[0-9a-fA-F]/.test(body[i + 1] ?? '')) i++;
      } else if (/[0-7]/.test(e)) {
        let k = 0;
        while (k < 3 && /[0-7]/.test(body[i + 1] ?? '')) {
          i++;
          k++;
        }
      } else i++;
      bytes++;
    } else {
      const c = body.codePointAt(i)!;
      bytes += c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
      if (c > 0xffff) i++;
    }
  }
  return bytes;
}

/** What an assignment stores: the value itself, or each value a compound literal or initializer list holds. */
function storedValues(right: RawNode | undefined): RawNode[] {
  const r = stripCasts(right);
  if (!r) return [];
  const list = r.type === 'compound_literal_expression' ? fieldChild(r, 'value') : r.type === 'initializer_list' ? r : undefined;
  if (!list) return [r];
  return namedChildren(list).flatMap((c) => (c.type === 'initializer_pair' ? storedValues(fieldChild(c, 'value')) : storedValues(c)));
}
