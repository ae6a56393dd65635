// The language server's analysis thread: analyses one package at a time and
// keeps, per package, the texts it last saw and the functions' results
// (FunctionMemo), so that an edit re-analyses only what it can change. A
// newer edit cancels the run in progress through a shared flag, polled
// between functions: the thread, and what it keeps, stay alive.
import { readFileSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import type { Summary } from '../flow/summary.js';
import { analyzePackage, type AnalyzeOptions, type PackageJob, type PackageResult } from '../pipeline/analyze-package.js';
import { AnalysisCancelled, FunctionMemo } from '../pipeline/function-memo.js';
import { initParsers } from '../syntax/parser.js';

export interface AnalysisRequest {
  id: number;
  job: PackageJob;
  external: Summary[];
  opts: Pick<AnalyzeOptions, 'contracts' | 'cAnalyzer'> & { disabledRules: string[] };
}

export type AnalysisReply = { id: number; result: PackageResult; reused: number; analysed: number } | { id: number; cancelled: true } | { id: number; error: string };

interface PackageMemory {
  memo: FunctionMemo;
  texts: Map<string, string>;
}

const port = parentPort;
if (port) {
  // The protocol owns the process's stdout: nothing here may print there.
  console.log = console.error;
  const cancelledUpTo = new Int32Array(workerData.cancel as SharedArrayBuffer);
  const memory = new Map<string, PackageMemory>();
  const ready = initParsers();
  port.on('message', async (req: AnalysisRequest) => {
    await ready;
    const mem = memory.get(req.job.importPath) ?? { memo: new FunctionMemo(), texts: new Map() };
    memory.set(req.job.importPath, mem);
    const files = req.job.files.map((f) => {
      if (f.text !== undefined) return f;
      try {
        return { ...f, text: readFileSync(f.path, 'utf8') };
      } catch {
        return f; // the analysis reports it as unreadable
      }
    });
    for (const f of files) {
      const before = mem.texts.get(f.path);
      if (before !== undefined && f.text !== undefined) mem.memo.moveThroughEdit(f.display, before, f.text);
    }
    mem.texts = new Map(files.flatMap((f) => (f.text !== undefined ? [[f.path, f.text] as const] : [])));
    const hits = mem.memo.hits;
    const misses = mem.memo.misses;
    try {
      const result = analyzePackage({ ...req.job, files }, req.external, {
        ...req.opts,
        disabledRules: new Set(req.opts.disabledRules),
        memo: mem.memo,
        cancelled: () => Atomics.load(cancelledUpTo, 0) >= req.id,
      });
      mem.memo.prune();
      port.postMessage({ id: req.id, result, reused: mem.memo.hits - hits, analysed: mem.memo.misses - misses } satisfies AnalysisReply);
    } catch (e) {
      if (e instanceof AnalysisCancelled) port.postMessage({ id: req.id, cancelled: true } satisfies AnalysisReply);
      else port.postMessage({ id: req.id, error: e instanceof Error ? e.message : String(e) } satisfies AnalysisReply);
    }
  });
}
