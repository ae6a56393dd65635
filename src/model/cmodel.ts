// What the C side declares: functions (with a summary of what their bodies,
// when present, do with pointer arguments), typedefs, struct layouts, macros
// and globals. This is what `C.name` can refer to. Sources: the cgo preamble,
// the package's .c and .h files, and the preamble run through the C
// preprocessor when a compiler is available (for declarations from headers).
import { directiveBody } from '../syntax/directives.js';
import { parseC } from '../syntax/parser.js';
import { copyTree, fieldChild, namedChildren, type RawNode } from '../syntax/raw.js';
import { emptyCModel, type CFunc, type CModel, type CParam } from './cdecls.js';
import { summarizeCBodies } from './csummary.js';
import { C_VOID, applyDeclarator, baseCType, resolveCType, type CType } from './ctypes.js';

/** The C type a Go name `C.x` stands for, if x names a type. */
export function cTypeOfGoName(model: CModel, name: string): CType | undefined {
  const m = /^(struct|union)_(.+)$/.exec(name);
  if (m) return resolveCType({ k: 'struct', tag: m[2], union: m[1] === 'union' }, model);
  if (/^enum_/.test(name)) return { k: 'enum' };
  const td = model.typedefs.get(name);
  if (td) return resolveCType(td, model);
  const prim = GO_C_NUMERIC[name];
  return prim ? { k: 'prim', name: prim } : undefined;
}

/** cgo's names for C's numeric types. */
const GO_C_NUMERIC: Record<string, string> = {
  char: 'char', schar: 'signed char', uchar: 'unsigned char', short: 'short', ushort: 'unsigned short',
  int: 'int', uint: 'unsigned int', long: 'long', ulong: 'unsigned long', longlong: 'long long',
  ulonglong: 'unsigned long long', float: 'float', double: 'double', size_t: 'size_t', ssize_t: 'ssize_t',
  uintptr_t: 'uintptr_t', intptr_t: 'intptr_t', int8_t: 'int8_t', uint8_t: 'uint8_t', int16_t: 'int16_t',
  uint16_t: 'uint16_t', int32_t: 'int32_t', uint32_t: 'uint32_t', int64_t: 'int64_t', uint64_t: 'uint64_t',
};

export function isCNumericName(name: string): boolean {
  return name in GO_C_NUMERIC;
}


const BODIES = new Set(['compound_statement']);

export interface CSourceOptions {
  /** Name of the source, for messages: "preamble", "x.c", "headers". */
  source: string;
  /**
   * Function bodies: read and summarised now (true), left out (false: preprocessed
   * headers, where only declarations matter), or handed back to be summarised
   * when the analysis reaches them ('deferred').
   */
  bodies: boolean | 'deferred';
  /** Maps offsets in the text parsed back to the source's own (when a skeleton was parsed). */
  original?: (offset: number) => number;
}

/** A function definition whose body is summarised later: where it starts, and its body node. */
export interface CDefinition {
  fn: CFunc;
  start: number;
  body: RawNode;
}

/** The cgoguard:contract directives of a C text, with their offsets. */
export function contractDirectives(text: string): { text: string; offset: number }[] {
  return [...text.matchAll(/cgoguard:contract\b([^\n]*)$/gm)].map((m) => ({ text: directiveBody(m[1]), offset: m.index }));
}

/**
 * Adds the declarations of one C text to `model`. Later definitions win over
 * declarations. With deferred bodies, returns the definitions, in text order.
 */
export function addCSource(model: CModel, text: string, opts: CSourceOptions): CDefinition[] {
  return addCTree(model, parseCText(text, opts.bodies === true), text, opts);
}

/** A C text's syntax tree as plain objects; without `bodies`, function bodies are empty nodes. */
export function parseCText(text: string, bodies: boolean): RawNode {
  const tree = parseC(text);
  try {
    return copyTree(tree, tree.rootNode, bodies ? undefined : BODIES);
  } finally {
    tree.delete();
  }
}

/** addCSource over a tree parseCText made of `text`. */
export function addCTree(model: CModel, root: RawNode, text: string, opts: CSourceOptions): CDefinition[] {
  const src = (n: RawNode) => text.slice(n.start, n.end);
  const onStruct = (s: CType & { k: 'struct' }) => {
    if (s.tag && s.fields) model.structs.set(`${s.union ? 'union' : 'struct'} ${s.tag}`, s);
  };
  const defined: CDefinition[] = [];
  const visit = (n: RawNode) => {
    for (const c of namedChildren(n)) {
      switch (c.type) {
        case 'function_definition':
        case 'declaration': {
          const base = baseCType(fieldChild(c, 'type'), src, onStruct);
          collectEnumerators(c, model, src);
          for (const d of c.children.filter((x) => x.field === 'declarator')) {
            const fd = findFunctionDeclarator(d);
            if (fd) {
              const fn = cFunc(fd, d, base, c, src, opts.source);
              if (opts.original) fn.offset = opts.original(fn.offset);
              // Headers never replace what the package itself defines or declares.
              if (!opts.bodies && model.funcs.has(fn.name)) continue;
              if (c.type === 'function_definition') {
                fn.defined = true;
                model.funcs.set(fn.name, fn);
                const body = fieldChild(c, 'body');
                if (body && opts.bodies) defined.push({ fn, start: c.start, body });
              } else if (!model.funcs.has(fn.name)) {
                model.funcs.set(fn.name, fn);
              }
            } else {
              const { name, type } = applyDeclarator(d, base, src);
              if (name) {
                model.values.add(name);
                model.globals.set(name, type);
              }
            }
          }
          break;
        }
        case 'type_definition': {
          const base = baseCType(fieldChild(c, 'type'), src, onStruct);
          collectEnumerators(c, model, src);
          for (const d of c.children.filter((x) => x.field === 'declarator')) {
            const { name, type } = applyDeclarator(d, base, src);
            if (name) model.typedefs.set(name, type);
          }
          break;
        }
        case 'struct_specifier':
        case 'union_specifier':
        case 'enum_specifier':
          baseCType(c, src, onStruct);
          collectEnumerators(c, model, src);
          break;
        case 'preproc_def': {
          const name = fieldChild(c, 'name');
          if (name) model.values.add(src(name));
          break;
        }
        case 'preproc_function_def': {
          const name = fieldChild(c, 'name');
          if (name) model.macros.add(src(name));
          break;
        }
        case 'preproc_if':
        case 'preproc_ifdef':
        case 'preproc_else':
        case 'preproc_elif':
        case 'preproc_elifdef':
        case 'linkage_specification':
        case 'declaration_list':
          visit(c);
          break;
      }
    }
  };
  visit(root);
  if (opts.bodies === 'deferred') return defined;
  if (defined.length) summarizeCBodies(model, defined, src);
  return [];
}

const headerCache = new Map<string, CModel>();

/**
 * Adds the declarations of preprocessed headers, never replacing what the
 * package itself declares. Packages of one project include the same headers,
 * so the parsed declarations are kept for the next package (a few texts).
 */
export function addHeaderDeclarations(model: CModel, text: string): void {
  let decls = headerCache.get(text);
  if (!decls) {
    decls = emptyCModel();
    addCSource(decls, text, { source: 'headers', bodies: false });
    if (headerCache.size >= 8) headerCache.delete(headerCache.keys().next().value!);
    headerCache.set(text, decls);
  }
  for (const [k, v] of decls.funcs) if (!model.funcs.has(k)) model.funcs.set(k, v);
  for (const [k, v] of decls.typedefs) if (!model.typedefs.has(k)) model.typedefs.set(k, v);
  for (const [k, v] of decls.structs) if (!model.structs.has(k)) model.structs.set(k, v);
  for (const [k, v] of decls.globals) if (!model.globals.has(k)) model.globals.set(k, v);
  for (const v of decls.values) model.values.add(v);
  for (const v of decls.macros) model.macros.add(v);
}

function collectEnumerators(n: RawNode, model: CModel, src: (n: RawNode) => string): void {
  const walk = (x: RawNode) => {
    if (x.type === 'enumerator') {
      const en = fieldChild(x, 'name');
      if (en) model.values.add(src(en));
    }
    if (x.type === 'compound_statement') return;
    x.children.forEach(walk);
  };
  walk(n);
}

function findFunctionDeclarator(d: RawNode): RawNode | undefined {
  if (d.type === 'function_declarator') {
    // `int (*fp)(int)` declares a pointer variable, not a function.
    const inner = fieldChild(d, 'declarator');
    return inner?.type === 'parenthesized_declarator' ? undefined : d;
  }
  if (d.type === 'pointer_declarator' || d.type === 'attributed_declarator') {
    const inner = fieldChild(d, 'declarator') ?? namedChildren(d).find((c) => c.type.endsWith('declarator'));
    return inner ? findFunctionDeclarator(inner) : undefined;
  }
  return undefined;
}

function cFunc(fd: RawNode, outer: RawNode, base: CType, decl: RawNode, src: (n: RawNode) => string, source: string): CFunc {
  const nameNode = fieldChild(fd, 'declarator');
  const name = nameNode ? (applyDeclarator(nameNode, C_VOID, src).name ?? '') : '';
  // The return type: the base with the pointers written before the name (`char *f(...)`).
  let ret = base;
  for (let d: RawNode | undefined = outer; d && d !== fd; d = fieldChild(d, 'declarator')) {
    if (d.type === 'pointer_declarator') ret = { k: 'ptr', to: ret };
  }
  const params: CParam[] = [];
  const plist = fieldChild(fd, 'parameters');
  const items = plist ? namedChildren(plist).filter((p) => p.type === 'parameter_declaration') : [];
  for (const p of items) {
    const pbase = baseCType(fieldChild(p, 'type'), src);
    const pd = fieldChild(p, 'declarator');
    if (!pd && pbase.k === 'void' && items.length === 1) break;
    const { name: pname, type } = applyDeclarator(pd, pbase, src);
    // Array parameters are pointers.
    params.push({ name: pname, type: type.k === 'array' ? { k: 'ptr', to: type.of } : type });
  }
  return {
    name,
    params,
    ret,
    defined: false,
    offset: decl.start,
    source,
    frees: new Set(),
    retains: new Set(),
    returns: 'unknown',
    writes: new Map(),
  };
}
