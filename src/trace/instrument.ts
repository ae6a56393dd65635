// Rewrites the C allocation and release sites of a Go file for `cgoguard
// trace`, in memory: the result goes to the build through -overlay, never
// onto the user's disk. Every rewrite stays on the line it replaces, so
// positions in stacks and panics are the user's own. Each site gets a number;
// the site table says where it is.
import type { Node } from 'web-tree-sitter';
import { contractDirectives, isCNumericName } from '../model/cmodel.js';
import { ContractSet, ContractSyntaxError, parseContract } from '../model/contracts.js';
import { packContracts, packsForPreamble } from '../model/packs.js';
import { parseGo } from '../syntax/parser.js';
import { UsageError } from '../workspace/discover.js';

export interface Site {
  file: string;
  line: number;
  column: number;
  /** What is called there: C.CString, C.free, C.sqlite3_open... */
  call: string;
  /**
   * Allocations handed straight to C (the argument of a C call, or the result of
   * an exported function): C may free them where the trace cannot see.
   */
  handedTo?: string;
}

const RUNTIME_NAME = '_cgoguardtrace';
const UNSAFE = '_cgt_unsafe';

/** Per build: the sites of every file rewritten so far (ids are indexes). */
export class SiteTable {
  readonly sites: Site[] = [];
  add(s: Site): number {
    // A record holds a site in 24 bits, all ones meaning none.
    if (this.sites.length >= 0xffffff - 1) throw new UsageError('more than 16 million C allocation and release sites to trace');
    this.sites.push(s);
    return this.sites.length - 1;
  }
}

/**
 * The rewritten text of a file, or undefined when it has nothing to trace.
 * `contracts` are those of the configuration; the file's preamble adds its own.
 */
export function instrumentFile(text: string, display: string, runtimeImport: string, sites: SiteTable, configContracts: ContractSet): string | undefined {
  const tree = parseGo(text);
  try {
    const root = tree.rootNode;
    const cImport = root.namedChildren.find((n) => n?.type === 'import_declaration' && /^import\s+"C"$/.test(n.text));
    if (!cImport) return undefined;
    const preamble = precedingComments(cImport);
    const contracts = contractsFor(preamble, configContracts);
    // The name this file gives the runtime package, for its finalizers and cleanups.
    const runtimeName = importName(root, 'runtime');
    let lifetimes = 0;
    /** Rewrites made: sites, and C results handed to Seen. */
    let count = 0;
    const siteOf = (n: Node, call: string) => {
      count++;
      const handedTo = ALLOCATORS.has(call) || call.startsWith('C.') ? handedToC(n) : undefined;
      return sites.add({ file: display, line: n.startPosition.row + 1, column: n.startPosition.column + 1, call, ...(handedTo ? { handedTo } : {}) });
    };

    // A node is rendered once: a call that is not rewritten after all renders its arguments again.
    const done = new Map<number, string>();
    /** Statements that cgo's two-value form keeps whole: what goes before and after them, on their line. */
    const around = new Map<number, { before?: string; after?: string }>();
    const render = (n: Node): string => {
      const cached = done.get(n.id);
      if (cached !== undefined) return cached;
      const out = renderNew(n);
      done.set(n.id, out);
      return out;
    };
    const renderNew = (n: Node): string => {
      const replaced = n.type === 'call_expression' ? rewriteCall(n) : undefined;
      if (replaced !== undefined) return replaced;
      if (n.childCount === 0) return text.slice(n.startIndex, n.endIndex);
      let out = '';
      let at = n.startIndex;
      for (const c of n.children) {
        if (!c) continue;
        out += text.slice(at, c.startIndex) + render(c);
        at = c.endIndex;
      }
      out += text.slice(at, n.endIndex);
      const extra = around.get(n.id);
      return extra ? `${extra.before ?? ''}${out}${extra.after ?? ''}` : out;
    };

    const rewriteCall = (n: Node): string | undefined => {
      const fn = n.childForFieldName('function');
      const argsNode = n.childForFieldName('arguments');
      if (!fn || !argsNode || fn.type !== 'selector_expression') return undefined;
      const pkg = fn.childForFieldName('operand')?.text;
      const name = fn.childForFieldName('field')?.text ?? '';
      const args = argsNode.namedChildren.filter((a): a is Node => !!a && a.type !== 'comment');
      const a = args.map(render);
      const deferred = n.parent?.type === 'defer_statement' || n.parent?.type === 'go_statement';
      if (pkg === 'unsafe' && name === 'Slice' && a.length === 2) return `unsafe.Slice(${RUNTIME_NAME}.Use(${a[0]}, ${siteOf(n, 'unsafe.Slice')}), ${a[1]})`;
      // The C memory an object with a finalizer or cleanup points to is that object's to free.
      if (runtimeName && pkg === runtimeName && (name === 'SetFinalizer' || name === 'AddCleanup') && !n.childForFieldName('type_arguments')) {
        count++;
        lifetimes++;
        return `${RUNTIME_NAME}.${name}(${a.join(', ')})`;
      }
      if (pkg !== 'C') return undefined;
      const call = `C.${name}`;
      switch (name) {
        case 'CString':
          if (a.length !== 1) return undefined;
          return `func() *C.char { _cgt_s := ${a[0]}; return ${RUNTIME_NAME}.Alloc(C.CString(_cgt_s), len(_cgt_s)+1, ${siteOf(n, call)}) }()`;
        case 'CBytes':
          if (a.length !== 1) return undefined;
          return `func() ${UNSAFE}.Pointer { _cgt_b := ${a[0]}; return ${RUNTIME_NAME}.Alloc(C.CBytes(_cgt_b), len(_cgt_b), ${siteOf(n, call)}) }()`;
        case 'malloc':
          if (a.length !== 1) return undefined;
          return `func() ${UNSAFE}.Pointer { _cgt_n := C.size_t(${a[0]}); return ${RUNTIME_NAME}.Alloc(C.malloc(_cgt_n), int(_cgt_n), ${siteOf(n, call)}) }()`;
        case 'calloc':
          if (a.length !== 2) return undefined;
          return `func() ${UNSAFE}.Pointer { _cgt_n, _cgt_m := C.size_t(${a[0]}), C.size_t(${a[1]}); return ${RUNTIME_NAME}.Alloc(C.calloc(_cgt_n, _cgt_m), int(_cgt_n*_cgt_m), ${siteOf(n, call)}) }()`;
        case 'realloc': {
          if (a.length !== 2) return undefined;
          const id = siteOf(n, call);
          return `func() ${UNSAFE}.Pointer { _cgt_o := ${RUNTIME_NAME}.ReallocStart(${UNSAFE}.Pointer(${a[0]}), ${id}); _cgt_n := C.size_t(${a[1]}); return ${RUNTIME_NAME}.ReallocDone(_cgt_o, C.realloc(_cgt_o, _cgt_n), int(_cgt_n), ${id}) }()`;
        }
        case 'free': {
          if (a.length !== 1) return undefined;
          const id = siteOf(n, call);
          // A deferred free keeps Go's semantics: its argument is evaluated when the defer statement runs.
          if (deferred) return `func(_cgt_o ${UNSAFE}.Pointer) { if ${RUNTIME_NAME}.Free(_cgt_o, ${id}) { C.free(_cgt_o) } }(${UNSAFE}.Pointer(${a[0]}))`;
          return `func() { _cgt_o := ${UNSAFE}.Pointer(${a[0]}); if ${RUNTIME_NAME}.Free(_cgt_o, ${id}) { C.free(_cgt_o) } }()`;
        }
        case 'GoString':
        case 'GoStringN':
        case 'GoBytes':
          if (!a.length) return undefined;
          return `C.${name}(${RUNTIME_NAME}.Use(${a[0]}, ${siteOf(n, call)})${a.slice(1).map((x) => `, ${x}`).join('')})`;
      }
      const c = contracts.get(name);
      const original = `C.${name}(${a.join(', ')})`;
      if (!c) {
        // Any other C result might be memory C allocated where a traced block was freed before:
        // the runtime hears of it. Conversions to C's numeric types and constants are left alone.
        const inConst = (() => {
          for (let p = n.parent; p; p = p.parent) if (p.type === 'const_declaration') return true;
          return false;
        })();
        if (isCNumericName(name) || inConst || deferred || n.parent?.type === 'expression_statement' || mayBeMultiValue(n)) return undefined;
        count++;
        return `${RUNTIME_NAME}.Seen(${original})`;
      }
      if (c.returns?.kind === 'owned' && !deferred && !mayBeMultiValue(n)) return `${RUNTIME_NAME}.Alloc(${original}, -1, ${siteOf(n, call)})`;
      // A release as a statement, of a plain variable or field (with `releases *P`, the one whose address
      // is given: `&f`): recorded just before it runs.
      const released = c.releases[0] ?? c.releasesPointee[0];
      const freed = released === undefined ? undefined : c.releases.length ? a[released] : addressOperand(a[released] ?? '');
      const plain = freed !== undefined && args[released] && /^[\w.]+$/.test(freed);
      if (plain && n.parent?.type === 'expression_statement') {
        return `if ${RUNTIME_NAME}.Free(${freed}, ${siteOf(n, call)}) { ${original} }`;
      }
      // cgo's two-value form (`f, err := C.fopen(...)`) cannot go through a one-value
      // wrapper: the statement stays whole, and the record comes after it (an
      // allocation, of its first name) or before it (a release, which then happens even under --guard).
      const stmt = twoValueStatement(n);
      if (stmt && c.returns?.kind === 'owned' && stmt.first !== '_') {
        around.set(stmt.node.id, { after: `; ${stmt.first} = ${RUNTIME_NAME}.Alloc(${stmt.first}, -1, ${siteOf(n, call)})` });
        return original;
      }
      if (stmt && plain) {
        around.set(stmt.node.id, { before: `_ = ${RUNTIME_NAME}.Free(${freed}, ${siteOf(n, call)}); ` });
        return original;
      }
      return undefined;
    };

    const body = render(root);
    if (!count) return undefined;
    // The runtime's import joins the line of `import "C"`: no line moves.
    const imports = `; import ${RUNTIME_NAME} ${JSON.stringify(runtimeImport)}; import ${UNSAFE} "unsafe"`;
    // render() kept everything up to the end of `import "C"` as it was (no call comes before it).
    const out = body.slice(0, cImport.endIndex) + imports + body.slice(cImport.endIndex);
    // The runtime package may have no other use left in the file.
    const keepRuntime = lifetimes && runtimeName !== '_' ? `var _ = ${runtimeName}.Compiler\n` : '';
    return `${out}\nvar _ = ${UNSAFE}.Sizeof(0)\nvar _ = ${RUNTIME_NAME}.Enabled\n${keepRuntime}`;
  } finally {
    tree.delete();
  }
}

const ALLOCATORS = new Set(['C.CString', 'C.CBytes', 'C.malloc', 'C.calloc', 'C.realloc']);

/** C functions that only read their arguments during the call. */
const READERS = new Set(['strlen', 'strcmp', 'strncmp', 'printf', 'puts', 'fputs', 'fprintf', 'memcmp', 'atoi', 'atol', 'strtol', 'strtod', 'write', 'getenv', 'setenv', 'free', 'GoString', 'GoStringN', 'GoBytes']);

/** Where an allocation goes to C at once: `C.f(C.CString(s))`, or `return C.CString(s)` in an //export function. */
function handedToC(n: Node): string | undefined {
  let e = n;
  // Through conversions: C.f((*C.char)(unsafe.Pointer(C.malloc(n)))).
  while (e.parent?.type === 'argument_list' && e.parent.parent?.type === 'call_expression' && !/^C\./.test(e.parent.parent.childForFieldName('function')?.text ?? '') && e.parent.namedChildCount === 1) e = e.parent.parent;
  while (e.parent?.type === 'parenthesized_expression' || e.parent?.type === 'type_conversion_expression') e = e.parent;
  const args = e.parent;
  const fn = args?.type === 'argument_list' ? args.parent?.childForFieldName('function')?.text : undefined;
  if (fn?.startsWith('C.') && !READERS.has(fn.slice(2))) return fn;
  if (e.parent?.type === 'expression_list' && e.parent.parent?.type === 'return_statement') {
    for (let f = e.parent.parent.parent; f; f = f.parent) {
      if (f.type === 'function_declaration') return /^\/\/export /m.test(f.previousSibling?.type === 'comment' ? f.previousSibling.text : '') ? 'C, through an exported function' : undefined;
      if (f.type === 'func_literal' || f.type === 'method_declaration') return undefined;
    }
  }
  return undefined;
}

/**
 * Whether a C call may stand for two values (cgo's `r, err := C.f()` form), which
 * a one-value wrapper would break: the only value assigned to several names,
 * returned from a function with several results, or passed alone to a Go call.
 */
function mayBeMultiValue(n: Node): boolean {
  const list = n.parent;
  if (list?.type === 'argument_list') return list.namedChildCount === 1 && list.parent?.childForFieldName('function')?.text.startsWith('C.') !== true;
  if (list?.type !== 'expression_list' || list.namedChildCount !== 1) return false;
  const stmt = list.parent;
  if (!stmt) return false;
  if (stmt.type === 'short_var_declaration' || stmt.type === 'assignment_statement') return (stmt.childForFieldName('left')?.namedChildCount ?? 1) > 1;
  if (stmt.type === 'var_spec') return stmt.children.filter((c) => c?.type === 'identifier').length > 1;
  if (stmt.type === 'return_statement') {
    for (let f = stmt.parent; f; f = f.parent) {
      if (f.type === 'function_declaration' || f.type === 'method_declaration' || f.type === 'func_literal') {
        const result = f.childForFieldName('result');
        return result?.type === 'parameter_list' && result.namedChildCount > 1;
      }
    }
  }
  return false;
}

/**
 * The statement of cgo's two-value form (`r, err := C.f(...)` or `r, err = ...`)
 * when it stands alone in a block, where code can go before and after it, and
 * the first name it assigns.
 */
function twoValueStatement(n: Node): { node: Node; first: string } | undefined {
  const list = n.parent;
  const stmt = list?.parent;
  if (list?.type !== 'expression_list' || list.namedChildCount !== 1 || !stmt) return undefined;
  if (stmt.type !== 'short_var_declaration' && stmt.type !== 'assignment_statement') return undefined;
  if (stmt.type === 'assignment_statement' && stmt.childForFieldName('operator')?.text !== '=') return undefined;
  const left = stmt.childForFieldName('left');
  if (!left || left.namedChildCount !== 2 || stmt.childForFieldName('right')?.id !== list.id) return undefined;
  if (!['statement_list', 'block', 'expression_case', 'default_case', 'type_case', 'communication_case'].includes(stmt.parent?.type ?? '')) return undefined;
  const first = left.namedChild(0);
  return first?.type === 'identifier' ? { node: stmt, first: first.text } : undefined;
}

/** The name a file imports a package under (its last element unless renamed), or undefined. */
function importName(root: Node, importPath: string): string | undefined {
  for (const spec of root.descendantsOfType('import_spec')) {
    if (!spec || spec.childForFieldName('path')?.text !== JSON.stringify(importPath)) continue;
    const alias = spec.childForFieldName('name')?.text;
    if (alias === '.') return undefined;
    return alias ?? importPath.slice(importPath.lastIndexOf('/') + 1);
  }
  return undefined;
}

/** The comment block right before `import "C"`: the cgo preamble. */
function precedingComments(cImport: Node): string {
  const parts: string[] = [];
  for (let p = cImport.previousSibling; p && p.type === 'comment'; p = p.previousSibling) parts.unshift(p.text);
  return parts.join('\n');
}

/** `&x` or `unsafe.Pointer(&x)` (av_freep's void * argument): the variable or field x. */
function addressOperand(arg: string): string | undefined {
  return /^(?:&\s*([\w.]+)|unsafe\.Pointer\(\s*&\s*([\w.]+)\s*\))$/.exec(arg.trim())?.slice(1).find((x) => x !== undefined);
}

/** The configuration's contracts, with the preamble's directives and the packs its headers turn on. */
function contractsFor(preamble: string, base: ContractSet): ContractSet {
  const set = base.clone();
  for (const pack of packsForPreamble(preamble)) for (const contract of packContracts(pack)) set.addBelow(contract);
  for (const d of contractDirectives(preamble)) {
    try {
      set.add(parseContract(d.text, 'preamble'));
    } catch (e) {
      if (!(e instanceof ContractSyntaxError)) throw e;
    }
  }
  return set;
}
