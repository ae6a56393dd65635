// One self-contained HTML file: opens offline, runs no script (its Content
// Security Policy forbids any), and escapes everything that comes from the
// analysed code or the tools' output. A summary by class and package with a
// bar chart, then each finding with its code, stacks, bytes, and the link
// between a static finding and the run that confirmed it.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Finding, StackFrame } from '../findings/finding.js';
import { sameBug } from '../dynamic/locate.js';
import { ruleById } from '../rules/index.js';

export interface HtmlStage {
  stage: string;
  status: string;
  reason?: string;
  ms: number;
  packages: number;
}

export interface HtmlInput {
  title: string;
  findings: Finding[];
  stages: HtmlStage[];
  cwd: string;
  version: string;
  /** Live C memory by Go allocation stack (leaf first), for the icicle graph. */
  live?: { frames: StackFrame[]; bytes: number }[];
  /** The policy's verdict: whether the run fails, and each reason. */
  verdict?: { failed: boolean; reasons: string[] };
  /** What went wrong besides findings: tests that failed or did not build, an interruption. */
  problems?: { title: string; lines: string[] }[];
  /** Figures of the run shown at the top (the trace's allocations, releases, live bytes). */
  summary?: { label: string; value: string }[];
  /** The import path of each file's package (paths as findings show them). */
  packages?: Map<string, string>;
}

const ESC: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function esc(s: unknown): string {
  return String(s).replace(/[&<>"']/g, (c) => ESC[c]);
}

/** The package a finding belongs to: its import path when known, else its folder (by name, never "."). */
function packageOf(f: Finding, input: HtmlInput): string {
  const known = input.packages?.get(f.file) ?? f.dynamic?.package;
  if (known) return known;
  const dir = path.dirname(f.file);
  return dir === '.' ? path.basename(input.cwd) : dir;
}

export function formatHTML(input: HtmlInput): string {
  const { findings } = input;
  const ids = new Map(findings.map((f, i) => [f, `f${i + 1}`]));
  const byRule = count(findings.map((f) => f.rule));
  const byPkg = count(findings.map((f) => packageOf(f, input)));
  const statics = findings.filter((f) => !f.dynamic);
  const dyn = findings.filter((f) => f.dynamic);
  const confirmed = statics.filter((f) => f.confirmedBy?.length).length;
  const sources = new Map<string, string[] | null>();

  const body: string[] = [];
  body.push(`<h1>${esc(input.title)}</h1>`);
  if (input.verdict) {
    const v = input.verdict;
    body.push(`<div class="verdict ${v.failed ? 'fail' : 'pass'}"><b>${v.failed ? 'FAIL' : 'PASS'}</b> by the policy${v.reasons.length ? ':' : ''}`);
    if (v.reasons.length) body.push(`<ul>${v.reasons.map((r) => `<li>${esc(r)}</li>`).join('')}</ul>`);
    body.push('</div>');
  }
  if (input.summary?.length) {
    body.push(`<table class="summary">${input.summary.map((x) => `<tr><th>${esc(x.label)}</th><td>${esc(x.value)}</td></tr>`).join('')}</table>`);
  }
  for (const p of input.problems ?? []) {
    body.push(`<section class="problem"><h2>${esc(p.title)}</h2>${p.lines.length ? `<pre>${p.lines.map(esc).join('\n')}</pre>` : ''}</section>`);
  }
  body.push(
    `<p class="totals"><b>${findings.length}</b> finding(s): <b>${statics.length}</b> static, <b>${dyn.length}</b> from running code; ` +
      `<b>${confirmed}</b> static finding(s) confirmed at run time; <b>${dyn.filter((f) => !f.confirmed).length}</b> run-time finding(s) no static rule predicted.</p>`,
  );
  if (input.stages.length) {
    body.push('<table class="stages"><tr><th>stage</th><th>status</th><th>packages</th><th>time</th></tr>');
    for (const s of input.stages) {
      body.push(`<tr><td>${esc(s.stage)}</td><td>${esc(s.status)}${s.reason ? ` — ${esc(s.reason)}` : ''}</td><td>${s.packages}</td><td>${(s.ms / 1000).toFixed(1)} s</td></tr>`);
    }
    body.push('</table>');
  }
  body.push('<div class="charts">');
  body.push(`<figure><figcaption>Findings by class</figcaption>${barChart(byRule, 'chart-class')}</figure>`);
  body.push(`<figure><figcaption>Findings by package</figcaption>${barChart(byPkg, 'chart-package')}</figure>`);
  body.push('</div>');
  if (input.live?.length) body.push(`<figure class="flame"><figcaption>Live C memory at exit by Go stack (outermost frame on top; width is bytes)</figcaption>${icicle(input.live)}</figure>`);

  for (const f of findings) {
    const id = ids.get(f)!;
    const badges: string[] = [`<span class="sev ${esc(f.severity)}">${esc(f.severity)}</span>`, `<span class="rule">${esc(f.rule)}</span>`];
    if (f.dynamic) badges.push(`<span class="stage">${esc(f.dynamic.stage)}</span>`);
    if (f.confirmed || f.confirmedBy?.length) badges.push('<span class="confirmed">confirmed</span>');
    const links: string[] = [];
    if (f.dynamic) {
      for (const s of statics) if (sameBug(f, s)) links.push(`<a href="#${ids.get(s)}">predicted by the static finding at ${esc(s.file)}:${s.line}</a>`);
    } else if (f.confirmedBy?.length) {
      for (const d of dyn) if (sameBug(d, f)) links.push(`<a href="#${ids.get(d)}">seen at run time by ${esc(d.dynamic!.stage)}</a>`);
    }
    body.push(`<section class="finding" id="${id}">`);
    body.push(`<h2>${badges.join(' ')} <span class="loc">${esc(f.file)}:${f.line}:${f.column}</span></h2>`);
    body.push(`<p class="msg">${esc(f.message)}</p>`);
    if (f.dynamic?.bytes !== undefined) body.push(`<p class="bytes">${f.dynamic.bytes} byte(s)${f.dynamic.objects !== undefined ? ` in ${f.dynamic.objects} object(s)` : ''}</p>`);
    for (const e of f.runtime ?? []) body.push(`<p class="seen"><span class="stage">${esc(e.stage)}</span> seen at run time: ${esc(e.message)}</p>`);
    if (links.length) body.push(`<p class="links">${links.join(' · ')}</p>`);
    body.push(excerpt(input.cwd, f.file, f.line, sources));
    if (f.trace.length) {
      body.push('<ol class="trace">');
      for (const s of f.trace) body.push(`<li><span class="loc">${esc(s.file)}:${s.line}:${s.column}</span> ${esc(s.message)}</li>`);
      body.push('</ol>');
    }
    for (const st of [...(f.dynamic?.stacks ?? []), ...(f.runtime ?? []).flatMap((e) => e.stacks)]) {
      if (!st.frames.length) continue;
      const isGo = st.title.startsWith('goroutine');
      body.push(`<details class="stack ${isGo ? 'go' : 'c'}" open><summary>${esc(st.title)}</summary><ol>`);
      for (const fr of st.frames) body.push(`<li><code>${esc(fr.fn)}</code>${fr.file ? ` <span class="loc">${esc(fr.file)}${fr.line ? `:${fr.line}` : ''}</span>` : ''}</li>`);
      body.push('</ol></details>');
    }
    body.push('</section>');
  }
  if (!findings.length) body.push('<p class="clean">No findings.</p>');

  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(input.title)}</title>
<style>${CSS}</style>
</head>
<body>
${body.join('\n')}
<footer>cgoguard ${esc(input.version)}</footer>
</body>
</html>
`;
}

function count(keys: string[]): [string, number][] {
  const m = new Map<string, number>();
  for (const k of keys) m.set(k, (m.get(k) ?? 0) + 1);
  return [...m].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
}

/** A horizontal bar chart as inline SVG: no script, no fonts to fetch. */
function barChart(data: [string, number][], cls: string): string {
  if (!data.length) return `<svg class="${cls}" width="10" height="10" role="img" aria-label="no findings"></svg>`;
  const row = 22;
  // Wide enough for the longest label (12px text, about 7px a character); a
  // longer one keeps its end, which tells packages apart, and shows whole on hover.
  const maxChars = 120;
  const labelW = Math.min(maxChars, Math.max(...data.map(([k]) => k.length))) * 7 + 12;
  const barW = 300;
  const shown = (k: string) => (k.length > maxChars ? `…${k.slice(k.length - maxChars + 1)}` : k);
  const max = Math.max(...data.map((d) => d[1]));
  const h = data.length * row + 4;
  const bars = data
    .map(([k, v], i) => {
      const w = Math.max(2, Math.round((v / max) * barW));
      const y = i * row + 2;
      const color = ruleById(k) ? (ruleById(k)!.severity === 'error' ? '#c0392b' : '#d68910') : '#2e86c1';
      return (
        `<g class="bar"><text x="${labelW - 6}" y="${y + 15}" text-anchor="end"><title>${esc(k)}</title>${esc(shown(k))}</text>` +
        `<rect x="${labelW}" y="${y}" width="${w}" height="${row - 6}" fill="${color}"><title>${esc(k)}: ${v}</title></rect>` +
        `<text x="${labelW + w + 4}" y="${y + 15}">${v}</text></g>`
      );
    })
    .join('');
  return `<svg class="${cls}" width="${labelW + barW + 40}" height="${h}" role="img" aria-label="bar chart">${bars}</svg>`;
}

interface FlameNode {
  name: string;
  bytes: number;
  children: Map<string, FlameNode>;
}

/** An icicle graph as inline SVG: each frame a bar as wide as the live bytes allocated under it. */
function icicle(live: { frames: StackFrame[]; bytes: number }[]): string {
  const root: FlameNode = { name: 'all', bytes: 0, children: new Map() };
  for (const l of live) {
    root.bytes += l.bytes;
    let n = root;
    for (const f of [...l.frames].reverse()) {
      const name = `${f.fn}${f.line ? ` :${f.line}` : ''}`;
      let c = n.children.get(name);
      if (!c) n.children.set(name, (c = { name, bytes: 0, children: new Map() }));
      c.bytes += l.bytes;
      n = c;
    }
  }
  const width = 1000;
  const row = 18;
  const rects: string[] = [];
  let depth = 0;
  const draw = (n: FlameNode, x: number, w: number, d: number) => {
    depth = Math.max(depth, d);
    const label = w > 60 ? esc(n.name.length * 7 > w ? `${n.name.slice(0, Math.floor(w / 7) - 1)}…` : n.name) : '';
    rects.push(
      `<g class="frame"><rect x="${x.toFixed(1)}" y="${d * row}" width="${Math.max(0.5, w - 1).toFixed(1)}" height="${row - 2}" fill="hsl(${20 + ((d * 37) % 40)},80%,${60 + (d % 3) * 6}%)"><title>${esc(n.name)}: ${n.bytes} bytes</title></rect>` +
        `<text x="${(x + 3).toFixed(1)}" y="${d * row + 12}">${label}</text></g>`,
    );
    let cx = x;
    for (const c of [...n.children.values()].sort((a, b) => b.bytes - a.bytes)) {
      const cw = root.bytes ? (c.bytes / root.bytes) * width : 0;
      draw(c, cx, cw, d + 1);
      cx += cw;
    }
  };
  draw(root, 0, width, 0);
  return `<svg class="icicle" width="${width}" height="${(depth + 1) * row}" role="img" aria-label="icicle graph">${rects.join('')}</svg>`;
}

/** Two lines either side of the finding's line, from the file as it is now. */
function excerpt(cwd: string, file: string, line: number, cache: Map<string, string[] | null>): string {
  let lines = cache.get(file);
  if (lines === undefined) {
    try {
      lines = readFileSync(path.resolve(cwd, file), 'utf8').split('\n');
    } catch {
      lines = null;
    }
    cache.set(file, lines);
  }
  if (!lines || line < 1 || line > lines.length) return '';
  const from = Math.max(1, line - 2);
  const to = Math.min(lines.length, line + 2);
  const rows: string[] = [];
  for (let n = from; n <= to; n++) rows.push(`<span class="${n === line ? 'hit' : ''}"><i>${n}</i>${esc(lines[n - 1])}</span>`);
  return `<pre class="code">${rows.join('\n')}</pre>`;
}

const CSS = `
body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1100px;padding:0 1em;color:#222}
h1{font-size:1.5em}h2{font-size:1.05em;margin:.2em 0}
table.stages{border-collapse:collapse;margin:1em 0}table.stages td,table.stages th{border:1px solid #ccc;padding:.2em .6em;text-align:left}
.charts{display:flex;flex-wrap:wrap;gap:2em}figure{margin:0}figcaption{font-weight:600;margin-bottom:.3em}
svg text{font:12px system-ui,sans-serif;fill:#222}
section.finding{border:1px solid #ddd;border-radius:6px;padding:.6em 1em;margin:1em 0}
.sev,.rule,.stage,.confirmed{display:inline-block;padding:0 .5em;border-radius:3px;font-size:.85em}
.sev.error{background:#c0392b;color:#fff}.sev.warning{background:#d68910;color:#fff}.sev.note{background:#7f8c8d;color:#fff}
.rule{background:#eee}.stage{background:#d6eaf8}.confirmed{background:#1e8449;color:#fff}
.loc{font-family:ui-monospace,monospace;font-size:.9em;color:#555}
pre.code{background:#f7f7f7;padding:.5em;overflow:auto}pre.code i{display:inline-block;width:3.5em;color:#999;font-style:normal}
pre.code .hit{background:#fdebd0;display:inline-block;width:100%}
details.stack summary{cursor:pointer;font-weight:600}details.stack ol{margin:.2em 0}
footer{margin-top:3em;color:#999;font-size:.85em}
.verdict{padding:.5em 1em;border-radius:6px;margin:1em 0}.verdict ul{margin:.3em 0}
.verdict.fail{background:#fadbd8;border:1px solid #c0392b}.verdict.pass{background:#d5f5e3;border:1px solid #1e8449}
table.summary{border-collapse:collapse;margin:1em 0}table.summary th,table.summary td{border:1px solid #ccc;padding:.2em .6em;text-align:left}
section.problem{border:1px solid #e6b0aa;background:#fdf2f1;border-radius:6px;padding:.4em 1em;margin:1em 0}section.problem pre{overflow:auto;font-size:.9em}
`;
