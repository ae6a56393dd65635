// Worker thread: analyses the packages the main thread sends, one at a time.
import { parentPort } from 'node:worker_threads';
import { initParsers } from '../syntax/parser.js';
import { analyzePackage, type AnalyzeOptions, type PackageJob } from './analyze-package.js';
import type { Summary } from '../flow/summary.js';

export interface WorkRequest {
  id: number;
  job: PackageJob;
  external: Summary[];
  opts: Omit<AnalyzeOptions, 'disabledRules'> & { disabledRules: string[] };
}

const port = parentPort;
if (port) {
  const ready = initParsers();
  port.on('message', async (req: WorkRequest) => {
    try {
      await ready;
      const result = analyzePackage(req.job, req.external, { ...req.opts, disabledRules: new Set(req.opts.disabledRules) });
      port.postMessage({ id: req.id, result });
    } catch (e) {
      port.postMessage({ id: req.id, error: e instanceof Error ? `${e.message}\n${e.stack ?? ''}` : String(e) });
    }
  });
}
