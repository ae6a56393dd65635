// JUnit XML for CI dashboards: one test suite for the static check and one
// per stage that ran (or was skipped); each finding is a failed test case,
// each package a stage ran without findings a passing one.
import { XMLBuilder } from 'fast-xml-parser';
import type { Finding } from '../findings/finding.js';

export interface JUnitStage {
  stage: string;
  status: 'ran' | 'skipped' | 'interrupted';
  reason?: string;
  ms: number;
  /** Packages the stage ran, for the passing test cases. */
  packageNames: string[];
}

const builder = new XMLBuilder({ ignoreAttributes: false, attributeNamePrefix: '@', format: true, suppressEmptyNode: true, processEntities: true });

export function formatJUnit(findings: Finding[], stages: JUnitStage[], staticRan: boolean): string {
  const suites: object[] = [];
  const failure = (f: Finding) => ({
    '@name': `${f.rule} ${f.file}:${f.line}`,
    '@classname': f.dynamic?.package ?? f.runtime?.[0]?.package ?? f.file,
    failure: {
      '@message': f.message,
      '@type': f.rule,
      '#text': [`${f.file}:${f.line}:${f.column}: ${f.message} (${f.rule})`, ...f.trace.map((s) => `  ${s.file}:${s.line}:${s.column}: ${s.message}`)].join('\n'),
    },
  });
  if (staticRan) {
    const cases = findings.filter((f) => !f.dynamic).map(failure);
    suites.push({ '@name': 'static', '@tests': Math.max(1, cases.length), '@failures': cases.length, '@time': '0', testcase: cases.length ? cases : [{ '@name': 'static check', '@classname': 'cgoguard' }] });
  }
  for (const s of stages) {
    if (s.status !== 'ran') {
      const why = s.status === 'interrupted' ? 'interrupted by the user' : (s.reason ?? 'skipped');
      suites.push({ '@name': s.stage, '@tests': 1, '@failures': 0, '@skipped': 1, '@time': '0', testcase: [{ '@name': s.stage, '@classname': 'cgoguard', skipped: { '@message': why } }] });
      continue;
    }
    const mine = findings.filter((f) => f.dynamic?.stage === s.stage || f.runtime?.some((e) => e.stage === s.stage));
    const failing = new Set(mine.map((f) => f.dynamic?.package ?? f.runtime!.find((e) => e.stage === s.stage)!.package));
    const cases = [...mine.map(failure), ...s.packageNames.filter((p) => !failing.has(p)).map((p) => ({ '@name': p, '@classname': p }))];
    suites.push({ '@name': s.stage, '@tests': cases.length, '@failures': mine.length, '@time': (s.ms / 1000).toFixed(3), testcase: cases });
  }
  const total = suites.reduce((a, s) => a + (s as { '@tests': number })['@tests'], 0);
  const failures = suites.reduce((a, s) => a + (s as { '@failures': number })['@failures'], 0);
  const xml = builder.build({ testsuites: { '@name': 'cgoguard', '@tests': total, '@failures': failures, testsuite: suites } }) as string;
  return `<?xml version="1.0" encoding="UTF-8"?>\n${xml}`;
}
