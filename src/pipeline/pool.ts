// A fixed set of worker threads, each analysing one package at a time.
import { Worker } from 'node:worker_threads';
import type { PackageSide } from './analyze-package.js';
import type { WorkRequest } from './worker.js';

type Pending = { resolve: (r: PackageSide) => void; reject: (e: Error) => void };

export class WorkerPool {
  private readonly workers: Worker[] = [];
  private readonly idle: Worker[] = [];
  private readonly waiting: { req: WorkRequest; p: Pending }[] = [];
  private readonly pending = new Map<number, Pending>();
  private readonly busy = new Map<Worker, number>();

  constructor(size: number) {
    for (let i = 0; i < size; i++) {
      const w = new Worker(new URL('./worker.js', import.meta.url));
      w.on('message', (msg: { id: number; side?: PackageSide; error?: string }) => {
        const p = this.pending.get(msg.id);
        this.pending.delete(msg.id);
        this.busy.delete(w);
        this.release(w);
        if (!p) return;
        if (msg.error !== undefined) p.reject(new Error(msg.error));
        else p.resolve(msg.side!);
      });
      w.on('error', (err) => {
        const id = this.busy.get(w);
        if (id !== undefined) {
          this.pending.get(id)?.reject(err);
          this.pending.delete(id);
        }
      });
      this.workers.push(w);
      this.idle.push(w);
    }
  }

  run(req: WorkRequest): Promise<PackageSide> {
    return new Promise((resolve, reject) => {
      const p = { resolve, reject };
      const w = this.idle.pop();
      if (w) this.dispatch(w, req, p);
      else this.waiting.push({ req, p });
    });
  }

  private dispatch(w: Worker, req: WorkRequest, p: Pending): void {
    this.pending.set(req.id, p);
    this.busy.set(w, req.id);
    w.postMessage(req);
  }

  private release(w: Worker): void {
    const next = this.waiting.shift();
    if (next) this.dispatch(w, next.req, next.p);
    else this.idle.push(w);
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
