// Reads what the injected runtime wrote: per process, the memory-mapped event
// segments (64-byte records, empty where never written or torn by a crash)
// and the symbolised stacks; and replays them into what is live at exit and
// which misuses happened.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import type { StackFrame } from '../findings/finding.js';
import type { Site } from './instrument.js';

export const RECORD_SIZE = 64;

export type EventKind = 'alloc' | 'free' | 'realloc' | 'violation';
const KINDS: Record<number, EventKind> = { 1: 'alloc', 2: 'free', 3: 'realloc', 4: 'violation' };
export const VIOLATIONS: Record<number, string> = { 1: 'double free', 2: 'use of freed memory', 3: 'realloc of freed memory' };

export interface TraceEvent {
  pid: number;
  seq: number;
  /** Nanoseconds since the process's first event. */
  t: number;
  kind: EventKind;
  ptr: bigint;
  /** Bytes (alloc, free, realloc; -1 unknown), or the violation code. */
  size: number;
  site: number;
  stack: number;
  goroutine: number;
  /** realloc: the block it replaced. violation: the block's allocation and release sites. */
  old: bigint;
  /** violation: the block's allocation and release stacks. */
  extra: [number, number];
}

export interface ProcessTrace {
  pid: number;
  events: TraceEvent[];
  stacks: Map<number, StackFrame[]>;
}

/** Every process that wrote under dir (one per test binary or program run). */
export function readTraceDir(dir: string): ProcessTrace[] {
  if (!existsSync(dir)) return [];
  const out: ProcessTrace[] = [];
  for (const name of readdirSync(dir).sort()) {
    if (!/^\d+$/.test(name)) continue;
    out.push(readProcess(path.join(dir, name), Number(name)));
  }
  return out;
}

function readProcess(dir: string, pid: number): ProcessTrace {
  const events: TraceEvent[] = [];
  let seq = 0;
  for (const seg of readdirSync(dir).filter((n) => /^events\.\d+$/.test(n)).sort()) {
    const buf = readFileSync(path.join(dir, seg));
    for (let off = 0; off + RECORD_SIZE <= buf.length; off += RECORD_SIZE, seq++) {
      const kind = KINDS[buf.readUInt32LE(off + 56)];
      if (!kind) continue; // never written, or torn
      events.push({
        pid,
        seq,
        t: Number(buf.readBigInt64LE(off)),
        kind,
        ptr: buf.readBigUInt64LE(off + 8),
        size: Number(buf.readBigInt64LE(off + 16)),
        site: buf.readInt32LE(off + 24),
        stack: buf.readUInt32LE(off + 28),
        goroutine: Number(buf.readBigUInt64LE(off + 32)),
        old: buf.readBigUInt64LE(off + 40),
        extra: [buf.readUInt32LE(off + 48), buf.readUInt32LE(off + 52)],
      });
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
  return { pid, events, stacks };
}

export interface LiveGroup {
  site: Site;
  /** The allocation stack (a sampled one when the site's stacks are sampled). */
  frames: StackFrame[];
  bytes: number;
  objects: number;
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
    const live = new Map<bigint, { site: number; stack: number; size: number }>();
    /** The last stack sampled at each site: unsampled allocations are shown with it. */
    const lastStack = new Map<number, number>();
    const stackOf = (site: number, stack: number) => {
      if (stack) lastStack.set(site, stack);
      return stack || lastStack.get(site) || 0;
    };
    for (const e of p.events) {
      switch (e.kind) {
        case 'alloc':
          allocations++;
          live.set(e.ptr, { site: e.site, stack: stackOf(e.site, e.stack), size: e.size });
          break;
        case 'free':
          frees++;
          live.delete(e.ptr);
          break;
        case 'realloc':
          allocations++;
          if (e.old) live.delete(e.old);
          live.set(e.ptr, { site: e.site, stack: stackOf(e.site, e.stack), size: e.size });
          break;
        case 'violation': {
          const allocSite = Number(BigInt.asIntN(32, e.old & 0xffffffffn));
          const freeSite = Number(BigInt.asIntN(32, e.old >> 32n));
          misuses.push({
            what: VIOLATIONS[e.size] ?? 'misuse',
            code: e.size,
            site: sites[e.site],
            frames: p.stacks.get(e.stack) ?? [],
            goroutine: e.goroutine,
            allocSite: sites[allocSite],
            allocFrames: p.stacks.get(e.extra[0]) ?? [],
            freeSite: sites[freeSite],
            freeFrames: p.stacks.get(e.extra[1]) ?? [],
          });
          break;
        }
      }
    }
    for (const b of live.values()) {
      const site = sites[b.site];
      if (!site) continue;
      const frames = p.stacks.get(b.stack) ?? [];
      const key = `${b.site}\0${frames.map((f) => `${f.fn}@${f.file}:${f.line}`).join('\0')}`;
      const g = groups.get(key) ?? { site, frames, bytes: 0, objects: 0 };
      g.bytes += Math.max(0, b.size);
      g.objects++;
      groups.set(key, g);
    }
  }
  const live = [...groups.values()].sort((a, b) => b.bytes - a.bytes || b.objects - a.objects || (a.site.file < b.site.file ? -1 : 1) || a.site.line - b.site.line);
  return { live, misuses, allocations, frees, processes: procs.length };
}
