// Validates a SARIF log against the official 2.1.0 schema (vendored).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import Ajv from 'ajv-draft-04';
import addFormats from 'ajv-formats';
import { repoRoot } from './cli.js';

/** The schema's errors for this log, none when it is valid. */
export function sarifErrors(log: unknown): string {
  const schema = JSON.parse(readFileSync(path.join(repoRoot, 'test/schemas/sarif-2.1.0-rtm.5.json'), 'utf8'));
  // The schema's patterns are ECMAScript regexps without the unicode flag.
  const ajv = new Ajv({ allErrors: true, strict: false, unicodeRegExp: false });
  addFormats(ajv);
  const validate = ajv.compile(schema);
  return validate(log) ? '' : JSON.stringify(validate.errors?.slice(0, 3));
}

interface Loc {
  physicalLocation?: { artifactLocation?: { uri?: string; uriBaseId?: string }; region?: { startLine?: number } };
}

/**
 * What GitHub's code scanning requires of an uploaded SARIF file beyond the
 * schema ("SARIF support for code scanning" and its upload limits): a tool
 * name; results whose rule is among the driver's rules, with a message, at
 * least one location and at most 1,000, a start line, fingerprints; paths
 * relative to a base defined as an absolute file URI ending in "/"; for each
 * rule an absolute helpUri, at most 20 tags, a security-severity only
 * together with the "security" tag and between 0.1 and 10.0; at most 20 runs,
 * 25,000 rules and 25,000 results per run, 10,000 locations per code flow.
 * Returns the problems found, empty when there are none.
 */
export function githubIngestionProblems(log: { version?: string; runs?: unknown[] }): string[] {
  const out: string[] = [];
  if (log.version !== '2.1.0') out.push('version must be 2.1.0');
  const runs = (log.runs ?? []) as {
    tool?: { driver?: { name?: string; informationUri?: string; rules?: { id?: string; helpUri?: string; properties?: { tags?: string[]; 'security-severity'?: string } }[] } };
    results?: { ruleId?: string; message?: { text?: string }; locations?: Loc[]; partialFingerprints?: object; codeFlows?: { threadFlows?: { locations?: { location?: Loc }[] }[] }[] }[];
    originalUriBaseIds?: Record<string, { uri?: string }>;
  }[];
  if (runs.length > 20) out.push('more than 20 runs');
  for (const run of runs) {
    const driver = run.tool?.driver;
    if (!driver?.name) out.push('tool.driver.name is missing');
    if (driver?.informationUri && !/^https?:\/\//.test(driver.informationUri)) out.push('informationUri is not an absolute URL');
    const rules = driver?.rules ?? [];
    if (rules.length > 25000) out.push('more than 25,000 rules');
    for (const r of rules) {
      if (!r.id) out.push('a rule without id');
      if (r.helpUri && !/^https?:\/\//.test(r.helpUri)) out.push(`${r.id}: helpUri is not an absolute URL`);
      const tags = r.properties?.tags ?? [];
      if (tags.length > 20) out.push(`${r.id}: more than 20 tags`);
      const sev = r.properties?.['security-severity'];
      if (sev !== undefined) {
        if (typeof sev !== 'string' || !/^\d+(\.\d+)?$/.test(sev) || Number(sev) <= 0 || Number(sev) > 10) out.push(`${r.id}: security-severity must be a string from 0.1 to 10.0`);
        if (!tags.includes('security')) out.push(`${r.id}: security-severity without the "security" tag`);
      }
    }
    const ids = new Set(rules.map((r) => r.id));
    const bases = run.originalUriBaseIds ?? {};
    for (const [k, v] of Object.entries(bases)) if (!v.uri?.startsWith('file:///') || !v.uri.endsWith('/')) out.push(`originalUriBaseIds.${k} must be an absolute file URI ending in /`);
    const checkLoc = (l: Loc | undefined, where: string) => {
      const a = l?.physicalLocation?.artifactLocation;
      if (!a?.uri) return out.push(`${where}: no artifactLocation.uri`);
      if (a.uriBaseId !== undefined && !(a.uriBaseId in bases)) out.push(`${where}: uriBaseId ${a.uriBaseId} is not defined`);
      if (a.uriBaseId === undefined && !/^file:\/\/\//.test(a.uri)) out.push(`${where}: relative uri ${a.uri} without uriBaseId`);
      if (!(l!.physicalLocation!.region?.startLine! >= 1)) out.push(`${where}: no startLine`);
    };
    const results = run.results ?? [];
    if (results.length > 25000) out.push('more than 25,000 results');
    results.forEach((res, i) => {
      const where = `result ${i} (${res.ruleId})`;
      if (!res.ruleId || !ids.has(res.ruleId)) out.push(`${where}: ruleId not among the driver's rules`);
      if (!res.message?.text) out.push(`${where}: no message text`);
      const locs = res.locations ?? [];
      if (!locs.length || locs.length > 1000) out.push(`${where}: needs 1 to 1,000 locations`);
      locs.forEach((l) => checkLoc(l, where));
      if (!res.partialFingerprints) out.push(`${where}: no partialFingerprints`);
      for (const cf of res.codeFlows ?? []) {
        for (const tf of cf.threadFlows ?? []) {
          if ((tf.locations ?? []).length > 10000) out.push(`${where}: more than 10,000 thread flow locations`);
          for (const tl of tf.locations ?? []) checkLoc(tl.location, `${where} code flow`);
        }
      }
    });
  }
  return out;
}
