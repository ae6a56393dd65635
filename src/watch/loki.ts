// Loki's push protocol (POST /loki/api/v1/push), which Grafana Loki,
// VictoriaLogs (/insert/loki/api/v1/push) and Grafana Alloy accept, in its two
// forms: a PushRequest in protobuf, snappy-compressed (the block format), and
// the JSON form, gzip-compressed. The protobuf writer covers the few fields
// of push.proto a client sends.
import { gzipSync } from 'node:zlib';
import { compress as snappy } from 'snappyjs';

export interface LogEntry {
  /** Low-cardinality labels: they name the stream. */
  labels: Record<string, string>;
  /** Nanoseconds since the epoch, as a decimal string (beyond 2^53). */
  ts: string;
  line: string;
}

export type PushFormat = 'protobuf' | 'json';

export interface PushBody {
  body: Buffer;
  headers: Record<string, string>;
}

/** Loki's label syntax: {a="x", b="y"}, names sorted, values escaped as Go strings. */
export function labelString(labels: Record<string, string>): string {
  const parts = Object.keys(labels)
    .sort()
    .map((k) => `${k}=${JSON.stringify(labels[k])}`);
  return `{${parts.join(', ')}}`;
}

/** Entries grouped by stream, each stream's entries in time order. */
function streams(entries: LogEntry[]): { labels: Record<string, string>; entries: LogEntry[] }[] {
  const by = new Map<string, { labels: Record<string, string>; entries: LogEntry[] }>();
  for (const e of entries) {
    const key = labelString(e.labels);
    let s = by.get(key);
    if (!s) by.set(key, (s = { labels: e.labels, entries: [] }));
    s.entries.push(e);
  }
  for (const s of by.values()) s.entries.sort((a, b) => (BigInt(a.ts) < BigInt(b.ts) ? -1 : BigInt(a.ts) > BigInt(b.ts) ? 1 : 0));
  return [...by.values()];
}

export function encodePush(entries: LogEntry[], format: PushFormat): PushBody {
  if (format === 'json') {
    const json = { streams: streams(entries).map((s) => ({ stream: s.labels, values: s.entries.map((e) => [e.ts, e.line]) })) };
    return { body: gzipSync(JSON.stringify(json)), headers: { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' } };
  }
  const w = new ProtoWriter();
  for (const s of streams(entries)) {
    w.message(1, (stream) => {
      stream.string(1, labelString(s.labels));
      for (const e of s.entries) {
        stream.message(2, (entry) => {
          const ns = BigInt(e.ts);
          entry.message(1, (t) => {
            t.varint(1, ns / 1_000_000_000n);
            t.varint(2, ns % 1_000_000_000n);
          });
          entry.string(2, e.line);
        });
      }
    });
  }
  return { body: Buffer.from(snappy(w.bytes())), headers: { 'Content-Type': 'application/x-protobuf' } };
}

class ProtoWriter {
  private parts: Buffer[] = [];

  private raw(n: bigint): void {
    const out: number[] = [];
    let x = n;
    while (x >= 0x80n) {
      out.push(Number(x & 0x7fn) | 0x80);
      x >>= 7n;
    }
    out.push(Number(x));
    this.parts.push(Buffer.from(out));
  }

  varint(field: number, x: bigint): void {
    if (x === 0n) return;
    this.raw(BigInt(field << 3));
    this.raw(x);
  }

  private bytesField(field: number, b: Buffer): void {
    this.raw(BigInt((field << 3) | 2));
    this.raw(BigInt(b.length));
    this.parts.push(b);
  }

  string(field: number, s: string): void {
    this.bytesField(field, Buffer.from(s, 'utf8'));
  }

  message(field: number, fill: (w: ProtoWriter) => void): void {
    const sub = new ProtoWriter();
    fill(sub);
    this.bytesField(field, sub.bytes());
  }

  bytes(): Buffer {
    return Buffer.concat(this.parts);
  }
}
