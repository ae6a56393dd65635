// Stopping what a run started when the user interrupts it: the signal goes
// on to every process this one started (go, the compilers, clang, the test
// binaries, valgrind), which then get a grace period to clean up before
// SIGKILL. Processes are found through /proc, so those started synchronously
// from worker threads (clang, cc -E) are reached too.
import { readFileSync, readdirSync } from 'node:fs';

/** How long children have after the signal before SIGKILL. */
export const GRACE_MS = 2000;

/** The run was interrupted (SIGINT, SIGTERM): what was under way stopped early. */
export class Interrupted extends Error {
  constructor(readonly phase: string) {
    super(`interrupted during ${phase}`);
  }
}

/** The signal an abort stands for (the reason it was aborted with), SIGINT by default. */
export function signalOf(signal: AbortSignal): NodeJS.Signals {
  return typeof signal.reason === 'string' && /^SIG[A-Z]+$/.test(signal.reason) ? (signal.reason as NodeJS.Signals) : 'SIGINT';
}

/** The process ids of every descendant of `root`, read from /proc (none where there is no /proc). */
export function descendants(root = process.pid): number[] {
  const children = new Map<number, number[]>();
  let names: string[];
  try {
    names = readdirSync('/proc');
  } catch {
    return [];
  }
  for (const n of names) {
    if (!/^\d+$/.test(n)) continue;
    try {
      // The command name may hold spaces and parentheses: the fields after its last ')' are fixed.
      const stat = readFileSync(`/proc/${n}/stat`, 'utf8');
      const [state, ppidText] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (state === 'Z') continue; // exited, waiting to be reaped
      const ppid = Number(ppidText);
      const list = children.get(ppid) ?? [];
      list.push(Number(n));
      children.set(ppid, list);
    } catch {
      // gone meanwhile
    }
  }
  const out: number[] = [];
  const stack = [...(children.get(root) ?? [])];
  while (stack.length) {
    const pid = stack.pop()!;
    out.push(pid);
    stack.push(...(children.get(pid) ?? []));
  }
  return out;
}

function send(pid: number, sig: NodeJS.Signals): boolean {
  try {
    process.kill(pid, sig);
    return true;
  } catch {
    return false;
  }
}

/**
 * Sends `sig` to every descendant, waits until they are gone or the grace
 * period ends, then SIGKILLs what is left. Resolves when nothing is left.
 */
export async function stopDescendants(sig: NodeJS.Signals, graceMs = GRACE_MS): Promise<void> {
  for (const pid of descendants()) send(pid, sig);
  const until = Date.now() + graceMs;
  while (Date.now() < until && descendants().length) await new Promise((r) => setTimeout(r, 50));
  for (const pid of descendants()) send(pid, 'SIGKILL');
}

/** SIGKILL for every descendant, at once (a second interrupt). */
export function killDescendants(): void {
  for (const pid of descendants()) send(pid, 'SIGKILL');
}
