// Type resolution over the light type model: declared types, the types of
// expressions, struct fields and methods, and cgo's C names.
import { NO_VAR, type Expr, type FuncIR, type TypeExpr } from '../syntax/goast.js';
import { forEachChildExpr, walkStmts } from '../syntax/walk.js';
import { parseGoInt } from '../syntax/golit.js';
import { isCNumericName } from './cmodel.js';
import { cField, cSizeOf, cToGoType } from './ctypes.js';
import type { FuncInfo, PackageModel, SourceFile } from './program.js';
import { BASIC_TYPES, UNKNOWN, UNSAFE_POINTER, basic, basicSize, pointerTo, tyString, type Ty } from './types.js';

/** Signatures of functions in other packages analysed earlier. */
export interface ExternalSignature {
  params: Ty[];
  results: Ty[];
}

export interface ExternalIndex {
  signature(key: string): ExternalSignature | undefined;
}

export type CName = 'type' | 'func' | 'value' | 'special';

/** cgo's own functions. */
export const CGO_SPECIALS = new Set(['CString', 'CBytes', 'GoString', 'GoStringN', 'GoBytes', 'malloc']);

export class Resolver {
  private readonly underlyingCache = new Map<string, Ty>();

  constructor(
    readonly pkg: PackageModel,
    private readonly external: ExternalIndex,
  ) {}

  /** What `C.name` refers to. */
  cName(name: string): CName {
    if (CGO_SPECIALS.has(name)) return 'special';
    if (this.pkg.c.funcs.has(name)) return 'func';
    if (this.pkg.c.typedefs.has(name) || isCNumericName(name) || /^(struct|union|enum)_/.test(name)) return 'type';
    if (this.pkg.c.macros.has(name)) return 'func';
    if (this.pkg.c.values.has(name)) return 'value';
    if (this.pkg.contract(name)) return 'func';
    // Unknown names (from headers we have not read): *_t names are types by convention.
    if (/_t$/.test(name)) return 'type';
    if (/^[A-Z][A-Z0-9_]*$/.test(name)) return 'value';
    return 'func';
  }

  /** @param subst the type arguments of a generic type being instantiated, by parameter name */
  resolveType(te: TypeExpr | undefined, file: SourceFile, typeParams?: ReadonlySet<string>, subst?: ReadonlyMap<string, Ty>): Ty {
    if (!te) return UNKNOWN;
    const sub = (x: TypeExpr | undefined) => this.resolveType(x, file, typeParams, subst);
    switch (te.k) {
      case 'name': {
        if (te.pkg === 'C') return { k: 'c', name: te.name };
        if (te.pkg === 'unsafe' && te.name === 'Pointer') return UNSAFE_POINTER;
        if (te.pkg) {
          const path = file.imports.get(te.pkg);
          return path ? { k: 'named', pkg: path, name: te.name } : UNKNOWN;
        }
        const arg = subst?.get(te.name);
        if (arg) return arg;
        if (typeParams?.has(te.name)) return UNKNOWN;
        if (this.pkg.types.has(te.name)) return { k: 'named', pkg: this.pkg.importPath, name: te.name };
        if (BASIC_TYPES.has(te.name)) return basic(te.name === 'byte' ? 'uint8' : te.name === 'rune' ? 'int32' : te.name);
        return UNKNOWN;
      }
      case 'pointer':
        return pointerTo(sub(te.elem));
      case 'slice':
        return { k: 'slice', elem: sub(te.elem) };
      case 'array': {
        const len = te.len?.k === 'lit' && te.len.kind === 'int' ? parseGoInt(te.len.value) : undefined;
        return { k: 'array', elem: sub(te.elem), len };
      }
      case 'map':
        return { k: 'map', key: sub(te.key), value: sub(te.value) };
      case 'chan':
        return { k: 'chan', elem: sub(te.elem) };
      case 'func':
        return {
          k: 'func',
          params: te.params.map(sub),
          results: te.results.map(sub),
        };
      case 'struct':
        return {
          k: 'struct',
          fields: te.fields.flatMap((f): { name: string; type: Ty; embedded: boolean }[] => {
            const type = sub(f.type);
            if (f.names.length === 0) {
              let base: TypeExpr = f.type;
              if (base.k === 'pointer') base = base.elem;
              return [{ name: base.k === 'name' ? base.name : '?', type, embedded: true }];
            }
            return f.names.map((name) => ({ name, type, embedded: false }));
          }),
        };
      case 'interface':
        return { k: 'interface' };
      case 'generic': {
        const base = sub(te.base);
        // A generic type of this package instantiated: its fields are resolved with the arguments.
        if (base.k !== 'named' || base.pkg !== this.pkg.importPath) return base;
        const params = this.pkg.types.get(base.name)?.decl.typeParams;
        return params?.length && te.args.length === params.length ? { ...base, args: te.args.map(sub) } : base;
      }
      case 'unknown':
        return UNKNOWN;
    }
  }

  /** The underlying type of a named type declared in this package. */
  underlying(t: Ty): Ty {
    for (let depth = 0; t.k === 'named' && depth < 10; depth++) {
      if (t.pkg !== this.pkg.importPath) return UNKNOWN;
      const key = t.args ? tyString(t) : t.name;
      const cached = this.underlyingCache.get(key);
      if (cached) return cached;
      const decl = this.pkg.types.get(t.name);
      if (!decl) return UNKNOWN;
      this.underlyingCache.set(key, UNKNOWN); // recursion guard
      const args = t.args;
      const subst = args ? new Map(decl.decl.typeParams.map((p, i): [string, Ty] => [p, args[i] ?? UNKNOWN])) : undefined;
      const u = this.resolveType(decl.decl.type, decl.file, undefined, subst);
      const result = u.k === 'named' ? this.underlying(u) : u;
      this.underlyingCache.set(key, result);
      t = result;
    }
    return t;
  }

  /** True for struct values: Go structs, C structs and unions (by tag or typedef). */
  isStruct(t: Ty): boolean {
    const u = t.k === 'named' ? this.underlying(t) : t;
    if (u.k === 'struct') return true;
    if (u.k !== 'c') return false;
    // struct_x and union_x are structs whatever the headers say; *_t names are
    // taken as scalars without reading headers (fields of those are not followed).
    if (/^(struct|union)_/.test(u.name)) return true;
    if (isCNumericName(u.name) || (/_t$/.test(u.name) && !this.pkg.c.typedefs.has(u.name))) return false;
    return this.pkg.cType(u.name)?.k === 'struct';
  }

  /** The Go-side type of field `name` of a C struct (or pointer to one). */
  cFieldType(t: Ty, name: string): Ty | undefined {
    if (t.k === 'pointer') t = t.elem;
    if (t.k !== 'c') return undefined;
    const ct = this.pkg.cType(t.name);
    const f = ct ? cField(ct, name, this.pkg.c) : undefined;
    return f ? cToGoType(f.type, this.pkg.c) : undefined;
  }

  /** Size in bytes of a Go type (or a C type seen from Go), when it can be known. */
  sizeOf(t: Ty, depth = 0): number | undefined {
    if (depth > 8) return undefined;
    const u = t.k === 'named' ? this.underlying(t) : t;
    switch (u.k) {
      case 'basic':
        return basicSize(u.name);
      case 'pointer':
      case 'unsafeptr':
      case 'map':
      case 'chan':
      case 'func':
        return 8;
      case 'slice':
        return 24;
      case 'interface':
        return 16;
      case 'array': {
        const e = this.sizeOf(u.elem, depth + 1);
        return e !== undefined && u.len !== undefined ? e * u.len : undefined;
      }
      case 'c': {
        const ct = this.pkg.cType(u.name);
        return ct ? cSizeOf(ct, this.pkg.c) : undefined;
      }
      default:
        return undefined;
    }
  }

  /** C numbers and enums: values that are never pointers. */
  isCScalar(t: Ty & { k: 'c' }): boolean {
    if (isCNumericName(t.name)) return true;
    const ct = this.pkg.cType(t.name);
    return !!ct && (ct.k === 'prim' || ct.k === 'enum');
  }

  /** The type of field `name` of a struct (or pointer to struct), following embedded fields. */
  fieldType(t: Ty, name: string, depth = 0): Ty | undefined {
    if (depth > 4) return undefined;
    if (t.k === 'pointer') t = t.elem;
    const u = this.underlying(t);
    if (u.k !== 'struct') return undefined;
    for (const f of u.fields) if (f.name === name) return f.type;
    for (const f of u.fields) {
      if (!f.embedded) continue;
      const inner = this.fieldType(f.type, name, depth + 1);
      if (inner) return inner;
    }
    return undefined;
  }

  /** The method `name` of type t: a function of this package, or the key of one elsewhere. */
  method(t: Ty, name: string, depth = 0): { info?: FuncInfo; key: string } | undefined {
    if (depth > 4) return undefined; // embedding cycles in broken code
    if (t.k === 'pointer') t = t.elem;
    if (t.k !== 'named') return undefined;
    const key = `${t.pkg}.${t.name}.${name}`;
    if (t.pkg === this.pkg.importPath) {
      const info = this.pkg.lookupMethod(t.name, name);
      if (info) return { info, key };
      // Promoted through an embedded field.
      const u = this.underlying(t);
      if (u.k === 'struct') {
        for (const f of u.fields) {
          if (!f.embedded) continue;
          const m = this.method(f.type, name, depth + 1);
          if (m) return m;
        }
      }
      return undefined;
    }
    return this.external.signature(key) ? { key } : undefined;
  }

  funcSignature(info: FuncInfo): { params: Ty[]; results: Ty[] } {
    const tp = new Set(info.decl.typeParams);
    return {
      params: info.decl.paramTypes.map((t) => this.resolveType(t, info.file, tp)),
      results: info.decl.resultTypes.map((t) => this.resolveType(t, info.file, tp)),
    };
  }

  externalSignature(key: string): ExternalSignature | undefined {
    return this.external.signature(key);
  }
}

/** Types of a function's variables: declared, or inferred from their first definition. */
export class FuncTypes {
  readonly vars: Ty[];
  private readonly typeParams: ReadonlySet<string>;

  constructor(
    readonly r: Resolver,
    readonly info: FuncInfo,
  ) {
    this.typeParams = new Set(info.decl.typeParams);
    this.vars = info.decl.vars.map((v) => r.resolveType(v.type, info.file, this.typeParams));
    this.inferBody(info.decl.ir);
  }

  private inferBody(fn: FuncIR): void {
    const define = (lhs: Expr[], rhs: Expr[]) => {
      const types = rhs.length === 1 && lhs.length > 1 ? tupleItems(this.exprType(rhs[0])) : rhs.map((x) => this.exprType(x));
      lhs.forEach((l, i) => {
        if (l.k === 'ident' && l.v >= 0 && this.vars[l.v].k === 'unknown' && types[i]) this.vars[l.v] = types[i];
      });
    };
    const visitExpr = (e: Expr): void => {
      if (e.k === 'funclit') this.inferBody(e.fn);
      else forEachChildExpr(e, visitExpr);
    };
    walkStmts(fn.body, visitExpr, (s) => {
      switch (s.k) {
        case 'assign':
          if (s.define) define(s.lhs, s.rhs);
          break;
        case 'vardecl':
          if (!s.type) define(s.vars, s.values);
          break;
        case 'range': {
          if (!s.define || !s.x) break;
          const [kt, vt] = rangeTypes(this.underlyingOf(this.exprType(s.x)));
          for (const [e, t] of [[s.key, kt], [s.value, vt]] as const) {
            if (e?.k === 'ident' && e.v >= 0 && this.vars[e.v].k === 'unknown') this.vars[e.v] = t;
          }
          break;
        }
        case 'typeswitch':
          for (const c of s.cases) {
            // A clause listing several types (or none) binds the value with the switched type.
            if (c.bind !== undefined && this.vars[c.bind].k === 'unknown' && !(c.types && c.types.length === 1)) this.vars[c.bind] = this.exprType(s.x);
          }
          break;
        default:
          break;
      }
    });
  }

  resolve(te: TypeExpr | undefined): Ty {
    return this.r.resolveType(te, this.info.file, this.typeParams);
  }

  /** True when `e` names a type (so `e(x)` is a conversion). */
  isType(e: Expr): boolean {
    switch (e.k) {
      case 'type':
        return true;
      case 'paren':
        return this.isType(e.x);
      case 'ident':
        return e.v === NO_VAR && (this.r.pkg.types.has(e.name) || (BASIC_TYPES.has(e.name) && e.name !== 'error') || this.typeParams.has(e.name));
      case 'sel':
        if (e.x.k === 'ident' && e.x.v === NO_VAR) {
          if (e.x.name === 'C') return this.r.cName(e.name) === 'type';
          if (e.x.name === 'unsafe') return e.name === 'Pointer';
        }
        return false;
      case 'index':
        return this.isType(e.x);
      default:
        return false;
    }
  }

  typeOfTypeExpr(e: Expr): Ty {
    switch (e.k) {
      case 'type':
        return this.resolve(e.type);
      case 'paren':
        return this.typeOfTypeExpr(e.x);
      case 'ident':
        return this.resolve({ k: 'name', name: e.name, pos: e.pos, end: e.end });
      case 'sel':
        if (e.x.k === 'ident') return this.resolve({ k: 'name', pkg: e.x.name, name: e.name, pos: e.pos, end: e.end });
        return UNKNOWN;
      case 'index':
        return this.typeOfTypeExpr(e.x);
      default:
        return UNKNOWN;
    }
  }

  /** The package a selector's operand names, when it is an import. */
  importOf(e: Expr): string | undefined {
    if (e.k === 'ident' && e.v === NO_VAR && e.name !== 'C') return this.info.file.imports.get(e.name);
    return undefined;
  }

  exprType(e: Expr): Ty {
    switch (e.k) {
      case 'ident': {
        if (e.v >= 0) return this.vars[e.v];
        const g = this.r.pkg.globals.get(e.name);
        if (g) return g.decl.type ? this.r.resolveType(g.decl.type, g.file) : UNKNOWN;
        const f = this.r.pkg.funcs.get(e.name);
        if (f) return { k: 'func', ...this.r.funcSignature(f) };
        return UNKNOWN;
      }
      case 'lit':
        return e.kind === 'string' ? basic('string') : e.kind === 'int' || e.kind === 'rune' ? basic('int') : UNKNOWN;
      case 'bool':
        return basic('bool');
      case 'paren':
        return this.exprType(e.x);
      case 'conv':
        return this.resolve(e.type);
      case 'unary':
        if (e.op === '&') return pointerTo(this.exprType(e.x));
        if (e.op === '*') {
          const t = this.exprType(e.x);
          return t.k === 'pointer' ? t.elem : UNKNOWN;
        }
        if (e.op === '!') return basic('bool');
        if (e.op === '<-') {
          const t = this.underlyingOf(this.exprType(e.x));
          return t.k === 'chan' ? t.elem : UNKNOWN;
        }
        return this.exprType(e.x);
      case 'binary':
        if (['==', '!=', '<', '<=', '>', '>=', '&&', '||'].includes(e.op)) return basic('bool');
        return this.exprType(e.x);
      case 'sel': {
        const imp = this.importOf(e.x);
        if (imp) {
          const sig = this.r.externalSignature(`${imp}.${e.name}`);
          return sig ? { k: 'func', params: sig.params, results: sig.results } : UNKNOWN;
        }
        if (e.x.k === 'ident' && e.x.v === NO_VAR && e.x.name === 'C') return UNKNOWN;
        const xt = this.exprType(e.x);
        const ft = this.r.fieldType(xt, e.name);
        if (ft) return ft;
        const m = this.r.method(xt, e.name);
        if (m?.info) return { k: 'func', ...this.r.funcSignature(m.info) };
        if (m) {
          const sig = this.r.externalSignature(m.key);
          if (sig) return { k: 'func', params: sig.params, results: sig.results };
        }
        return UNKNOWN;
      }
      case 'index': {
        const t = this.underlyingOf(this.exprType(e.x));
        if (t.k === 'slice' || t.k === 'array') return t.elem;
        if (t.k === 'pointer') {
          const inner = this.underlyingOf(t.elem);
          if (inner.k === 'array') return inner.elem;
        }
        if (t.k === 'map') return t.value;
        if (t.k === 'basic' && t.name === 'string') return basic('uint8');
        return UNKNOWN;
      }
      case 'slice': {
        const t = this.underlyingOf(this.exprType(e.x));
        if (t.k === 'array') return { k: 'slice', elem: t.elem };
        if (t.k === 'pointer') {
          const inner = this.underlyingOf(t.elem);
          if (inner.k === 'array') return { k: 'slice', elem: inner.elem };
        }
        return this.exprType(e.x);
      }
      case 'assert':
        return e.type ? this.resolve(e.type) : UNKNOWN;
      case 'composite':
        return e.type ? this.resolve(e.type) : UNKNOWN;
      case 'funclit':
        return { k: 'func', params: [], results: e.fn.results.map((v) => this.vars[v]) };
      case 'call':
        return this.callType(e);
      default:
        return UNKNOWN;
    }
  }

  private callType(e: Extract<Expr, { k: 'call' }>): Ty {
    const f = e.fun.k === 'paren' ? e.fun.x : e.fun;
    if (this.isType(f)) return this.typeOfTypeExpr(f);
    if (f.k === 'ident' && f.v === NO_VAR && !this.r.pkg.funcs.has(f.name)) {
      switch (f.name) {
        case 'new':
          return e.args[0] ? pointerTo(this.typeOfTypeExpr(e.args[0])) : UNKNOWN;
        case 'make':
          return e.args[0] ? this.typeOfTypeExpr(e.args[0]) : UNKNOWN;
        case 'append':
          return e.args[0] ? this.exprType(e.args[0]) : UNKNOWN;
        case 'len':
        case 'cap':
        case 'copy':
          return basic('int');
        case 'min':
        case 'max':
          return e.args[0] ? this.exprType(e.args[0]) : UNKNOWN;
        case 'recover':
          return basic('any');
      }
    }
    if (f.k === 'sel' && f.x.k === 'ident' && f.x.v === NO_VAR) {
      if (f.x.name === 'C') {
        switch (f.name) {
          case 'CString':
            return pointerTo({ k: 'c', name: 'char' });
          case 'CBytes':
          case 'malloc':
            return UNSAFE_POINTER;
          case 'GoString':
          case 'GoStringN':
            return basic('string');
          case 'GoBytes':
            return { k: 'slice', elem: basic('uint8') };
        }
        const cf = this.r.pkg.cFunc(f.name);
        return cf ? cToGoType(cf.ret, this.r.pkg.c) : UNKNOWN;
      }
      if (f.x.name === 'unsafe') {
        if (f.name === 'Slice' && e.args[0]) {
          const t = this.exprType(e.args[0]);
          return { k: 'slice', elem: t.k === 'pointer' ? t.elem : UNKNOWN };
        }
        if (f.name === 'String') return basic('string');
        if (f.name === 'Add') return UNSAFE_POINTER;
        if (f.name === 'StringData') return pointerTo(basic('uint8'));
        if (f.name === 'SliceData' && e.args[0]) {
          const t = this.underlyingOf(this.exprType(e.args[0]));
          return pointerTo(t.k === 'slice' ? t.elem : UNKNOWN);
        }
        return basic('uintptr');
      }
      if (f.x.name === 'errors' || (f.x.name === 'fmt' && f.name === 'Errorf')) return basic('error');
      const imp = this.importOf(f.x);
      if (imp === 'runtime/cgo' && f.name === 'NewHandle') return { k: 'named', pkg: 'runtime/cgo', name: 'Handle' };
    }
    const ft = this.exprType(f);
    if (ft.k === 'func') {
      if (ft.results.length === 1) return ft.results[0];
      if (ft.results.length > 1) return { k: 'tuple', items: ft.results };
    }
    return UNKNOWN;
  }

  underlyingOf(t: Ty): Ty {
    return t.k === 'named' ? this.r.underlying(t) : t;
  }
}

function tupleItems(t: Ty): Ty[] {
  return t.k === 'tuple' ? t.items : [t];
}

function rangeTypes(t: Ty): [Ty, Ty] {
  switch (t.k) {
    case 'slice':
    case 'array':
      return [basic('int'), t.elem];
    case 'map':
      return [t.key, t.value];
    case 'chan':
      return [t.elem, UNKNOWN];
    case 'basic':
      return t.name === 'string' ? [basic('int'), basic('int32')] : [t, UNKNOWN];
    case 'pointer': {
      const e = t.elem;
      return e.k === 'array' ? [basic('int'), e.elem] : [UNKNOWN, UNKNOWN];
    }
    default:
      return [UNKNOWN, UNKNOWN];
  }
}
