// The log shipper's on-disk spool: batches wait here, one JSON-lines file
// each, until the server has them, so an unreachable server loses nothing —
// across runs too — until the spool reaches its size limit; past it, new
// batches are refused (the shipper counts them as dropped). Several
// processes may share a spool: a sender claims a batch by renaming it, and
// claims left by a process that died go back to the queue.
import { mkdirSync, readFileSync, readdirSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { LogEntry } from './loki.js';

const BATCH = /^(\d{13})-(\d+)-(\d+)\.batch$/;
const CLAIMED = /^(.+\.batch)\.sending-(\d+)$/;

export interface ClaimedBatch {
  file: string;
  entries: LogEntry[];
}

export class Spool {
  private seq = 0;

  constructor(
    readonly dir: string,
    readonly maxBytes: number,
  ) {
    mkdirSync(dir, { recursive: true });
    // Claims of processes that are gone: back to the queue.
    for (const name of readdirSync(dir)) {
      const m = CLAIMED.exec(name);
      if (m && !alive(Number(m[2]))) renameSync(path.join(dir, name), path.join(dir, m[1]));
    }
  }

  /** Bytes spooled (waiting or being sent). */
  size(): number {
    let n = 0;
    for (const name of readdirSync(this.dir)) {
      if (!BATCH.test(name) && !CLAIMED.test(name)) continue;
      try {
        n += statSync(path.join(this.dir, name)).size;
      } catch {
        // sent and removed meanwhile
      }
    }
    return n;
  }

  /** Waiting batches (not claimed). */
  waiting(): number {
    return readdirSync(this.dir).filter((n) => BATCH.test(n)).length;
  }

  /** Spools a batch; false when it would take the spool past its limit. */
  put(entries: LogEntry[]): boolean {
    const text = `${entries.map((e) => JSON.stringify(e)).join('\n')}\n`;
    if (this.size() + Buffer.byteLength(text) > this.maxBytes) return false;
    const name = `${String(Date.now()).padStart(13, '0')}-${process.pid}-${String(this.seq++).padStart(6, '0')}.batch`;
    const tmp = path.join(this.dir, `.${name}.tmp`);
    writeFileSync(tmp, text);
    renameSync(tmp, path.join(this.dir, name));
    return true;
  }

  /** The oldest waiting batch, claimed for this process; undefined when none waits. */
  claim(): ClaimedBatch | undefined {
    const names = readdirSync(this.dir)
      .filter((n) => BATCH.test(n))
      .sort();
    for (const name of names) {
      const from = path.join(this.dir, name);
      const file = `${from}.sending-${process.pid}`;
      try {
        renameSync(from, file);
      } catch {
        continue; // another sender took it
      }
      const entries: LogEntry[] = [];
      for (const line of readFileSync(file, 'utf8').split('\n')) {
        if (!line) continue;
        try {
          entries.push(JSON.parse(line) as LogEntry);
        } catch {
          // a line cut short by a crash while spooling: nothing to send
        }
      }
      return { file, entries };
    }
    return undefined;
  }

  /** The batch was delivered (or refused for good). */
  done(b: ClaimedBatch): void {
    try {
      unlinkSync(b.file);
    } catch {
      // already gone
    }
  }

  /** The batch goes back to the queue, in its place. */
  unclaim(b: ClaimedBatch): void {
    renameSync(b.file, b.file.replace(/\.sending-\d+$/, ''));
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
