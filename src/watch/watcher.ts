// `cgoguard watch`: every interval, the memory of each selected process from
// /proc, the program's own figures when it serves them, non-Go memory (RSS
// minus what the Go runtime has mapped), its trend over a window, and an
// alert when it grows steadily — naming, when the program is a production
// build, the Go stacks whose C bytes grew. Nothing is written into the
// processes and no ptrace is used; a process that is missing, unreadable or
// exits is one note, and the others go on.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fetchFigures, fetchHeapProfile, type CCounters, type RuntimeFigures } from './endpoint.js';
import { ProcessGone, listenAddressOf, readIdentity, readMemory, selectPids, type ProcIdentity, type ProcMemory, type Selection } from './proc.js';
import { describeStack, diffProfile, grownStacks, inuseByStack, type StackUsage } from './profile-diff.js';
import { trend, type Trend } from './trend.js';

export interface WatchOptions {
  procRoot: string;
  selection: Selection;
  intervalMs: number;
  /** Samples in the trend window. */
  window: number;
  /** Samples needed before an alert can be raised. */
  minSamples: number;
  /** Growth over the window (by the fitted slope) that counts, in bytes. */
  minGrowth: number;
  /** Confidence of growth needed, 0..1. */
  confidence: number;
  /** Where processes serve their figures: for a pid or command, or (target undefined) for every process. */
  endpoints: { target?: string; url: string }[];
  /** Stop after this many intervals / this long (default: until interrupted). */
  count?: number;
  durationMs?: number;
  /** Where to keep the heap profiles of an alert (base, at the alert, and their diff). */
  profileDir?: string;
  signal: AbortSignal;
  onEvent: (e: WatchEvent) => void;
}

export interface Sample extends ProcMemory {
  /** Milliseconds since the epoch. */
  time: number;
  goBytes?: number;
  nonGoBytes?: number;
  c?: Pick<CCounters, 'liveBytes' | 'liveObjects' | 'allocations' | 'frees'>;
}

export type Basis = 'non-go' | 'rss-anon';

export interface AlertInfo {
  time: number;
  slope: number;
  confidence: number;
  growth: number;
  grown: StackUsage[];
  profiles?: { base: string; current: string; diff: string };
}

export interface ProcessState {
  id: ProcIdentity;
  samples: Sample[];
  basis: Basis;
  trend?: Trend;
  alerting: boolean;
  alerts: AlertInfo[];
  endpoint?: string;
  source?: RuntimeFigures['source'];
  baseProfile?: Map<string, StackUsage>;
  baseProfileRaw?: Buffer;
  gone: boolean;
}

interface Identified {
  pid: number;
  command: string;
  cgroup: string;
}

export type WatchEvent =
  | ({ type: 'sample'; slope?: number; confidence?: number; alert: boolean; basis: Basis } & Identified & Sample)
  | ({ type: 'alert' } & Identified & AlertInfo & { basis: Basis })
  | ({ type: 'resolved'; time: number } & Identified)
  | { type: 'note'; time: number; pid?: number; command?: string; message: string };

const SOURCE_RANK: Record<RuntimeFigures['source'], number> = { cgoguard: 0, expvar: 1, pprof: 2 };

/** Samples kept per process for the report (the window needs far fewer). */
const HISTORY = 5000;

export class Watcher {
  readonly processes = new Map<string, ProcessState>();
  intervals = 0;
  readonly started = Date.now();
  private noted = new Set<string>();

  constructor(private o: WatchOptions) {}

  /** Processes sampled in the last interval. */
  live(): ProcessState[] {
    return [...this.processes.values()].filter((p) => !p.gone);
  }

  async run(): Promise<void> {
    const { signal } = this.o;
    while (!signal.aborted) {
      const t0 = Date.now();
      await this.tick();
      this.intervals++;
      if (this.o.count !== undefined && this.intervals >= this.o.count) return;
      if (this.o.durationMs !== undefined && Date.now() - this.started >= this.o.durationMs) return;
      if (this.onlyPids() && !this.live().length) {
        this.note(undefined, 'no process left to watch');
        return;
      }
      await sleep(Math.max(0, this.o.intervalMs - (Date.now() - t0)), signal);
    }
  }

  private onlyPids(): boolean {
    const s = this.o.selection;
    return !s.all && !s.names.length && !s.cgroups.length && !s.containers.length;
  }

  private note(p: Identified | undefined, message: string, once?: string): void {
    if (once) {
      if (this.noted.has(once)) return;
      this.noted.add(once);
    }
    this.o.onEvent({ type: 'note', time: Date.now(), ...(p ? { pid: p.pid, command: p.command } : {}), message });
  }

  async tick(): Promise<void> {
    const seen = new Set<string>();
    for (const pid of selectPids(this.o.procRoot, this.o.selection, process.pid)) {
      let id: ProcIdentity;
      try {
        id = readIdentity(this.o.procRoot, pid);
      } catch (e) {
        if (e instanceof ProcessGone) this.note({ pid, command: '', cgroup: '' }, `process ${pid}: no such process`, `missing ${pid}`);
        else this.note({ pid, command: '', cgroup: '' }, `process ${pid}: ${reason(e)}`, `unreadable ${pid}`);
        continue;
      }
      const key = `${id.pid}:${id.startTime}`;
      let st = this.processes.get(key);
      if (!st) {
        st = { id, samples: [], basis: 'rss-anon', alerting: false, alerts: [], gone: false, endpoint: this.endpointFor(id) };
        this.processes.set(key, st);
      }
      try {
        await this.sample(st);
        seen.add(key);
      } catch (e) {
        if (e instanceof ProcessGone) continue; // said below, with the others that went
        this.note(id, `process ${pid} (${id.command}): ${reason(e)}`, `unreadable ${key}`);
      }
    }
    for (const [key, st] of this.processes) {
      if (st.gone || seen.has(key)) continue;
      st.gone = true;
      this.note(st.id, `process ${st.id.pid} (${st.id.command}) exited`);
    }
  }

  private endpointFor(id: ProcIdentity): string | undefined {
    const e = this.o.endpoints;
    return (
      e.find((x) => x.target === String(id.pid))?.url ??
      e.find((x) => x.target === id.command || (x.target !== undefined && x.target.slice(0, 15) === id.command))?.url ??
      e.find((x) => x.target === undefined)?.url ??
      listenAddressOf(this.o.procRoot, id.pid)
    );
  }

  private async sample(st: ProcessState): Promise<void> {
    const { id } = st;
    // Said once for all processes: without CAP_SYS_PTRACE a watcher of every process would say it for most of them.
    const mem = readMemory(this.o.procRoot, id.pid, (what) => this.note(id, `process ${id.pid} (${id.command}) and maybe others: ${what}; Pss left out (reading it needs CAP_SYS_PTRACE or the same user)`, 'smaps_rollup'));
    const s: Sample = { time: Date.now(), ...mem };
    if (st.endpoint) {
      const figures = await fetchFigures(st.endpoint, Math.min(5000, Math.max(1000, this.o.intervalMs)), st.source);
      if (figures) {
        // The richest source that answered stays first: a slow answer once does not demote it.
        if (!st.source || SOURCE_RANK[figures.source] < SOURCE_RANK[st.source]) st.source = figures.source;
        s.goBytes = figures.goBytes;
        s.nonGoBytes = mem.rss - figures.goBytes;
        if (figures.c) s.c = { liveBytes: figures.c.liveBytes, liveObjects: figures.c.liveObjects, allocations: figures.c.allocations, frees: figures.c.frees };
        if (figures.source === 'cgoguard' && !st.baseProfileRaw) await this.takeBaseProfile(st);
      } else {
        this.note(id, `process ${id.pid} (${id.command}): ${st.endpoint} serves neither /debug/cgoguard/vars, /debug/vars nor /debug/pprof/heap; non-Go memory unknown`, `endpoint ${id.pid}`);
      }
    }
    st.samples.push(s);
    if (st.samples.length > HISTORY) st.samples.splice(0, st.samples.length - HISTORY);
    // Once a process has told its Go figures, a sample without them (a slow answer) is left out of the trend rather than mixing two series.
    if (s.nonGoBytes !== undefined) st.basis = 'non-go';
    const windowed = st.samples.slice(-this.o.window).filter((x) => (st.basis === 'non-go' ? x.nonGoBytes !== undefined : true));
    const points = windowed.map((x) => ({ t: x.time / 1000, y: (st.basis === 'non-go' ? x.nonGoBytes : x.rssAnon) ?? 0 }));
    st.trend = trend(points);
    const growth = st.trend ? st.trend.slope * (st.trend.to.t - st.trend.from.t) : 0;
    const firing = !!st.trend && points.length >= this.o.minSamples && st.trend.confidence >= this.o.confidence && growth >= this.o.minGrowth;
    const who = { pid: id.pid, command: id.command, cgroup: id.cgroup };
    this.o.onEvent({ type: 'sample', ...who, ...s, basis: st.basis, slope: st.trend?.slope, confidence: st.trend?.confidence, alert: firing });
    if (firing && !st.alerting) {
      st.alerting = true;
      const alert: AlertInfo = { time: s.time, slope: st.trend!.slope, confidence: st.trend!.confidence, growth, grown: [] };
      await this.explain(st, alert);
      st.alerts.push(alert);
      this.o.onEvent({ type: 'alert', ...who, basis: st.basis, ...alert });
    } else if (!firing && st.alerting) {
      st.alerting = false;
      this.o.onEvent({ type: 'resolved', time: s.time, ...who });
    }
  }

  private async takeBaseProfile(st: ProcessState): Promise<void> {
    const raw = await fetchHeapProfile(st.endpoint!, 5000);
    if (!raw) return;
    try {
      st.baseProfile = inuseByStack(raw);
      st.baseProfileRaw = raw;
    } catch (e) {
      this.note(st.id, `process ${st.id.pid}: its heap profile does not decode: ${reason(e)}`, `profile ${st.id.pid}`);
    }
  }

  /** The stacks whose C bytes grew since the first profile, and the profiles kept on disk. */
  private async explain(st: ProcessState, alert: AlertInfo): Promise<void> {
    if (!st.baseProfile || !st.endpoint) return;
    const raw = await fetchHeapProfile(st.endpoint, 5000);
    if (!raw) return;
    let now: Map<string, StackUsage>;
    try {
      now = inuseByStack(raw);
    } catch (e) {
      this.note(st.id, `process ${st.id.pid}: its heap profile does not decode: ${reason(e)}`, `profile ${st.id.pid}`);
      return;
    }
    alert.grown = grownStacks(st.baseProfile, now).slice(0, 5);
    if (this.o.profileDir) {
      mkdirSync(this.o.profileDir, { recursive: true });
      const stem = path.join(this.o.profileDir, `${st.id.pid}-${new Date(alert.time).toISOString().replace(/[:.]/g, '-')}`);
      alert.profiles = { base: `${stem}-base.pb.gz`, current: `${stem}-alert.pb.gz`, diff: `${stem}-diff.pb.gz` };
      writeFileSync(alert.profiles.base, st.baseProfileRaw!);
      writeFileSync(alert.profiles.current, raw);
      writeFileSync(alert.profiles.diff, diffProfile(st.baseProfile, now, alert.time * 1e6));
    }
  }
}

export function alertSummary(a: AlertInfo): string {
  return a.grown.map((g) => `+${formatBytes(g.bytes)} at ${describeStack(g.frames)}`).join('; ');
}

export function formatBytes(n: number): string {
  const abs = Math.abs(n);
  if (abs >= 1024 ** 3) return `${(n / 1024 ** 3).toFixed(1)} GiB`;
  if (abs >= 1024 ** 2) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  if (abs >= 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${Math.round(n)} B`;
}

function reason(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  if (err?.code === 'EACCES' || err?.code === 'EPERM') return 'permission denied';
  return err instanceof Error ? err.message.split('\n')[0] : String(e);
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
