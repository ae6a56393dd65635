// Stage progress on stderr: a line that updates on a terminal, plain lines
// elsewhere (CI, pipes). An interrupted stage says so instead of "done".
import type { ProgressEvent } from '../pipeline/test.js';

export function progressPrinter(err: (s: string) => void): (e: ProgressEvent) => void {
  const live = process.stderr.isTTY && !process.env.CI;
  let timer: NodeJS.Timeout | undefined;
  let now = '';
  let t0 = 0;
  const draw = () => err(`\r\x1b[K${now} ${Math.round((Date.now() - t0) / 1000)}s`);
  return (e) => {
    if (e.k === 'start') {
      t0 = Date.now();
      now = `cgoguard: ${e.stage}: running the tests of ${e.packages} package(s)`;
      if (!live) return err(`${now}\n`);
      timer = setInterval(draw, 1000);
      timer.unref();
      draw();
      return;
    }
    if (e.k === 'package') {
      now = `cgoguard: ${e.stage}: [${e.index + 1}/${e.total}] ${e.name}`;
      if (live) draw();
      else err(`${now}\n`);
      return;
    }
    if (timer) clearInterval(timer);
    const end = e.k === 'end' ? `done in ${(e.ms / 1000).toFixed(1)} s, ${e.findings} finding(s)` : `interrupted after ${(e.ms / 1000).toFixed(1)} s`;
    err(`${live ? '\r\x1b[K' : ''}cgoguard: ${e.stage}: ${end}\n`);
  };
}
