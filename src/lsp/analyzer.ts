// The language server's side of its analysis thread: requests with ids, and
// cancellation of every request up to an id (the thread polls the shared
// flag between functions). A thread that dies is replaced.
import { Worker } from 'node:worker_threads';
import type { Summary } from '../flow/summary.js';
import type { PackageJob, PackageResult } from '../pipeline/analyze-package.js';
import type { AnalysisReply, AnalysisRequest } from './analysis-worker.js';

export interface Analysed {
  result: PackageResult;
  /** Functions whose earlier result was reused, and those analysed again. */
  reused: number;
  analysed: number;
}

export class Analyzer {
  private worker!: Worker;
  private readonly cancel = new Int32Array(new SharedArrayBuffer(4));
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (r: Analysed | undefined) => void; reject: (e: Error) => void }>();

  constructor() {
    this.start();
  }

  private start(): void {
    this.worker = new Worker(new URL('./analysis-worker.js', import.meta.url), { workerData: { cancel: this.cancel.buffer }, stdout: true });
    // Whatever the thread prints must not reach the protocol's stdout.
    this.worker.stdout.on('data', (d: Buffer) => process.stderr.write(d));
    this.worker.on('message', (m: AnalysisReply) => {
      const p = this.pending.get(m.id);
      this.pending.delete(m.id);
      if (!p) return;
      if ('result' in m) p.resolve({ result: m.result, reused: m.reused, analysed: m.analysed });
      else if ('cancelled' in m) p.resolve(undefined);
      else p.reject(new Error(m.error));
    });
    this.worker.on('error', (e) => {
      for (const p of this.pending.values()) p.reject(e);
      this.pending.clear();
      this.start();
    });
  }

  /** Analyses a package; undefined when the run was cancelled. */
  run(job: PackageJob, external: Summary[], opts: AnalysisRequest['opts']): { id: number; done: Promise<Analysed | undefined> } {
    const id = this.nextId++;
    const done = new Promise<Analysed | undefined>((resolve, reject) => this.pending.set(id, { resolve, reject }));
    this.worker.postMessage({ id, job, external, opts } satisfies AnalysisRequest);
    return { id, done };
  }

  /** Cancels every run up to and including `id`. */
  cancelUpTo(id: number): void {
    Atomics.store(this.cancel, 0, Math.max(Atomics.load(this.cancel, 0), id));
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }
}
