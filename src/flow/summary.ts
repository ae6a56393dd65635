// Function summaries: what a function does to the memory it is given and what
// it hands back, one case per distinct way of returning. Callers replay the
// cases at each call site, so ownership, frees and uses cross function
// boundaries (and package boundaries, keyed by import path).
import type { Ty } from '../model/types.js';
import type { Resource, Step } from './state.js';

export type ResultAbs =
  | { k: 'nil' }
  | { k: 'nonnil' }
  | { k: 'unknown' }
  | { k: 'bool'; v: boolean }
  /** Fresh C memory the caller now owns. */
  | { k: 'owned'; what: string; releasedBy: string[]; nullable: boolean; steps: Step[]; resource?: Resource }
  /** C memory the function freed before returning it. */
  | { k: 'freed'; what: string; by: string; steps: Step[] }
  /** The object the caller passed at this parameter path. */
  | { k: 'param'; path: string }
  /** Go memory the function made (a local's address, new, make, a literal): the caller gets a Go pointer. */
  | { k: 'go'; goType?: Ty; noPointers?: boolean; bytes?: number; fields?: GoField[] }
  /** The same memory as an earlier result (a pointer and a slice over it). */
  | { k: 'same'; as: number };

/**
 * A field of returned Go memory that holds a Go pointer on that path (a
 * constructor's `&T{buf: make([]byte, n)}`): the caller that hands the memory
 * to C hands over a Go pointer to a Go pointer.
 */
export interface GoField {
  name: string;
  /** What the pointer points to, as Go memory's `what` ('make', 'composite literal', 'variable', 'string'). */
  what: string;
  goType?: Ty;
}

export type Effect =
  | { k: 'freed'; path: string; by: string; steps: Step[] }
  | { k: 'moved'; path: string }
  | { k: 'used'; path: string; how: string; steps: Step[] }
  | { k: 'set'; path: string; value: 'nil' | 'unknown' }
  | { k: 'set-owned'; path: string; what: string; releasedBy: string[]; steps: Step[]; resource?: Resource }
  /** A Go pointer to Go memory the function made, stored in a field of an input (`out.private_data = unsafe.Pointer(h)`). */
  | { k: 'set-go'; path: string; what: string; goType?: Ty };

export interface SummaryCase {
  results: ResultAbs[];
  effects: Effect[];
  /**
   * What this way of returning needs of the inputs (`if p == nil { return }`): a
   * caller whose argument cannot be nil never takes a case that needs it nil.
   */
  needs?: { path: string; nil: boolean }[];
}

export interface Summary {
  key: string;
  display: string;
  /** No cases: the function never returns normally. */
  cases: SummaryCase[];
  params: Ty[];
  results: Ty[];
  variadic: boolean;
  /** Some paths were not explored (budget): cases are real but maybe not all. */
  partial: boolean;
}

export const MAX_CASES = 8;

export function caseKey(c: SummaryCase): string {
  const r = c.results.map((x) => (x.k === 'owned' ? `owned:${x.what}:${x.releasedBy.join('/')}:${x.nullable}` : x.k === 'freed' ? `freed:${x.what}` : x.k === 'bool' ? `b${x.v}` : x.k === 'param' ? `p:${x.path}` : x.k === 'same' ? `=${x.as}` : x.k === 'go' && x.fields ? `go:${x.fields.map((f) => f.name).join('/')}` : x.k));
  const e = c.effects.map((x) => `${x.k}:${x.path}${x.k === 'set' ? `=${x.value}` : ''}${x.k === 'freed' ? `/${x.by}` : ''}`).sort();
  return `${r.join(',')}|${e.join(',')}`;
}

/** The same way of returning reached under other conditions: what both need of the inputs. */
export function mergeNeeds(a: SummaryCase['needs'], b: SummaryCase['needs']): SummaryCase['needs'] {
  const both = (a ?? []).filter((x) => (b ?? []).some((y) => y.path === x.path && y.nil === x.nil));
  return both.length ? both : undefined;
}

/** Merges cases beyond MAX_CASES into coarser ones: results disagreeing become unknown, uncertain frees become moves. */
export function limitCases(cases: SummaryCase[]): SummaryCase[] {
  if (cases.length <= MAX_CASES) return cases;
  const n = Math.max(...cases.map((c) => c.results.length));
  const results: ResultAbs[] = [];
  for (let i = 0; i < n; i++) {
    const keys = new Set(cases.map((c) => JSON.stringify(c.results[i] ?? { k: 'unknown' })));
    results.push(keys.size === 1 ? (cases[0].results[i] ?? { k: 'unknown' }) : { k: 'unknown' });
  }
  const byPath = new Map<string, Effect[]>();
  for (const c of cases) for (const e of c.effects) {
    const list = byPath.get(e.path) ?? [];
    list.push(e);
    byPath.set(e.path, list);
  }
  const effects: Effect[] = [];
  for (const [path, list] of byPath) {
    const freedAll = list.filter((e) => e.k === 'freed').length === cases.length;
    if (freedAll) effects.push(list[0]);
    else if (list.some((e) => e.k !== 'used')) effects.push({ k: 'moved', path });
    else effects.push(list[0]);
  }
  return [{ results, effects }];
}

/** Hands out owned (or already freed) C memory, or frees or stores C memory in what it is given. */
export function carriesCMemory(s: Summary): boolean {
  return s.cases.some((c) => c.results.some((r) => r.k === 'owned' || r.k === 'freed') || c.effects.some((e) => e.k === 'freed' || e.k === 'set-owned'));
}
