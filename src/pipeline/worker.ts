// Worker thread: analyses the Go side of the packages the main thread sends,
// one at a time; clang runs from the main thread (cunits.ts).
import { parentPort } from 'node:worker_threads';
import { setCacheEnabled } from '../model/cachestore.js';
import { initParsers } from '../syntax/parser.js';
import { analyzeGoSide, type AnalyzeOptions, type PackageJob } from './analyze-package.js';
import type { Summary } from '../flow/summary.js';

export interface WorkRequest {
  id: number;
  job: PackageJob;
  external: Summary[];
  opts: Omit<AnalyzeOptions, 'disabledRules'> & { disabledRules: string[] };
  /** --no-cache: the worker's caches are off too. */
  noCache?: boolean;
}

const port = parentPort;
if (port) {
  const ready = initParsers();
  port.on('message', async (req: WorkRequest) => {
    try {
      await ready;
      setCacheEnabled(!req.noCache);
      const side = analyzeGoSide(req.job, req.external, { ...req.opts, disabledRules: new Set(req.opts.disabledRules) });
      port.postMessage({ id: req.id, side });
    } catch (e) {
      port.postMessage({ id: req.id, error: e instanceof Error ? `${e.message}\n${e.stack ?? ''}` : String(e) });
    }
  });
}
