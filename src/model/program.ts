// The package model: a package's files, declarations, C side and contracts,
// indexed for lookups by name.
import type { Expr, FuncDecl, GoFile, TypeDecl, TypeExpr, ValueDecl } from '../syntax/goast.js';
import { constInt } from '../syntax/exprs.js';
import { parseDirective } from '../syntax/directives.js';
import { LineIndex } from '../syntax/positions.js';
import { emptyCModel, type CFunc, type CModel } from './cdecls.js';
import { CBodies } from './cbodies.js';
import { addHeaderDeclarations, contractDirectives, cTypeOfGoName } from './cmodel.js';
import type { CType } from './ctypes.js';
import { packContracts, packsForPreamble } from './packs.js';
import { ContractSet, ContractSyntaxError, emptyContract, parseContract, translateSeedContract, type Contract } from './contracts.js';
import { findSeedContracts, type SeedContractBlock } from '../syntax/directives.js';

export interface FuncInfo {
  /** importPath.Name or importPath.Type.Method */
  key: string;
  /** Name as Go tools print it: Name, (*T).Method or T.Method */
  display: string;
  name: string;
  recvType?: string;
  ptrRecv: boolean;
  decl: FuncDecl;
  file: SourceFile;
  pkg: PackageModel;
  contract?: Contract;
}

/** A Go file with its line index (for positions) and import table. */
export interface SourceFile {
  go: GoFile;
  lines: LineIndex;
  /** Local name of each import → import path. */
  imports: Map<string, string>;
  /** Display path of the file, as the user gave it. */
  display: string;
}

/** A text with a display path and line index: a Go file or a C file of the package. */
export interface Located {
  lines: LineIndex;
  display: string;
}

export interface DirectiveProblem {
  file: Located;
  pos: number;
  end: number;
  message: string;
}

export class PackageModel {
  readonly files: SourceFile[] = [];
  readonly types = new Map<string, { decl: TypeDecl; file: SourceFile }>();
  readonly funcs = new Map<string, FuncInfo>();
  /** Every function and method declared, in file order (duplicates in broken code included). */
  private readonly declared: FuncInfo[] = [];
  readonly methods = new Map<string, Map<string, FuncInfo>>();
  readonly globals = new Map<string, { decl: ValueDecl; file: SourceFile }>();
  readonly c: CModel = emptyCModel();
  readonly contracts: ContractSet;
  readonly directiveProblems: DirectiveProblem[] = [];
  /** Go wrapper functions by key whose doc comment carries a contract. */
  readonly goContracts = new Map<string, Contract>();
  /** The C bodies, summarised when the analysis first needs one. */
  readonly cBodies = new CBodies();

  constructor(
    readonly importPath: string,
    readonly name: string,
    baseContracts: ContractSet,
  ) {
    this.contracts = baseContracts.clone();
    this.c.contractOf = (name) => this.contracts.get(name);
  }

  addFile(go: GoFile, display: string): SourceFile {
    const imports = new Map<string, string>();
    for (const imp of go.imports) {
      if (imp.path === 'C') continue;
      const local = imp.name ?? defaultImportName(imp.path);
      if (local !== '_' && local !== '.') imports.set(local, imp.path);
    }
    const file: SourceFile = { go, lines: new LineIndex(go.text), imports, display };
    this.files.push(file);
    for (const t of go.types) this.types.set(t.name, { decl: t, file });
    for (const v of go.values) this.globals.set(v.name, { decl: v, file });
    for (const d of go.funcs) this.addFunc(d, file);
    this.addSeedContracts(file, go.seedContracts);
    if (go.preamble) this.addPreamble(file);
    return file;
  }

  /** A constant integer expression's value, package-level constants (`const digestLen = 32`) included. */
  constInt(e: Expr | undefined): number | undefined {
    return constInt(e, (name) => {
      const g = this.globals.get(name);
      return g?.decl.isConst ? g.decl.intValue : undefined;
    });
  }

  /** The design document's "Contract:" blocks, translated into the contract grammar. */
  private addSeedContracts(file: Located, blocks: SeedContractBlock[]): void {
    for (const block of blocks) {
      const origin = `${file.display}:${file.lines.lineOf(block.pos)}`;
      const { contracts, problems } = translateSeedContract(block.lines);
      for (const text of contracts) this.contracts.add(parseContract(text, origin));
      for (const p of problems) this.directiveProblems.push({ file, pos: block.pos, end: block.end, message: `bad contract: ${p}` });
    }
  }

  private addFunc(decl: FuncDecl, file: SourceFile): void {
    let recvType: string | undefined;
    let ptrRecv = false;
    if (decl.recv) {
      let t: TypeExpr = decl.recv.type;
      if (t.k === 'pointer') {
        ptrRecv = true;
        t = t.elem;
      }
      if (t.k === 'generic') t = t.base;
      recvType = t.k === 'name' ? t.name : '?';
    }
    let key = recvType ? `${this.importPath}.${recvType}.${decl.name}` : `${this.importPath}.${decl.name}`;
    const display = recvType ? (ptrRecv ? `(*${recvType}).${decl.name}` : `${recvType}.${decl.name}`) : decl.name;
    const table = recvType ? this.methodTable(recvType) : this.funcs;
    // init, _ and redeclarations (broken code) are analysed but cannot be called by name.
    const callable = decl.name !== '_' && !(decl.name === 'init' && !recvType) && !table.has(decl.name);
    if (!callable) key = `${key}#${this.files.length}:${decl.pos}`;
    const info: FuncInfo = { key, display, name: decl.name, recvType, ptrRecv, decl, file, pkg: this };
    if (callable) table.set(decl.name, info);
    this.declared.push(info);
    for (const c of decl.doc) {
      const d = parseDirective(c.text);
      if (d?.verb !== 'contract') continue;
      const paramNames = decl.ir.params.map((v) => decl.vars[v].name);
      try {
        const contract = parseContract(d.text, `${file.display}:${file.lines.lineOf(c.pos)}`, decl.name, paramNames);
        info.contract = contract;
        this.goContracts.set(key, contract);
      } catch (e) {
        if (!(e instanceof ContractSyntaxError)) throw e;
        this.directiveProblems.push({ file, pos: c.pos, end: c.end, message: `bad contract: ${e.message}` });
      }
    }
  }

  private readonly packsUsed = new Set<string>();

  private addPreamble(file: SourceFile): void {
    const pre = file.go.preamble!;
    // Contract packs for the libraries the preamble includes.
    for (const pack of packsForPreamble(pre.text)) {
      if (this.packsUsed.has(pack.name)) continue;
      this.packsUsed.add(pack.name);
      for (const contract of packContracts(pack)) this.contracts.addBelow(contract);
    }
    this.addC(file, pre.text, 'preamble', (offset) => preambleOffsetToGo(pre.text, pre.lineOffsets, offset));
  }

  /** A .c or .h file of the package: its definitions and its contract directives. */
  addCFile(display: string, text: string): void {
    const file = { lines: new LineIndex(text), display };
    this.addC(file, text, display, (offset) => offset);
    if (text.includes('Contract:')) this.addSeedContracts(file, findSeedContracts(text, () => true));
  }

  /** Preprocesses the preambles when declarations from headers are first needed. */
  headerLoader?: () => string | undefined;
  private headersRead = false;

  /** The C model, completed with declarations from the headers the preambles include. */
  cWithHeaders(): CModel {
    if (!this.headersRead) {
      this.headersRead = true;
      const text = this.headerLoader?.();
      if (text) {
        addHeaderDeclarations(this.c, text);
        this.cBodies.declared(text);
      }
    }
    return this.c;
  }

  /** Reads the package's .c and .h files when a definition or contract is first looked for. */
  cFileLoader?: () => void;

  private withCFiles(): void {
    const load = this.cFileLoader;
    this.cFileLoader = undefined;
    load?.();
  }

  /** A C function as the package itself has it (preamble, .c and .h files): with its summary when defined there. */
  cFunc(name: string): CFunc | undefined {
    let f = this.c.funcs.get(name);
    if (!f?.defined) {
      this.withCFiles();
      f = this.c.funcs.get(name);
    }
    if (f && this.cBodies.pending(f)) this.cBodies.summarize([f, ...this.calledFromGo()]);
    return f;
  }

  private goNames?: string[];

  /**
   * The C functions the Go files name (`C.name`) whose bodies wait: their
   * summaries are made together, so that the functions they share in C are
   * read once.
   */
  private calledFromGo(): CFunc[] {
    this.goNames ??= [...new Set(this.files.flatMap((f) => [...f.go.text.matchAll(/\bC\.([A-Za-z_]\w*)/g)].map((m) => m[1])))];
    return this.goNames.flatMap((n) => {
      const f = this.c.funcs.get(n);
      return f && this.cBodies.pending(f) ? [f] : [];
    });
  }

  /** A C function's declaration, from the headers when the package does not declare it (for its signature). */
  cDeclaration(name: string): CFunc | undefined {
    return this.cFunc(name) ?? this.cWithHeaders().funcs.get(name);
  }

  /** Contracts inferred from the library headers the preambles include (see knowledge/infer-header.ts). */
  inferredLoader?: () => ReadonlyMap<string, { contract: Contract }>;
  private inferredContracts?: ReadonlyMap<string, { contract: Contract }>;

  /**
   * The ownership contract of a C function (or of a Go wrapper, by its C name):
   * one given (configuration, packs, directives) first, then, for a function
   * the package does not define itself, one inferred from the library's
   * headers, then one inferred from the module's usage.
   */
  contract(name: string): Contract | undefined {
    const c = this.contracts.get(name);
    if (c) return c;
    this.withCFiles();
    const given = this.contracts.get(name);
    if (given) return given;
    if (this.c.funcs.get(name)?.defined) return this.forwardedContract(name);
    if (this.inferredLoader) this.inferredContracts ??= this.inferredLoader();
    return this.inferredContracts?.get(name)?.contract ?? this.usageContracts?.get(name);
  }

  /** A wrapper defined in C that has a callee fill its out parameters: those writes as a contract. */
  private forwardedContract(name: string): Contract | undefined {
    const f = this.cFunc(name);
    if (!f?.writesOwned?.length) return undefined;
    const via = [...new Set(f.writesOwned.map((w) => w.via))].join(', ');
    return {
      ...emptyContract(name, `its C body, which passes the out parameter to ${via}`),
      writesOwned: f.writesOwned.map(({ param, releasedBy, when }) => ({ param, releasedBy, ...(when ? { when } : {}) })),
    };
  }

  /** Contracts inferred from how the module's Go code uses C functions: the last resort. */
  usageContracts?: ReadonlyMap<string, Contract>;

  /** The C type `C.name` stands for, reading headers for names the package does not declare. */
  cType(name: string): CType | undefined {
    const t = cTypeOfGoName(this.c, name);
    const complete = t && !(t.k === 'struct' && !t.fields) && t.k !== 'named';
    return complete ? t : cTypeOfGoName(this.cWithHeaders(), name);
  }

  private addC(file: Located, text: string, source: string, toFile: (offset: number) => number): void {
    // Contracts first: the summaries of the C bodies use them.
    for (const dir of contractDirectives(text)) {
      const pos = toFile(dir.offset);
      try {
        this.contracts.add(parseContract(dir.text, `${file.display}:${file.lines.lineOf(pos)}`));
      } catch (e) {
        if (!(e instanceof ContractSyntaxError)) throw e;
        this.directiveProblems.push({ file, pos, end: pos + dir.text.length, message: `bad contract: ${e.message}` });
      }
    }
    this.cBodies.add(this.c, text, source, () => {
      const now = this.contracts.clone();
      return { get: (name) => now.get(name), digest: now.digest() };
    });
  }

  lookupMethod(typeName: string, method: string): FuncInfo | undefined {
    return this.methods.get(typeName)?.get(method);
  }

  allFuncs(): FuncInfo[] {
    return this.declared;
  }

  private methodTable(typeName: string): Map<string, FuncInfo> {
    let m = this.methods.get(typeName);
    if (!m) this.methods.set(typeName, (m = new Map()));
    return m;
  }
}

/** Maps an offset in the preamble's C text back to the Go file. */
export function preambleOffsetToGo(text: string, lineOffsets: number[], offset: number): number {
  let line = 0;
  let start = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      start = i + 1;
    }
  }
  return (lineOffsets[line] ?? lineOffsets[lineOffsets.length - 1] ?? 0) + (offset - start);
}

/** The package name an import path gets by default (last element, minus a /vN suffix and dots). */
export function defaultImportName(path: string): string {
  const parts = path.split('/');
  let last = parts[parts.length - 1];
  if (/^v\d+$/.test(last) && parts.length > 1) last = parts[parts.length - 2];
  return last.replace(/^go-/, '').replace(/[.-].*$/, '');
}
