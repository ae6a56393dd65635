// Function results kept between analyses of the same package (the language
// server re-analyses a package on every edit). A function's result is reused
// when its text, its place, the package's declarations and every summary the
// interpreter looked up while analysing it are what they were. Edits move
// functions: `moveThroughEdit` shifts what is kept (offsets, lines, the line
// numbers in messages) past an edited region, so that a function below an
// inserted line is not analysed again. Results that mention the edited
// region itself are dropped.
import { createHash } from 'node:crypto';
import type { FunctionResult, SummaryLookup } from '../flow/base.js';
import type { Report } from '../flow/hooks.js';
import type { Step } from '../flow/state.js';
import type { Summary } from '../flow/summary.js';
import { Edit, type Tree } from 'web-tree-sitter';
import type { GoFile } from '../syntax/goast.js';
import { parseGo } from '../syntax/parser.js';

/** What must be the same for a kept result to hold. */
export interface MemoProbe {
  /** The package's declarations, contracts, C files and imported summaries (a digest). */
  context: string;
  file: string;
  pos: number;
  text: string;
  pathSensitive: boolean;
}

interface Entry extends MemoProbe {
  /** The summaries the analysis looked up, as they were (undefined: not found). */
  consulted: Map<string, Summary | undefined>;
  result: FunctionResult;
}

/** An edit of one file, as whole lines: old lines [from, oldTo] became [from, newTo]. */
interface LineEdit {
  file: string;
  from: number;
  oldTo: number;
  newTo: number;
  /** UTF-16 offsets of the start of line `from` and of the line after oldTo (old text), and the change in length. */
  startOffset: number;
  oldEndOffset: number;
  delta: number;
}

class Unmovable extends Error {}

export class FunctionMemo {
  private readonly entries = new Map<string, Entry>();
  private used = new Set<string>();
  hits = 0;
  misses = 0;

  /** The kept result for the function, when everything it depended on is unchanged. */
  lookup(key: string, probe: MemoProbe, summaries: SummaryLookup): FunctionResult | undefined {
    const e = this.entries.get(key);
    const same =
      e &&
      e.context === probe.context &&
      e.file === probe.file &&
      e.pos === probe.pos &&
      e.pathSensitive === probe.pathSensitive &&
      e.text === probe.text &&
      [...e.consulted].every(([k, s]) => JSON.stringify(summaries.get(k)) === JSON.stringify(s));
    if (!same) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    this.used.add(key);
    return structuredClone(e.result);
  }

  /** A lookup that notes what the analysis asked for, to store with its result. */
  recording(summaries: SummaryLookup): SummaryLookup & { consulted: Map<string, Summary | undefined> } {
    const consulted = new Map<string, Summary | undefined>();
    return {
      consulted,
      get(key: string) {
        const s = summaries.get(key);
        if (!consulted.has(key)) consulted.set(key, s && structuredClone(s));
        return s;
      },
    };
  }

  store(key: string, probe: MemoProbe, consulted: Map<string, Summary | undefined>, result: FunctionResult): void {
    this.used.add(key);
    this.entries.set(key, { ...probe, consulted, result: structuredClone(result) });
  }

  /** Forgets what the last analyses did not use (functions deleted or renamed). */
  prune(): void {
    for (const k of this.entries.keys()) if (!this.used.has(k)) this.entries.delete(k);
    for (const k of this.calls.keys()) if (!this.callsUsed.has(k)) this.calls.delete(k);
    this.used = new Set();
    this.callsUsed = new Set();
  }

  private readonly calls = new Map<string, { context: string; text: string; callees: string[]; touchesC: boolean }>();
  private callsUsed = new Set<string>();

  /** What a function calls, as found when its body was last converted (the calls do not depend on where it stands). */
  callsOf(key: string, context: string, text: string): { callees: Set<string>; touchesC: boolean } | undefined {
    const c = this.calls.get(key);
    if (!c || c.context !== context || c.text !== text) return undefined;
    this.callsUsed.add(key);
    return { callees: new Set(c.callees), touchesC: c.touchesC };
  }

  storeCalls(key: string, context: string, text: string, calls: { callees: Set<string>; touchesC: boolean }): void {
    this.callsUsed.add(key);
    this.calls.set(key, { context, text, callees: [...calls.callees], touchesC: calls.touchesC });
  }

  private readonly trees = new Map<string, { text: string; tree: Tree }>();

  /**
   * The file's syntax tree, parsed again only where it changed since the
   * last analysis. The memo owns the tree: the caller must not delete it.
   */
  parse(path: string, text: string): Tree {
    const prev = this.trees.get(path);
    if (prev?.text === text) return prev.tree;
    let tree: Tree;
    if (prev) {
      prev.tree.edit(treeEdit(prev.text, text));
      tree = parseGo(text, prev.tree);
      prev.tree.delete();
    } else tree = parseGo(text);
    this.trees.set(path, { text, tree });
    return tree;
  }

  /** Frees the trees of files no longer analysed. */
  dropTrees(keep: ReadonlySet<string>): void {
    for (const [p, t] of this.trees) {
      if (keep.has(p)) continue;
      t.tree.delete();
      this.trees.delete(p);
    }
  }

  get size(): number {
    return this.entries.size;
  }

  /** Shifts what is kept through the change of one file from `before` to `after`. */
  moveThroughEdit(file: string, before: string, after: string): void {
    if (before === after) return;
    const edit = lineEdit(file, before, after);
    for (const [k, e] of this.entries) {
      try {
        moveEntry(e, edit);
      } catch (err) {
        if (!(err instanceof Unmovable)) throw err;
        this.entries.delete(k);
      }
    }
  }
}

/** The smallest run of whole lines that differs, from the common prefix and suffix. */
function lineEdit(file: string, before: string, after: string): LineEdit {
  const a = before.split('\n');
  const b = after.split('\n');
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++;
  const startOffset = a.slice(0, head).reduce((n, l) => n + l.length + 1, 0);
  const oldEndOffset = startOffset + a.slice(head, a.length - tail).reduce((n, l) => n + l.length + 1, 0);
  return { file, from: head + 1, oldTo: a.length - tail, newTo: b.length - tail, startOffset, oldEndOffset, delta: after.length - before.length };
}

function moveLine(edit: LineEdit, file: string, line: number): number {
  if (file !== edit.file || line < edit.from) return line;
  if (line > edit.oldTo) return line + (edit.newTo - edit.oldTo);
  throw new Unmovable();
}

function moveOffset(edit: LineEdit, offset: number): number {
  if (offset < edit.startOffset) return offset;
  if (offset >= edit.oldEndOffset) return offset + edit.delta;
  throw new Unmovable();
}

/** Line numbers in messages: "line N" in the message's own file, "path.go:N" in that file. */
function moveMessage(edit: LineEdit, ownFile: string, message: string): string {
  return message
    .replace(/\bline (\d+)\b/g, (_, n: string) => `line ${moveLine(edit, ownFile, Number(n))}`)
    .replace(/([\w./-]+\.(?:go|c|h)):(\d+)/g, (_, f: string, n: string) => `${f}:${moveLine(edit, f, Number(n))}`);
}

/** Steps a kept result shares between its summary and its reports are moved once. */
function moveSteps(edit: LineEdit, steps: Step[], moved: Set<Step>): void {
  for (const s of steps) {
    if (moved.has(s)) continue;
    moved.add(s);
    s.line = moveLine(edit, s.file, s.line);
    s.message = moveMessage(edit, s.file, s.message);
  }
}

function moveSummary(edit: LineEdit, s: Summary | undefined, moved: Set<Step>): void {
  for (const c of s?.cases ?? []) {
    for (const r of c.results) if ('steps' in r) moveSteps(edit, r.steps, moved);
    for (const e of c.effects) if ('steps' in e) moveSteps(edit, e.steps, moved);
  }
}

function moveEntry(e: Entry, edit: LineEdit): void {
  const own = e.file === edit.file;
  if (own) e.pos = moveOffset(edit, e.pos);
  if (own && e.pos < edit.oldEndOffset + edit.delta && e.pos + e.text.length > edit.startOffset) throw new Unmovable();
  const moved = new Set<Step>();
  for (const s of e.consulted.values()) moveSummary(edit, s, moved);
  moveSummary(edit, e.result.summary, moved);
  for (const r of e.result.reports as Report[]) {
    if (own) {
      r.pos = moveOffset(edit, r.pos);
      r.end = moveOffset(edit, r.end);
    }
    r.message = moveMessage(edit, e.file, r.message);
    moveSteps(edit, r.trace, moved);
  }
}

/** Thrown by an analysis whose `cancelled` poll said so. */
export class AnalysisCancelled extends Error {
  constructor() {
    super('analysis cancelled');
  }
}

/**
 * A digest of what every function's analysis may read besides its own body
 * and the summaries it looks up: the files' declarations (their text with
 * function bodies left out), the C files, the imported summaries, contracts,
 * rules and budget.
 */
export function packageContext(
  job: { importPath: string },
  files: GoFile[],
  cFiles: { display: string; text: string }[],
  external: Summary[],
  opts: { contracts: unknown; disabledRules: ReadonlySet<string>; budget?: unknown; domains?: readonly { id: string }[] },
): string {
  const h = createHash('sha256');
  h.update(job.importPath);
  for (const f of files) {
    h.update(`\0${f.path}\0`);
    // Whitespace and ordinary comments do not matter: a blank line or a note between functions changes nothing they mean.
    let at = 0;
    for (const d of [...f.funcs].sort((a, b) => a.pos - b.pos)) {
      if (!d.bodySpan) continue;
      h.update(withoutComments(f.text.slice(at, d.bodySpan.pos)).replace(/\s+/g, ' '));
      at = d.bodySpan.end;
    }
    h.update(withoutComments(f.text.slice(at)).replace(/\s+/g, ' '));
    // Comments that do matter, by where they stand: the preamble right above import "C", the doc
    // comment lines the analysis reads, directives, the design document's Contract: blocks.
    h.update(`\0preamble:${f.preamble?.text ?? '-'}`);
    for (const d of f.funcs) h.update(`\0doc:${d.name}:${d.doc.filter((c) => MEANINGFUL_DOC.test(c.text)).map((c) => c.text).join('\n')}`);
    for (const c of f.comments) h.update(`\0directive:${c.text}`);
    h.update(JSON.stringify(f.seedContracts));
  }
  for (const c of cFiles) h.update(`\0${c.display}\0${c.text}`);
  h.update(JSON.stringify(external));
  h.update(JSON.stringify({ contracts: opts.contracts, disabled: [...opts.disabledRules].sort(), budget: opts.budget, domains: opts.domains?.map((d) => d.id) }));
  return h.digest('hex');
}

/** Doc comment lines the analysis reads: //export, cgoguard: directives, the design document's Contract: blocks. */
const MEANINGFUL_DOC = /^\/\/export\s|cgoguard:|Contract:/;

/** Go source with its comments left out (strings, runes and raw strings kept as they are). */
function withoutComments(src: string): string {
  let out = '';
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    if (c === '/' && src[i + 1] === '/') {
      while (i < src.length && src[i] !== '\n') i++;
    } else if (c === '/' && src[i + 1] === '*') {
      const end = src.indexOf('*/', i + 2);
      i = end < 0 ? src.length : end + 2;
      out += ' ';
    } else if (c === '"' || c === "'" || c === '`') {
      const start = i++;
      while (i < src.length && src[i] !== c && (c === '`' || src[i] !== '\n')) i += c !== '`' && src[i] === '\\' ? 2 : 1;
      out += src.slice(start, ++i);
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

/** The edit that turns `before` into `after`, for tree-sitter: one span, in UTF-16 units, from the common prefix and suffix. */
function treeEdit(before: string, after: string): Edit {
  let head = 0;
  const max = Math.min(before.length, after.length);
  while (head < max && before.charCodeAt(head) === after.charCodeAt(head)) head++;
  let tail = 0;
  while (tail < max - head && before.charCodeAt(before.length - 1 - tail) === after.charCodeAt(after.length - 1 - tail)) tail++;
  const point = (text: string, at: number) => {
    const lineStart = text.lastIndexOf('\n', at - 1) + 1;
    let row = 0;
    for (let i = text.indexOf('\n'); i >= 0 && i < at; i = text.indexOf('\n', i + 1)) row++;
    return { row, column: at - lineStart };
  };
  return new Edit({
    startIndex: head,
    oldEndIndex: before.length - tail,
    newEndIndex: after.length - tail,
    startPosition: point(before, head),
    oldEndPosition: point(before, before.length - tail),
    newEndPosition: point(after, after.length - tail),
  });
}
