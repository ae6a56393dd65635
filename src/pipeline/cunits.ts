// clang's static analyzer over the C units of a check, with a budget: the
// package's own C only (unless asked for all), units over a size limit left
// out, a time limit per unit scaled to its size and one for the whole run,
// and as many units at once as the run has slots. Runs on the main thread,
// which only waits for clang processes.
import { statSync } from 'node:fs';
import path from 'node:path';
import ignore, { type Ignore } from 'ignore';
import {
  analyzeUnit,
  clangAvailable,
  disposePlan,
  preparePlan,
  unitLimitMs,
  unitOf,
  type CAnalyzerResult,
  type CBudget,
  type CPlan,
  type CUnit,
  type PreparedPlan,
  type SkippedUnit,
} from '../model/canalyzer.js';
import { HEAD_BYTES, moduleLicense, mostlyData, vendoredReason } from '../model/vendored.js';
import { Slots } from './slots.js';
import { readPrefix, readText } from '../model/read-text.js';

/** Slot priority of a clang unit: after the packages waiting for a worker. */
const CLANG_PRIORITY = 1;

function emptyCResult(): CAnalyzerResult {
  return { findings: [], analyzed: 0, failed: 0, timedOut: 0, problems: [], timeouts: [], skipped: [] };
}

/** The clang side of one check. */
export class CAnalysisRun {
  private started?: number;
  private readonly running = new Set<string>();
  private done = 0;
  private queued = 0;

  constructor(
    private readonly budget: CBudget,
    private readonly slots: Slots,
    private readonly signal?: AbortSignal,
    /** Told whenever a unit starts or ends: the units running, and how many are done and queued. */
    private readonly onChange?: (running: string[], done: number, queued: number) => void,
  ) {}

  /** Analyses one package's units; what was found, and what was left out and why. */
  async analyze(plan: CPlan): Promise<CAnalyzerResult> {
    const out = emptyCResult();
    if (!plan.units.length) return out;
    if (!clangAvailable()) return { ...out, unavailable: 'clang is not installed' };
    const chosen: { unit: CUnit; bytes: number }[] = [];
    for (const u of plan.units) {
      const bytes = u.k === 'c' ? sizeOf(u.path) : Buffer.byteLength(u.text);
      if (bytes === undefined) continue; // unreadable: the Go side has said so
      if (u.k === 'c' && this.budget.scope === 'own') {
        // The cheap signs first: a generated parser is often over the size limit too.
        const vendored =
          this.saidVendored(u.path) ??
          vendoredReason(u.path, readPrefix(u.path, HEAD_BYTES) ?? '', moduleLicense(plan.dir)) ??
          (bytes <= this.budget.maxUnitKB * 1024 ? mostlyData(readText(u.path) ?? '') : undefined);
        if (vendored) {
          out.skipped.push({ display: u.display, why: 'vendored', detail: vendored });
          continue;
        }
      }
      if (bytes > this.budget.maxUnitKB * 1024) {
        out.skipped.push({ display: u.display, why: 'size', detail: bytes >= 1 << 20 ? `${(bytes / (1 << 20)).toFixed(1)} MB` : `${Math.ceil(bytes / 1024)} KB` });
        continue;
      }
      chosen.push({ unit: unitOf(u), bytes });
    }
    if (!chosen.length) return out;
    const prepared = preparePlan(
      plan,
      chosen.map((c) => c.unit),
    );
    if ('problem' in prepared) return { ...out, failed: chosen.length, problems: [prepared.problem] };
    this.queued += chosen.length;
    try {
      await Promise.all(chosen.map((c, i) => this.runUnit(prepared, i, c.bytes, out)));
    } finally {
      disposePlan(prepared);
    }
    return out;
  }

  private vendoredPatterns?: Ignore;

  /** The configuration's c-analyzer.vendored patterns match the file. */
  private saidVendored(file: string): string | undefined {
    const v = this.budget.vendored;
    if (!v) return undefined;
    this.vendoredPatterns ??= ignore().add(v.patterns);
    const rel = path.relative(v.base, file);
    return !rel.startsWith('..') && !path.isAbsolute(rel) && this.vendoredPatterns.ignores(rel) ? 'c-analyzer.vendored in the configuration' : undefined;
  }

  private async runUnit(prepared: PreparedPlan, i: number, bytes: number, out: CAnalyzerResult): Promise<void> {
    const release = await this.slots.acquire(CLANG_PRIORITY);
    const u = prepared.units[i].unit;
    const display = u.k === 'c' ? u.display : u.file.display;
    try {
      if (this.signal?.aborted) return;
      this.started ??= Date.now();
      const remaining = this.budget.totalSeconds * 1000 - (Date.now() - this.started);
      if (remaining <= 0) {
        out.skipped.push({ display, why: 'budget', detail: `${Math.round(bytes / 1024)} KB` } satisfies SkippedUnit);
        return;
      }
      let own = 0;
      let limit = 0;
      this.running.add(display);
      this.onChange?.([...this.running], this.done, this.queued);
      const r = await analyzeUnit(prepared, i, (code) => {
        own = unitLimitMs(this.budget, code);
        limit = Math.min(own, this.budget.totalSeconds * 1000 - (Date.now() - this.started!));
        // A unit given at least the base unit time and still not done is remembered as timed out at
        // that limit (tried again when a run grants it more): else a unit that needs more than a
        // run's whole budget would be started, and cut, on every run.
        return { ms: limit, cacheTimeout: limit === own || limit >= this.budget.unitSeconds * 1000 };
      });
      if (r.k === 'analyzed') {
        out.analyzed++;
        out.findings.push(...r.findings);
      } else if (r.k === 'failed') {
        out.failed++;
        if (!out.problems.includes(r.problem)) out.problems.push(r.problem);
      } else if (limit === own || limit >= this.budget.unitSeconds * 1000 || r.cached) {
        out.timedOut++;
        out.timeouts.push(`${display} (after ${seconds(r.limitMs)}${r.cached ? ', remembered from an earlier run' : ''})`);
      } else {
        // Cut short by the run's budget, not by its own limit.
        out.skipped.push({ display, why: 'budget', detail: `${Math.round(bytes / 1024)} KB` });
      }
    } finally {
      this.running.delete(display);
      this.done++;
      this.queued--;
      this.onChange?.([...this.running], this.done, this.queued);
      release();
    }
  }
}

/**
 * What the user is told, once per run: the units that ran out of time, and
 * those left out, by why, with what brings them in.
 */
export function cAnalyzerNotes(timeouts: string[], skipped: SkippedUnit[], budget: CBudget): string[] {
  const notes: string[] = [];
  const some = (names: string[]) => `${names.slice(0, 3).join(', ')}${names.length > 3 ? `, and ${names.length - 3} more` : ''}`;
  if (timeouts.length) {
    notes.push(
      `clang's analyzer ran out of time on ${timeouts.length} C unit(s) (${some(timeouts)}): their C code was not analysed for memory bugs; ` +
        `this is remembered, and tried again only with more time (c-analyzer.unit-timeout, now ${budget.unitSeconds} s + ${budget.secondsPerKB} s per KB)`,
    );
  }
  const by = (why: SkippedUnit['why']) => skipped.filter((s) => s.why === why);
  const vendored = by('vendored');
  if (vendored.length) notes.push(`${vendored.length} C file(s) look like copies of other code, which clang's analyzer leaves out (${some(vendored.map((s) => `${s.display}: ${s.detail}`))}): --c-analyzer all includes them`);
  const big = by('size');
  if (big.length) notes.push(`${big.length} C unit(s) over ${budget.maxUnitKB} KB were not analysed by clang (${some(big.map((s) => `${s.display}: ${s.detail}`))}): c-analyzer.max-unit-kb raises the limit`);
  const late = by('budget');
  if (late.length) notes.push(`clang's analyzer spent the run's ${budget.totalSeconds} s: ${late.length} C unit(s) were not analysed (${some(late.map((s) => s.display))}); results are cached, so later runs go further (c-analyzer.total-timeout raises the limit)`);
  return notes;
}

function seconds(ms: number): string {
  return ms < 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 1000)} s`;
}

function sizeOf(p: string): number | undefined {
  try {
    const st = statSync(p);
    return st.isFile() ? st.size : undefined;
  } catch {
    return undefined;
  }
}

