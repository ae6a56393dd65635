// Conversion from tree-sitter-go nodes to the analysis's Go syntax (goast.ts),
// resolving each identifier to the local variable it names on the way.
import type { Node, Tree } from 'web-tree-sitter';
import {
  BLANK_VAR,
  NO_VAR,
  type Comment,
  type Element,
  type Expr,
  type FieldDecl,
  type FuncDecl,
  type FuncIR,
  type GoFile,
  type ImportSpec,
  type Preamble,
  type SelectCase,
  type Span,
  type Stmt,
  type SwitchCase,
  type TypeCase,
  type TypeDecl,
  type TypeExpr,
  type ValueDecl,
  type VarId,
  type VarInfo,
  type VarKind,
} from './goast.js';
import { findSeedContracts } from './directives.js';
import { decodeGoString } from './golit.js';
import { LineIndex } from './positions.js';
import { copyTree, fieldChild, fieldChildren, namedChildren, type RawNode } from './raw.js';

/**
 * Converts a file's declarations. Function bodies are left out (they hold the
 * bulk of the nodes); convertBodies adds those that are wanted while the tree
 * is still alive.
 */
export function convertGoFile(path: string, text: string, tree: Tree): GoFile {
  const lines = new LineIndex(text);
  const file: GoFile = {
    path,
    text,
    pkgName: '',
    imports: [],
    importsC: false,
    funcs: [],
    types: [],
    values: [],
    comments: [],
    seedContracts: [],
    syntaxErrors: [],
  };
  const root = tree.rootNode;
  const top = root.children;
  // Top-level comments, for doc comments and the cgo preamble.
  const topComments: Comment[] = [];
  for (const node of top) {
    switch (node.type) {
      case 'comment':
        topComments.push({ pos: node.startIndex, end: node.endIndex, text: node.text });
        break;
      case 'package_clause': {
        const id = node.namedChildren.find((c) => c?.type === 'package_identifier');
        if (id) file.pkgName = id.text;
        break;
      }
      case 'import_declaration':
        convertImports(file, tree, node, topComments, lines);
        break;
      case 'function_declaration':
      case 'method_declaration':
        file.funcs.push(convertFuncDecl(text, tree, node, docComments(topComments, node.startIndex, lines), false));
        break;
      case 'type_declaration':
        file.types.push(...convertTypeDecl(new Converter(text), copyTree(tree, node)));
        break;
      case 'var_declaration':
      case 'const_declaration':
        file.values.push(...convertValueDecl(new Converter(text), tree, node));
        break;
      case 'ERROR':
        file.syntaxErrors.push({ pos: node.startIndex, end: node.endIndex });
        break;
    }
  }
  if (root.hasError) collectErrors(root, file.syntaxErrors);
  file.comments = directiveComments(text, root);
  if (text.includes('Contract:')) file.seedContracts = findSeedContracts(text, (offset) => root.descendantForIndex(offset)?.type === 'comment');
  return file;
}

function collectErrors(root: Node, out: Span[]): void {
  const seen = new Set(out.map((s) => s.pos));
  for (const n of root.descendantsOfType('ERROR')) {
    if (n && !seen.has(n.startIndex)) {
      out.push({ pos: n.startIndex, end: n.endIndex });
      seen.add(n.startIndex);
    }
  }
  out.sort((a, b) => a.pos - b.pos);
}

const DIRECTIVE = /\/\/\s*cgoguard:|\/\*\s*cgoguard:/g;

/** Comments anywhere in the file that carry a cgoguard directive. */
function directiveComments(text: string, root: Node): Comment[] {
  const out: Comment[] = [];
  for (const m of text.matchAll(DIRECTIVE)) {
    const node = root.descendantForIndex(m.index);
    if (node && node.type === 'comment' && node.startIndex === m.index) {
      out.push({ pos: node.startIndex, end: node.endIndex, text: node.text });
    }
  }
  return out;
}

/** The comment group that ends on the line right above `pos`. */
function docComments(comments: Comment[], pos: number, lines: LineIndex): Comment[] {
  const group: Comment[] = [];
  let expectLine = lines.lineOf(pos) - 1;
  for (let i = comments.length - 1; i >= 0; i--) {
    const c = comments[i];
    if (c.end > pos) continue;
    const endLine = lines.lineOf(c.end - 1);
    if (endLine !== expectLine) break;
    group.unshift(c);
    expectLine = lines.lineOf(c.pos) - 1;
  }
  return group;
}

function convertImports(file: GoFile, tree: Tree, node: Node, topComments: Comment[], lines: LineIndex): void {
  const raw = copyTree(tree, node);
  const specs: RawNode[] = [];
  const visit = (n: RawNode) => {
    for (const c of n.children) {
      if (c.type === 'import_spec') specs.push(c);
      else if (c.type === 'import_spec_list') visit(c);
    }
  };
  visit(raw);
  for (const s of specs) {
    const pathNode = fieldChild(s, 'path');
    if (!pathNode) continue;
    const nameNode = fieldChild(s, 'name');
    const spec: ImportSpec = {
      pos: s.start,
      end: s.end,
      path: decodeGoString(file.text.slice(pathNode.start, pathNode.end))?.text ?? '',
      name: nameNode ? file.text.slice(nameNode.start, nameNode.end) : undefined,
    };
    file.imports.push(spec);
    if (spec.path === 'C') {
      file.importsC = true;
      // The preamble is the comment group right above the import: either
      // above `import "C"` itself or above the spec inside a group.
      let group = docComments(topComments, node.startIndex, lines);
      if (s.start !== raw.children[0]?.start || node.startIndex !== s.start) {
        const inner = raw.children.flatMap((c) => (c.type === 'import_spec_list' ? c.children : [c]));
        const innerComments = inner
          .filter((c) => c.type === 'comment')
          .map((c) => ({ pos: c.start, end: c.end, text: file.text.slice(c.start, c.end) }));
        const innerGroup = docComments(innerComments, s.start, lines);
        if (innerGroup.length) group = innerGroup;
      }
      if (group.length) file.preamble = preambleOf(file.text, group);
    }
  }
}

/** Extracts the C text of a cgo preamble, remembering where each line came from. */
function preambleOf(text: string, group: Comment[]): Preamble {
  const parts: string[] = [];
  const lineOffsets: number[] = [];
  for (const c of group) {
    if (text.startsWith('//', c.pos)) {
      parts.push(text.slice(c.pos + 2, c.end));
      lineOffsets.push(c.pos + 2);
    } else {
      const body = text.slice(c.pos + 2, c.end - 2);
      let off = c.pos + 2;
      for (const line of body.split('\n')) {
        parts.push(line);
        lineOffsets.push(off);
        off += line.length + 1;
      }
    }
  }
  return { text: parts.join('\n'), offset: lineOffsets[0] ?? group[0].pos, lineOffsets };
}

/** Converts the bodies of the functions `want` selects (signatures are already there). */
export function convertBodies(file: GoFile, tree: Tree, want: (decl: FuncDecl) => boolean): void {
  const byPos = new Map<number, FuncDecl>();
  for (const d of file.funcs) if (d.hasBody && !d.bodyConverted && want(d)) byPos.set(d.pos, d);
  if (!byPos.size) return;
  for (const node of tree.rootNode.children) {
    const d = node && byPos.get(node.startIndex);
    if (!d || (node.type !== 'function_declaration' && node.type !== 'method_declaration')) continue;
    // Converting again from the node gives the same variables for the signature, plus the body.
    const full = convertFuncDecl(file.text, tree, node, d.doc, true);
    d.ir = full.ir;
    d.vars = full.vars;
    d.bodyConverted = true;
  }
}

function convertFuncDecl(text: string, tree: Tree, node: Node, doc: Comment[], withBody: boolean): FuncDecl {
  const nameNode = node.childForFieldName('name');
  const bodyNode = node.childForFieldName('body');
  const name = nameNode?.text ?? '_';
  const c = new Converter(text);
  const convertBody = !!bodyNode && withBody;
  // Copy only the signature unless the body is wanted: bodies are where the bulk of the nodes are.
  const raw = convertBody ? copyTree(tree, node) : signatureOnly(tree, node);
  const fn = c.beginFunc(raw);
  const decl: FuncDecl = {
    pos: node.startIndex,
    end: node.endIndex,
    name,
    namePos: nameNode?.startIndex ?? node.startIndex,
    typeParams: [],
    paramTypes: [],
    resultTypes: [],
    doc,
    vars: c.vars,
    hasBody: !!bodyNode,
    bodyConverted: convertBody,
    bodySpan: bodyNode ? { pos: bodyNode.startIndex, end: bodyNode.endIndex } : undefined,
    ir: fn,
  };
  const tps = fieldChild(raw, 'type_parameters');
  if (tps) {
    for (const d of namedChildren(tps)) for (const n of fieldChildren(d, 'name')) decl.typeParams.push(c.text(n));
  }
  const recvList = fieldChild(raw, 'receiver');
  if (recvList) {
    const p = namedChildren(recvList)[0];
    if (p) {
      const type = c.type(fieldChild(p, 'type'));
      const n = fieldChild(p, 'name');
      const v = c.declare(n ? c.text(n) : '_', n?.start ?? p.start, 'recv', type);
      decl.recv = { type, v };
    }
  }
  c.signature(raw, fn, decl.paramTypes, decl.resultTypes);
  const body = fieldChild(raw, 'body');
  if (convertBody && body) {
    fn.body = c.block(body, false);
    fn.bodyPos = body.start;
    fn.bodyEnd = body.end - 1;
  }
  c.endFunc();
  return decl;
}

function signatureOnly(tree: Tree, node: Node): RawNode {
  const out: RawNode = { type: node.type, field: null, start: node.startIndex, end: node.endIndex, named: true, children: [] };
  for (const f of ['receiver', 'type_parameters', 'parameters', 'result']) {
    const child = node.childForFieldName(f);
    if (child) out.children.push({ ...copyTree(tree, child), field: f });
  }
  return out;
}

function convertTypeDecl(c: Converter, raw: RawNode): TypeDecl[] {
  const out: TypeDecl[] = [];
  for (const spec of namedChildren(raw)) {
    if (spec.type !== 'type_spec' && spec.type !== 'type_alias') continue;
    const n = fieldChild(spec, 'name');
    if (!n) continue;
    out.push({ pos: spec.start, end: spec.end, name: c.text(n), type: c.type(fieldChild(spec, 'type')), alias: spec.type === 'type_alias', generic: !!fieldChild(spec, 'type_parameters') });
  }
  return out;
}

/** Package-level variables and constants: names and declared types (values are not needed, and can be huge tables). */
function convertValueDecl(c: Converter, tree: Tree, node: Node): ValueDecl[] {
  const out: ValueDecl[] = [];
  const specs = node.namedChildren.flatMap((s) => (s?.type === 'var_spec_list' ? s.namedChildren : [s]));
  for (const spec of specs) {
    if (!spec || (spec.type !== 'var_spec' && spec.type !== 'const_spec')) continue;
    const typeNode = spec.childForFieldName('type');
    const type = typeNode ? c.type(copyTree(tree, typeNode)) : undefined;
    const values = spec.childForFieldName('value')?.namedChildren ?? [];
    const names = spec.childrenForFieldName('name');
    names.forEach((n, i) => {
      if (n?.type !== 'identifier') return;
      const v = values[i];
      const litType = !type && v?.type === 'composite_literal' ? v.childForFieldName('type') : null;
      out.push({
        pos: n.startIndex,
        end: n.endIndex,
        name: n.text,
        type,
        literalType: litType ? c.type(copyTree(tree, litType)) : undefined,
        isConst: spec.type === 'const_spec',
      });
    });
  }
  return out;
}

class Scope {
  readonly names = new Map<string, VarId>();
  constructor(readonly parent: Scope | undefined) {}
  lookup(name: string): VarId {
    for (let s: Scope | undefined = this; s; s = s.parent) {
      const v = s.names.get(name);
      if (v !== undefined) return v;
    }
    return NO_VAR;
  }
}

/** Converts the raw nodes of one top-level function (and its closures). */
class Converter {
  readonly vars: VarInfo[] = [];
  private scope: Scope | undefined;
  private funcStack: number[] = [];
  private nextFunc = 0;

  constructor(private readonly src: string) {}

  text(n: RawNode): string {
    return this.src.slice(n.start, n.end);
  }

  beginFunc(raw: RawNode): FuncIR {
    const id = this.nextFunc++;
    this.funcStack.push(id);
    this.scope = new Scope(this.scope);
    return { id, pos: raw.start, end: raw.end, params: [], variadic: false, results: [], namedResults: false, body: [], bodyPos: raw.end, bodyEnd: raw.end };
  }

  endFunc(): void {
    this.funcStack.pop();
    this.scope = this.scope?.parent;
  }

  declare(name: string, pos: number, kind: VarKind, type?: TypeExpr): VarId {
    if (name === '_' && kind === 'local') return BLANK_VAR;
    const v = this.vars.length;
    this.vars.push({ name, pos, kind, type, fn: this.funcStack[this.funcStack.length - 1] ?? 0 });
    if (name !== '_' && this.scope) this.scope.names.set(name, v);
    return v;
  }

  signature(raw: RawNode, fn: FuncIR, paramTypes: TypeExpr[], resultTypes: TypeExpr[]): void {
    const params = fieldChild(raw, 'parameters');
    if (params) {
      for (const p of namedChildren(params)) {
        const type = this.type(fieldChild(p, 'type'));
        const variadic = p.type === 'variadic_parameter_declaration';
        const ptype: TypeExpr = variadic ? { k: 'slice', elem: type, pos: type.pos, end: type.end } : type;
        if (variadic) fn.variadic = true;
        const names = fieldChildren(p, 'name');
        if (names.length === 0) {
          fn.params.push(this.declare('_', p.start, 'param', ptype));
          paramTypes.push(ptype);
        }
        for (const n of names) {
          fn.params.push(this.declare(this.text(n), n.start, 'param', ptype));
          paramTypes.push(ptype);
        }
      }
    }
    const result = fieldChild(raw, 'result');
    if (result) {
      if (result.type === 'parameter_list') {
        for (const p of namedChildren(result)) {
          const type = this.type(fieldChild(p, 'type'));
          const names = fieldChildren(p, 'name');
          if (names.length === 0) {
            fn.results.push(this.declare('_', p.start, 'result', type));
            resultTypes.push(type);
          }
          for (const n of names) {
            fn.namedResults = true;
            fn.results.push(this.declare(this.text(n), n.start, 'result', type));
            resultTypes.push(type);
          }
        }
      } else {
        const type = this.type(result);
        fn.results.push(this.declare('_', result.start, 'result', type));
        resultTypes.push(type);
      }
    }
  }

  // ---- statements ----

  block(raw: RawNode, newScope = true): Stmt[] {
    if (newScope) this.scope = new Scope(this.scope);
    const out: Stmt[] = [];
    for (const c of namedChildren(raw)) {
      if (c.type === 'statement_list') {
        for (const s of namedChildren(c)) out.push(this.stmt(s));
      } else {
        out.push(this.stmt(c));
      }
    }
    if (newScope) this.scope = this.scope?.parent;
    return out;
  }

  private withScope<T>(f: () => T): T {
    this.scope = new Scope(this.scope);
    try {
      return f();
    } finally {
      this.scope = this.scope?.parent;
    }
  }

  private statementList(raw: RawNode): Stmt[] {
    const out: Stmt[] = [];
    for (const c of namedChildren(raw)) {
      if (c.type === 'statement_list') for (const s of namedChildren(c)) out.push(this.stmt(s));
    }
    return out;
  }

  stmt(n: RawNode): Stmt {
    const span = { pos: n.start, end: n.end };
    switch (n.type) {
      case 'expression_statement': {
        const x = namedChildren(n)[0];
        return { k: 'expr', x: x ? this.expr(x) : bad(n), ...span };
      }
      case 'assignment_statement': {
        const op = fieldChild(n, 'operator');
        return {
          k: 'assign',
          op: op ? this.text(op) : '=',
          define: false,
          lhs: this.exprList(fieldChild(n, 'left')),
          rhs: this.exprList(fieldChild(n, 'right')),
          ...span,
        };
      }
      case 'short_var_declaration': {
        const rhs = this.exprList(fieldChild(n, 'right'));
        const lhs = this.defineList(fieldChild(n, 'left'));
        return { k: 'assign', op: ':=', define: true, lhs, rhs, ...span };
      }
      case 'inc_statement':
      case 'dec_statement': {
        const x = namedChildren(n)[0];
        return { k: 'incdec', x: x ? this.expr(x) : bad(n), ...span };
      }
      case 'send_statement':
        return { k: 'send', ch: this.exprOf(fieldChild(n, 'channel'), n), value: this.exprOf(fieldChild(n, 'value'), n), ...span };
      case 'block':
        return { k: 'block', body: this.block(n), ...span };
      case 'if_statement':
        return this.withScope(() => {
          const init = fieldChild(n, 'initializer');
          const initStmt = init ? this.stmt(init) : undefined;
          const cond = this.exprOf(fieldChild(n, 'condition'), n);
          const cons = fieldChild(n, 'consequence');
          const alt = fieldChild(n, 'alternative');
          return {
            k: 'if',
            init: initStmt,
            cond,
            then: cons ? this.block(cons) : [],
            else: alt ? this.stmt(alt) : undefined,
            ...span,
          } as Stmt;
        });
      case 'for_statement':
        return this.withScope(() => this.forStmt(n));
      case 'expression_switch_statement':
        return this.withScope(() => {
          const init = fieldChild(n, 'initializer');
          const initStmt = init ? this.stmt(init) : undefined;
          const value = fieldChild(n, 'value');
          const tag = value ? this.expr(value) : undefined;
          const cases: SwitchCase[] = [];
          for (const c of namedChildren(n)) {
            if (c.type !== 'expression_case' && c.type !== 'default_case') continue;
            const vals = fieldChild(c, 'value');
            cases.push({
              pos: c.start,
              end: c.end,
              exprs: c.type === 'default_case' ? null : this.exprList(vals),
              body: this.withScope(() => this.statementList(c)),
            });
          }
          return { k: 'switch', init: initStmt, tag, cases, ...span } as Stmt;
        });
      case 'type_switch_statement':
        return this.withScope(() => {
          const init = fieldChild(n, 'initializer');
          const initStmt = init ? this.stmt(init) : undefined;
          const x = this.exprOf(fieldChild(n, 'value'), n);
          const alias = fieldChild(n, 'alias');
          const aliasId = alias ? namedChildren(alias)[0] : undefined;
          const cases: TypeCase[] = [];
          for (const c of namedChildren(n)) {
            if (c.type !== 'type_case' && c.type !== 'default_case') continue;
            cases.push(
              this.withScope(() => {
                const types =
                  c.type === 'default_case'
                    ? null
                    : fieldChildren(c, 'type').map((t) => (this.text(t) === 'nil' ? null : this.type(t)));
                const single = types && types.length === 1 && types[0] ? types[0] : undefined;
                const bind = aliasId ? this.declare(this.text(aliasId), aliasId.start, 'local', single) : undefined;
                return { pos: c.start, end: c.end, types, bind, body: this.statementList(c) };
              }),
            );
          }
          return { k: 'typeswitch', init: initStmt, x, cases, ...span } as Stmt;
        });
      case 'select_statement': {
        const cases: SelectCase[] = [];
        for (const c of namedChildren(n)) {
          if (c.type !== 'communication_case' && c.type !== 'default_case') continue;
          cases.push(
            this.withScope(() => {
              const comm = fieldChild(c, 'communication');
              return { pos: c.start, end: c.end, comm: comm ? this.commStmt(comm) : undefined, body: this.statementList(c) };
            }),
          );
        }
        return { k: 'select', cases, ...span };
      }
      case 'go_statement':
      case 'defer_statement': {
        const x = namedChildren(n)[0];
        return { k: n.type === 'go_statement' ? 'go' : 'defer', call: x ? this.expr(x) : bad(n), ...span };
      }
      case 'return_statement': {
        const list = namedChildren(n)[0];
        return { k: 'return', results: list ? this.exprList(list) : [], ...span };
      }
      case 'break_statement':
      case 'continue_statement':
      case 'goto_statement': {
        const label = namedChildren(n).find((c) => c.type === 'label_name');
        const tok = n.type === 'break_statement' ? 'break' : n.type === 'continue_statement' ? 'continue' : 'goto';
        return { k: 'branch', tok, label: label ? this.text(label) : undefined, ...span };
      }
      case 'fallthrough_statement':
        return { k: 'branch', tok: 'fallthrough', ...span };
      case 'labeled_statement': {
        const label = fieldChild(n, 'label');
        const inner = namedChildren(n).find((c) => c.field !== 'label');
        return { k: 'labeled', label: label ? this.text(label) : '', stmt: inner ? this.stmt(inner) : { k: 'empty', ...span }, ...span };
      }
      case 'var_declaration':
      case 'const_declaration':
        return this.localValueDecl(n);
      case 'empty_statement':
      case 'type_declaration':
        return { k: 'empty', ...span };
      default:
        // ERROR nodes and anything unexpected: keep the expressions we can
        // understand so calls inside broken code are still seen.
        return { k: 'block', body: namedChildren(n).map((c) => this.looseStmt(c)), ...span };
    }
  }

  private looseStmt(n: RawNode): Stmt {
    if (n.type.endsWith('_statement') || n.type === 'block' || n.type.endsWith('_declaration')) return this.stmt(n);
    return { k: 'expr', x: this.expr(n), pos: n.start, end: n.end };
  }

  private localValueDecl(n: RawNode): Stmt {
    const specs = n.children.flatMap((s) => (s.type === 'var_spec_list' ? namedChildren(s) : [s]));
    const stmts: Stmt[] = [];
    for (const spec of specs) {
      if (spec.type !== 'var_spec' && spec.type !== 'const_spec') continue;
      const typeNode = fieldChild(spec, 'type');
      const type = typeNode ? this.type(typeNode) : undefined;
      const valuesNode = fieldChild(spec, 'value');
      const values = valuesNode ? this.exprList(valuesNode) : [];
      const vars: Expr[] = fieldChildren(spec, 'name')
        .filter((id) => id.type === 'identifier')
        .map((id) => {
          const name = this.text(id);
          return { k: 'ident', name, v: this.declare(name, id.start, 'local', type), pos: id.start, end: id.end };
        });
      stmts.push({ k: 'vardecl', vars, type, values, pos: spec.start, end: spec.end });
    }
    return stmts.length === 1 ? stmts[0] : { k: 'block', body: stmts, pos: n.start, end: n.end };
  }

  private forStmt(n: RawNode): Stmt {
    const span = { pos: n.start, end: n.end };
    const body = fieldChild(n, 'body');
    const header = namedChildren(n).find((c) => c.field !== 'body');
    if (header?.type === 'range_clause') {
      const right = fieldChild(header, 'right');
      const x = right ? this.expr(right) : undefined;
      const left = fieldChild(header, 'left');
      const define = header.children.some((c) => c.type === ':=');
      let key: Expr | undefined;
      let value: Expr | undefined;
      if (left) {
        const items = define ? this.defineList(left) : this.exprList(left);
        [key, value] = items;
      }
      return { k: 'range', key, value, define, x, body: body ? this.block(body) : [], ...span };
    }
    if (header?.type === 'for_clause') {
      const init = fieldChild(header, 'initializer');
      const initStmt = init ? this.stmt(init) : undefined;
      const cond = fieldChild(header, 'condition');
      const update = fieldChild(header, 'update');
      return {
        k: 'for',
        init: initStmt,
        cond: cond ? this.expr(cond) : undefined,
        post: update ? this.stmt(update) : undefined,
        body: body ? this.block(body) : [],
        ...span,
      };
    }
    return { k: 'for', cond: header ? this.expr(header) : undefined, body: body ? this.block(body) : [], ...span };
  }

  private commStmt(n: RawNode): Stmt {
    if (n.type === 'receive_statement') {
      const right = this.exprOf(fieldChild(n, 'right'), n);
      const left = fieldChild(n, 'left');
      if (!left) return { k: 'expr', x: right, pos: n.start, end: n.end };
      const define = n.children.some((c) => c.type === ':=');
      const lhs = define ? this.defineList(left) : this.exprList(left);
      return { k: 'assign', op: define ? ':=' : '=', define, lhs, rhs: [right], pos: n.start, end: n.end };
    }
    return this.stmt(n);
  }

  /** Left side of `:=`: declares the names not yet declared in this very scope. */
  private defineList(n: RawNode | undefined): Expr[] {
    if (!n) return [];
    return namedChildren(n).map((id) => {
      if (id.type !== 'identifier') return this.expr(id);
      const name = this.text(id);
      let v: VarId;
      if (name === '_') v = BLANK_VAR;
      else v = this.scope?.names.get(name) ?? this.declare(name, id.start, 'local');
      return { k: 'ident', name, v, pos: id.start, end: id.end };
    });
  }

  private exprList(n: RawNode | undefined): Expr[] {
    if (!n) return [];
    if (n.type !== 'expression_list') return [this.expr(n)];
    return namedChildren(n).map((c) => this.expr(c));
  }

  private exprOf(n: RawNode | undefined, parent: RawNode): Expr {
    return n ? this.expr(n) : bad(parent);
  }

  // ---- expressions ----

  expr(n: RawNode): Expr {
    const span = { pos: n.start, end: n.end };
    switch (n.type) {
      case 'identifier': {
        const name = this.text(n);
        if (name === '_') return { k: 'ident', name, v: BLANK_VAR, ...span };
        return { k: 'ident', name, v: this.scope?.lookup(name) ?? NO_VAR, ...span };
      }
      case 'field_identifier':
      case 'type_identifier':
      case 'package_identifier':
        return { k: 'ident', name: this.text(n), v: NO_VAR, ...span };
      case 'int_literal':
        return { k: 'lit', kind: 'int', value: this.text(n), ...span };
      case 'float_literal':
        return { k: 'lit', kind: 'float', value: this.text(n), ...span };
      case 'imaginary_literal':
        return { k: 'lit', kind: 'imag', value: this.text(n), ...span };
      case 'rune_literal':
        return { k: 'lit', kind: 'rune', value: this.text(n), ...span };
      case 'interpreted_string_literal':
      case 'raw_string_literal':
        return { k: 'lit', kind: 'string', value: this.text(n), ...span };
      case 'nil':
        return { k: 'nil', ...span };
      case 'true':
      case 'false':
        return { k: 'bool', value: n.type === 'true', ...span };
      case 'iota':
        return { k: 'iota', ...span };
      case 'selector_expression': {
        const field = fieldChild(n, 'field');
        return {
          k: 'sel',
          x: this.exprOf(fieldChild(n, 'operand'), n),
          name: field ? this.text(field) : '',
          namePos: field?.start ?? n.end,
          ...span,
        };
      }
      case 'call_expression':
        return this.call(n);
      case 'type_conversion_expression':
        return { k: 'conv', type: this.type(fieldChild(n, 'type')), x: this.exprOf(fieldChild(n, 'operand'), n), ...span };
      case 'unary_expression': {
        const op = fieldChild(n, 'operator');
        return { k: 'unary', op: op ? this.text(op) : '', x: this.exprOf(fieldChild(n, 'operand'), n), ...span };
      }
      case 'binary_expression': {
        const op = fieldChild(n, 'operator');
        return {
          k: 'binary',
          op: op ? this.text(op) : '',
          x: this.exprOf(fieldChild(n, 'left'), n),
          y: this.exprOf(fieldChild(n, 'right'), n),
          ...span,
        };
      }
      case 'index_expression':
        return { k: 'index', x: this.exprOf(fieldChild(n, 'operand'), n), index: fieldChildren(n, 'index').map((c) => this.expr(c)), ...span };
      case 'slice_expression': {
        const opt = (f: string) => {
          const c = fieldChild(n, f);
          return c ? this.expr(c) : undefined;
        };
        return { k: 'slice', x: this.exprOf(fieldChild(n, 'operand'), n), lo: opt('start'), hi: opt('end'), max: opt('capacity'), ...span };
      }
      case 'type_assertion_expression': {
        const t = fieldChild(n, 'type');
        return { k: 'assert', x: this.exprOf(fieldChild(n, 'operand'), n), type: t ? this.type(t) : undefined, ...span };
      }
      case 'composite_literal': {
        const t = fieldChild(n, 'type');
        const body = fieldChild(n, 'body');
        return { k: 'composite', type: t ? this.type(t) : undefined, elts: body ? this.elements(body) : [], ...span };
      }
      case 'literal_value':
        return { k: 'composite', elts: this.elements(n), ...span };
      case 'func_literal':
        return { k: 'funclit', fn: this.funcLit(n), ...span };
      case 'parenthesized_expression': {
        const x = namedChildren(n)[0];
        return { k: 'paren', x: x ? this.expr(x) : bad(n), ...span };
      }
      case 'type_instantiation_expression':
      case 'slice_type':
      case 'array_type':
      case 'implicit_length_array_type':
      case 'map_type':
      case 'channel_type':
      case 'pointer_type':
      case 'function_type':
      case 'struct_type':
      case 'interface_type':
      case 'qualified_type':
      case 'generic_type':
      case 'parenthesized_type':
        return { k: 'type', type: this.type(n), ...span };
      default: {
        // ERROR and unexpected nodes: a sole child stands for the whole.
        const kids = namedChildren(n);
        if (kids.length === 1) return this.expr(kids[0]);
        return bad(n);
      }
    }
  }

  private call(n: RawNode): Expr {
    const span = { pos: n.start, end: n.end };
    const fnNode = fieldChild(n, 'function');
    const argsNode = fieldChild(n, 'arguments');
    const args: Expr[] = [];
    let ellipsis = false;
    if (argsNode) {
      for (const a of namedChildren(argsNode)) {
        if (a.type === 'variadic_argument') {
          ellipsis = true;
          const inner = namedChildren(a)[0];
          args.push(inner ? this.expr(inner) : bad(a));
        } else {
          args.push(this.expr(a));
        }
      }
    }
    // `(*T)(x)` is a conversion to a pointer type, not a call through `*T`.
    if (fnNode && args.length === 1 && !ellipsis) {
      const star = convTarget(fnNode);
      if (star) {
        const elem = this.type(star);
        return { k: 'conv', type: { k: 'pointer', elem, pos: fnNode.start, end: fnNode.end }, x: args[0], ...span };
      }
      if (fnNode.type === 'parenthesized_type') {
        const inner = namedChildren(fnNode)[0];
        return { k: 'conv', type: this.type(inner), x: args[0], ...span };
      }
    }
    return { k: 'call', fun: fnNode ? this.expr(fnNode) : bad(n), args, ellipsis, ...span };
  }

  private elements(body: RawNode): Element[] {
    const out: Element[] = [];
    for (const e of namedChildren(body)) {
      if (e.type === 'keyed_element') {
        const k = fieldChild(e, 'key');
        const v = fieldChild(e, 'value');
        out.push({ key: k ? this.element(k, true) : undefined, value: v ? this.element(v, false) : bad(e) });
      } else {
        out.push({ value: this.element(e, false) });
      }
    }
    return out;
  }

  private element(n: RawNode, isKey: boolean): Expr {
    const inner = n.type === 'literal_element' ? namedChildren(n)[0] : n;
    if (!inner) return bad(n);
    // A struct field key is a bare name, not a variable reference.
    if (isKey && inner.type === 'identifier') return { k: 'ident', name: this.text(inner), v: NO_VAR, pos: inner.start, end: inner.end };
    return this.expr(inner);
  }

  private funcLit(n: RawNode): FuncIR {
    const fn = this.beginFunc(n);
    this.signature(n, fn, [], []);
    const body = fieldChild(n, 'body');
    if (body) {
      fn.body = this.block(body, false);
      fn.bodyPos = body.start;
      fn.bodyEnd = body.end - 1;
    }
    this.endFunc();
    return fn;
  }

  // ---- types ----

  type(n: RawNode | undefined): TypeExpr {
    if (!n) return { k: 'unknown', pos: 0, end: 0 };
    const span = { pos: n.start, end: n.end };
    switch (n.type) {
      case 'type_identifier':
      case 'identifier':
        return { k: 'name', name: this.text(n), ...span };
      case 'qualified_type': {
        const pkg = fieldChild(n, 'package');
        const name = fieldChild(n, 'name');
        return { k: 'name', pkg: pkg ? this.text(pkg) : undefined, name: name ? this.text(name) : '', ...span };
      }
      case 'selector_expression': {
        const op = fieldChild(n, 'operand');
        const f = fieldChild(n, 'field');
        return { k: 'name', pkg: op ? this.text(op) : undefined, name: f ? this.text(f) : '', ...span };
      }
      case 'pointer_type':
        return { k: 'pointer', elem: this.type(namedChildren(n)[0]), ...span };
      case 'unary_expression':
        return { k: 'pointer', elem: this.type(fieldChild(n, 'operand')), ...span };
      case 'slice_type':
        return { k: 'slice', elem: this.type(fieldChild(n, 'element')), ...span };
      case 'array_type': {
        const len = fieldChild(n, 'length');
        return { k: 'array', len: len ? this.expr(len) : undefined, elem: this.type(fieldChild(n, 'element')), ...span };
      }
      case 'implicit_length_array_type':
        return { k: 'array', elem: this.type(fieldChild(n, 'element')), ...span };
      case 'map_type':
        return { k: 'map', key: this.type(fieldChild(n, 'key')), value: this.type(fieldChild(n, 'value')), ...span };
      case 'channel_type':
        return { k: 'chan', elem: this.type(fieldChild(n, 'value')), ...span };
      case 'function_type': {
        const params: TypeExpr[] = [];
        const results: TypeExpr[] = [];
        this.signatureTypes(n, params, results);
        return { k: 'func', params, results, ...span };
      }
      case 'struct_type': {
        const fields: FieldDecl[] = [];
        const list = namedChildren(n).find((c) => c.type === 'field_declaration_list');
        for (const f of list ? namedChildren(list) : []) {
          if (f.type !== 'field_declaration') continue;
          fields.push({ names: fieldChildren(f, 'name').map((x) => this.text(x)), type: this.type(fieldChild(f, 'type')) });
        }
        return { k: 'struct', fields, ...span };
      }
      case 'interface_type':
        return {
          k: 'interface',
          methods: namedChildren(n)
            .filter((c) => c.type === 'method_elem')
            .map((m) => {
              const name = fieldChild(m, 'name');
              return name ? this.text(name) : '';
            }),
          ...span,
        };
      case 'generic_type': {
        const args = fieldChild(n, 'type_arguments');
        return {
          k: 'generic',
          base: this.type(fieldChild(n, 'type')),
          args: args ? namedChildren(args).map((a) => this.type(namedChildren(a)[0] ?? a)) : [],
          ...span,
        };
      }
      case 'parenthesized_type':
      case 'parenthesized_expression':
      case 'type_elem':
        return this.type(namedChildren(n)[0]);
      case 'type_instantiation_expression':
        return { k: 'generic', base: this.type(fieldChild(n, 'type')), args: [], ...span };
      default:
        return { k: 'unknown', ...span };
    }
  }

  /** Parameter and result types of a function type, without declaring names. */
  private signatureTypes(n: RawNode, params: TypeExpr[], results: TypeExpr[]): void {
    const ps = fieldChild(n, 'parameters');
    for (const p of ps ? namedChildren(ps) : []) {
      const t = this.type(fieldChild(p, 'type'));
      const count = Math.max(1, fieldChildren(p, 'name').length);
      for (let i = 0; i < count; i++) params.push(t);
    }
    const r = fieldChild(n, 'result');
    if (r?.type === 'parameter_list') {
      for (const p of namedChildren(r)) {
        const t = this.type(fieldChild(p, 'type'));
        const count = Math.max(1, fieldChildren(p, 'name').length);
        for (let i = 0; i < count; i++) results.push(t);
      }
    } else if (r) results.push(this.type(r));
  }
}

/** For `(*T)` used as a call's function, the node of T. */
function convTarget(fnNode: RawNode): RawNode | undefined {
  if (fnNode.type !== 'parenthesized_expression') return undefined;
  const inner = namedChildren(fnNode)[0];
  if (inner?.type === 'unary_expression') {
    const op = fieldChild(inner, 'operator');
    if (op && op.type === '*') return fieldChild(inner, 'operand');
  }
  if (inner?.type === 'pointer_type') return namedChildren(inner)[0];
  return undefined;
}

function bad(n: RawNode): Expr {
  return { k: 'bad', pos: n.start, end: n.end };
}
