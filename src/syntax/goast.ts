// The Go syntax that the analysis works on: a small typed tree converted from
// tree-sitter, with identifiers already resolved to the local variable they
// name. Positions are UTF-16 offsets into the file's text (`pos`..`end`).

import type { SeedContractBlock } from './directives.js';

export interface Span {
  pos: number;
  end: number;
}

export type TypeExpr =
  | ({ k: 'name'; pkg?: string; name: string } & Span)
  | ({ k: 'pointer'; elem: TypeExpr } & Span)
  | ({ k: 'slice'; elem: TypeExpr } & Span)
  | ({ k: 'array'; len?: Expr; elem: TypeExpr } & Span)
  | ({ k: 'map'; key: TypeExpr; value: TypeExpr } & Span)
  | ({ k: 'chan'; elem: TypeExpr } & Span)
  | ({ k: 'func'; params: TypeExpr[]; results: TypeExpr[] } & Span)
  | ({ k: 'struct'; fields: FieldDecl[] } & Span)
  | ({ k: 'interface'; methods: string[] } & Span)
  | ({ k: 'generic'; base: TypeExpr; args: TypeExpr[] } & Span)
  | ({ k: 'unknown' } & Span);

export interface FieldDecl {
  names: string[]; // empty for an embedded field
  type: TypeExpr;
}

/** Variable reference: index into FuncIR.vars of the enclosing top-level function. */
export type VarId = number;
export const NO_VAR = -1; // package-level name, builtin, or imported package
export const BLANK_VAR = -2; // `_`

export type Expr =
  | ({ k: 'ident'; name: string; v: VarId } & Span)
  | ({ k: 'lit'; kind: 'int' | 'float' | 'imag' | 'rune' | 'string'; value: string } & Span)
  | ({ k: 'nil' } & Span)
  | ({ k: 'bool'; value: boolean } & Span)
  | ({ k: 'iota' } & Span)
  | ({ k: 'sel'; x: Expr; name: string; namePos: number } & Span)
  | ({ k: 'call'; fun: Expr; args: Expr[]; ellipsis: boolean } & Span)
  | ({ k: 'conv'; type: TypeExpr; x: Expr } & Span)
  | ({ k: 'unary'; op: string; x: Expr } & Span)
  | ({ k: 'binary'; op: string; x: Expr; y: Expr } & Span)
  | ({ k: 'index'; x: Expr; index: Expr[] } & Span)
  | ({ k: 'slice'; x: Expr; lo?: Expr; hi?: Expr; max?: Expr } & Span)
  | ({ k: 'assert'; x: Expr; type?: TypeExpr } & Span)
  | ({ k: 'composite'; type?: TypeExpr; elts: Element[] } & Span)
  | ({ k: 'funclit'; fn: FuncIR } & Span)
  | ({ k: 'paren'; x: Expr } & Span)
  | ({ k: 'type'; type: TypeExpr } & Span)
  | ({ k: 'bad' } & Span);

export interface Element {
  key?: Expr; // field name (as ident with v = NO_VAR), index or map key
  value: Expr;
}

export type Stmt =
  | ({ k: 'expr'; x: Expr } & Span)
  | ({ k: 'assign'; op: string; define: boolean; lhs: Expr[]; rhs: Expr[] } & Span)
  | ({ k: 'vardecl'; vars: Expr[]; type?: TypeExpr; values: Expr[] } & Span)
  | ({ k: 'incdec'; x: Expr } & Span)
  | ({ k: 'send'; ch: Expr; value: Expr } & Span)
  | ({ k: 'block'; body: Stmt[] } & Span)
  | ({ k: 'if'; init?: Stmt; cond: Expr; then: Stmt[]; else?: Stmt } & Span)
  | ({ k: 'for'; init?: Stmt; cond?: Expr; post?: Stmt; body: Stmt[] } & Span)
  | ({ k: 'range'; key?: Expr; value?: Expr; define: boolean; x?: Expr; body: Stmt[] } & Span)
  | ({ k: 'switch'; init?: Stmt; tag?: Expr; cases: SwitchCase[] } & Span)
  | ({ k: 'typeswitch'; init?: Stmt; x: Expr; cases: TypeCase[] } & Span)
  | ({ k: 'select'; cases: SelectCase[] } & Span)
  | ({ k: 'go'; call: Expr } & Span)
  | ({ k: 'defer'; call: Expr } & Span)
  | ({ k: 'return'; results: Expr[] } & Span)
  | ({ k: 'branch'; tok: 'break' | 'continue' | 'goto' | 'fallthrough'; label?: string } & Span)
  | ({ k: 'labeled'; label: string; stmt: Stmt } & Span)
  | ({ k: 'empty' } & Span);

export interface SwitchCase extends Span {
  exprs: Expr[] | null; // null: default
  body: Stmt[];
}

export interface TypeCase extends Span {
  types: (TypeExpr | null)[] | null; // null list: default; null entry: `nil`
  bind?: VarId; // the clause's own copy of `v` in `switch v := x.(type)`
  body: Stmt[];
}

export interface SelectCase extends Span {
  comm?: Stmt; // send, expression (receive) or assignment from a receive; absent: default
  body: Stmt[];
}

export type VarKind = 'param' | 'result' | 'recv' | 'local';

export interface VarInfo {
  name: string;
  pos: number;
  kind: VarKind;
  type?: TypeExpr;
  fn: number; // index of the FuncIR (0: top-level, then closures) that declares it
}

export interface FuncIR extends Span {
  id: number; // 0 for the declared function, 1.. for its closures
  params: VarId[]; // including unnamed ones (synthetic variables)
  variadic: boolean;
  results: VarId[]; // synthetic variables for unnamed results
  namedResults: boolean;
  body: Stmt[];
  bodyPos: number;
  bodyEnd: number; // position of the closing brace
}

export interface FuncDecl extends Span {
  name: string;
  namePos: number;
  recv?: { type: TypeExpr; v: VarId };
  typeParams: string[];
  paramTypes: TypeExpr[];
  resultTypes: TypeExpr[];
  doc: Comment[];
  /** Signature, and the body when `bodyConverted`. */
  ir: FuncIR;
  /** All variables of the function and its closures. */
  vars: VarInfo[];
  hasBody: boolean;
  bodyConverted: boolean;
  /** Where the body's text is, converted or not. */
  bodySpan?: Span;
}

export interface TypeDecl extends Span {
  name: string;
  type: TypeExpr;
  alias: boolean;
  /** It has type parameters (List[T any]): its name alone is not a type. */
  generic: boolean;
  /** The names of its type parameters, in order (T in List[T any]). */
  typeParams: string[];
}

export interface ValueDecl extends Span {
  name: string;
  type?: TypeExpr;
  /** Without a declared type: the type of a composite literal initializer. */
  literalType?: TypeExpr;
  isConst: boolean;
  /** A constant whose value is an integer literal (`const digestLen = 32`). */
  intValue?: number;
}

export interface Comment extends Span {
  text: string;
}

export interface ImportSpec extends Span {
  name?: string; // explicit alias, '.' or '_'
  path: string;
}

export interface Preamble {
  /** The C source between the comment markers, one entry per line kept in place. */
  text: string;
  /** UTF-16 offset in the Go file where `text` starts. */
  offset: number;
  /** For each line of `text`, the offset in the Go file where it starts. */
  lineOffsets: number[];
}

export interface GoFile {
  path: string;
  text: string;
  pkgName: string;
  imports: ImportSpec[];
  importsC: boolean;
  preamble?: Preamble;
  funcs: FuncDecl[];
  types: TypeDecl[];
  values: ValueDecl[];
  comments: Comment[];
  /** The design document's "Contract:" comment blocks. */
  seedContracts: SeedContractBlock[];
  syntaxErrors: Span[];
}
