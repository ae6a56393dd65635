// The trace's event log as JSON lines (--events): per process, first the
// table of the stacks its events refer to (`"event": "stack"`), then its
// events in the order they happened. The README lists every event kind.
import type { StackFrame } from '../findings/finding.js';
import type { Site } from '../trace/instrument.js';
import type { TraceEvent } from '../trace/events.js';

export interface EventLog {
  runId: string;
  events: TraceEvent[];
  sites: Site[];
  /** Each process's stacks by id (ids are per process). */
  stacks: Map<number, Map<number, StackFrame[]>>;
}

export function formatEvents(log: EventLog): string {
  const lines: string[] = [];
  const byPid = new Map<number, TraceEvent[]>();
  for (const e of log.events) byPid.set(e.pid, [...(byPid.get(e.pid) ?? []), e]);
  for (const [pid, events] of byPid) {
    const table = log.stacks.get(pid) ?? new Map<number, StackFrame[]>();
    const used = new Set<number>();
    for (const e of events) {
      if (e.stack) used.add(e.stack);
      if (e.history) for (const s of [e.history.allocStack, e.history.freeStack]) if (s) used.add(s);
    }
    for (const id of [...used].sort((a, b) => a - b)) {
      lines.push(JSON.stringify({ run: log.runId, pid, event: 'stack', stack: id, frames: table.get(id) ?? [] }));
    }
    for (const e of events) {
      const site = log.sites[e.site];
      const h = e.history;
      lines.push(
        JSON.stringify({
          run: log.runId,
          pid,
          seq: e.seq,
          t: e.t,
          event: e.kind,
          ptr: `0x${e.ptr.toString(16)}`,
          size: e.kind === 'alloc' || e.kind === 'realloc' ? e.size : undefined,
          violation: e.kind === 'violation' ? e.size : undefined,
          call: site?.call,
          file: site?.file,
          line: site?.line,
          stack: e.stack || undefined,
          goroutine: e.goroutine || undefined,
          ...(h
            ? {
                allocated: log.sites[h.allocSite] ? { file: log.sites[h.allocSite].file, line: log.sites[h.allocSite].line, stack: h.allocStack || undefined } : undefined,
                freed: log.sites[h.freeSite] ? { file: log.sites[h.freeSite].file, line: log.sites[h.freeSite].line, stack: h.freeStack || undefined } : undefined,
              }
            : {}),
        }),
      );
    }
  }
  return lines.length ? `${lines.join('\n')}\n` : '';
}
