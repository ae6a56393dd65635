// valgrind memcheck's --xml=yes output: one <error> per problem, with its
// kind, what it says, its stack and, for accesses and frees, the stack of the
// block's allocation or release. A file cut short (the program was killed)
// keeps the errors that were complete.
import { XMLParser } from 'fast-xml-parser';
import type { DynamicReport, Frame, ParseResult, Stack } from './report.js';

const KIND_RULES: Record<string, string> = {
  InvalidFree: 'free-nonheap',
  MismatchedFree: 'mismatched-free',
  Leak_DefinitelyLost: 'leak',
  Leak_IndirectlyLost: 'leak',
  Leak_PossiblyLost: 'leak',
};

interface XFrame {
  fn?: string;
  dir?: string;
  file?: string;
  line?: number;
  obj?: string;
}
interface XError {
  kind?: string;
  what?: string;
  xwhat?: { text?: string; leakedbytes?: number; leakedblocks?: number };
  stack?: { frame?: XFrame[] }[];
  auxwhat?: string[] | string;
}

const parser = new XMLParser({ ignoreAttributes: true, isArray: (name) => ['error', 'stack', 'frame', 'auxwhat'].includes(name), parseTagValue: true });

export function parseValgrindXML(xml: string): ParseResult {
  const problems: string[] = [];
  // Keep only whole <error> elements: valgrind killed mid-write leaves a torn tail.
  const errors = [...xml.matchAll(/<error>[\s\S]*?<\/error>/g)].map((m) => m[0]);
  if (!/<\/valgrindoutput>/.test(xml)) problems.push('valgrind output is incomplete (no </valgrindoutput>): the errors before the cut are kept');
  else if (xml.lastIndexOf('<error>') > xml.lastIndexOf('</error>')) problems.push('valgrind output has an unterminated <error>');
  const reports: DynamicReport[] = [];
  for (const text of errors) {
    let e: XError;
    try {
      e = (parser.parse(text) as { error: XError[] }).error[0];
    } catch (err) {
      problems.push(`an <error> element that does not parse: ${(err as Error).message.split('\n')[0]}`);
      continue;
    }
    const r = report(e);
    if (r) reports.push(r);
  }
  return { reports, problems };
}

function report(e: XError): DynamicReport | undefined {
  const kind = String(e.kind ?? '');
  if (!kind) return undefined;
  const what = String(e.what ?? e.xwhat?.text ?? kind);
  const aux = ([] as string[]).concat(e.auxwhat ?? []).map(String);
  const stacks: Stack[] = (e.stack ?? []).map((s, i) => ({
    title: i === 0 ? (kind.startsWith('Leak_') ? 'allocated' : 'access') : /free'd/.test(aux[0] ?? '') && i === 1 ? 'freed' : 'allocated',
    frames: goStack((s.frame ?? []).map(frame)),
  }));
  if (kind.startsWith('Leak_')) {
    return {
      tool: 'valgrind',
      kind,
      rule: 'leak',
      message: `valgrind: ${what.replace(/ in loss record \d+ of \d+$/, '')}`,
      bytes: e.xwhat?.leakedbytes,
      objects: e.xwhat?.leakedblocks,
      definite: kind === 'Leak_DefinitelyLost',
      stacks,
    };
  }
  const block = aux.join('; ');
  let rule = KIND_RULES[kind] ?? 'invalid-access';
  if (/^Invalid(Read|Write)$/.test(kind)) rule = /free'd/.test(block) ? 'use-after-free' : /after a block|before a block/.test(block) ? 'c-overflow' : 'invalid-access';
  if (kind === 'InvalidFree' && /free'd/.test(block)) rule = 'double-free';
  const size = /inside a block of size (\d+)|(?:after|before) a block of size (\d+)/.exec(block);
  return {
    tool: 'valgrind',
    kind,
    rule,
    message: `valgrind: ${what}${block ? ` (${block})` : ''}`,
    bytes: size ? Number(size[1] ?? size[2]) : undefined,
    stacks,
  };
}

/**
 * What valgrind unwinds past runtime.asmcgocall is the scheduler's own stack
 * (runtime.systemstack, runtime.newproc, runtime.mstart, rt0_go), not the Go
 * code that called C: it is left out, and so are frames with no name (??).
 */
function goStack(frames: Frame[]): Frame[] {
  const boundary = frames.findIndex((f) => /^runtime\.asmcgocall\b/.test(f.fn));
  return frames.filter((f, i) => f.fn !== '??' && !(boundary >= 0 && i > boundary && /^runtime\./.test(f.fn)));
}

function frame(f: XFrame): Frame {
  const fn = f.fn !== undefined ? String(f.fn) : f.obj ? `(${String(f.obj)})` : '??';
  if (f.file === undefined) return { fn };
  const file = f.dir !== undefined ? `${String(f.dir)}/${String(f.file)}` : String(f.file);
  return { fn, file, line: f.line !== undefined ? Number(f.line) : undefined };
}
