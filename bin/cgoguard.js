#!/usr/bin/env node
// A check of an unchanged tree is served from the run cache before the analysis is even loaded.
import { servedFromRunCache } from '../dist/cli/run-cache.js';

const argv = process.argv.slice(2);
let served;
try {
  served = servedFromRunCache(argv);
} catch {
  served = undefined;
}
if (served !== undefined) process.exitCode = served;
else {
  const { main } = await import('../dist/cli/main.js');
  main(argv).then(
    (code) => {
      process.exitCode = code;
    },
    (e) => {
      process.stderr.write(`cgoguard: internal error: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exitCode = 2;
    },
  );
}
