// Runs one check in this (fresh) process and prints JSON {ms, maxRSS, stats, findings}.
import { runCheck } from '../dist/pipeline/check.js';
import { defaultConfig } from '../dist/workspace/config.js';

const opts = JSON.parse(process.argv[2]);
const t0 = performance.now();
const r = await runCheck({ cwd: process.cwd(), config: defaultConfig(), tags: [], tests: true, jobs: 0, ...opts });
const ms = performance.now() - t0;
process.stdout.write(`${JSON.stringify({ ms, maxRSS: process.resourceUsage().maxRSS * 1024, stats: r.stats, findings: r.findings.length, notes: r.notes.length })}\n`);
