// Adds an import a fix needs, where gofmt would keep it: in sorted order in
// the first group of an import block, else as a declaration of its own
// after the last import (never between the cgo preamble and `import "C"`).
import type { TextEdit } from '../findings/fix.js';
import type { GoSource } from './source.js';

/** The edit that imports `path`, or nothing when the file imports it already. */
export function importEdit(src: GoSource, path: string): TextEdit | undefined {
  const specs = src.go.imports;
  if (specs.some((s) => s.path === path && !s.name)) return undefined;
  const text = src.text;
  // Import blocks: `import (` ... `)`, found from the specs inside them.
  const blocks = new Map<number, { open: number; specs: typeof specs }>();
  for (const s of specs) {
    if (s.path === 'C') continue;
    const open = text.lastIndexOf('import', s.pos);
    const between = text.slice(open + 'import'.length, s.pos);
    if (!/^\s*\(/.test(between)) continue;
    const group = blocks.get(open) ?? { open, specs: [] };
    group.specs.push(s);
    blocks.set(open, group);
  }
  const block = [...blocks.values()][0];
  if (block) {
    // The first run of the block (specs on consecutive lines), as gofmt sorts runs.
    const lineOf = (pos: number) => src.lines.lineOf(pos);
    const sorted = [...block.specs].sort((a, b) => a.pos - b.pos);
    const run = [sorted[0]];
    for (const s of sorted.slice(1)) {
      if (lineOf(s.pos) !== lineOf(run[run.length - 1].pos) + 1) break;
      run.push(s);
    }
    const indent = src.indentOf(lineOf(run[0].pos));
    const after = run.find((s) => s.path > path);
    if (after) {
      const line = lineOf(after.pos);
      return { file: src.file, line, column: 1, endLine: line, endColumn: 1, text: `${indent}"${path}"\n` };
    }
    const last = lineOf(run[run.length - 1].pos);
    const column = Buffer.byteLength(src.lines.lineText(last)) + 1;
    return { file: src.file, line: last, column, endLine: last, endColumn: column, text: `\n${indent}"${path}"` };
  }
  const last = [...specs].sort((a, b) => b.end - a.end)[0];
  if (!last) {
    // No import at all: after the package clause.
    const m = /^package\s+\w+[^\n]*$/m.exec(text);
    if (!m) return undefined;
    const line = src.lines.lineOf(m.index);
    const column = Buffer.byteLength(src.lines.lineText(line)) + 1;
    return { file: src.file, line, column, endLine: line, endColumn: column, text: `\n\nimport "${path}"` };
  }
  const line = src.lines.lineOf(last.end);
  const column = Buffer.byteLength(src.lines.lineText(line)) + 1;
  return { file: src.file, line, column, endLine: line, endColumn: column, text: `\n\nimport "${path}"` };
}
