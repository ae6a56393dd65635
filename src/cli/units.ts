// What the production commands share: the context main gives them, and the
// parsers of sizes and durations in their flags.
import type { Config } from '../workspace/config.js';
import type { Outcome } from './interrupt.js';
import { UsageError } from '../workspace/discover.js';

export interface CliContext {
  out: (s: string) => void;
  err: (s: string) => void;
  setExit: (code: number) => void;
  /** Runs a command's work so that Ctrl-C stops it and its children cleanly (see interrupt.ts). */
  interruptible: <T>(run: (signal: AbortSignal) => Promise<T>) => Promise<Outcome<T>>;
  /** The line that says a run was interrupted. */
  interrupted: (signal: NodeJS.Signals) => string;
  configFor: (cwd: string, file?: string) => Config;
  version: string;
}

/** A byte count: 524288, 512k, 512KiB, 1MB, 1m (powers of 1024). */
export function parseBytes(flag: string, v: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmg]?)(i?b)?$/i.exec(v.trim());
  if (!m) throw new UsageError(`${flag}: expected a size such as 524288, 512KiB or 4MiB, got "${v}"`);
  const n = Number(m[1]) * 1024 ** ' kmg'.indexOf((m[2] || ' ').toLowerCase());
  if (!Number.isFinite(n) || n < 1) throw new UsageError(`${flag}: expected a positive size, got "${v}"`);
  return Math.round(n);
}

/** A Go-style duration: 500ms, 10s, 1m30s, 2h. */
export function parseDuration(flag: string, v: string): number {
  const unit: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let ms = 0;
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/y;
  let m: RegExpExecArray | null;
  let at = 0;
  while ((m = re.exec(v))) {
    ms += Number(m[1]) * unit[m[2]];
    at = re.lastIndex;
  }
  if (!v || at !== v.length || ms <= 0) throw new UsageError(`${flag}: expected a duration such as 500ms, 10s or 1m, got "${v}"`);
  return ms;
}

export function positiveInt(flag: string, v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${flag}: expected a positive integer, got "${v}"`);
  return n;
}
