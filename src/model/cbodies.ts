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
import { parseC } from '../syntax/parser.js';
import { copyTree, fieldChild, type RawNode } from '../syntax/raw.js';
import type { CFunc, CModel } from './cdecls.js';
import { addCTree, parseCText, type CDefinition } from './cmodel.js';
import type { Contract } from './contracts.js';
import { cSkeleton, type CSkeleton } from './cskeleton.js';
import { summarizeCBodies } from './csummary.js';

interface Source {
  text: string;
  /** The model as this text's bodies see it: the declarations of the texts added up to this one. */
  scope: CModel;
  /** Bodies from a parse of the whole text, once a body could not be parsed on its own. */
  whole?: Map<number, RawNode>;
}

interface Deferred {
  fn: CFunc;
  source: Source;
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
}

export class CBodies {
  private readonly deferred = new Map<CFunc, Deferred>();
  private order = 0;
  readonly stats: CBodyStats = { texts: 0, readWhole: 0, definitions: 0, summarized: 0 };

  /**
   * Adds a C text's declarations to `model`; its bodies wait until they are
   * needed. `contracts` gives the contracts as they stand now.
   */
  add(model: CModel, text: string, source: string, contracts: () => (name: string) => Contract | undefined): void {
    this.stats.texts++;
    const skeleton = cSkeleton(text);
    const root = skeleton && parseCText(skeleton.text, false);
    if (skeleton && root && bodiesAgree(root, skeleton)) {
      const defs = addCTree(model, root, skeleton.text, { source, bodies: 'deferred', original: skeleton.original });
      // The closing brace was kept: a body ends just past its original offset.
      this.register(defs, model, text, contracts, (d) => ({ start: skeleton.original(d.start), end: skeleton.original(d.body.end - 1) + 1 }));
      return;
    }
    // Braces the lexer cannot match as tree-sitter would: the text is parsed whole, its bodies kept.
    this.stats.readWhole++;
    const defs = addCTree(model, parseCText(text, true), text, { source, bodies: 'deferred' });
    this.register(defs, model, text, contracts, (d) => ({ start: d.start, end: d.body.end, body: d.body }));
  }

  private register(
    defs: CDefinition[],
    model: CModel,
    text: string,
    contracts: () => (name: string) => Contract | undefined,
    place: (d: CDefinition) => { start: number; end: number; body?: RawNode },
  ): void {
    if (!defs.length) return;
    const source: Source = { text, scope: snapshot(model, contracts()) };
    for (const d of defs) {
      this.stats.definitions++;
      this.deferred.set(d.fn, { fn: d.fn, source, order: this.order++, done: false, ...place(d) });
    }
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

  /** The body of a definition, parsed on its own (offsets in its text). */
  private bodyOf(d: Deferred): RawNode {
    if (d.body) return d.body;
    const { text } = d.source;
    const chunk = text.slice(d.start, d.end);
    const tree = parseC(chunk);
    try {
      const def = tree.rootNode.namedChildren.find((c) => c?.type === 'function_definition');
      const body = def?.childForFieldName('body');
      if (def && body && def.startIndex === 0 && body.endIndex === chunk.length) {
        d.body = shifted(copyTree(tree, body), d.start);
        return d.body;
      }
    } finally {
      tree.delete();
    }
    // Alone it parses differently (a macro, an #if around its head): as part of the whole text.
    d.source.whole ??= wholeBodies(text);
    d.body = d.source.whole.get(d.start) ?? { type: 'compound_statement', field: 'body', start: d.end - 1, end: d.end, named: true, children: [] };
    return d.body;
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
}

function shifted(n: RawNode, by: number): RawNode {
  return { ...n, start: n.start + by, end: n.end + by, children: n.children.map((c) => shifted(c, by)) };
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
