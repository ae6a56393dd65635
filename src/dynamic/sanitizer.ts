// The text a test binary prints when something goes wrong at the Go/C
// boundary: AddressSanitizer errors, LeakSanitizer leak reports, the Go
// runtime's cgocheck panics and throws, and fatal signals during cgo
// execution with the goroutine traceback. They interleave with test output,
// so each is recognised by its own header line; a report cut short keeps what
// it has and is said to be incomplete.
import type { DynamicReport, Frame, ParseResult, Stack } from './report.js';

/** ASan's error kinds, and the finding rule each becomes. */
const ASAN_RULES: Record<string, string> = {
  'heap-use-after-free': 'use-after-free',
  'double-free': 'double-free',
  'bad-free': 'free-nonheap',
  'alloc-dealloc-mismatch': 'mismatched-free',
  'heap-buffer-overflow': 'c-overflow',
  'global-buffer-overflow': 'c-overflow',
  'stack-buffer-overflow': 'c-overflow',
  'dynamic-stack-buffer-overflow': 'c-overflow',
  'stack-buffer-underflow': 'c-overflow',
  'use-after-poison': 'invalid-access',
  'stack-use-after-return': 'invalid-access',
  'stack-use-after-scope': 'invalid-access',
  SEGV: 'c-crash',
};

/** The runtime's cgocheck messages (panics with cgocheck=1, throws with cgocheck2). */
const CGOCHECK: { re: RegExp; rule: string }[] = [
  { re: /(?:cgo argument|argument of cgo function) has Go pointer to /, rule: 'unpinned-go-pointer' },
  { re: /(?:unpinned )?Go pointer stored into non-Go memory/, rule: 'go-pointer-in-c-memory' },
  { re: /cgo result (?:is|has) (?:unpinned )?Go pointer/, rule: 'export-go-pointer' },
];

/** `pkg.Func(args)`, `pkg.(*T).Method(...)`, `main.main.func1()`: a function line of a goroutine traceback. */
const GO_FRAME = /^([^\s(]*\.(?:\(\*?[^)\s]+\)\.)?[^\s(]+)\(.*\)$/;
const FRAME_ASAN = /^\s*#(\d+) 0x[0-9a-f]+ in (\S+)(?: (.+?))?\s*$/;
const FRAME_ASAN_NOSYM = /^\s*#(\d+) 0x[0-9a-f]+\s+\((.+)\)\s*$/;

const REDZONE_KINDS = ['stack-buffer-overflow', 'stack-buffer-underflow'];
/** An access to a stack variable's redzone, by ASan's name for the error. */
export const isStackRedzone = (kind: string) => REDZONE_KINDS.includes(kind);
/** Whether ASan's output reports an access to a stack variable's redzone. */
export const hitsStackRedzone = (text: string) => REDZONE_KINDS.some((k) => text.includes(`ERROR: AddressSanitizer: ${k} `));

/**
 * The top-level test (or example or benchmark) whose goroutine crashed: the
 * first goroutine of the traceback the runtime printed, by one of its frames
 * or by the function that created it.
 */
export function crashingTest(text: string): string | undefined {
  const lines = text.split('\n');
  const start = lines.findIndex((l) => /^goroutine \d+ .*\[.*\]:$/.test(l));
  if (start < 0) return undefined;
  for (let i = start + 1; i < lines.length && lines[i].trim(); i++) {
    const m = /^(?:created by )?[\w./-]*\.((?:Test|Example|Benchmark|Fuzz)[A-Za-z0-9_]*)(?:[.(]| in goroutine|$)/.exec(lines[i]);
    if (m) return m[1];
  }
  return undefined;
}

export function parseSanitizerOutput(text: string): ParseResult {
  const lines = text.split('\n');
  const reports: DynamicReport[] = [];
  const problems: string[] = [];
  /** The last ASan error: a fatal signal right after it is its abort, and its traceback tells the Go side. */
  let lastAsanError: DynamicReport | undefined;
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    let m: RegExpExecArray | null;
    if ((m = /^==\d+==ERROR: AddressSanitizer: ([\w-]+)/.exec(line))) {
      const r = asanError(lines, i, m[1], problems);
      reports.push(r.report);
      lastAsanError = r.report;
      i = r.next;
      continue;
    }
    if (/^==\d+==ERROR: LeakSanitizer: detected memory leaks/.test(line)) {
      const r = leaks(lines, i + 1, problems);
      reports.push(...r.reports);
      i = r.next;
      continue;
    }
    if ((m = /^(?:panic: runtime error: |fatal error: )(.*)$/.exec(line)) && CGOCHECK.some((c) => c.re.test(m![1]))) {
      const rule = CGOCHECK.find((c) => c.re.test(m![1]))!.rule;
      const tb = traceback(lines, i + 1);
      reports.push({ tool: 'cgocheck', kind: m[1].trim(), rule, message: `cgocheck: ${m[1].trim()}`, stacks: tb.stacks.slice(0, 1) });
      if (!tb.stacks.length) problems.push(`line ${i + 1}: "${m[1].trim()}" without a goroutine traceback`);
      i = tb.next;
      continue;
    }
    if ((m = /^(SIG[A-Z]+): (.+)$/.exec(line))) {
      const duringCgo = lines.slice(i + 1, i + 4).some((l) => /^signal arrived during cgo execution/.test(l));
      const tb = traceback(lines, i + 1);
      if (lastAsanError && m[1] === 'SIGABRT') {
        // ASan aborted (abort_on_error=1): the goroutine shows which Go line made the failing call.
        lastAsanError.stacks.push(...tb.stacks.slice(0, 1).filter((s) => s.frames.length));
      } else if (duringCgo && m[1] !== 'SIGQUIT') {
        reports.push({ tool: 'signal', kind: m[1], rule: 'c-crash', message: `${m[1]} (${m[2].trim()}) during a C call`, stacks: tb.stacks.slice(0, 1) });
      }
      lastAsanError = undefined;
      i = tb.next;
      continue;
    }
    i++;
  }
  return { reports, problems };
}

function asanError(lines: string[], start: number, kind: string, problems: string[]): { report: DynamicReport; next: number } {
  const stacks: Stack[] = [];
  let access: { op: string; size: number } | undefined;
  let region: string | undefined;
  let summary = false;
  let title = 'access';
  let i = start + 1;
  let frames: Frame[] | undefined;
  for (; i < lines.length; i++) {
    const l = lines[i];
    let m: RegExpExecArray | null;
    if (/^==\d+==ABORTING/.test(l) || /^==\d+==ERROR:/.test(l)) break;
    if (/^SUMMARY: AddressSanitizer:/.test(l)) {
      summary = true;
      continue;
    }
    if (summary) {
      // The shadow map follows the summary; nothing more to read.
      if (/^(Shadow|  0x|=>0x)/.test(l)) continue;
      break;
    }
    if ((m = /^(READ|WRITE) of size (\d+)/.exec(l))) access = { op: m[1].toLowerCase(), size: Number(m[2]) };
    else if ((m = /^0x[0-9a-f]+ is located (.+)$/.exec(l))) region = m[1].replace(/:$/, '');
    else if ((m = /^(freed|previously allocated|allocated) by thread \S+ here:/.exec(l))) title = m[1] === 'previously allocated' ? 'allocated' : m[1];
    else if ((m = /^Thread (T\d+) created by (T\d+) here:/.exec(l))) title = `thread ${m[1]} created by ${m[2]}`;
    else if (/is located in stack of thread/.test(l)) title = 'stack frame of the variable';
    else if ((m = FRAME_ASAN.exec(l)) || (m = FRAME_ASAN_NOSYM.exec(l))) {
      if (m[1] === '0' || !frames) {
        frames = [];
        stacks.push({ title, frames });
      }
      frames.push(asanFrame(m));
      continue;
    } else if (!l.trim()) {
      frames = undefined;
      continue;
    }
  }
  if (!summary) problems.push(`line ${start + 1}: AddressSanitizer ${kind} report is incomplete`);
  const rule = ASAN_RULES[kind] ?? 'invalid-access';
  const bytes = /(\d+)-byte region/.exec(region ?? '')?.[1];
  const what = access ? `${access.op} of ${access.size} byte(s)` : kind === 'double-free' ? 'a second free' : 'access';
  // Addresses differ on every run: leave them out of the message.
  const where = region ? ` ${region.replace(/ \[0x[0-9a-f]+,0x[0-9a-f]+\)$/, '').replace(/ \(0x[0-9a-f]+\)/g, '')}` : '';
  return {
    report: { tool: 'asan', kind, rule, message: `AddressSanitizer: ${kind}: ${what}${where}`, bytes: bytes ? Number(bytes) : undefined, stacks },
    next: i,
  };
}

function leaks(lines: string[], start: number, problems: string[]): { reports: DynamicReport[]; next: number } {
  const reports: DynamicReport[] = [];
  let i = start;
  let cur: DynamicReport | undefined;
  let summary = false;
  for (; i < lines.length; i++) {
    const l = lines[i];
    let m: RegExpExecArray | null;
    if ((m = /^(Direct|Indirect) leak of (\d+) byte\(s\) in (\d+) object\(s\) allocated from:/.exec(l))) {
      cur = {
        tool: 'lsan',
        kind: `${m[1]} leak`,
        rule: 'leak',
        message: `LeakSanitizer: ${m[1].toLowerCase()} leak of ${m[2]} byte(s) in ${m[3]} object(s)`,
        bytes: Number(m[2]),
        objects: Number(m[3]),
        definite: m[1] === 'Direct',
        stacks: [{ title: 'allocated', frames: [] }],
      };
      reports.push(cur);
      continue;
    }
    if (cur && ((m = FRAME_ASAN.exec(l)) || (m = FRAME_ASAN_NOSYM.exec(l)))) {
      cur.stacks[0].frames.push(asanFrame(m));
      continue;
    }
    if (/^SUMMARY: (AddressSanitizer|LeakSanitizer):/.test(l)) {
      summary = true;
      i++;
      break;
    }
    if (/^==\d+==/.test(l) || /^SIG[A-Z]+: /.test(l)) break;
  }
  if (!summary) problems.push(`line ${start}: LeakSanitizer report is incomplete`);
  return { reports, next: i };
}

function asanFrame(m: RegExpExecArray): Frame {
  if (m.length === 3) return { fn: `(${m[2]})` };
  const fn = m[2];
  const loc = m[3] ? /^(.*?):(\d+)(?::(\d+))?$/.exec(m[3]) : null;
  if (!loc) return { fn };
  return loc[3] ? { fn, file: loc[1], line: Number(loc[2]), column: Number(loc[3]) } : { fn, file: loc[1], line: Number(loc[2]) };
}

/**
 * The goroutine tracebacks that follow a panic, throw or signal, up to the
 * first line that is not part of one. The failing goroutine comes first.
 */
function traceback(lines: string[], start: number): { stacks: Stack[]; next: number } {
  const stacks: Stack[] = [];
  let frames: Frame[] | undefined;
  let i = start;
  let seenGoroutine = false;
  for (; i < lines.length; i++) {
    const l = lines[i];
    let m: RegExpExecArray | null;
    if ((m = /^goroutine (\d+)(?: gp=\S+)?(?: m=\S+)?(?: mp=\S+)? \[([^\]]*)\]:$/.exec(l))) {
      frames = [];
      stacks.push({ title: `goroutine ${m[1]} [${m[2]}]`, frames });
      seenGoroutine = true;
      continue;
    }
    if (/^runtime stack:$/.test(l)) {
      frames = undefined; // the system stack: the runtime's own frames
      continue;
    }
    if (frames && (m = /^\t(.+?):(\d+)(?: \+0x[0-9a-f]+)?(?: fp=.*)?$/.exec(l))) {
      const last = frames[frames.length - 1];
      if (last && last.file === undefined) {
        last.file = m[1];
        last.line = Number(m[2]);
      }
      continue;
    }
    if (/^created by \S+ in goroutine \d+$/.test(l)) continue;
    if ((m = GO_FRAME.exec(l))) {
      frames?.push({ fn: m[1] });
      continue;
    }
    if (!l.trim() || /^(PC=|signal arrived|\w+ +0x[0-9a-f]+$|\[signal |exit status|write of unpinned|rip|rax|\.\.\.)/.test(l)) continue;
    if (seenGoroutine) break;
  }
  return { stacks, next: i };
}
