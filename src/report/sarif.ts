// SARIF 2.1.0 for code scanning, with the trace of each finding as a code
// flow. Paths are relative to the repository root (%SRCROOT%), so that
// alerts keep their place whatever folder the tool ran in; columns are
// converted from Go's byte columns to UTF-16 code units, SARIF's default.
// What limited the run (clang failures, files that could not be read) goes
// in the invocation's notifications.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { confidenceOf, type Confidence, type Finding, type Severity } from '../findings/finding.js';
import type { Fix } from '../findings/fix.js';
import { ALL_RULES } from '../rules/index.js';
import { byteToUtf16Column } from '../syntax/positions.js';
import { Fingerprinter } from './fingerprint.js';
import { codeScanningProperties } from './sarif-rules.js';

export const SARIF_SCHEMA = 'https://json.schemastore.org/sarif-2.1.0.json';

const RANK: Record<Confidence, number> = { high: 90, medium: 60, low: 30 };

/** The project's page; each rule is documented under its anchor there. */
const HOMEPAGE: string = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).homepage;

export interface SarifOptions {
  cwd: string;
  version: string;
  /** What limited the analysis, said once each. */
  notifications?: { level: 'error' | 'warning' | 'note'; message: string }[];
  /** The repository root that paths are relative to (default: git's top level above cwd, else cwd). */
  root?: string;
}

interface Ctx {
  cwd: string;
  root: string;
  lines: Map<string, string[] | null>;
}

/** The top of the git work tree cwd is in, else cwd itself. */
export function repositoryRoot(cwd: string): string {
  const r = spawnSync('git', ['rev-parse', '--show-toplevel'], { cwd, encoding: 'utf8', timeout: 10_000 });
  return r.status === 0 && r.stdout.trim() ? r.stdout.trim() : cwd;
}

export function formatSARIF(findings: Finding[], o: SarifOptions): string {
  const { cwd, version } = o;
  const root = o.root ?? repositoryRoot(cwd);
  const ctx: Ctx = { cwd, root, lines: new Map() };
  const base = HOMEPAGE.replace(/#.*$/, '');
  const ruleIndex = new Map(ALL_RULES.map((r, i) => [r.id, i]));
  const fingerprints = new Fingerprinter(cwd, root).unique(findings);
  const log = {
    $schema: SARIF_SCHEMA,
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'cgoguard',
            version,
            semanticVersion: version,
            informationUri: HOMEPAGE,
            rules: ALL_RULES.map((r) => ({
              id: r.id,
              name: r.id.replace(/(^|-)([a-z])/g, (_, __, c: string) => c.toUpperCase()),
              shortDescription: { text: r.title },
              fullDescription: { text: r.rationale },
              help: {
                text: `${r.rationale}\n\nBad:\n${r.bad}\n\nGood:\n${r.good}`,
                markdown: `${r.rationale}\n\n**Bad**\n\n\`\`\`go\n${r.bad}\n\`\`\`\n\n**Good**\n\n\`\`\`go\n${r.good}\n\`\`\``,
              },
              defaultConfiguration: { level: level(r.severity) },
              helpUri: `${base}#rule-${r.id}`,
              properties: codeScanningProperties(r.id, r.precision),
            })),
          },
        },
        invocations: [
          {
            executionSuccessful: true,
            toolExecutionNotifications: (o.notifications ?? []).map((n) => ({ level: n.level, message: { text: n.message } })),
          },
        ],
        originalUriBaseIds: { '%SRCROOT%': { uri: pathToFileURL(root.endsWith(path.sep) ? root : root + path.sep).href } },
        results: findings.map((f, i) => ({
          ruleId: f.rule,
          ruleIndex: ruleIndex.get(f.rule) ?? -1,
          level: level(f.severity),
          // How sure the finding is, as a rank code scanning can sort by (high 90, medium 60, low 30).
          rank: RANK[confidenceOf(f)],
          message: { text: f.message },
          locations: [
            {
              physicalLocation: physical(ctx, f.file, f.line, f.column, f.endLine, f.endColumn),
              ...(f.function ? { logicalLocations: [{ name: f.function, kind: 'function' }] } : {}),
            },
          ],
          ...(f.trace.length
            ? {
                codeFlows: [
                  {
                    threadFlows: [
                      {
                        locations: f.trace.map((s) => ({
                          location: { physicalLocation: physical(ctx, s.file, s.line, s.column), message: { text: s.message } },
                        })),
                      },
                    ],
                  },
                ],
              }
            : {}),
          ...(f.dynamic || f.runtime?.length
            ? {
                stacks: [...(f.dynamic ? [f.dynamic] : []), ...(f.runtime ?? [])]
                  .flatMap((d) => d.stacks)
                  .filter((st) => st.frames.length)
                  .map((st) => ({
                    message: { text: st.title },
                    frames: st.frames.map((fr) => ({
                      location: {
                        message: { text: fr.fn },
                        ...(fr.file && fr.line && (path.isAbsolute(fr.file) || fr.file.endsWith('.go')) ? { physicalLocation: physical(ctx, fr.file, fr.line, 1) } : {}),
                      },
                    })),
                  })),
                properties: f.dynamic
                  ? { confidence: confidenceOf(f), stage: f.dynamic.stage, tool: f.dynamic.tool, kind: f.dynamic.kind, bytes: f.dynamic.bytes, confirmed: f.confirmed, count: f.dynamic.count }
                  : { confidence: confidenceOf(f), confirmedBy: f.confirmedBy, runtime: f.runtime!.map((e) => ({ stage: e.stage, tool: e.tool, kind: e.kind, message: e.message, bytes: e.bytes, count: e.count })) },
              }
            : { properties: { confidence: confidenceOf(f), ...(f.confirmedBy?.length ? { confirmedBy: f.confirmedBy } : {}) } }),
          ...(f.fixes?.length ? { fixes: f.fixes.map((x) => sarifFix(ctx, x)) } : {}),
          partialFingerprints: { 'cgoguard/v2': fingerprints[i] },
        })),
        columnKind: 'utf16CodeUnits',
      },
    ],
  };
  return `${JSON.stringify(log, null, 2)}\n`;
}

function level(s: Severity): 'error' | 'warning' | 'note' {
  return s;
}

/** A file as SARIF names it: relative to %SRCROOT% when inside the repository, else by its absolute URI (the toolchain's files in stacks). */
function artifact(ctx: Ctx, file: string): { uri: string; uriBaseId?: string } {
  const abs = path.resolve(ctx.cwd, file);
  const rel = path.relative(ctx.root, abs);
  if (rel && !rel.startsWith('..') && !path.isAbsolute(rel)) return { uri: rel.split(path.sep).map(encodeURIComponent).join('/'), uriBaseId: '%SRCROOT%' };
  return { uri: pathToFileURL(abs).href };
}

function physical(ctx: Ctx, file: string, line: number, column: number, endLine?: number, endColumn?: number) {
  const artifactLocation = artifact(ctx, file);
  const region: Record<string, number> = { startLine: line, startColumn: utf16(ctx, file, line, column) };
  if (endLine !== undefined && endColumn !== undefined && (endLine > line || endColumn > column)) {
    region.endLine = endLine;
    region.endColumn = utf16(ctx, file, endLine, endColumn);
  }
  return { artifactLocation, region };
}

function utf16(ctx: Ctx, file: string, line: number, byteColumn: number): number {
  let lines = ctx.lines.get(file);
  if (lines === undefined) {
    try {
      lines = readFileSync(path.resolve(ctx.cwd, file), 'utf8').split('\n');
    } catch {
      lines = null;
    }
    ctx.lines.set(file, lines);
  }
  const text = lines?.[line - 1];
  return text === undefined ? byteColumn : byteToUtf16Column(text, byteColumn);
}

/** A fix as SARIF states it: replacements per file, regions in the file as analysed (UTF-16 columns). */
function sarifFix(ctx: Ctx, fix: Fix) {
  const byFile = new Map<string, Fix['edits']>();
  for (const e of fix.edits) byFile.set(e.file, [...(byFile.get(e.file) ?? []), e]);
  return {
    description: { text: fix.title },
    artifactChanges: [...byFile].map(([file, edits]) => ({
      artifactLocation: artifact(ctx, file),
      replacements: edits.map((e) => ({
        deletedRegion: { startLine: e.line, startColumn: utf16(ctx, file, e.line, e.column), endLine: e.endLine, endColumn: utf16(ctx, file, e.endLine, e.endColumn) },
        ...(e.text ? { insertedContent: { text: e.text } } : {}),
      })),
    })),
    properties: { safe: fix.safe },
  };
}
