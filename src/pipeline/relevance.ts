// Which function bodies are worth converting and analysing, decided from
// their text: a package's analysis starts from the functions that name
// something from cgo (or call another package's function that hands out or
// frees C memory), and grows to callers only where a summary shows that C
// memory crosses the call. Calls are matched by name (`name(` for functions,
// `.name(` for methods), which errs on the side of analysing more.
import type { FuncInfo, PackageModel } from '../model/program.js';

// A call of a package function (`name(`) or of a method (`.name(`).
const CALL = /(\.?)([A-Za-z_][A-Za-z0-9_]*)\s*\(/g;
const QUALIFIED_CALL = /\b([A-Za-z_][A-Za-z0-9_]*)\.([A-Za-z_][A-Za-z0-9_]*)\s*\(/g;
// cgo itself, and the runtime's cgo resources (handles, pinners).
const CGO = /\bC\.[A-Za-z_]|\bcgo\.(NewHandle|Handle)\b|\bruntime\.Pinner\b|\.Pin\(/;

interface Entry {
  info: FuncInfo;
  calls: Set<string>;
  seed: boolean;
}

export class CallIndex {
  private readonly entries: Entry[] = [];
  private readonly byName = new Map<string, Entry[]>();
  private readonly byInfo = new Map<FuncInfo, Entry>();

  /** @param carriers keys (importPath.Name or importPath.Type.Method) of other packages' functions that carry C memory */
  constructor(pkg: PackageModel, carriers: ReadonlySet<string>) {
    const carrierMethods = new Set<string>();
    for (const k of carriers) {
      const parts = k.slice(k.lastIndexOf('/') + 1).split('.');
      if (parts.length === 3) carrierMethods.add(parts[2]);
    }
    for (const info of pkg.allFuncs()) {
      const span = info.decl.bodySpan;
      if (!span) continue;
      const body = info.file.go.text.slice(span.pos, span.end);
      const calls = new Set<string>();
      for (const m of body.matchAll(CALL)) calls.add(m[1] ? `.${m[2]}` : m[2]);
      // Functions exported with //export are called from C: their results cross the boundary.
      let seed = CGO.test(body) || info.decl.doc.some((c) => /^\/\/export\s/.test(c.text));
      if (!seed && carriers.size) {
        for (const m of body.matchAll(QUALIFIED_CALL)) {
          const imp = info.file.imports.get(m[1]);
          if ((imp && carriers.has(`${imp}.${m[2]}`)) || carrierMethods.has(m[2])) {
            seed = true;
            break;
          }
        }
      }
      const e: Entry = { info, calls, seed };
      this.entries.push(e);
      this.byInfo.set(info, e);
      const name = nameOf(info);
      this.byName.set(name, [...(this.byName.get(name) ?? []), e]);
    }
  }

  /** Functions whose bodies name cgo or call another package's C-memory carrier, and those exported to C. */
  seeds(): FuncInfo[] {
    return this.entries.filter((e) => e.seed).map((e) => e.info);
  }

  /** Functions that call any of `fns`. */
  callersOf(fns: Iterable<FuncInfo>): FuncInfo[] {
    const names = new Set([...fns].map(nameOf));
    return this.entries.filter((e) => [...e.calls].some((c) => names.has(c))).map((e) => e.info);
  }

  /** Functions that `fns` call directly. */
  calleesOf(fns: Iterable<FuncInfo>): FuncInfo[] {
    const out = new Set<FuncInfo>();
    for (const f of fns) {
      for (const c of this.byInfo.get(f)?.calls ?? []) for (const e of this.byName.get(c) ?? []) out.add(e.info);
    }
    return [...out];
  }
}

function nameOf(info: FuncInfo): string {
  return info.recvType ? `.${info.name}` : info.name;
}
