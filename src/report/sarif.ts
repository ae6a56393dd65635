// SARIF 2.1.0, with the trace of each finding as a code flow. Columns are
// converted from Go's byte columns to UTF-16 code units, SARIF's default.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Finding, Severity } from '../findings/finding.js';
import { ALL_RULES } from '../rules/index.js';
import { byteToUtf16Column } from '../syntax/positions.js';

export const SARIF_SCHEMA = 'https://json.schemastore.org/sarif-2.1.0.json';

interface Ctx {
  cwd: string;
  lines: Map<string, string[] | null>;
}

export function formatSARIF(findings: Finding[], cwd: string, version: string): string {
  const ctx: Ctx = { cwd, lines: new Map() };
  const ruleIndex = new Map(ALL_RULES.map((r, i) => [r.id, i]));
  const log = {
    $schema: SARIF_SCHEMA,
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'cgoguard',
            version,
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
            })),
          },
        },
        originalUriBaseIds: { SRCROOT: { uri: pathToFileURL(cwd.endsWith(path.sep) ? cwd : cwd + path.sep).href } },
        results: findings.map((f) => ({
          ruleId: f.rule,
          ruleIndex: ruleIndex.get(f.rule) ?? -1,
          level: level(f.severity),
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
          ...(f.dynamic
            ? {
                stacks: f.dynamic.stacks
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
                properties: { stage: f.dynamic.stage, tool: f.dynamic.tool, kind: f.dynamic.kind, bytes: f.dynamic.bytes, confirmed: f.confirmed, count: f.dynamic.count },
              }
            : f.confirmedBy?.length
              ? { properties: { confirmedBy: f.confirmedBy } }
              : {}),
          partialFingerprints: { 'cgoguard/v1': fingerprint(f) },
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

function physical(ctx: Ctx, file: string, line: number, column: number, endLine?: number, endColumn?: number) {
  const artifactLocation = path.isAbsolute(file) ? { uri: pathToFileURL(file).href } : { uri: file.split(path.sep).join('/'), uriBaseId: 'SRCROOT' };
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

/** Stable across unrelated edits: rule, file, function and message, not line numbers. */
function fingerprint(f: Finding): string {
  const s = `${f.rule}\0${f.file}\0${f.function}\0${f.message.replace(/line \d+/g, 'line N')}`;
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}
