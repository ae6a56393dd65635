// The machine's share of a run: at most N heavy things at once (a package on
// a worker thread, a clang process). Waiters with a lower priority number go
// first, so that packages, which unlock their dependents, pass clang units.
export class Slots {
  private free: number;
  private readonly waiting: { priority: number; grant: (release: () => void) => void }[] = [];

  constructor(size: number) {
    this.free = Math.max(1, size);
  }

  /** Resolves when a slot is free, with the function that gives it back. */
  acquire(priority: number): Promise<() => void> {
    if (this.free > 0) {
      this.free--;
      return Promise.resolve(this.releaser());
    }
    return new Promise((grant) => {
      const at = this.waiting.findIndex((w) => w.priority > priority);
      this.waiting.splice(at < 0 ? this.waiting.length : at, 0, { priority, grant });
    });
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next) next.grant(this.releaser());
      else this.free++;
    };
  }
}
