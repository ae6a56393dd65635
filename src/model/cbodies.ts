// C function bodies read when the analysis reaches them. Each C text (a
// preamble, a .c or .h file) has its declarations read at once from its
// skeleton; a body is parsed and summarised only when a function that the
// package's Go code calls needs it, following calls inside C.
//
// The summaries are the same as if every body of every text had been
// summarised as the text was added (csummary.ts iterates over one text's
// bodies in order): each text keeps the model as it stood when it was added
// (what its bodies could see then), and the functions a demand reaches are
// iterated together, from fresh summaries, in text order. A set of functions
// closed under "calls" sees the same rounds as the whole text did, so every
// function it holds ends with the summary the whole text would have given it.
// What a demand summarised is kept in the cache, keyed by the texts (and the
// contracts their bodies saw) and the functions asked for; so are the
// declarations of big texts that have to be parsed whole.
import { parseC } from '../syntax/parser.js';
import { copyTree, fieldChild, type RawNode } from '../syntax/raw.js';
import { createHash } from 'node:crypto';
import { analysisDigest, readEntry, writeEntry } from './cachestore.js';
import type { CFunc, CModel, CWrite } from './cdecls.js';
import { addCTree, parseCText, type CDefinition } from './cmodel.js';
import type { Contract } from './contracts.js';
import { cSkeleton, type CSkeleton } from './cskeleton.js';
import { summarizeCBodies } from './csummary.js';

interface Source {
  text: string;
  /** Its place among the texts with definitions; the texts before it and the contracts its bodies see (for the cache's key). */
  index: number;
  digest: string;
  /** The model as this text's bodies see it: the declarations of the texts added up to this one. */
  scope: CModel;
  /** Read whole: its bodies come from a parse of the whole text, never one by one. */
  irregular: boolean;
  /** Bodies from a parse of the whole text, once a body could not be parsed on its own. */
  whole?: Map<number, RawNode>;
}

interface Deferred {
  fn: CFunc;
  source: Source;
  /** Its place among its text's definitions. */
  index: number;
  /** Where the definition starts in its text, and where its body ends. */
  start: number;
  end: number;
  /** Position in the order bodies would have been summarised. */
  order: number;
  done: boolean;
  body?: RawNode;
}

/** Counts, for tests and benchmarks: how much C was read. */
export interface CBodyStats {
  texts: number;
  /** Texts whose skeleton could not be trusted: parsed whole (their bodies are still summarised only when reached). */
  readWhole: number;
  definitions: number;
  summarized: number;
  /** Summaries read from the cache instead. */
  fromCache: number;
  /** Texts read whole whose declarations came from the cache. */
  treesFromCache: number;
}

/** The contracts a text's bodies see: the lookup, and a digest of them for the cache's key. */
export interface ContractsNow {
  get: (name: string) => Contract | undefined;
  digest: string;
}

export class CBodies {
  private readonly deferred = new Map<CFunc, Deferred>();
  private order = 0;
  readonly stats: CBodyStats = { texts: 0, readWhole: 0, definitions: 0, summarized: 0, fromCache: 0, treesFromCache: 0 };
  private readonly sources: Source[] = [];
  /** Digests of every text added to the model so far, in order (their declarations are what bodies see). */
  private readonly texts: string[] = [];

  /**
   * Adds a C text's declarations to `model`; its bodies wait until they are
   * needed. `contracts` gives the contracts as they stand now.
   */
  add(model: CModel, text: string, source: string, contracts: () => ContractsNow): void {
    this.stats.texts++;
    this.declared(text);
    const skeleton = cSkeleton(text);
    const tree = skeleton && parseCText(skeleton.text, false);
    if (skeleton && tree && bodiesAgree(tree, skeleton)) {
      const defs = addCTree(model, tree, skeleton.text, { source, bodies: 'deferred', original: skeleton.original });
      // The closing brace was kept: a body ends just past its original offset.
      this.register(defs, model, text, contracts, (d) => ({ start: skeleton.original(d.start), end: skeleton.original(d.body.end - 1) + 1 }));
      return;
    }
    // Braces the lexer cannot match as tree-sitter would: the text is parsed whole, and its
    // bodies are only ever taken from a whole parse. A big one's declarations are kept in the
    // cache (as the tree without bodies), so that a later run does not parse it again.
    this.stats.readWhole++;
    const key = text.length >= CACHED_TREE_CHARS ? createHash('sha256').update(`${analysisDigest()}\0`).update(text).digest('hex') : undefined;
    const cached = key === undefined ? undefined : readEntry('cdecls', key, isPackedNode);
    const root = cached ? unpack(cached) : parseCText(text, true);
    if (cached) this.stats.treesFromCache++;
    else if (key) writeEntry('cdecls', key, pack(root));
    const defs = addCTree(model, root, text, { source, bodies: 'deferred' });
    this.register(defs, model, text, contracts, (d) => ({ start: d.start, end: d.body.end, ...(cached ? {} : { body: d.body }) }), true);
  }

  private register(
    defs: CDefinition[],
    model: CModel,
    text: string,
    contracts: () => ContractsNow,
    place: (d: CDefinition) => { start: number; end: number; body?: RawNode },
    irregular = false,
  ): void {
    if (!defs.length) return;
    const now = contracts();
    const source: Source = { text, index: this.sources.length, digest: `${this.texts.join(',')}:${now.digest}`, scope: snapshot(model, now.get), irregular };
    this.sources.push(source);
    defs.forEach((d, index) => {
      this.stats.definitions++;
      this.deferred.set(d.fn, { fn: d.fn, source, index, order: this.order++, done: false, ...place(d) });
    });
  }

  /** Notes a text whose declarations were added to the model by other means (the preprocessed headers). */
  declared(text: string): void {
    this.texts.push(createHash('sha256').update(text).digest('hex'));
  }

  /** True when `fn` is defined in a text whose body has not been summarised yet. */
  pending(fn: CFunc): boolean {
    return this.deferred.get(fn)?.done === false;
  }

  /** Summarises the bodies of `roots` and of every function they reach in C. */
  summarize(roots: CFunc[]): void {
    const wanted = new Map<Source, Set<Deferred>>();
    const want = (d: Deferred) => {
      const set = wanted.get(d.source) ?? new Set();
      set.add(d);
      wanted.set(d.source, set);
    };
    for (const f of roots) {
      const d = this.deferred.get(f);
      if (d && !d.done) want(d);
    }
    if (!wanted.size) return;
    const key = this.cacheKey(wanted);
    if (this.fromCache(key, wanted)) return;
    // Later texts first: what their bodies call in earlier texts becomes wanted there.
    const closures: Deferred[][] = [];
    const sources = [...new Set([...this.deferred.values()].map((d) => d.source))].reverse();
    for (const source of sources) {
      const seeds = wanted.get(source);
      if (!seeds) continue;
      const members = new Set<Deferred>();
      const stack = [...seeds];
      while (stack.length) {
        const d = stack.pop()!;
        if (members.has(d)) continue;
        members.add(d);
        for (const name of callees(this.bodyOf(d), source.text)) {
          const target = source.scope.funcs.get(name);
          const td = target && this.deferred.get(target);
          if (!td) continue;
          if (td.source === source) stack.push(td);
          else if (!td.done) want(td);
        }
      }
      closures.unshift([...members].sort((a, b) => a.order - b.order));
    }
    for (const members of closures) this.iterate(members);
    writeEntry('csummaries', key, { v: 1, summaries: closures.flat().map((d) => [d.source.index, d.index, storedSummary(d.fn)]) });
  }

  /** The texts so far (with the contracts each text's bodies saw) and the functions asked for. */
  private cacheKey(wanted: Map<Source, Set<Deferred>>): string {
    const hash = createHash('sha256').update(`${analysisDigest()}\0${this.texts.join(',')}\0`);
    for (const s of this.sources) hash.update(`${s.digest}\0`);
    const asked = [...wanted.values()].flatMap((set) => [...set].map((d) => `${d.source.index}:${d.index}`));
    return hash.update(asked.sort().join(',')).digest('hex');
  }

  /** Takes the summaries a run with the same texts made; false when they are not all there. */
  private fromCache(key: string, wanted: Map<Source, Set<Deferred>>): boolean {
    const entry = readEntry('csummaries', key, isStoredPass);
    if (!entry) return false;
    const byPlace = new Map([...this.deferred.values()].map((d) => [`${d.source.index}:${d.index}`, d]));
    for (const [source, index, summary] of entry.summaries) {
      const d = byPlace.get(`${source}:${index}`);
      if (!d || d.done) continue;
      adoptSummary(d.fn, restoredSummary(d.fn, summary));
      d.done = true;
      this.stats.fromCache++;
    }
    return [...wanted.values()].every((set) => [...set].every((d) => d.done));
  }

  /** One text's functions, closed under calls, summarised together from fresh summaries. */
  private iterate(members: Deferred[]): void {
    const { source } = members[0];
    const fresh = new Map(members.map((d) => [d.fn, freshCopy(d.fn)]));
    const funcs = new Map(source.scope.funcs);
    for (const [fn, copy] of fresh) if (funcs.get(fn.name) === fn) funcs.set(fn.name, copy);
    const view: CModel = { ...source.scope, funcs };
    summarizeCBodies(
      view,
      members.map((d) => ({ fn: fresh.get(d.fn)!, body: this.bodyOf(d) })),
      (n) => source.text.slice(n.start, n.end),
    );
    for (const d of members) {
      if (!d.done) {
        adoptSummary(d.fn, fresh.get(d.fn)!);
        d.done = true;
        this.stats.summarized++;
      }
      d.body = undefined; // parsed again in the rare case a later demand passes through it
    }
  }

  /** The body of a definition (offsets in its text): parsed on its own, or as part of its whole text. */
  private bodyOf(d: Deferred): RawNode {
    d.body ??= (d.source.irregular ? undefined : bodyAlone(d.source.text, d.start, d.end)) ?? this.wholeBody(d);
    return d.body;
  }

  /** A body as the parse of its whole text has it (an #if around a function's head, a macro that misleads the parser). */
  private wholeBody(d: Deferred): RawNode {
    d.source.whole ??= wholeBodies(d.source.text);
    return d.source.whole.get(d.start) ?? { type: 'compound_statement', field: 'body', start: d.end - 1, end: d.end, named: true, children: [] };
  }
}

/** The body of the definition at [start, end) parsed alone, or undefined when alone it parses as something else. */
function bodyAlone(text: string, start: number, end: number): RawNode | undefined {
  const chunk = text.slice(start, end);
  const tree = parseC(chunk);
  try {
    const def = tree.rootNode.namedChildren.find((c) => c?.type === 'function_definition');
    const body = def?.childForFieldName('body');
    return def && body && def.startIndex === 0 && body.endIndex === chunk.length ? shifted(copyTree(tree, body), start) : undefined;
  } finally {
    tree.delete();
  }
}

/** Every dropped body is the body of a function definition in the skeleton's tree. */
function bodiesAgree(root: RawNode, skeleton: CSkeleton): boolean {
  const bodyEnds = new Map<number, number>();
  const walk = (n: RawNode) => {
    if (n.type === 'function_definition') {
      const b = fieldChild(n, 'body');
      if (b) bodyEnds.set(b.start, b.end);
      return;
    }
    n.children.forEach(walk);
  };
  walk(root);
  return skeleton.regions.every((r) => r.kind !== 'body' || bodyEnds.get(skeleton.skeletal(r.open)) === skeleton.skeletal(r.open) + 2);
}

/** The names a body calls directly: what csummary.ts looks up in the model. */
function callees(body: RawNode, text: string): Set<string> {
  const out = new Set<string>();
  const walk = (n: RawNode) => {
    if (n.type === 'call_expression') {
      const f = fieldChild(n, 'function');
      if (f?.type === 'identifier') out.add(text.slice(f.start, f.end));
    }
    n.children.forEach(walk);
  };
  walk(body);
  return out;
}

/** The model as it stands, for the bodies of the text just added. */
function snapshot(model: CModel, contractOf: (name: string) => Contract | undefined): CModel {
  return {
    funcs: new Map(model.funcs),
    typedefs: new Map(model.typedefs),
    structs: new Map(model.structs),
    globals: new Map(model.globals),
    values: model.values,
    macros: model.macros,
    contractOf,
  };
}

/** A definition with the summary it had before its body was read. */
function freshCopy(fn: CFunc): CFunc {
  return { name: fn.name, params: fn.params, ret: fn.ret, defined: fn.defined, offset: fn.offset, source: fn.source, frees: new Set(), retains: new Set(), returns: 'unknown', writes: new Map() };
}

function adoptSummary(fn: CFunc, from: CFunc): void {
  fn.frees = from.frees;
  fn.retains = from.retains;
  fn.returns = from.returns;
  fn.writes = from.writes;
  if (from.returnsArg !== undefined) fn.returnsArg = from.returnsArg;
  if (from.releasedBy !== undefined) fn.releasedBy = from.releasedBy;
  if (from.freedBy !== undefined) fn.freedBy = from.freedBy;
  if (from.mayRelease !== undefined) fn.mayRelease = from.mayRelease;
  if (from.derefs !== undefined) fn.derefs = from.derefs;
  if (from.writesOwned !== undefined) fn.writesOwned = from.writesOwned;
}

/** A summary as the cache keeps it (JSON: sets and maps as arrays). */
interface StoredSummary {
  frees: number[];
  retains: number[];
  returns: CFunc['returns'];
  writes: [number, CWrite][];
  returnsArg?: number;
  releasedBy?: string[];
  freedBy?: [number, string][];
  mayRelease?: number[];
  derefs?: number[];
  writesOwned?: CFunc['writesOwned'];
}

interface StoredPass {
  v: 1;
  summaries: [number, number, StoredSummary][];
}

function isStoredPass(v: unknown): v is StoredPass {
  const p = v as StoredPass | null;
  return typeof p === 'object' && p !== null && p.v === 1 && Array.isArray(p.summaries) && p.summaries.every((e) => Array.isArray(e) && e.length === 3 && typeof e[2] === 'object' && Array.isArray(e[2]?.frees));
}

function storedSummary(fn: CFunc): StoredSummary {
  return {
    frees: [...fn.frees],
    retains: [...fn.retains],
    returns: fn.returns,
    writes: [...fn.writes],
    ...(fn.returnsArg !== undefined ? { returnsArg: fn.returnsArg } : {}),
    ...(fn.releasedBy !== undefined ? { releasedBy: fn.releasedBy } : {}),
    ...(fn.freedBy !== undefined ? { freedBy: [...fn.freedBy] } : {}),
    ...(fn.mayRelease !== undefined ? { mayRelease: [...fn.mayRelease] } : {}),
    ...(fn.derefs !== undefined ? { derefs: [...fn.derefs] } : {}),
    ...(fn.writesOwned !== undefined ? { writesOwned: fn.writesOwned } : {}),
  };
}

function restoredSummary(fn: CFunc, s: StoredSummary): CFunc {
  return {
    ...freshCopy(fn),
    frees: new Set(s.frees),
    retains: new Set(s.retains),
    returns: s.returns,
    writes: new Map(s.writes),
    ...(s.returnsArg !== undefined ? { returnsArg: s.returnsArg } : {}),
    ...(s.releasedBy !== undefined ? { releasedBy: s.releasedBy } : {}),
    ...(s.freedBy !== undefined ? { freedBy: new Map(s.freedBy) } : {}),
    ...(s.mayRelease !== undefined ? { mayRelease: new Set(s.mayRelease) } : {}),
    ...(s.derefs !== undefined ? { derefs: new Set(s.derefs) } : {}),
    ...(s.writesOwned !== undefined ? { writesOwned: s.writesOwned } : {}),
  };
}

function shifted(n: RawNode, by: number): RawNode {
  return { ...n, start: n.start + by, end: n.end + by, children: n.children.map((c) => shifted(c, by)) };
}

/** Texts read whole from this size on keep their declarations in the cache. */
const CACHED_TREE_CHARS = 64 * 1024;

/**
 * A tree as the cache keeps it: [type, field, start, end, named, children],
 * bodies left out. An error node has no type name in the grammar's tables
 * (raw.ts gives it none): null in JSON, restored as it was.
 */
type PackedNode = [string | null, string | null, number, number, 0 | 1, PackedNode[]];

function pack(n: RawNode): PackedNode {
  return [n.type ?? null, n.field, n.start, n.end, n.named ? 1 : 0, n.type === 'compound_statement' ? [] : n.children.map(pack)];
}

function unpack(p: PackedNode): RawNode {
  return { type: p[0] ?? (undefined as unknown as string), field: p[1], start: p[2], end: p[3], named: p[4] === 1, children: p[5].map(unpack) };
}

function isPackedNode(v: unknown): v is PackedNode {
  return Array.isArray(v) && v.length === 6 && (typeof v[0] === 'string' || v[0] === null) && Array.isArray(v[5]);
}

/** The bodies of a whole text's function definitions, by where each definition starts. */
function wholeBodies(text: string): Map<number, RawNode> {
  const out = new Map<number, RawNode>();
  const walk = (n: RawNode) => {
    if (n.type === 'function_definition') {
      const b = fieldChild(n, 'body');
      if (b) out.set(n.start, b);
      return;
    }
    n.children.forEach(walk);
  };
  walk(parseCText(text, true));
  return out;
}
