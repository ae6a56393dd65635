// C types as the preamble and headers declare them: enough to know what a
// struct holds (which fields are pointers), how big things are (for buffer
// sizes), and what a typedef stands for. Sizes follow LP64 (linux/amd64,
// darwin/arm64).
import { fieldChild, namedChildren, type RawNode } from '../syntax/raw.js';
import type { Ty } from './types.js';

export type CType =
  | { k: 'void' }
  | { k: 'prim'; name: string }
  | { k: 'ptr'; to: CType }
  | { k: 'array'; of: CType; len?: number }
  | { k: 'struct'; tag?: string; union: boolean; fields?: CField[] }
  | { k: 'enum' }
  | { k: 'named'; name: string }
  | { k: 'func' };

export interface CField {
  name: string;
  type: CType;
}

export const C_VOID: CType = { k: 'void' };

/** Where typedefs and struct tags are looked up. */
export interface CTypeScope {
  typedefs: Map<string, CType>;
  structs: Map<string, CType & { k: 'struct' }>;
}

/** Follows typedefs and completes struct tags declared elsewhere. */
export function resolveCType(t: CType, scope: CTypeScope, depth = 0): CType {
  for (let i = 0; i < 16; i++) {
    if (t.k === 'named') {
      const next = scope.typedefs.get(t.name);
      if (!next) return t;
      t = next;
    } else if (t.k === 'struct' && !t.fields && t.tag) {
      const full = scope.structs.get(`${t.union ? 'union' : 'struct'} ${t.tag}`);
      return full ?? t;
    } else {
      return t;
    }
  }
  void depth;
  return t;
}

/** Does memory of this type hold pointers (what cgo's pointer checks look at)? */
export function cHasPointers(t: CType, scope: CTypeScope, depth = 0): boolean | undefined {
  if (depth > 8) return undefined;
  const r = resolveCType(t, scope);
  switch (r.k) {
    case 'ptr':
      return true;
    case 'array':
      return cHasPointers(r.of, scope, depth + 1);
    case 'struct': {
      if (!r.fields) return undefined; // incomplete type
      let unknown = false;
      for (const f of r.fields) {
        const h = cHasPointers(f.type, scope, depth + 1);
        if (h) return true;
        if (h === undefined) unknown = true;
      }
      return unknown ? undefined : false;
    }
    case 'named':
      return undefined;
    default:
      return false;
  }
}

const PRIM_SIZES: Record<string, number> = {
  char: 1, 'signed char': 1, 'unsigned char': 1, schar: 1, uchar: 1, _Bool: 1, bool: 1,
  short: 2, 'short int': 2, 'unsigned short': 2, 'unsigned short int': 2, ushort: 2,
  int: 4, signed: 4, unsigned: 4, 'unsigned int': 4, 'signed int': 4, uint: 4, float: 4,
  long: 8, 'long int': 8, 'unsigned long': 8, 'unsigned long int': 8, ulong: 8, double: 8, 'long double': 16,
  'long long': 8, 'long long int': 8, 'unsigned long long': 8, 'unsigned long long int': 8, longlong: 8, ulonglong: 8,
  size_t: 8, ssize_t: 8, ptrdiff_t: 8, intptr_t: 8, uintptr_t: 8, off_t: 8,
  int8_t: 1, uint8_t: 1, int16_t: 2, uint16_t: 2, int32_t: 4, uint32_t: 4, int64_t: 8, uint64_t: 8,
};

/** Size in bytes, when it can be known. */
export function cSizeOf(t: CType, scope: CTypeScope, depth = 0): number | undefined {
  if (depth > 8) return undefined;
  const r = resolveCType(t, scope);
  switch (r.k) {
    case 'prim':
      return PRIM_SIZES[r.name];
    case 'ptr':
      return 8;
    case 'enum':
      return 4;
    case 'array': {
      const e = cSizeOf(r.of, scope, depth + 1);
      return e !== undefined && r.len !== undefined ? e * r.len : undefined;
    }
    case 'struct': {
      if (!r.fields) return undefined;
      let size = 0;
      let align = 1;
      for (const f of r.fields) {
        const s = cSizeOf(f.type, scope, depth + 1);
        const a = cAlignOf(f.type, scope, depth + 1);
        if (s === undefined || a === undefined) return undefined;
        align = Math.max(align, a);
        if (r.union) size = Math.max(size, s);
        else size = Math.ceil(size / a) * a + s;
      }
      return Math.ceil(size / align) * align;
    }
    default:
      return undefined;
  }
}

function cAlignOf(t: CType, scope: CTypeScope, depth: number): number | undefined {
  const r = resolveCType(t, scope);
  if (r.k === 'array') return cAlignOf(r.of, scope, depth + 1);
  if (r.k === 'struct') {
    if (!r.fields) return undefined;
    let a = 1;
    for (const f of r.fields) {
      const fa = cAlignOf(f.type, scope, depth + 1);
      if (fa === undefined) return undefined;
      a = Math.max(a, fa);
    }
    return a;
  }
  const s = cSizeOf(r, scope, depth + 1);
  return s === undefined ? undefined : Math.min(s, 8);
}

/** The field of a struct type, by name. */
export function cField(t: CType, name: string, scope: CTypeScope): CField | undefined {
  const r = resolveCType(t, scope);
  return r.k === 'struct' ? r.fields?.find((f) => f.name === name) : undefined;
}

export function cTypeString(t: CType): string {
  switch (t.k) {
    case 'void':
      return 'void';
    case 'prim':
      return t.name;
    case 'ptr':
      return `${cTypeString(t.to)} *`;
    case 'array':
      return `${cTypeString(t.of)}[${t.len ?? ''}]`;
    case 'struct':
      return `${t.union ? 'union' : 'struct'} ${t.tag ?? '{...}'}`;
    case 'enum':
      return 'enum';
    case 'named':
      return t.name;
    case 'func':
      return 'function';
  }
}

// ---------------------------------------------------------------- reading tree-sitter-c

/** The type named by a declaration's `type` node (before its declarator adds pointers and arrays). */
export function baseCType(n: RawNode | undefined, src: (n: RawNode) => string, onStruct?: (s: CType & { k: 'struct' }) => void): CType {
  if (!n) return { k: 'prim', name: 'int' };
  switch (n.type) {
    case 'primitive_type': {
      const name = src(n);
      return name === 'void' ? C_VOID : { k: 'prim', name };
    }
    case 'sized_type_specifier':
      return { k: 'prim', name: src(n).replace(/\s+/g, ' ').trim() };
    case 'type_identifier':
      return { k: 'named', name: src(n) };
    case 'struct_specifier':
    case 'union_specifier': {
      const name = fieldChild(n, 'name');
      const body = fieldChild(n, 'body');
      const s: CType & { k: 'struct' } = { k: 'struct', tag: name ? src(name) : undefined, union: n.type === 'union_specifier' };
      if (body) {
        s.fields = [];
        for (const fd of namedChildren(body)) {
          if (fd.type !== 'field_declaration') continue;
          const base = baseCType(fieldChild(fd, 'type'), src, onStruct);
          const decls = fd.children.filter((c) => c.field === 'declarator');
          for (const d of decls) {
            const { name: fname, type } = applyDeclarator(d, base, src);
            if (fname) s.fields.push({ name: fname, type });
          }
          // An anonymous struct or union member: its fields are reachable directly.
          if (decls.length === 0) {
            const inner = base.k === 'struct' ? base.fields : undefined;
            if (inner) s.fields.push(...inner);
          }
        }
        onStruct?.(s);
      }
      return s;
    }
    case 'enum_specifier':
      return { k: 'enum' };
    case 'macro_type_specifier':
      return { k: 'named', name: src(n) };
    default:
      return { k: 'named', name: src(n) };
  }
}

/**
 * Applies a declarator (pointers, arrays, function) to a base type; returns
 * the declared name. Constructors apply from the outside in: in `*a[3]` the
 * pointer applies first, so `a` is an array of three pointers.
 */
export function applyDeclarator(d: RawNode | undefined, base: CType, src: (n: RawNode) => string): { name?: string; type: CType } {
  let type = base;
  let node = d;
  while (node) {
    switch (node.type) {
      case 'identifier':
      case 'field_identifier':
      case 'type_identifier':
        return { name: src(node), type };
      case 'pointer_declarator':
      case 'abstract_pointer_declarator':
        type = { k: 'ptr', to: type };
        node = fieldChild(node, 'declarator');
        break;
      case 'array_declarator':
      case 'abstract_array_declarator': {
        const size = fieldChild(node, 'size');
        type = { k: 'array', of: type, len: size ? parseCInt(src(size)) : undefined };
        node = fieldChild(node, 'declarator');
        break;
      }
      case 'function_declarator':
      case 'abstract_function_declarator':
        type = { k: 'func' };
        node = fieldChild(node, 'declarator');
        break;
      case 'parenthesized_declarator':
      case 'abstract_parenthesized_declarator':
      case 'attributed_declarator':
      case 'init_declarator':
        node = fieldChild(node, 'declarator') ?? namedChildren(node)[0];
        break;
      default:
        node = undefined;
    }
  }
  return { type };
}

export function parseCInt(text: string): number | undefined {
  const t = text.trim().replace(/[uUlL]+$/, '');
  if (/^0[xX][0-9a-fA-F]+$/.test(t)) return parseInt(t, 16);
  if (/^0[0-7]+$/.test(t)) return parseInt(t, 8);
  if (/^[0-9]+$/.test(t)) return parseInt(t, 10);
  return undefined;
}

/** cgo's Go name for a C primitive type. */
const GO_NAMES: Record<string, string> = {
  char: 'char', 'signed char': 'schar', 'unsigned char': 'uchar', short: 'short', 'unsigned short': 'ushort',
  int: 'int', 'unsigned int': 'uint', unsigned: 'uint', long: 'long', 'unsigned long': 'ulong', 'long long': 'longlong',
  'unsigned long long': 'ulonglong', float: 'float', double: 'double',
};

/** The type as Go code sees it through cgo (C.int, *C.char, [10]*C.char, C.struct_s). */
export function cToGoType(t: CType, scope: CTypeScope, depth = 0): Ty {
  if (depth > 8) return { k: 'unknown' };
  switch (t.k) {
    case 'prim':
      return { k: 'c', name: GO_NAMES[t.name] ?? t.name };
    case 'enum':
      return { k: 'c', name: 'int' };
    case 'ptr':
      return t.to.k === 'void' ? { k: 'unsafeptr' } : { k: 'pointer', elem: cToGoType(t.to, scope, depth + 1) };
    case 'array':
      return { k: 'array', elem: cToGoType(t.of, scope, depth + 1), len: t.len };
    case 'struct':
      return t.tag ? { k: 'c', name: `${t.union ? 'union' : 'struct'}_${t.tag}` } : { k: 'unknown' };
    case 'named':
      return { k: 'c', name: t.name };
    default:
      return { k: 'unknown' };
  }
}
