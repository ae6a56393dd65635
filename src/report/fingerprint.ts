// The identity of a finding across runs, for baselines, SARIF's
// partialFingerprints and GitLab's Code Quality: its rule, its file (relative
// to the repository root), its function, its message with line numbers taken
// out, and the code on its lines with whitespace taken out. Line numbers are
// left out on purpose: edits elsewhere in the file do not change it, an edit
// of the finding's own code does.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Finding } from '../findings/finding.js';

/** Reads a file's text (as analysed), or undefined. */
export type TextReader = (absPath: string) => string | undefined;

export const readFromDisk: TextReader = (p) => {
  try {
    return readFileSync(p, 'utf8');
  } catch {
    return undefined;
  }
};

export class Fingerprinter {
  private readonly lines = new Map<string, string[] | null>();

  constructor(
    /** Where the findings' relative paths start from. */
    private readonly cwd: string,
    /** The repository root: fingerprints name files relative to it. */
    private readonly root: string,
    private readonly read: TextReader = readFromDisk,
  ) {}

  /** The file as fingerprints and baselines name it: relative to the root, with forward slashes. */
  relativePath(file: string): string {
    const abs = path.resolve(this.cwd, file);
    const rel = path.relative(this.root, abs);
    return (rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : abs).split(path.sep).join('/');
  }

  /** The code a finding is on, whitespace removed (at most its first three lines). */
  code(f: Finding): string {
    const abs = path.resolve(this.cwd, f.file);
    let lines = this.lines.get(abs);
    if (lines === undefined) {
      const text = this.read(abs);
      lines = text === undefined ? null : text.split('\n');
      this.lines.set(abs, lines);
    }
    if (!lines) return '';
    const last = Math.min(f.endLine >= f.line ? f.endLine : f.line, f.line + 2);
    return lines
      .slice(f.line - 1, last)
      .join('\n')
      .replace(/\s+/g, '');
  }

  fingerprint(f: Finding): string {
    const key = [f.rule, this.relativePath(f.file), f.function, normalizeMessage(f.message), this.code(f)].join('\0');
    return createHash('sha256').update(key).digest('hex').slice(0, 20);
  }

  /**
   * Fingerprints of a run's findings, in order, made unique with an
   * occurrence number where two findings are alike (`…:2`).
   */
  unique(findings: Finding[]): string[] {
    const seen = new Map<string, number>();
    return findings.map((f) => {
      const fp = this.fingerprint(f);
      const n = (seen.get(fp) ?? 0) + 1;
      seen.set(fp, n);
      return `${fp}:${n}`;
    });
  }
}

/** Line numbers in messages ("returns at line 27", "set at a.go:25") change with unrelated edits. */
export function normalizeMessage(message: string): string {
  return message.replace(/\b(lines?) \d+/g, '$1 N').replace(/(\.(?:go|c|h)):\d+(?::\d+)?/g, '$1:N');
}
