// GitHub Actions workflow commands (`--format github`): one annotation per
// finding, `::error file=…,line=…,col=…::message`, that the runner shows on
// the pull request's diff. Paths are relative to the repository root, as
// the runner resolves them; the trace follows the message on its own lines.
import { confidenceSuffix, shownSeverity } from '../findings/confidence.js';
import type { Finding, Severity } from '../findings/finding.js';
import type { Fingerprinter } from './fingerprint.js';

const COMMAND: Record<Severity, string> = { error: 'error', warning: 'warning', note: 'notice' };

export function formatGitHub(findings: Finding[], fp: Fingerprinter): string {
  return findings
    .map((f) => {
      const props = [
        `file=${property(fp.relativePath(f.file))}`,
        `line=${f.line}`,
        ...(f.endLine > f.line ? [`endLine=${f.endLine}`] : []),
        `col=${f.column}`,
        ...(f.endLine === f.line && f.endColumn > f.column ? [`endColumn=${f.endColumn}`] : []),
        `title=${property(`cgoguard ${f.rule}${confidenceSuffix(f)}`)}`,
      ];
      const body = [`${f.message} (${f.rule})`, ...f.trace.map((s) => `  ${fp.relativePath(s.file)}:${s.line}:${s.column}: ${s.message}`)].join('\n');
      return `::${COMMAND[shownSeverity(f)]} ${props.join(',')}::${data(body)}\n`;
    })
    .join('');
}

/** The message part of a workflow command: %, CR and LF escaped. */
function data(s: string): string {
  return s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

/** A property value: also its separators, ':' and ','. */
function property(s: string): string {
  return data(s).replace(/:/g, '%3A').replace(/,/g, '%2C');
}
