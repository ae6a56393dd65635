// Reads what the injected runtime wrote: per process, the memory-mapped event
// segments (16-byte records, empty where never written or torn by a crash)
// and the symbolised stacks; and replays them into what is live at exit and
// which misuses happened.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import type { StackFrame } from '../findings/finding.js';
import type { Site } from './instrument.js';

/** A record: payload (u64) at 0, aux (u32) at 8, site (24 bits) and kind (8 bits) at 12. */
const RECORD_SIZE = 16;
const NO_SITE = 0xffffff;
/** aux of an alloc or realloc whose size is in the size record after it. */
const BIG_SIZE = 0xffffffff;

export type EventKind = 'alloc' | 'free' | 'realloc' | 'violation' | 'moved' | 'use' | 'seen' | 'held';
/** Record kinds as the runtime writes them; 5, 6 and 11 are extras of the event before them, 10 a clock reading. */
const KINDS: Record<number, EventKind> = { 1: 'alloc', 2: 'free', 3: 'realloc', 4: 'violation', 7: 'moved', 8: 'use', 9: 'seen', 12: 'held' };
const HISTORY = 5;
const SAMPLE = 6;
const TIME = 10;
const SIZE = 11;
const VIOLATIONS: Record<number, string> = { 1: 'double free', 2: 'use of freed memory', 3: 'realloc of freed memory' };

export interface TraceEvent {
  pid: number;
  seq: number;
  /** Nanoseconds since the process started tracing (millisecond resolution). */
  t: number;
  kind: EventKind;
  ptr: bigint;
  /** Bytes for alloc and realloc (-1 unknown); the violation code for violations. */
  size: number;
  site: number;
  /** The sampled Go stack, 0 when this event's stack was not sampled. */
  stack: number;
  goroutine: number;
  /** violation: the block's allocation and release sites and stacks. */
  history?: { allocSite: number; freeSite: number; allocStack: number; freeStack: number };
}

export interface ProcessTrace {
  pid: number;
  events: TraceEvent[];
  stacks: Map<number, StackFrame[]>;
  /** Why the process stopped recording before it ended (its file system was full). */
  lost?: string;
}

/**
 * Every process that wrote under dir (one per test binary or program run), in
 * an order that does not depend on process ids or on which test binary ran
 * first: by the lowest site each recorded (sites are numbered in package
 * order), then by pid.
 */
export function readTraceDir(dir: string): ProcessTrace[] {
  if (!existsSync(dir)) return [];
  const out: ProcessTrace[] = [];
  for (const name of readdirSync(dir)) {
    if (!/^\d+$/.test(name)) continue;
    out.push(readProcess(path.join(dir, name), Number(name)));
  }
  const lowest = new Map(out.map((p) => [p, p.events.reduce((m, e) => (e.site >= 0 && e.site < m ? e.site : m), Infinity)]));
  return out.sort((a, b) => lowest.get(a)! - lowest.get(b)! || a.pid - b.pid);
}

function readProcess(dir: string, pid: number): ProcessTrace {
  const events: TraceEvent[] = [];
  let seq = 0;
  let t = 0;
  /** The slot of the last record of the last event: its extras follow it directly. */
  let tail = -2;
  for (const seg of readdirSync(dir).filter((n) => /^events\.\d+$/.test(n)).sort()) {
    const buf = readFileSync(path.join(dir, seg));
    for (let off = 0; off + RECORD_SIZE <= buf.length; off += RECORD_SIZE, seq++) {
      const word = buf.readUInt32LE(off + 12);
      const code = word >>> 24;
      const site24 = word & NO_SITE;
      const site = site24 === NO_SITE ? -1 : site24;
      const aux = buf.readUInt32LE(off + 8);
      // An extra whose event was torn or never written belongs to nothing.
      const extraOf = tail === seq - 1 ? events[events.length - 1] : undefined;
      if (code === TIME) {
        t = Number(buf.readBigInt64LE(off));
        continue;
      }
      if (code === SAMPLE || code === SIZE || code === HISTORY) {
        if (!extraOf) continue;
        tail = seq;
        if (code === SAMPLE) {
          extraOf.goroutine = Number(buf.readBigUInt64LE(off));
          extraOf.stack = aux;
        } else if (code === SIZE) {
          extraOf.size = Number(buf.readBigInt64LE(off));
        } else if (extraOf.kind === 'violation') {
          const stacks = buf.readBigUInt64LE(off);
          extraOf.history = { allocSite: aux, freeSite: site, allocStack: Number(stacks & 0xffffffffn), freeStack: Number(stacks >> 32n) };
        }
        continue;
      }
      const kind = KINDS[code];
      if (!kind) continue; // never written, or torn
      const sized = kind === 'alloc' || kind === 'realloc';
      tail = seq;
      events.push({ pid, seq, t, kind, ptr: buf.readBigUInt64LE(off), size: sized ? (aux === BIG_SIZE ? -1 : aux - 1) : kind === 'violation' ? aux : 0, site, stack: 0, goroutine: 0 });
    }
  }
  const stacks = new Map<number, StackFrame[]>();
  const file = path.join(dir, 'stacks.jsonl');
  if (existsSync(file)) {
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      if (!line.trim()) continue;
      try {
        const s = JSON.parse(line) as { id: number; frames: StackFrame[] };
        stacks.set(s.id, s.frames);
      } catch {
        // a line cut by a crash
      }
    }
  }
  const lost = path.join(dir, 'lost');
  return { pid, events, stacks, ...(existsSync(lost) ? { lost: readFileSync(lost, 'utf8').trim() || 'unknown error' } : {}) };
}

export interface LiveGroup {
  site: Site;
  /** The allocation stack (a sampled one when the site's stacks are sampled). */
  frames: StackFrame[];
  bytes: number;
  objects: number;
  /** Pointed to by an object a finalizer or cleanup was set on: that object's to free, when the collector gets to it. */
  heldByFinalizer: boolean;
}

export interface Misuse {
  what: string;
  code: number;
  site: Site;
  frames: StackFrame[];
  goroutine: number;
  allocSite?: Site;
  allocFrames: StackFrame[];
  freeSite?: Site;
  freeFrames: StackFrame[];
}

export interface TraceSummary {
  live: LiveGroup[];
  misuses: Misuse[];
  allocations: number;
  /** Releases of blocks the trace saw allocated (C's own memory freed from Go is not counted). */
  frees: number;
  processes: number;
}

/**
 * Replays each process's events in order: what is live at its exit, grouped by
 * site and stack across processes, and its misuses.
 */
export function summarize(procs: ProcessTrace[], sites: Site[]): TraceSummary {
  const groups = new Map<string, LiveGroup>();
  const misuses: Misuse[] = [];
  let allocations = 0;
  let frees = 0;
  for (const p of procs) {
    const live = new Map<bigint, { site: number; stack: number; size: number; held: boolean }>();
    /** Blocks the trace saw released (and not allocated again since): where, and from where. */
    const freed = new Map<bigint, { allocSite: number; allocStack: number; freeSite: number; freeStack: number }>();
    /** The last stack sampled at each site: unsampled allocations are shown with it. */
    const lastStack = new Map<number, number>();
    const stackOf = (site: number, stack: number) => {
      if (stack) lastStack.set(site, stack);
      return stack || lastStack.get(site) || 0;
    };
    const misuse = (e: TraceEvent, code: number, h: { allocSite: number; allocStack: number; freeSite: number; freeStack: number }) => {
      misuses.push({
        what: VIOLATIONS[code] ?? 'misuse',
        code,
        site: sites[e.site],
        frames: p.stacks.get(e.stack) ?? [],
        goroutine: e.goroutine,
        allocSite: sites[h.allocSite],
        allocFrames: p.stacks.get(h.allocStack) ?? [],
        freeSite: sites[h.freeSite],
        freeFrames: p.stacks.get(h.freeStack) ?? [],
      });
    };
    const release = (e: TraceEvent) => {
      const b = live.get(e.ptr);
      if (!b) return false;
      live.delete(e.ptr);
      freed.set(e.ptr, { allocSite: b.site, allocStack: b.stack, freeSite: e.site, freeStack: e.stack });
      if (e.kind === 'free') frees++;
      return true;
    };
    for (const e of p.events) {
      switch (e.kind) {
        case 'alloc':
        case 'realloc':
          allocations++;
          freed.delete(e.ptr);
          live.set(e.ptr, { site: e.site, stack: stackOf(e.site, e.stack), size: e.size, held: false });
          break;
        case 'held': {
          const b = live.get(e.ptr);
          if (b) b.held = true;
          break;
        }
        case 'free': {
          if (release(e)) break;
          // Released again with nothing allocated there since: a double free (the run did not guard it).
          const h = freed.get(e.ptr);
          if (h) misuse(e, 1, h);
          break;
        }
        case 'moved':
          release(e);
          break;
        case 'use': {
          const h = !live.has(e.ptr) && freed.get(e.ptr);
          if (h) misuse(e, 2, h);
          break;
        }
        case 'seen':
          freed.delete(e.ptr);
          break;
        case 'violation':
          if (e.history) misuse(e, e.size, e.history);
          break;
      }
    }
    for (const b of live.values()) {
      const site = sites[b.site];
      if (!site) continue;
      const frames = p.stacks.get(b.stack) ?? [];
      const key = `${b.site}\0${b.held}\0${frames.map((f) => `${f.fn}@${f.file}:${f.line}`).join('\0')}`;
      const g = groups.get(key) ?? { site, frames, bytes: 0, objects: 0, heldByFinalizer: b.held };
      g.bytes += Math.max(0, b.size);
      g.objects++;
      groups.set(key, g);
    }
  }
  const live = [...groups.values()].sort((a, b) => b.bytes - a.bytes || b.objects - a.objects || (a.site.file < b.site.file ? -1 : 1) || a.site.line - b.site.line);
  return { live, misuses, allocations, frees, processes: procs.length };
}
