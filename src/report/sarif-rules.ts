// What code scanning shows about each rule beyond its documentation: the
// weakness it is (CWE), how severe a security alert it makes (GitHub's
// security-severity, 0.1-10: 7.0 and up is "high"), and tags to filter on.
// Scores follow the usual CVSS of each weakness class for memory errors in
// native code; directive rules are about the tool's own comments, not security.

import type { Confidence } from '../findings/finding.js';

interface CodeScanningMeta {
  cwe: number[];
  securitySeverity?: number;
}

const META: Record<string, CodeScanningMeta> = {
  leak: { cwe: [401], securitySeverity: 5.3 },
  'double-free': { cwe: [415], securitySeverity: 8.1 },
  'use-after-free': { cwe: [416], securitySeverity: 8.8 },
  'free-nonheap': { cwe: [590], securitySeverity: 8.1 },
  'mismatched-free': { cwe: [762], securitySeverity: 7.5 },
  'free-borrowed': { cwe: [763], securitySeverity: 7.5 },
  protocol: { cwe: [672], securitySeverity: 6.5 },
  'unpinned-go-pointer': { cwe: [825], securitySeverity: 7.0 },
  'c-keeps-go-pointer': { cwe: [825], securitySeverity: 7.5 },
  'go-pointer-in-c-memory': { cwe: [825], securitySeverity: 7.0 },
  'export-go-pointer': { cwe: [825], securitySeverity: 7.0 },
  'hidden-pointer': { cwe: [704], securitySeverity: 6.5 },
  'slice-header': { cwe: [704, 787], securitySeverity: 7.5 },
  'c-overflow': { cwe: [787], securitySeverity: 8.8 },
  'unbounded-c-write': { cwe: [120], securitySeverity: 7.5 },
  'element-size': { cwe: [704, 787], securitySeverity: 7.0 },
  'c-slice-bounds': { cwe: [125, 787], securitySeverity: 7.5 },
  'finalizer-keepalive': { cwe: [416], securitySeverity: 6.3 },
  'finalizer-still-set': { cwe: [415], securitySeverity: 7.0 },
  'cgo-handle': { cwe: [401, 416], securitySeverity: 4.0 },
  pinner: { cwe: [401], securitySeverity: 3.7 },
  'c-analyzer': { cwe: [401, 415, 416], securitySeverity: 7.0 },
  'invalid-access': { cwe: [119], securitySeverity: 8.1 },
  'c-crash': { cwe: [119], securitySeverity: 6.5 },
  'bad-directive': { cwe: [] },
  'unused-ignore': { cwe: [] },
};

/** The rule's `properties` for SARIF: tags (with external/cwe/cwe-N) and, for security rules, security-severity. */
export function codeScanningProperties(id: string, precision: Confidence = 'high'): { tags: string[]; 'security-severity'?: string; precision: string } {
  const m = META[id] ?? { cwe: [] };
  const security = m.securitySeverity !== undefined;
  return {
    tags: [...(security ? ['security', 'memory-safety'] : ['maintainability']), 'cgo', ...m.cwe.map((n) => `external/cwe/cwe-${n}`)],
    ...(security ? { 'security-severity': m.securitySeverity!.toFixed(1) } : {}),
    precision,
  };
}
