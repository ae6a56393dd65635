// The shape of the code (docs/architecture.md): layers import only layers
// below them, no import circles, the interpreter core knows no rule, domain
// modules meet only through their declared interfaces, files stay small.
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const src = path.resolve(__dirname, '../src');

/** Layers from the bottom up; a module may import its own layer or lower ones. Unlisted folders are top-level commands. */
const LAYERS: Record<string, number> = {
  syntax: 1,
  model: 2,
  knowledge: 3,
  flow: 4,
  rules: 5,
  findings: 6,
  workspace: 7,
  fix: 7,
  dynamic: 8,
  trace: 8,
  report: 9,
  pipeline: 10,
  watch: 10,
  gen: 10,
  cli: 11,
  lsp: 11,
};
const TOP = 12;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const p = path.join(dir, d.name);
    return d.isDirectory() ? sourceFiles(p) : d.name.endsWith('.ts') ? [p] : [];
  });
}

/** Every relative import of every file (type-only ones too: they tie modules together as much). */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of sourceFiles(src)) {
    // Comments may quote import lines; they do not count.
    const text = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
    const targets: string[] = [];
    for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s+'(\.[^']+)'|(?:^|\n)\s*import\s+'(\.[^']+)'|declare module '(\.[^']+)'/g)) {
      const spec = m[1] ?? m[2] ?? m[3];
      targets.push(path.resolve(path.dirname(file), spec.replace(/\.js$/, '.ts')));
    }
    graph.set(file, targets);
  }
  return graph;
}

const rel = (f: string) => path.relative(src, f);
const layerOf = (f: string) => LAYERS[rel(f).split(path.sep)[0]] ?? TOP;

describe('architecture', () => {
  const graph = importGraph();

  it('imports only from the same layer or lower ones', () => {
    const wrong: string[] = [];
    for (const [from, tos] of graph) for (const to of tos) if (layerOf(to) > layerOf(from)) wrong.push(`${rel(from)} -> ${rel(to)}`);
    expect(wrong).toEqual([]);
  });

  it('has no import circles', () => {
    // Tarjan's strongly connected components; any with two or more files is a circle.
    let index = 0;
    const idx = new Map<string, number>();
    const low = new Map<string, number>();
    const stack: string[] = [];
    const on = new Set<string>();
    const circles: string[][] = [];
    const visit = (v: string): void => {
      idx.set(v, index);
      low.set(v, index++);
      stack.push(v);
      on.add(v);
      for (const w of graph.get(v) ?? []) {
        if (!graph.has(w)) continue;
        if (!idx.has(w)) {
          visit(w);
          low.set(v, Math.min(low.get(v)!, low.get(w)!));
        } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
      }
      if (low.get(v) === idx.get(v)) {
        const comp: string[] = [];
        let w: string;
        do {
          w = stack.pop()!;
          on.delete(w);
          comp.push(rel(w));
        } while (w !== v);
        if (comp.length > 1) circles.push(comp.sort());
      }
    };
    for (const f of graph.keys()) if (!idx.has(f)) visit(f);
    expect(circles).toEqual([]);
  });

  it('keeps the interpreter core free of rules, and domain modules apart but for their declared interfaces', () => {
    const wrong: string[] = [];
    for (const [from, tos] of graph) {
      const [top, domain] = rel(from).split(path.sep);
      for (const to of tos) {
        const [toTop, toDomain, toFile] = rel(to).split(path.sep);
        if (top === 'flow' && toTop !== 'flow' && layerOf(to) >= LAYERS.flow) wrong.push(`${rel(from)} -> ${rel(to)}`);
        // src/rules/<domain>/... may import its own domain, the shared rule helpers, and another domain's api.ts only.
        const isDomain = (d: string | undefined, f: string | undefined) => d !== undefined && f !== undefined;
        if (top === 'rules' && isDomain(domain, rel(from).split(path.sep)[2]) && toTop === 'rules' && isDomain(toDomain, toFile) && toDomain !== domain && toFile !== 'api.ts') {
          wrong.push(`${rel(from)} -> ${rel(to)}`);
        }
      }
    }
    expect(wrong).toEqual([]);
  });

  it('keeps every source file under 800 lines', () => {
    const big = sourceFiles(src)
      .map((f) => [rel(f), readFileSync(f, 'utf8').split('\n').length] as const)
      .filter(([, n]) => n > 800);
    expect(big).toEqual([]);
  });
});
