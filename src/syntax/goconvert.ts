// Conversion from tree-sitter-go nodes to the analysis's Go syntax (goast.ts),
// resolving each identifier to the local variable it names on the way.
import type { Node, Tree } from 'web-tree-sitter';
import {
  type Comment,
  type FuncDecl,
  type GoFile,
  type ImportSpec,
  type Preamble,
  type Span,
  type TypeDecl,
  type ValueDecl,
} from './goast.js';
import { findSeedContracts } from './directives.js';
import { decodeGoString, parseGoInt } from './golit.js';
import { LineIndex } from './positions.js';
import { copyTree, fieldChild, fieldChildren, namedChildren, type RawNode } from './raw.js';
import { Converter } from './goconverter.js';

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
    const tps = fieldChild(spec, 'type_parameters');
    const typeParams = tps ? namedChildren(tps).flatMap((d) => fieldChildren(d, 'name').map((x) => c.text(x))) : [];
    out.push({ pos: spec.start, end: spec.end, name: c.text(n), type: c.type(fieldChild(spec, 'type')), alias: spec.type === 'type_alias', generic: !!tps, typeParams });
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
        intValue: spec.type === 'const_spec' && v?.type === 'int_literal' ? parseGoInt(v.text) : undefined,
      });
    });
  }
  return out;
}
