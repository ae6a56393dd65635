// Fixes for C memory not released on a path (`leak`): a deferred release
// right after the allocation when every later use of the pointer leaves it
// where it is (handed to C, copied into Go, compared with nil), else a
// release just before the return the finding's path ends at.
import type { Finding } from '../findings/finding.js';
import type { Fix, TextEdit } from '../findings/fix.js';
import type { Expr, FuncDecl, Stmt } from '../syntax/goast.js';
import type { CDeclarations } from './cdecls.js';
import { importEdit } from './imports.js';
import { cCallee, type GoSource, type StmtPlace } from './source.js';
import { usesOf, type Use } from './uses.js';

const LEAK = /^C memory from (.+?) is not (?:freed|released by C\.(\w+)) on the path that returns at line (\d+)(?:$|,)/;

/** cgo's allocators whose result is an unsafe.Pointer already. */
const UNSAFE_POINTER_RESULT = new Set(['malloc', 'calloc', 'realloc', 'CBytes']);

/** Releasers named like free accept NULL by convention (free, sqlite3_free, g_free); others (fclose) may not. */
const freeLike = (name: string) => /free$/i.test(name);

interface Allocation {
  decl: FuncDecl;
  place: StmtPlace;
  /** The variable that holds it. */
  name: string;
  v: number;
  /** The C function that made it (C.malloc → malloc), when it is one. */
  allocator?: string;
  /** The second variable of `p, err := C.f()`, when there is one. */
  errName?: string;
}

export function releaseFixes(f: Finding, src: GoSource, cdecls: CDeclarations): Fix[] {
  const m = LEAK.exec(f.message);
  // `helper (C.CString)`: memory a helper stored somewhere, not the value the call returns.
  if (!m || / \(.+\)$/.test(m[1])) return [];
  const releaser = m[2] ?? 'free';
  const returnLine = Number(m[3]);
  const alloc = allocationAt(src, src.offset(f.line, f.column), src.offset(f.endLine, f.endColumn));
  if (!alloc) return [];
  const arg = releaseArgument(alloc, releaser, cdecls);
  if (!arg) return [];
  const call = `C.${releaser}(${arg})`;
  const withImport = (edits: TextEdit[]): TextEdit[] => {
    const imp = arg.startsWith('unsafe.Pointer(') ? importEdit(src, 'unsafe') : undefined;
    const inc = releaser === 'free' && !cdecls.func('free') ? stdlibInclude(src) : undefined;
    return [...(inc ? [inc] : []), ...(imp ? [imp] : []), ...edits];
  };
  const uses = usesOf(alloc.place.fn, alloc.v, new Set(['free', releaser])).filter((u) => u.pos >= alloc.place.stmt.end);
  const deferAfter = deferPoint(src, alloc, uses, releaser);
  if (deferAfter) {
    return [{ title: `Release ${alloc.name} with defer ${call}`, safe: true, edits: withImport([src.insertAfter(deferAfter, [`defer ${call}`])]) }];
  }
  const before = returnPoint(src, alloc, uses, returnLine);
  if (before) {
    return [{ title: `Release ${alloc.name} with ${call} before the return at line ${returnLine}`, safe: true, edits: withImport([before === 'end' ? src.insertAfter(lastOf(alloc), [call]) : src.insertBefore(before, [call])]) }];
  }
  return [];
}

/** C.free needs <stdlib.h> in the preamble: the first line of a `/* ... *\/` preamble that lacks it. */
function stdlibInclude(src: GoSource): TextEdit | undefined {
  const pre = src.go.preamble;
  if (!pre || src.text.slice(pre.offset - 2, pre.offset) !== '/*') return undefined;
  const at = pre.text.startsWith('\n') ? pre.offset + 1 : pre.offset;
  return src.replace(at, at, '#include <stdlib.h>\n');
}

/** The statement that assigns the allocation at [pos, end) to a local variable. */
function allocationAt(src: GoSource, pos: number, end: number): Allocation | undefined {
  const place = src.stmtAt(pos);
  const decl = src.funcAt(pos);
  if (!place || !decl || !src.ownsItsLines(place.stmt)) return undefined;
  const s = place.stmt;
  let target: Expr | undefined;
  let value: Expr | undefined;
  let second: Expr | undefined;
  if (s.k === 'assign' && (s.op === '=' || s.op === ':=') && s.rhs.length === 1 && s.lhs.length <= 2) {
    [target, second] = s.lhs;
    value = s.rhs[0];
  } else if (s.k === 'vardecl' && s.values.length === 1 && s.vars.length <= 2) {
    [target, second] = s.vars;
    value = s.values[0];
  }
  if (!target || target.k !== 'ident' || target.v < 0 || !value) return undefined;
  if (decl.vars[target.v]?.kind !== 'local') return undefined;
  // The value is the allocation itself, perhaps converted to another pointer type (never to an integer).
  let inner = value;
  while (inner.k === 'paren' || (inner.k === 'conv' && inner.type.k === 'pointer')) inner = inner.x;
  if (inner.pos !== pos || inner.end !== end || inner.k !== 'call') return undefined;
  return {
    decl,
    place,
    name: target.name,
    v: target.v,
    allocator: value === inner ? cCallee(inner) : undefined,
    errName: second?.k === 'ident' && second.v >= 0 ? second.name : undefined,
  };
}

/** How the pointer is passed to the releaser: as it is, or as unsafe.Pointer. Undefined when its type is not known. */
function releaseArgument(a: Allocation, releaser: string, cdecls: CDeclarations): string | undefined {
  const asIs = a.allocator !== undefined && UNSAFE_POINTER_RESULT.has(a.allocator);
  if (releaser === 'free') return asIs ? a.name : `unsafe.Pointer(${a.name})`;
  const rel = cdecls.func(releaser);
  const param = rel?.params[0];
  if (!param) return undefined;
  if (cdecls.isVoidPointer(param.type)) return asIs ? a.name : `unsafe.Pointer(${a.name})`;
  const made = a.allocator !== undefined ? cdecls.func(a.allocator) : undefined;
  if (!made) return undefined;
  if (cdecls.typeName(made.ret) === cdecls.typeName(param.type)) return a.name;
  // A releaser that takes the pointer's address (av_frame_free(AVFrame **)) frees what it points to.
  const through = cdecls.pointee(param.type);
  return through && cdecls.typeName(made.ret) === cdecls.typeName(through) ? `&${a.name}` : undefined;
}

/**
 * Where `defer release(p)` goes, when a defer is right: not in a loop (it
 * would wait for the function's end), and every later use leaves the memory
 * where it is. After the nil or error check that follows the allocation, if
 * any; releasers not named like free are only deferred after such a check.
 */
function deferPoint(src: GoSource, a: Allocation, uses: Use[], releaser: string): Stmt | undefined {
  if (a.place.inLoop) return undefined;
  if (uses.some((u) => u.kind === 'other' || u.kind === 'released')) return undefined;
  const next = a.place.list[a.place.index + 1];
  const checked = next && isFailureCheck(next, a) ? next : undefined;
  if (checked && !src.ownsItsLines(checked)) return undefined;
  if (!checked && !freeLike(releaser)) return undefined;
  return checked ?? a.place.stmt;
}

/** `if p == nil { ... return }` or `if err != nil { ... return }` right after the allocation. */
function isFailureCheck(s: Stmt, a: Allocation): boolean {
  if (s.k !== 'if' || s.init || s.else) return false;
  const c = s.cond;
  if (c.k !== 'binary' || !(c.x.k === 'ident' && c.y.k === 'nil')) return false;
  const checksPointer = c.op === '==' && c.x.name === a.name;
  const checksError = c.op === '!=' && a.errName !== undefined && c.x.name === a.errName;
  return (checksPointer || checksError) && s.then.length > 0 && s.then[s.then.length - 1].k === 'return';
}

/**
 * The return statement on line `line` where a release can go just before:
 * in the allocation's block, not mentioning the pointer, with nothing but C
 * calls, copies and nil checks using it in between. 'end' is the function's
 * closing brace, when the path falls off the end.
 */
function returnPoint(src: GoSource, a: Allocation, uses: Use[], line: number): Stmt | 'end' | undefined {
  const fn = a.place.fn;
  const reassigned = uses.some((u) => u.kind === 'other' && u.stmt.k === 'assign' && u.stmt.lhs.some((l) => l.pos === u.pos));
  if (reassigned) return undefined;
  const ret = findReturn(src, a, line);
  const at = ret ? ret.pos : src.lines.lineOf(fn.bodyEnd) === line && a.place.chain.length === 1 ? fn.bodyEnd : undefined;
  if (at === undefined) return undefined;
  if (uses.some((u) => u.pos < at && (u.kind === 'other' || u.kind === 'released'))) return undefined;
  if (ret) {
    if (uses.some((u) => u.pos >= ret.pos && u.pos < ret.end)) return undefined;
    return src.ownsItsLines(ret) ? ret : undefined;
  }
  return src.ownsItsLines(lastOf(a)) ? 'end' : undefined;
}

function lastOf(a: Allocation): Stmt {
  const body = a.place.fn.body;
  return body[body.length - 1];
}

/** The return statement on `line` inside the allocation's block, after it. */
function findReturn(src: GoSource, a: Allocation, line: number): Stmt | undefined {
  const start = src.lines.lineStart(line);
  const text = src.lines.lineText(line);
  const col = text.search(/\breturn\b/);
  if (col < 0) return undefined;
  const place = src.stmtAt(start + col);
  if (!place || place.stmt.k !== 'return' || place.fn !== a.place.fn || place.stmt.pos < a.place.stmt.end) return undefined;
  // In scope: the allocation's enclosing statements enclose the return too.
  const outer = a.place.chain.slice(0, -1);
  if (!outer.every((s, i) => place.chain[i] === s)) return undefined;
  if (!a.place.list.some((s) => s.pos <= place.stmt.pos && place.stmt.end <= s.end)) return undefined;
  return place.stmt;
}
