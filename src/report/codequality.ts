// GitLab Code Quality (`--format codequality`): the Code Climate issue subset
// GitLab reads from a `codequality` report artifact and shows in merge
// requests. Each issue has a fingerprint unique in the report and stable
// across runs (the baseline's, with an occurrence number).
import { createHash } from 'node:crypto';
import { confidenceSuffix, shownSeverity } from '../findings/confidence.js';
import type { Finding, Severity } from '../findings/finding.js';
import { codeScanningProperties } from './sarif-rules.js';
import type { Fingerprinter } from './fingerprint.js';

type CodeQualitySeverity = 'info' | 'minor' | 'major' | 'critical' | 'blocker';

const SEVERITY: Record<Severity, CodeQualitySeverity> = { error: 'critical', warning: 'major', note: 'info' };

export function formatCodeQuality(findings: Finding[], fp: Fingerprinter): string {
  const keys = fp.unique(findings);
  const issues = findings.map((f, i) => {
    const security = codeScanningProperties(f.rule).tags.includes('security');
    return {
      type: 'issue',
      check_name: f.rule,
      description: `${f.message}${confidenceSuffix(f)}`,
      ...(f.trace.length ? { content: { body: f.trace.map((s) => `${fp.relativePath(s.file)}:${s.line}:${s.column}: ${s.message}`).join('\n') } } : {}),
      categories: [security ? 'Security' : 'Bug Risk'],
      severity: SEVERITY[shownSeverity(f)],
      fingerprint: createHash('md5').update(keys[i]).digest('hex'),
      location: {
        path: fp.relativePath(f.file),
        positions: { begin: { line: f.line, column: f.column }, end: { line: Math.max(f.line, f.endLine), column: f.endColumn } },
      },
    };
  });
  return `${JSON.stringify(issues, null, 2)}\n`;
}
