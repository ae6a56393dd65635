// What the cgo preamble declares: C functions (with what their bodies, when
// present, do with pointer arguments), types, macros and globals. This is
// what `C.name` can refer to.
import { directiveBody } from '../syntax/directives.js';
import { parseC } from '../syntax/parser.js';
import { copyTree, fieldChild, namedChildren, type RawNode } from '../syntax/raw.js';

export interface CParam {
  name?: string;
  isPointer: boolean;
}

export interface CFunc {
  name: string;
  params: CParam[];
  returnsPointer: boolean;
  defined: boolean;
  /** Argument indexes the body frees (directly or through other preamble functions). */
  frees: Set<number>;
  /** Argument indexes the body stores where they outlive the call. */
  retains: Set<number>;
  returnsOwned: boolean;
  /** Offset of the declaration in the preamble text. */
  offset: number;
}

export interface CModel {
  funcs: Map<string, CFunc>;
  /** Names usable as C.name in type position: typedefs, struct_x, union_x, enum_x. */
  types: Set<string>;
  /** Of those, the ones naming struct or union values (struct_x, and typedefs of a struct). */
  structs: Set<string>;
  /** Object-like macros, enumerators and global variables: values, not functions. */
  values: Set<string>;
  /** Contract directive lines in the preamble: text after `cgoguard:contract`, with offsets. */
  contracts: { text: string; offset: number }[];
}

export function emptyCModel(): CModel {
  return { funcs: new Map(), types: new Set(), structs: new Set(), values: new Set(), contracts: [] };
}

const ALLOCATORS = new Set(['malloc', 'calloc', 'realloc', 'strdup', 'strndup', 'aligned_alloc']);

/**
 * Names of C functions that, by every convention we know, release what they
 * are given (duckdb_free, git_repository_free, curl_easy_cleanup, g_object_unref).
 * Without a contract the analysis cannot say what they release, so memory
 * handed to them is treated as moved, never as leaked.
 */
export function looksLikeReleaser(name: string): boolean {
  return (
    LIBC_RELEASERS.has(name) ||
    /(^|_|[a-zA-Z0-9])(free|Free|FREE|release|Release|destroy|Destroy|dispose|Dispose|unref|Unref|dealloc|delete|Delete|cleanup|Cleanup|finalize|Finalize)(_|[A-Z0-9]|$)/.test(name)
  );
}

const LIBC_RELEASERS = new Set(['freeaddrinfo', 'freeifaddrs', 'globfree', 'regfree', 'freelocale']);

/** Adds the declarations of one preamble (or C file) to `model`. */
export function addCSource(model: CModel, text: string): void {
  for (const m of text.matchAll(/cgoguard:contract\b([^\n]*)$/gm)) {
    model.contracts.push({ text: directiveBody(m[1]), offset: m.index });
  }
  const tree = parseC(text);
  let root: RawNode;
  try {
    root = copyTree(tree, tree.rootNode);
  } finally {
    tree.delete();
  }
  const src = (n: RawNode) => text.slice(n.start, n.end);
  const defined: { fn: CFunc; body: RawNode }[] = [];
  const visit = (n: RawNode) => {
    for (const c of namedChildren(n)) {
      switch (c.type) {
        case 'function_definition':
        case 'declaration': {
          collectTypes(c, model, src);
          const decls = c.children.filter((d) => d.field === 'declarator');
          for (const d of decls) {
            const fd = findFunctionDeclarator(d);
            if (fd) {
              const fn = cFunc(fd, d, c, src);
              const prev = model.funcs.get(fn.name);
              if (c.type === 'function_definition') {
                fn.defined = true;
                model.funcs.set(fn.name, fn);
                const body = fieldChild(c, 'body');
                if (body) defined.push({ fn, body });
              } else if (!prev) {
                model.funcs.set(fn.name, fn);
              }
            } else {
              const id = declaredName(d);
              if (id) model.values.add(src(id));
            }
          }
          break;
        }
        case 'type_definition': {
          collectTypes(c, model, src);
          const t = fieldChild(c, 'type');
          const isStruct = t?.type === 'struct_specifier' || t?.type === 'union_specifier' || (t?.type === 'type_identifier' && model.structs.has(src(t)));
          for (const d of c.children.filter((x) => x.field === 'declarator')) {
            const id = declaredName(d);
            if (!id) continue;
            model.types.add(src(id));
            if (isStruct && d.type === 'type_identifier') model.structs.add(src(id));
          }
          break;
        }
        case 'struct_specifier':
        case 'union_specifier':
        case 'enum_specifier':
          collectTypes(c, model, src);
          break;
        case 'preproc_def': {
          const name = fieldChild(c, 'name');
          if (name) model.values.add(src(name));
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
  summarizeBodies(model, defined, src);
}

function collectTypes(n: RawNode, model: CModel, src: (n: RawNode) => string): void {
  const walk = (x: RawNode) => {
    if (x.type === 'struct_specifier' || x.type === 'union_specifier' || x.type === 'enum_specifier') {
      const name = fieldChild(x, 'name');
      const prefix = x.type === 'struct_specifier' ? 'struct_' : x.type === 'union_specifier' ? 'union_' : 'enum_';
      if (name) model.types.add(prefix + src(name));
      if (name && prefix !== 'enum_') model.structs.add(prefix + src(name));
      if (x.type === 'enum_specifier') {
        const body = fieldChild(x, 'body');
        for (const e of body ? namedChildren(body) : []) {
          const en = fieldChild(e, 'name');
          if (en) model.values.add(src(en));
        }
      }
    }
    if (x.type === 'compound_statement') return;
    for (const c of x.children) walk(c);
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

function declaredName(d: RawNode): RawNode | undefined {
  if (d.type === 'identifier' || d.type === 'type_identifier' || d.type === 'field_identifier') return d;
  const inner = fieldChild(d, 'declarator') ?? namedChildren(d).find((c) => c.type.endsWith('declarator') || c.type === 'identifier');
  return inner ? declaredName(inner) : undefined;
}

function cFunc(fd: RawNode, outer: RawNode, decl: RawNode, src: (n: RawNode) => string): CFunc {
  const nameNode = declaredName(fieldChild(fd, 'declarator') ?? fd);
  const params: CParam[] = [];
  const plist = fieldChild(fd, 'parameters');
  for (const p of plist ? namedChildren(plist) : []) {
    if (p.type !== 'parameter_declaration') continue;
    const pd = fieldChild(p, 'declarator');
    const typeText = src(fieldChild(p, 'type') ?? p);
    if (!pd && typeText === 'void' && namedChildren(plist!).length === 1) break;
    const isPointer = !!pd && containsPointer(pd);
    const name = pd ? declaredName(pd) : undefined;
    params.push({ name: name ? src(name) : undefined, isPointer });
  }
  return {
    name: nameNode ? src(nameNode) : '',
    params,
    returnsPointer: outer !== fd && outer.type === 'pointer_declarator',
    defined: false,
    frees: new Set(),
    retains: new Set(),
    returnsOwned: false,
    offset: decl.start,
  };
}

function containsPointer(d: RawNode): boolean {
  if (d.type === 'pointer_declarator' || d.type === 'abstract_pointer_declarator' || d.type === 'array_declarator') return true;
  return d.children.some(containsPointer);
}

/** Strips casts and parentheses: `(void *)(p)` is `p`. */
function stripCasts(n: RawNode | undefined): RawNode | undefined {
  while (n && (n.type === 'cast_expression' || n.type === 'parenthesized_expression')) {
    n = n.type === 'cast_expression' ? fieldChild(n, 'value') : namedChildren(n)[0];
  }
  return n;
}

/**
 * A first cut at C function summaries: frees, retention of pointer
 * arguments, and owned returns, from the bodies in the preamble.
 */
function summarizeBodies(model: CModel, defined: { fn: CFunc; body: RawNode }[], src: (n: RawNode) => string): void {
  const locals = new Map<CFunc, Set<string>>();
  for (const { fn, body } of defined) {
    const set = new Set<string>();
    const walk = (n: RawNode) => {
      if (n.type === 'declaration') {
        for (const d of n.children.filter((c) => c.field === 'declarator')) {
          const id = declaredName(d);
          if (id) set.add(src(id));
        }
      }
      n.children.forEach(walk);
    };
    walk(body);
    locals.set(fn, set);
  }
  // Frees propagate through calls between preamble functions: iterate.
  for (let round = 0; round < 4; round++) {
    let changed = false;
    for (const { fn, body } of defined) {
      const paramIndex = (n: RawNode | undefined): number => {
        const x = stripCasts(n);
        if (!x || x.type !== 'identifier') return -1;
        return fn.params.findIndex((p) => p.name === src(x));
      };
      const local = locals.get(fn)!;
      const ownedLocals = new Set<string>();
      const freedLocals = new Set<string>();
      let returnsOwnedLocal = false;
      const walk = (n: RawNode) => {
        if (n.type === 'call_expression') {
          const f = fieldChild(n, 'function');
          const args = fieldChild(n, 'arguments');
          const argList = args ? namedChildren(args) : [];
          const callee = f?.type === 'identifier' ? src(f) : '';
          const calleeFn = model.funcs.get(callee);
          // `lib_set(obj, p, free)`: a destructor goes along, so the callee keeps p.
          const withDestructor = argList.some((a) => {
            const x = stripCasts(a.type === 'pointer_expression' ? namedChildren(a)[0] : a);
            return x?.type === 'identifier' && src(x) === 'free';
          });
          if (callee === 'free' && argList[0]) {
            const x = stripCasts(argList[0]);
            if (x?.type === 'identifier') freedLocals.add(src(x));
          }
          argList.forEach((a, i) => {
            const pi = paramIndex(a);
            if (pi < 0) return;
            if ((callee === 'free' && i === 0) || calleeFn?.frees.has(i)) {
              if (!fn.frees.has(pi)) {
                fn.frees.add(pi);
                changed = true;
              }
            }
            if ((calleeFn?.retains.has(i) || (withDestructor && fn.params[pi].isPointer)) && !fn.retains.has(pi)) {
              fn.retains.add(pi);
              changed = true;
            }
          });
        } else if (n.type === 'assignment_expression' || n.type === 'init_declarator') {
          const left = fieldChild(n, n.type === 'init_declarator' ? 'declarator' : 'left');
          const right = stripCasts(fieldChild(n, n.type === 'init_declarator' ? 'value' : 'right'));
          const pi = paramIndex(right);
          const base = left ? baseIdentifier(left) : undefined;
          const baseName = base ? src(base) : '';
          if (pi >= 0 && left && n.type === 'assignment_expression') {
            const isParam = fn.params.some((p) => p.name === baseName);
            const isLocal = local.has(baseName) && !isParam;
            // Stored into a global, or into memory reachable from a parameter or a global.
            const retained = left.type === 'identifier' ? !isLocal && !isParam : !isLocal;
            if (retained && !fn.retains.has(pi)) {
              fn.retains.add(pi);
              changed = true;
            }
          }
          if (right?.type === 'call_expression') {
            const f = fieldChild(right, 'function');
            if (f && ALLOCATORS.has(src(f)) && baseName && local.has(baseName)) ownedLocals.add(baseName);
          }
        } else if (n.type === 'return_statement') {
          const v = stripCasts(namedChildren(n)[0]);
          if (v?.type === 'call_expression') {
            const f = fieldChild(v, 'function');
            const callee = f ? src(f) : '';
            if (ALLOCATORS.has(callee) || model.funcs.get(callee)?.returnsOwned) fn.returnsOwned = true;
          } else if (v?.type === 'identifier' && ownedLocals.has(src(v)) && !freedLocals.has(src(v))) {
            returnsOwnedLocal = true;
          }
        }
        n.children.forEach(walk);
      };
      walk(body);
      // A local that the body also frees is not handed out (a freed block returned is a bug for the C side).
      if (returnsOwnedLocal && ![...freedLocals].some((l) => ownedLocals.has(l))) fn.returnsOwned = true;
    }
    if (!changed) break;
  }
}

function baseIdentifier(n: RawNode): RawNode | undefined {
  let x: RawNode | undefined = n;
  while (x && x.type !== 'identifier') {
    x = fieldChild(x, 'argument') ?? fieldChild(x, 'declarator') ?? namedChildren(x)[0];
  }
  return x;
}
