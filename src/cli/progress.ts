// Progress on stderr while a command works: one line, redrawn in place, and
// only on a terminal (both stdout and stderr, outside CI, without --quiet).
// Elsewhere nothing is printed but the results; a stage of `test` still
// says when it ended (how long it took, what it found) or was interrupted.
import type { CheckProgress } from '../pipeline/check.js';
import type { ProgressEvent } from '../pipeline/test.js';

/** Whether progress is drawn for this run. */
export function progressShown(quiet: boolean): boolean {
  return !quiet && !!process.stderr.isTTY && !!process.stdout.isTTY && !process.env.CI;
}

/** Only runs that last show a line: a quick one leaves the terminal as it was. */
const SHOW_AFTER_MS = 400;

/** The status line: a phase, what it is doing, and the seconds the phase has taken. */
export class StatusLine {
  private phase = '';
  private detail = '';
  private since = Date.now();
  private readonly started = Date.now();
  private drawn = false;
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly err: (s: string) => void,
    readonly shown: boolean,
  ) {}

  /** A new phase (the clock starts again), with what it is doing. */
  begin(phase: string, detail = ''): void {
    this.phase = phase;
    this.detail = detail;
    this.since = Date.now();
    this.schedule();
  }

  /** What the current phase is doing now. */
  update(detail: string): void {
    this.detail = detail;
    this.schedule();
  }

  /** Removes the line (before results are printed, or a message that must stand alone). */
  clear(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (this.drawn) this.err('\r\x1b[K');
    this.drawn = false;
  }

  private schedule(): void {
    if (!this.shown || this.timer) return;
    // Redrawn every 250 ms: the seconds move even while nothing else does.
    this.timer = setInterval(() => this.draw(), 250);
    this.timer.unref();
  }

  private draw(): void {
    if (Date.now() - this.started < SHOW_AFTER_MS) return;
    const secs = Math.floor((Date.now() - this.since) / 1000);
    const width = Math.max(20, (process.stderr.columns || 80) - 1);
    const text = `cgoguard: ${this.phase}${this.detail ? `: ${this.detail}` : ''} ${secs}s`;
    this.err(`\r\x1b[K${text.length > width ? `${text.slice(0, width - 1)}…` : text}`);
    this.drawn = true;
  }
}

/** The static check's progress: packages checked, and the C units clang is on. */
export function checkProgress(line: StatusLine): (p: CheckProgress) => void {
  return (p) => {
    // clangQueued counts the running units too.
    const clang = p.clangRunning.length ? `; clang ${p.clangDone}/${p.clangDone + p.clangQueued}: ${p.clangRunning.join(', ')}` : '';
    if (line.shown) line.update(`${p.packagesDone}/${p.packagesTotal} package(s)${clang}`);
  };
}

/** The stages of `test`: progress on the status line, and the end of each stage as a line of its own. */
export function stageProgress(line: StatusLine, err: (s: string) => void): (e: ProgressEvent) => void {
  return (e) => {
    if (e.k === 'start') {
      line.begin(`${e.stage}`, `running the tests of ${e.packages} package(s)`);
      return;
    }
    if (e.k === 'package') {
      line.update(`[${e.index + 1}/${e.total}] ${e.name}`);
      return;
    }
    line.clear();
    const end = e.k === 'end' ? `done in ${(e.ms / 1000).toFixed(1)} s, ${e.findings} finding(s)` : `interrupted after ${(e.ms / 1000).toFixed(1)} s`;
    err(`cgoguard: ${e.stage}: ${end}\n`);
  };
}
