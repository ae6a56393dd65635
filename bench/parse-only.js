// Parse-only baseline: tree-sitter parses the given files (and deletes each
// tree), on worker threads like the check itself. Prints JSON {ms, files, bytes}.
import { readFileSync } from 'node:fs';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { initParsers, parseGo } from '../dist/syntax/parser.js';

if (isMainThread) {
  const [listFile, threadsArg] = process.argv.slice(2);
  const files = readFileSync(listFile, 'utf8').split('\n').filter(Boolean);
  const threads = Number(threadsArg ?? 2);
  const t0 = performance.now();
  const parts = Array.from({ length: threads }, (_, i) => files.filter((_, j) => j % threads === i));
  const results = await Promise.all(
    parts.map(
      (part) =>
        new Promise((resolve, reject) => {
          const w = new Worker(new URL(import.meta.url), { workerData: part });
          w.on('message', resolve);
          w.on('error', reject);
        }),
    ),
  );
  const bytes = results.reduce((a, r) => a + r.bytes, 0);
  process.stdout.write(`${JSON.stringify({ ms: performance.now() - t0, files: files.length, bytes, maxRSS: process.resourceUsage().maxRSS * 1024 })}\n`);
} else {
  await initParsers();
  let bytes = 0;
  for (const f of workerData) {
    const text = readFileSync(f, 'utf8');
    bytes += Buffer.byteLength(text);
    parseGo(text).delete();
  }
  parentPort.postMessage({ bytes });
}
