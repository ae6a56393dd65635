// Rewrites the C allocation and release sites of a Go file for `cgoguard
// trace`, in memory: the result goes to the build through -overlay, never
// onto the user's disk. Every rewrite stays on the line it replaces, so
// positions in stacks and panics are the user's own. Each site gets a number;
// the site table says where it is.
import type { Node } from 'web-tree-sitter';
import { contractDirectives, isCNumericName } from '../model/cmodel.js';
import { ContractSet, ContractSyntaxError, parseContract } from '../model/contracts.js';
import { packsForPreamble } from '../model/packs.js';
import { parseGo } from '../syntax/parser.js';

export interface Site {
  file: string;
  line: number;
  column: number;
  /** What is called there: C.CString, C.free, C.sqlite3_open... */
  call: string;
}

const RUNTIME_NAME = '_cgoguardtrace';
const UNSAFE = '_cgt_unsafe';

/** Per build: the sites of every file rewritten so far (ids are indexes). */
export class SiteTable {
  readonly sites: Site[] = [];
  add(s: Site): number {
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
    let count = 0;
    const siteOf = (n: Node, call: string) => {
      count++;
      return sites.add({ file: display, line: n.startPosition.row + 1, column: n.startPosition.column + 1, call });
    };

    const render = (n: Node): string => {
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
      return out + text.slice(at, n.endIndex);
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
        if (isCNumericName(name) || inConst || deferred || n.parent?.type === 'expression_statement') return undefined;
        return `${RUNTIME_NAME}.Seen(${original})`;
      }
      if (c.returns?.kind === 'owned' && !deferred) return `${RUNTIME_NAME}.Alloc(${original}, -1, ${siteOf(n, call)})`;
      // A release as a statement, of a plain variable or field: recorded just before it runs.
      const released = c.releases[0];
      if (released !== undefined && n.parent?.type === 'expression_statement' && args[released] && /^[\w.]+$/.test(a[released])) {
        return `if ${RUNTIME_NAME}.Free(${a[released]}, ${siteOf(n, call)}) { ${original} }`;
      }
      return undefined;
    };

    const body = render(root);
    if (!count) return undefined;
    // The runtime's import joins the line of `import "C"`: no line moves.
    const imports = `; import ${RUNTIME_NAME} ${JSON.stringify(runtimeImport)}; import ${UNSAFE} "unsafe"`;
    // render() kept everything up to the end of `import "C"` as it was (no call comes before it).
    const out = body.slice(0, cImport.endIndex) + imports + body.slice(cImport.endIndex);
    return `${out}\nvar _ = ${UNSAFE}.Sizeof(0)\nvar _ = ${RUNTIME_NAME}.Enabled\n`;
  } finally {
    tree.delete();
  }
}

/** The comment block right before `import "C"`: the cgo preamble. */
function precedingComments(cImport: Node): string {
  const parts: string[] = [];
  for (let p = cImport.previousSibling; p && p.type === 'comment'; p = p.previousSibling) parts.unshift(p.text);
  return parts.join('\n');
}

/** The configuration's contracts, with the preamble's directives and the packs its headers turn on. */
function contractsFor(preamble: string, base: ContractSet): ContractSet {
  const set = base.clone();
  for (const pack of packsForPreamble(preamble)) for (const t of pack.contracts) set.add(parseContract(t, `pack ${pack.name}`));
  for (const d of contractDirectives(preamble)) {
    try {
      set.add(parseContract(d.text, 'preamble'));
    } catch (e) {
      if (!(e instanceof ContractSyntaxError)) throw e;
    }
  }
  return set;
}
