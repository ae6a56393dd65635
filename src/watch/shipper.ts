// Ships log entries to a Loki-protocol server: entries are batched (by count,
// by bytes, or after a short wait), each batch goes to the on-disk spool
// first, and a sender delivers the spool oldest first, retrying with
// exponential backoff (with jitter) while the server is unreachable, answers
// 429 or 5xx. A batch the server refuses for good (another 4xx) is dropped
// and counted; so are batches the full spool cannot take.
import { encodePush, type LogEntry, type PushFormat } from './loki.js';
import { Spool, type ClaimedBatch } from './spool.js';

export interface ShipperOptions {
  /** The push URL (…/loki/api/v1/push). */
  url: string;
  format: PushFormat;
  tenant?: string;
  spoolDir: string;
  spoolMaxBytes: number;
  batchEntries: number;
  batchBytes: number;
  /** Longest wait before a partial batch is spooled. */
  flushMs: number;
  /** How long close() keeps trying to deliver what is spooled. */
  drainMs: number;
  onNote: (message: string) => void;
}

export interface ShipperStats {
  sent: number;
  dropped: number;
  retries: number;
  /** Entries still in the spool when the shipper closed. */
  spooled: number;
}

const BACKOFF_FIRST_MS = 250;
const BACKOFF_MAX_MS = 30_000;
const REQUEST_TIMEOUT_MS = 10_000;

/** The push URL: a bare server address gets Loki's push path. */
export function pushURL(url: string): string {
  const u = new URL(url);
  if (u.pathname === '/' || u.pathname === '') u.pathname = '/loki/api/v1/push';
  return u.toString();
}

export class Shipper {
  readonly stats: ShipperStats = { sent: 0, dropped: 0, retries: 0, spooled: 0 };
  private buffer: LogEntry[] = [];
  private bufferBytes = 0;
  private flushTimer?: NodeJS.Timeout;
  private readonly spool: Spool;
  private wake?: () => void;
  private closing = false;
  private deadline = Infinity;
  private readonly sender: Promise<void>;
  private readonly headers: Record<string, string> = {};
  private readonly target: string;
  private failing = false;

  constructor(private o: ShipperOptions) {
    this.spool = new Spool(o.spoolDir, o.spoolMaxBytes);
    const u = new URL(pushURL(o.url));
    if (u.username || u.password) {
      this.headers.Authorization = `Basic ${Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString('base64')}`;
      u.username = '';
      u.password = '';
    }
    if (o.tenant) this.headers['X-Scope-OrgID'] = o.tenant;
    this.target = u.toString();
    this.sender = this.sendLoop();
  }

  add(entry: LogEntry): void {
    this.buffer.push(entry);
    this.bufferBytes += entry.line.length + 64;
    if (this.buffer.length >= this.o.batchEntries || this.bufferBytes >= this.o.batchBytes) this.flush();
    else if (!this.flushTimer) {
      this.flushTimer = setTimeout(() => this.flush(), this.o.flushMs);
      this.flushTimer.unref();
    }
  }

  /** The buffered entries become a spooled batch. */
  flush(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    if (!this.buffer.length) return;
    const batch = this.buffer;
    this.buffer = [];
    this.bufferBytes = 0;
    if (!this.spool.put(batch)) {
      this.stats.dropped += batch.length;
      this.o.onNote(`log spool ${this.spool.dir} is full (${this.o.spoolMaxBytes} bytes): ${batch.length} entries dropped`);
    }
    this.wake?.();
  }

  /** Flushes, keeps delivering until the spool is empty or the drain time is up, and stops. */
  async close(): Promise<ShipperStats> {
    this.flush();
    this.closing = true;
    this.deadline = Date.now() + this.o.drainMs;
    this.wake?.();
    await this.sender;
    this.stats.spooled = this.countSpooled();
    return this.stats;
  }

  private countSpooled(): number {
    let n = 0;
    const claimed: ClaimedBatch[] = [];
    for (let b = this.spool.claim(); b; b = this.spool.claim()) {
      n += b.entries.length;
      claimed.push(b);
    }
    for (const b of claimed) this.spool.unclaim(b);
    return n;
  }

  private async sendLoop(): Promise<void> {
    let backoff = BACKOFF_FIRST_MS;
    for (;;) {
      if (this.closing && Date.now() >= this.deadline) return;
      const batch = this.spool.claim();
      if (!batch) {
        if (this.closing) return;
        await this.idle(1000);
        continue;
      }
      const outcome = await this.deliver(batch);
      if (outcome === 'sent') {
        this.spool.done(batch);
        this.stats.sent += batch.entries.length;
        if (this.failing) this.o.onNote(`log server ${this.target} reachable again`);
        this.failing = false;
        backoff = BACKOFF_FIRST_MS;
        continue;
      }
      if (outcome === 'refused') {
        this.spool.done(batch);
        this.stats.dropped += batch.entries.length;
        continue;
      }
      this.spool.unclaim(batch);
      this.stats.retries++;
      const wait = Math.min(backoff, Math.max(0, this.deadline - Date.now()));
      await this.idle(wait * (0.8 + Math.random() * 0.4), true);
      backoff = Math.min(BACKOFF_MAX_MS, backoff * 2);
    }
  }

  /** Waits for new batches, or for a while; a retry's wait is not cut short by new batches. */
  private idle(ms: number, retrying = false): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        resolve();
      }
      if (!retrying) this.wake = done;
      else if (this.closing && Date.now() >= this.deadline) done();
    });
  }

  private async deliver(batch: ClaimedBatch): Promise<'sent' | 'retry' | 'refused'> {
    if (!batch.entries.length) return 'sent';
    const { body, headers } = encodePush(batch.entries, this.o.format);
    try {
      const r = await fetch(this.target, { method: 'POST', body: new Uint8Array(body), headers: { ...headers, ...this.headers }, signal: AbortSignal.timeout(this.closing ? Math.max(1000, Math.min(REQUEST_TIMEOUT_MS, this.deadline - Date.now())) : REQUEST_TIMEOUT_MS) });
      const text = await r.text().catch(() => '');
      if (r.ok) return 'sent';
      if (r.status === 429 || r.status >= 500) {
        this.noteFailure(`HTTP ${r.status}`);
        return 'retry';
      }
      this.o.onNote(`log server ${this.target} refused ${batch.entries.length} entries: HTTP ${r.status} ${text.trim().split('\n')[0].slice(0, 200)}`);
      return 'refused';
    } catch (e) {
      const cause = (e as { cause?: { code?: string } }).cause?.code ?? (e as Error).name;
      this.noteFailure(cause);
      return 'retry';
    }
  }

  private noteFailure(why: string): void {
    if (this.failing) return;
    this.failing = true;
    this.o.onNote(`log server ${this.target} unreachable (${why}): entries wait in ${this.spool.dir}, retrying with backoff`);
  }
}
