// Findings and fixes in the protocol's terms: ranges in UTF-16 code units
// (Go positions count bytes), severities, related information for the trace
// steps, and code actions whose edits are the fixes' own.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { CodeActionKind, DiagnosticSeverity, type CodeAction, type Diagnostic, type Position, type Range, type TextEdit } from 'vscode-languageserver/node';
import { confidenceSuffix, shownSeverity } from '../findings/confidence.js';
import { confidenceOf } from '../findings/finding.js';
import type { Finding, Severity } from '../findings/finding.js';
import type { Fix } from '../findings/fix.js';
import { byteToUtf16Column } from '../syntax/positions.js';

const HOMEPAGE: string = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).homepage.replace(/#.*$/, '');

const SEVERITY: Record<Severity, DiagnosticSeverity> = { error: DiagnosticSeverity.Error, warning: DiagnosticSeverity.Warning, note: DiagnosticSeverity.Information };

/** Texts of files by absolute path: the editor's buffers first, else the disk. */
export class Texts {
  private readonly lines = new Map<string, string[] | null>();

  constructor(
    private readonly root: string,
    private readonly buffers: ReadonlyMap<string, string>,
  ) {}

  abs(file: string): string {
    return path.resolve(this.root, file);
  }

  uri(file: string): string {
    return pathToFileURL(this.abs(file)).href;
  }

  text(file: string): string | undefined {
    const abs = this.abs(file);
    const b = this.buffers.get(abs);
    if (b !== undefined) return b;
    try {
      return readFileSync(abs, 'utf8');
    } catch {
      return undefined;
    }
  }

  /** A Go position (1-based line, byte column) as a protocol position. */
  position(file: string, line: number, column: number): Position {
    const abs = this.abs(file);
    let lines = this.lines.get(abs);
    if (lines === undefined) {
      lines = this.text(file)?.split('\n') ?? null;
      this.lines.set(abs, lines);
    }
    const text = lines?.[line - 1];
    return { line: Math.max(0, line - 1), character: Math.max(0, (text === undefined ? column : byteToUtf16Column(text.replace(/\r$/, ''), column)) - 1) };
  }

  range(file: string, line: number, column: number, endLine: number, endColumn: number): Range {
    const start = this.position(file, line, column);
    const end = endLine > line || (endLine === line && endColumn > column) ? this.position(file, endLine, endColumn) : start;
    return { start, end };
  }
}

export function toDiagnostic(f: Finding, texts: Texts): Diagnostic {
  const confidence = confidenceOf(f);
  return {
    range: texts.range(f.file, f.line, f.column, f.endLine, f.endColumn),
    severity: SEVERITY[shownSeverity(f)],
    code: f.rule,
    codeDescription: { href: `${HOMEPAGE}#rule-${f.rule}` },
    source: 'cgoguard',
    message: `${f.message}${confidenceSuffix(f)}`,
    ...(f.trace.length
      ? {
          relatedInformation: f.trace.map((s) => ({
            location: { uri: texts.uri(s.file), range: texts.range(s.file, s.line, s.column, s.line, s.column) },
            message: s.message,
          })),
        }
      : {}),
    ...(confidence ? { data: { confidence } } : {}),
  };
}

/** The code actions of a finding's fixes; the first safe one is preferred. */
export function toCodeActions(fixes: Fix[], diagnostic: Diagnostic, texts: Texts): CodeAction[] {
  let preferred = false;
  return fixes.map((fix) => {
    const changes: Record<string, TextEdit[]> = {};
    for (const e of fix.edits) {
      const uri = texts.uri(e.file);
      (changes[uri] ??= []).push({ range: texts.range(e.file, e.line, e.column, e.endLine, e.endColumn), newText: e.text });
    }
    const isPreferred = fix.safe && !preferred;
    if (isPreferred) preferred = true;
    return { title: fix.title, kind: CodeActionKind.QuickFix, diagnostics: [diagnostic], isPreferred, edit: { changes } };
  });
}

export function overlaps(a: Range, b: Range): boolean {
  const before = (p: Position, q: Position) => p.line < q.line || (p.line === q.line && p.character <= q.character);
  return before(a.start, b.end) && before(b.start, a.end);
}
