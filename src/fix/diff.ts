// Unified diffs (`check --diff`), as `diff -u` and git print them: Myers'
// shortest edit script over lines, hunks with three lines of context.

type Op = { k: ' ' | '-' | '+'; line: string };

const CONTEXT = 3;

export function unifiedDiff(oldName: string, newName: string, a: string, b: string): string {
  if (a === b) return '';
  const ops = editScript(splitLines(a), splitLines(b));
  const out = [`--- ${oldName}`, `+++ ${newName}`];
  // Walk the script, cutting hunks around the changes.
  let i = 0;
  while (i < ops.length) {
    while (i < ops.length && ops[i].k === ' ') i++;
    if (i >= ops.length) break;
    let start = Math.max(0, i - CONTEXT);
    let end = i;
    // Extend while the next change is within twice the context.
    for (;;) {
      while (end < ops.length && ops[end].k !== ' ') end++;
      let next = end;
      while (next < ops.length && ops[next].k === ' ') next++;
      if (next < ops.length && next - end <= 2 * CONTEXT) end = next;
      else {
        end = Math.min(ops.length, end + CONTEXT);
        break;
      }
    }
    const [aStart, bStart] = positionsBefore(ops, start);
    const hunk = ops.slice(start, end);
    const aLen = hunk.filter((o) => o.k !== '+').length;
    const bLen = hunk.filter((o) => o.k !== '-').length;
    out.push(`@@ -${range(aStart, aLen)} +${range(bStart, bLen)} @@`);
    for (const o of hunk) {
      // A last line without its newline is marked as diff marks it.
      if (o.line.endsWith(NO_EOL)) out.push(`${o.k}${o.line.slice(0, -1)}`, '\\ No newline at end of file');
      else out.push(`${o.k}${o.line}`);
    }
    i = end;
    start = end;
  }
  return `${out.join('\n')}\n`;
}

/** Marks a last line that has no newline: it differs from the same text with one. */
const NO_EOL = '\u0000';

function splitLines(s: string): string[] {
  if (s === '') return [];
  const lines = s.split('\n');
  if (s.endsWith('\n')) lines.pop();
  else lines[lines.length - 1] += NO_EOL;
  return lines;
}

function positionsBefore(ops: Op[], upto: number): [number, number] {
  let a = 0;
  let b = 0;
  for (let i = 0; i < upto; i++) {
    if (ops[i].k !== '+') a++;
    if (ops[i].k !== '-') b++;
  }
  return [a + 1, b + 1];
}

function range(start: number, len: number): string {
  if (len === 0) return `${start - 1},0`;
  return len === 1 ? `${start}` : `${start},${len}`;
}

/** Myers' algorithm: the shortest script turning a into b. */
function editScript(a: string[], b: string[]): Op[] {
  const n = a.length;
  const m = b.length;
  const max = n + m;
  const v = new Int32Array(2 * max + 2);
  const trace: Int32Array[] = [];
  let found = false;
  for (let d = 0; d <= max && !found; d++) {
    trace.push(v.slice());
    for (let k = -d; k <= d; k += 2) {
      let x = k === -d || (k !== d && v[max + k - 1] < v[max + k + 1]) ? v[max + k + 1] : v[max + k - 1] + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) {
        x++;
        y++;
      }
      v[max + k] = x;
      if (x >= n && y >= m) {
        found = true;
        break;
      }
    }
  }
  // Backtrack through the frontiers saved at the start of each round.
  const ops: Op[] = [];
  let x = n;
  let y = m;
  for (let d = trace.length - 1; d >= 0; d--) {
    const vd = trace[d];
    const k = x - y;
    const prevK = k === -d || (k !== d && vd[max + k - 1] < vd[max + k + 1]) ? k + 1 : k - 1;
    const prevX = vd[max + prevK];
    const prevY = prevX - prevK;
    while (x > prevX && y > prevY) {
      ops.push({ k: ' ', line: a[x - 1] });
      x--;
      y--;
    }
    if (d > 0) ops.push(x === prevX ? { k: '+', line: b[y - 1] } : { k: '-', line: a[x - 1] });
    x = prevX;
    y = prevY;
  }
  return ops.reverse();
}
