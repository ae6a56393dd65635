// The numbers a program tells about itself over HTTP, tried in this order:
// a production build's /debug/cgoguard/vars (the Go runtime's figures and
// the C counters), expvar's /debug/vars (memstats), and net/http/pprof's
// /debug/pprof/heap?debug=1 (whose text ends with the MemStats).

export interface RuntimeFigures {
  /** Memory the Go runtime has mapped and not returned to the system. */
  goBytes: number;
  /** The production build's counters, when it is one. */
  c?: CCounters;
  source: 'cgoguard' | 'expvar' | 'pprof';
}

export interface CCounters {
  liveBytes: number;
  liveObjects: number;
  allocations: number;
  frees: number;
  allocatedBytes: number;
  sampleRate: number;
  sites: { call: string; file: string; line: number; allocations: number; bytes: number; frees: number }[];
}

async function get(url: string, timeoutMs: number): Promise<Response | undefined> {
  try {
    const r = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    if (r.ok) return r;
    await r.body?.cancel();
  } catch {
    // not served, refused, or too slow: the next source is tried
  }
  return undefined;
}

const num = (x: unknown): number | undefined => (typeof x === 'number' && Number.isFinite(x) ? x : undefined);

/** The figures, or undefined when the endpoint offers none of the three. */
export async function fetchFigures(base: string, timeoutMs: number, prefer?: RuntimeFigures['source']): Promise<RuntimeFigures | undefined> {
  const order: RuntimeFigures['source'][] = ['cgoguard', 'expvar', 'pprof'];
  if (prefer) order.sort((a, b) => (a === prefer ? -1 : b === prefer ? 1 : 0));
  for (const source of order) {
    const f = await fromSource(base.replace(/\/+$/, ''), source, timeoutMs);
    if (f) return f;
  }
  return undefined;
}

async function fromSource(base: string, source: RuntimeFigures['source'], timeoutMs: number): Promise<RuntimeFigures | undefined> {
  if (source === 'cgoguard') {
    const r = await get(`${base}/debug/cgoguard/vars`, timeoutMs);
    const j = (await r?.json().catch(() => undefined)) as { go?: Record<string, unknown>; cgoguard?: Record<string, unknown> } | undefined;
    const total = num(j?.go?.totalBytes);
    const released = num(j?.go?.releasedBytes);
    if (!j?.cgoguard || total === undefined || released === undefined) return undefined;
    const c = j.cgoguard;
    return {
      goBytes: total - released,
      source,
      c: {
        liveBytes: num(c.liveBytes) ?? 0,
        liveObjects: num(c.liveObjects) ?? 0,
        allocations: num(c.allocations) ?? 0,
        frees: num(c.frees) ?? 0,
        allocatedBytes: num(c.allocatedBytes) ?? 0,
        sampleRate: num(c.sampleRate) ?? 0,
        sites: Array.isArray(c.sites) ? (c.sites as CCounters['sites']) : [],
      },
    };
  }
  if (source === 'expvar') {
    const r = await get(`${base}/debug/vars`, timeoutMs);
    const j = (await r?.json().catch(() => undefined)) as { memstats?: Record<string, unknown> } | undefined;
    const sys = num(j?.memstats?.Sys);
    const released = num(j?.memstats?.HeapReleased);
    return sys === undefined || released === undefined ? undefined : { goBytes: sys - released, source };
  }
  const r = await get(`${base}/debug/pprof/heap?debug=1`, timeoutMs);
  const text = r ? await r.text().catch(() => '') : '';
  const sys = /^# Sys = (\d+)$/m.exec(text);
  const released = /^# HeapReleased = (\d+)$/m.exec(text);
  return sys && released ? { goBytes: Number(sys[1]) - Number(released[1]), source } : undefined;
}

/** A production build's heap profile (gzipped profile.proto), or undefined when it serves none. */
export async function fetchHeapProfile(base: string, timeoutMs: number): Promise<Buffer | undefined> {
  const r = await get(`${base.replace(/\/+$/, '')}/debug/cgoguard/heap`, timeoutMs);
  if (!r) return undefined;
  try {
    return Buffer.from(await r.arrayBuffer());
  } catch {
    return undefined;
  }
}
