// Ownership inferred from how the module's own Go code uses a C function:
// when most of the places that keep `C.f`'s result in a variable release that
// variable with the same C function g, f is taken to return memory g
// releases. The sites that deviate are then reported by the analysis (a
// leak at medium confidence, with the count in its trace). This needs no
// header at all: it is what a check on a machine with only Node.js has.
//
// The reading is textual and per function body: `v := C.f(...)` (or `v =`),
// then `C.g(v)`, `C.g(unsafe.Pointer(v))` or `defer C.g(...)` before the
// function ends. Functions that are libc's, or named like getters, are left
// to the other sources.
import { parseContract, type Contract } from '../model/contracts.js';

/** How many agreeing sites a fact needs, and which share of all the sites. */
export const USAGE_MIN_SITES = 3;
export const USAGE_MIN_SHARE = 0.75;

export interface UsageFact {
  /** The contract text (the grammar users write). */
  text: string;
  /** Where the first agreeing site is (`file:line`). */
  origin: string;
  evidence: string;
}

interface Site {
  file: string;
  line: number;
  releaser?: string;
}

const RELEASER = /free|destroy|delete|unref|release|dispose|close|finalize|cleanup/i;

const LIBC = new Set(['malloc', 'calloc', 'realloc', 'strdup', 'strndup', 'CString', 'CBytes', 'GoString', 'GoStringN', 'GoBytes', 'free']);

/** Facts from the Go files of every package checked (display name and text). */
export function inferFromUsage(files: { display: string; text: string }[]): UsageFact[] {
  const sites = new Map<string, Site[]>();
  for (const f of files) {
    if (!f.text.includes('C.')) continue;
    for (const body of functionBodies(f.text)) {
      for (const m of body.text.matchAll(/\b([A-Za-z_]\w*)\s*:?=\s*(?:\([^()]*\)\s*\()?\s*C\.([A-Za-z_]\w*)\s*\(/g)) {
        const [, v, fn] = m;
        if (LIBC.has(fn) || v === '_' || v === 'err') continue;
        const rest = body.text.slice(m.index! + m[0].length);
        // The first C function given v that is named like a releaser.
        const given = rest.matchAll(new RegExp(`\\bC\\.([A-Za-z_]\\w*)\\s*\\(\\s*(?:unsafe\\.Pointer\\s*\\(\\s*)?&?${v}\\s*[),]`, 'g'));
        const releaser = [...given].map((g) => g[1]).find((g) => g !== fn && RELEASER.test(g));
        const line = body.line + lineCount(body.text, m.index!);
        const list = sites.get(fn) ?? [];
        list.push({ file: f.display, line, releaser });
        sites.set(fn, list);
      }
    }
  }
  const out: UsageFact[] = [];
  for (const [fn, list] of [...sites].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const byReleaser = new Map<string, Site[]>();
    for (const s of list) if (s.releaser) byReleaser.set(s.releaser, [...(byReleaser.get(s.releaser) ?? []), s]);
    const [best] = [...byReleaser].sort((a, b) => b[1].length - a[1].length);
    if (!best) continue;
    const [g, agreeing] = best;
    if (agreeing.length < USAGE_MIN_SITES || agreeing.length / list.length < USAGE_MIN_SHARE) continue;
    const first = agreeing[0];
    out.push({
      text: `${fn} returns owned released by ${g}`,
      origin: `${first.file}:${first.line}`,
      evidence: `${agreeing.length} of ${list.length} call sites in this module release the result with C.${g}`,
    });
  }
  return out;
}

/** A usage fact as the analysis takes it: medium confidence at best (the code could be wrong everywhere alike). */
export function usageContract(f: UsageFact): Contract {
  const c = parseContract(f.text, `inferred from usage (${f.origin})`);
  return { ...c, evidence: f.evidence, confidence: 'medium' };
}

/** Bodies of top-level functions and methods, with the line each starts on (1-based). */
function functionBodies(text: string): { text: string; line: number }[] {
  const out: { text: string; line: number }[] = [];
  const starts = [...text.matchAll(/^func\b/gm)].map((m) => m.index!);
  for (let i = 0; i < starts.length; i++) {
    const end = i + 1 < starts.length ? starts[i + 1] : text.length;
    out.push({ text: text.slice(starts[i], end), line: lineCount(text, starts[i]) + 1 });
  }
  return out;
}

function lineCount(text: string, upTo: number): number {
  let n = 0;
  for (let i = text.indexOf('\n'); i >= 0 && i < upTo; i = text.indexOf('\n', i + 1)) n++;
  return n;
}
