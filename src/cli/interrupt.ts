// Ctrl-C and SIGTERM during a command. The first signal aborts the run: it
// goes on to every child process (which get a grace period to clean up
// before SIGKILL), the worker threads stop, and the command reports what had
// finished. A second signal stops everything at once. Either way the run's
// temporary files are removed.
import { Interrupted, killDescendants, stopDescendants } from '../dynamic/processes.js';
import { beginScratch, endScratch } from '../pipeline/scratch.js';

export interface Outcome<T> {
  /** What the run returned: partial when it was interrupted and could say what had finished. */
  result?: T;
  /** The signal that interrupted the run. */
  signal?: NodeJS.Signals;
  /** The phase under way when it was interrupted, when the run could not return a result. */
  phase?: string;
}

export async function interruptible<T>(run: (signal: AbortSignal) => Promise<T>): Promise<Outcome<T>> {
  const scratch = beginScratch();
  const abort = new AbortController();
  let stopping: Promise<void> | undefined;
  let received: NodeJS.Signals | undefined;
  const onSignal = (sig: NodeJS.Signals) => {
    if (received) {
      killDescendants();
      endScratch();
      process.stderr.write(`\ncgoguard: ${sig} again: stopped at once, temporary files removed\n`);
      process.exit(130);
    }
    received = sig;
    abort.abort(sig);
    stopping = stopDescendants(sig);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const result = await run(abort.signal);
    return received ? { result, signal: received } : { result };
  } catch (e) {
    // Whatever a stopped child made a step fail with, the cause is the interrupt.
    if (received) return { signal: received, phase: e instanceof Interrupted ? e.phase : undefined };
    throw e;
  } finally {
    // The children go first: their files are in the scratch folder.
    await stopping;
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    scratch.end();
  }
}
