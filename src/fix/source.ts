// A Go file as fixes see it: its text, the converted syntax of the functions
// that hold findings, and the places where statements can be inserted. Fixes
// work on UTF-16 offsets (the syntax's own) and emit edits in Go's
// coordinates (1-based lines, byte columns), as findings carry them.
import type { TextEdit } from '../findings/fix.js';
import type { Expr, FuncDecl, FuncIR, GoFile, Stmt } from '../syntax/goast.js';
import { convertBodies, convertGoFile } from '../syntax/goconvert.js';
import { parseGo } from '../syntax/parser.js';
import { byteToUtf16Column, LineIndex } from '../syntax/positions.js';
import { forEachChildExpr } from '../syntax/walk.js';

/** A statement with where it sits: its list, its index there, and what encloses it. */
export interface StmtPlace {
  stmt: Stmt;
  list: Stmt[];
  index: number;
  /** Statements from the function's body down to this one (this one last). */
  chain: Stmt[];
  /** The function or closure whose body holds it. */
  fn: FuncIR;
  /** It runs in a loop of that function (a for or range body). */
  inLoop: boolean;
}

export class GoSource {
  readonly lines: LineIndex;
  readonly go: GoFile;

  constructor(
    /** The file as findings name it. */
    readonly file: string,
    readonly text: string,
    /** Lines that hold findings: the functions around them get their bodies converted. */
    lines: number[],
  ) {
    this.lines = new LineIndex(text);
    const tree = parseGo(text);
    try {
      this.go = convertGoFile(file, text, tree);
      const offsets = lines.map((l) => this.lines.lineStart(l));
      convertBodies(this.go, tree, (d) => offsets.some((o) => o >= d.pos && o <= d.end));
    } finally {
      tree.delete();
    }
  }

  /** UTF-16 offset of a Go position. */
  offset(line: number, column: number): number {
    return this.lines.lineStart(line) + byteToUtf16Column(this.lines.lineText(line), column) - 1;
  }

  position(offset: number): { line: number; column: number } {
    return this.lines.position(offset);
  }

  slice(e: { pos: number; end: number }): string {
    return this.text.slice(e.pos, e.end);
  }

  /** The function declaration whose body holds `offset`. */
  funcAt(offset: number): FuncDecl | undefined {
    return this.go.funcs.find((d) => d.bodyConverted && offset >= d.ir.bodyPos && offset <= d.ir.bodyEnd);
  }

  /** The innermost statement holding `offset`, in the innermost function or closure. */
  stmtAt(offset: number): StmtPlace | undefined {
    const decl = this.funcAt(offset);
    if (!decl) return undefined;
    return findIn(decl.ir, decl.ir.body, offset, [], false);
  }

  /** The innermost expression that spans exactly [pos, end), or starts at pos when end is not known. */
  exprAt(place: StmtPlace, pos: number, end?: number): Expr | undefined {
    let best: Expr | undefined;
    visitStmtExprs(place.stmt, (e) => {
      if (e.pos === pos && (end === undefined || e.end === end) && (!best || e.end - e.pos <= best.end - best.pos)) best = e;
      return e.pos <= pos && e.end >= pos;
    });
    return best;
  }

  /** Leading whitespace of a line. */
  indentOf(line: number): string {
    return /^[ \t]*/.exec(this.lines.lineText(line))![0];
  }

  /**
   * The statement starts its line (only whitespace, or the `var` of its
   * declaration, before it) and ends it (only a comment after): lines can be
   * inserted around it.
   */
  ownsItsLines(s: Stmt): boolean {
    const first = this.lines.lineOf(s.pos);
    const last = this.lines.lineOf(s.end);
    const before = this.text.slice(this.lines.lineStart(first), s.pos);
    const after = this.text.slice(s.end, this.lines.lineStart(last) + this.lines.lineText(last).length);
    return /^[ \t]*(var[ \t]+)?$/.test(before) && /^[ \t]*(\/\/.*)?$/.test(after);
  }

  /** Inserts `code` as lines of their own before the statement, indented like it. */
  insertBefore(s: Stmt, code: string[]): TextEdit {
    const line = this.lines.lineOf(s.pos);
    const indent = this.indentOf(line);
    return { file: this.file, line, column: 1, endLine: line, endColumn: 1, text: code.map((c) => `${indent}${c}\n`).join('') };
  }

  /** Inserts `code` as lines of their own after the statement, indented like it. */
  insertAfter(s: Stmt, code: string[]): TextEdit {
    const first = this.lines.lineOf(s.pos);
    const last = this.lines.lineOf(s.end);
    const indent = this.indentOf(first);
    const column = Buffer.byteLength(this.lines.lineText(last)) + 1;
    return { file: this.file, line: last, column, endLine: last, endColumn: column, text: code.map((c) => `\n${indent}${c}`).join('') };
  }

  /** Replaces the text of [pos, end). */
  replace(pos: number, end: number, text: string): TextEdit {
    const a = this.position(pos);
    const b = this.position(end);
    return { file: this.file, line: a.line, column: a.column, endLine: b.line, endColumn: b.column, text };
  }

  /** Names declared anywhere in the function (and its closures): a new name must avoid them all. */
  freshName(decl: FuncDecl, base: string): string {
    const taken = new Set(decl.vars.map((v) => v.name));
    for (const f of this.go.funcs) taken.add(f.name);
    for (const v of this.go.values) taken.add(v.name);
    for (const t of this.go.types) taken.add(t.name);
    for (let i = 1; ; i++) {
      const name = i === 1 ? base : `${base}${i}`;
      if (!taken.has(name)) return name;
    }
  }
}

function findIn(fn: FuncIR, list: Stmt[], offset: number, chain: Stmt[], inLoop: boolean): StmtPlace | undefined {
  for (let index = 0; index < list.length; index++) {
    const s = list[index];
    if (offset < s.pos || offset >= s.end) continue;
    const here = [...chain, s];
    // A closure inside the statement holds it more closely.
    let inner: StmtPlace | undefined;
    visitStmtExprs(s, (e) => {
      if (inner || offset < e.pos || offset >= e.end) return false;
      if (e.k === 'funclit') {
        inner = findIn(e.fn, e.fn.body, offset, [], false);
        return false;
      }
      return true;
    }, false);
    if (inner) return inner;
    for (const { body, loop } of childLists(s)) {
      const found = findIn(fn, body, offset, here, inLoop || loop);
      if (found) return found;
    }
    return { stmt: s, list, index, chain: here, fn, inLoop };
  }
  return undefined;
}

/** The statement lists directly inside a statement, and whether each is a loop body. */
export function childLists(s: Stmt): { body: Stmt[]; loop: boolean }[] {
  switch (s.k) {
    case 'block':
      return [{ body: s.body, loop: false }];
    case 'if':
      return [...(s.init ? [{ body: [s.init], loop: false }] : []), { body: s.then, loop: false }, ...(s.else ? [{ body: [s.else], loop: false }] : [])];
    case 'for':
      return [...(s.init ? [{ body: [s.init], loop: false }] : []), { body: s.body, loop: true }];
    case 'range':
      return [{ body: s.body, loop: true }];
    case 'switch':
      return [...(s.init ? [{ body: [s.init], loop: false }] : []), ...s.cases.map((c) => ({ body: c.body, loop: false }))];
    case 'typeswitch':
      return [...(s.init ? [{ body: [s.init], loop: false }] : []), ...s.cases.map((c) => ({ body: c.body, loop: false }))];
    case 'select':
      return s.cases.map((c) => ({ body: [...(c.comm ? [c.comm] : []), ...c.body], loop: false }));
    case 'labeled':
      return [{ body: [s.stmt], loop: false }];
    default:
      return [];
  }
}

/**
 * The expressions a statement evaluates itself (not those of nested
 * statements), outermost first; `visit` returns false to skip an
 * expression's children. Closure bodies are entered unless `intoClosures` is false.
 */
export function visitStmtExprs(s: Stmt, visit: (e: Expr) => boolean, intoClosures = true): void {
  const walk = (e: Expr): void => {
    if (!visit(e)) return;
    if (e.k === 'funclit') {
      if (intoClosures) for (const st of e.fn.body) visitAllExprs(st, walk);
      return;
    }
    forEachChildExpr(e, walk);
  };
  for (const e of ownExprs(s)) walk(e);
}

/** Every expression of a statement and of the statements nested in it. */
function visitAllExprs(s: Stmt, walk: (e: Expr) => void): void {
  for (const e of ownExprs(s)) walk(e);
  for (const { body } of childLists(s)) for (const st of body) visitAllExprs(st, walk);
}

function ownExprs(s: Stmt): Expr[] {
  switch (s.k) {
    case 'expr':
      return [s.x];
    case 'assign':
      return [...s.lhs, ...s.rhs];
    case 'vardecl':
      return [...s.vars, ...s.values];
    case 'incdec':
      return [s.x];
    case 'send':
      return [s.ch, s.value];
    case 'if':
      return [s.cond];
    case 'for':
      return [...(s.cond ? [s.cond] : []), ...(s.post ? ownExprs(s.post) : [])];
    case 'range':
      return [...(s.key ? [s.key] : []), ...(s.value ? [s.value] : []), ...(s.x ? [s.x] : [])];
    case 'switch':
      return [...(s.tag ? [s.tag] : []), ...s.cases.flatMap((c) => c.exprs ?? [])];
    case 'typeswitch':
      return [s.x];
    case 'go':
    case 'defer':
      return [s.call];
    case 'return':
      return s.results;
    default:
      return [];
  }
}

/** `e` without parentheses and conversions to pointer types (`unsafe.Pointer(x)`, `(*C.char)(x)`). */
export function unwrapPointer(e: Expr): Expr {
  for (;;) {
    if (e.k === 'paren') e = e.x;
    else if (e.k === 'conv' && e.type.k === 'pointer') e = e.x;
    else if (e.k === 'call' && e.args.length === 1 && isUnsafePointer(e.fun)) e = e.args[0];
    else return e;
  }
}

function isUnsafePointer(e: Expr): boolean {
  return (e.k === 'sel' && e.x.k === 'ident' && e.x.name === 'unsafe' && e.name === 'Pointer') || (e.k === 'type' && e.type.k === 'name' && e.type.pkg === 'unsafe' && e.type.name === 'Pointer');
}

/** `C.name(...)`: the C function's name. */
export function cCallee(e: Expr): string | undefined {
  if (e.k !== 'call') return undefined;
  const f = e.fun.k === 'paren' ? e.fun.x : e.fun;
  return f.k === 'sel' && f.x.k === 'ident' && f.x.name === 'C' ? f.name : undefined;
}
