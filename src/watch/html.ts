// watch's HTML report: one self-contained file that opens offline and runs
// no script (the same Content Security Policy as the other reports). Per
// process, a plot of its memory over time — RSS, non-Go, Go, C in use — with
// the fitted trend over the last window and a mark where each alert was
// raised, then the Go stacks whose C bytes grew.
import { esc } from '../report/html.js';
import { describeStack } from './profile-diff.js';
import { formatBytes, type ProcessState, type Sample } from './watcher.js';

/** Processes shown: every one that alerted, then the fastest growing, up to this many in all. */
const MAX_PROCESSES = 30;

interface Series {
  name: string;
  cls: string;
  value: (s: Sample) => number | undefined;
}

const SERIES: Series[] = [
  { name: 'RSS', cls: 'rss', value: (s) => s.rss },
  { name: 'non-Go', cls: 'nongo', value: (s) => s.nonGoBytes },
  { name: 'Go runtime', cls: 'go', value: (s) => s.goBytes },
  { name: 'C in use (sampled)', cls: 'c', value: (s) => s.c?.liveBytes },
  { name: 'anonymous RSS', cls: 'anon', value: (s) => (s.nonGoBytes === undefined ? s.rssAnon : undefined) },
];

export function formatWatchHTML(input: { title: string; processes: ProcessState[]; version: string; started: number }): string {
  const shown = [...input.processes]
    .sort((a, b) => Number(b.alerts.length > 0) - Number(a.alerts.length > 0) || (b.trend?.slope ?? 0) - (a.trend?.slope ?? 0) || a.id.pid - b.id.pid)
    .slice(0, MAX_PROCESSES);
  const alerting = input.processes.filter((p) => p.alerts.length).length;
  const body: string[] = [`<h1>${esc(input.title)}</h1>`];
  body.push(`<p class="totals"><b>${input.processes.length}</b> process(es) watched since ${esc(new Date(input.started).toISOString())}; <b>${alerting}</b> raised an alert.${shown.length < input.processes.length ? ` Showing ${shown.length}.` : ''}</p>`);
  for (const p of shown) {
    const last = p.samples[p.samples.length - 1];
    const badge = p.alerting ? '<span class="alert">growing</span>' : p.alerts.length ? '<span class="was">alerted</span>' : '<span class="ok">steady</span>';
    body.push(`<section class="process" id="pid-${p.id.pid}">`);
    body.push(`<h2>${badge} ${esc(p.id.command)} <span class="loc">pid ${p.id.pid} · cgroup ${esc(p.id.cgroup)}${p.gone ? ' · exited' : ''}</span></h2>`);
    if (last) {
      const facts = [`RSS ${formatBytes(last.rss)}`, last.nonGoBytes !== undefined ? `non-Go ${formatBytes(last.nonGoBytes)}` : 'non-Go unknown (the process serves no Go figures; the trend is of anonymous RSS)', last.goBytes !== undefined ? `Go ${formatBytes(last.goBytes)}` : '', last.c ? `C in use ${formatBytes(last.c.liveBytes)} in ${last.c.liveObjects} object(s)` : ''];
      if (p.trend) facts.push(`trend ${formatBytes(p.trend.slope)}/s, confidence ${p.trend.confidence.toFixed(3)} over ${p.trend.n} samples`);
      body.push(`<p class="facts">${facts.filter(Boolean).map(esc).join(' · ')}</p>`);
    }
    body.push(plot(p, input.started));
    for (const a of p.alerts) {
      body.push(`<div class="alertinfo"><p>Alert at ${esc(new Date(a.time).toISOString())}: ${esc(p.basis === 'non-go' ? 'non-Go memory' : 'anonymous RSS')} grew ${esc(formatBytes(a.slope))}/s (confidence ${a.confidence.toFixed(3)}, ${esc(formatBytes(a.growth))} over the window).</p>`);
      if (a.grown.length) {
        body.push('<table class="grown"><tr><th>C bytes grown</th><th>objects</th><th>Go stack (allocation first)</th></tr>');
        for (const g of a.grown) body.push(`<tr><td>${esc(formatBytes(g.bytes))}</td><td>${g.objects}</td><td><code>${esc(describeStack(g.frames, 8))}</code></td></tr>`);
        body.push('</table>');
      }
      if (a.profiles) body.push(`<p class="loc">profiles: ${esc(a.profiles.base)}, ${esc(a.profiles.current)}, diff ${esc(a.profiles.diff)}</p>`);
      body.push('</div>');
    }
    body.push('</section>');
  }
  if (!input.processes.length) body.push('<p class="clean">No process was watched.</p>');
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

/** A line plot as inline SVG: time across, bytes up, one polyline per series, the trend dashed. */
function plot(p: ProcessState, started: number): string {
  const W = 900;
  const H = 280;
  const left = 70;
  const bottom = 30;
  const top = 10;
  const right = 150;
  const samples = p.samples;
  if (samples.length < 2) return '<p class="loc">(one sample so far: nothing to plot)</p>';
  const t0 = samples[0].time;
  const t1 = samples[samples.length - 1].time;
  const values = SERIES.flatMap((s) => samples.map(s.value).filter((v): v is number => v !== undefined));
  const lo = Math.min(0, ...values);
  const hi = Math.max(1, ...values);
  const x = (t: number) => left + ((t - t0) / Math.max(1, t1 - t0)) * (W - left - right);
  const y = (v: number) => top + (1 - (v - lo) / (hi - lo)) * (H - top - bottom);
  const parts: string[] = [];
  for (let i = 0; i <= 4; i++) {
    const v = lo + ((hi - lo) * i) / 4;
    parts.push(`<line class="grid" x1="${left}" x2="${W - right}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}"/><text class="axis" x="${left - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end">${esc(formatBytes(v))}</text>`);
  }
  const span = (t1 - t0) / 1000;
  for (let i = 0; i <= 4; i++) {
    const t = t0 + ((t1 - t0) * i) / 4;
    parts.push(`<text class="axis" x="${x(t).toFixed(1)}" y="${H - 8}" text-anchor="middle">${((t - started) / 1000).toFixed(span < 10 ? 1 : 0)} s</text>`);
  }
  let legendY = top + 12;
  for (const s of SERIES) {
    const pts = samples.flatMap((m) => {
      const v = s.value(m);
      return v === undefined ? [] : [`${x(m.time).toFixed(1)},${y(v).toFixed(1)}`];
    });
    if (pts.length < 2) continue;
    parts.push(`<polyline class="series ${s.cls}" points="${pts.join(' ')}"><title>${esc(s.name)}</title></polyline>`);
    parts.push(`<line class="series ${s.cls}" x1="${W - right + 12}" x2="${W - right + 32}" y1="${legendY - 4}" y2="${legendY - 4}"/><text class="legend" x="${W - right + 38}" y="${legendY}">${esc(s.name)}</text>`);
    legendY += 18;
  }
  if (p.trend) {
    const from = p.trend.from;
    const to = p.trend.to;
    parts.push(`<line class="trend" x1="${x(from.t * 1000).toFixed(1)}" y1="${y(from.y).toFixed(1)}" x2="${x(to.t * 1000).toFixed(1)}" y2="${y(to.y).toFixed(1)}"><title>trend ${esc(formatBytes(p.trend.slope))}/s</title></line>`);
    parts.push(`<line class="trend" x1="${W - right + 12}" x2="${W - right + 32}" y1="${legendY - 4}" y2="${legendY - 4}"/><text class="legend" x="${W - right + 38}" y="${legendY}">trend (Theil–Sen)</text>`);
  }
  for (const a of p.alerts) parts.push(`<line class="alertmark" x1="${x(a.time).toFixed(1)}" x2="${x(a.time).toFixed(1)}" y1="${top}" y2="${H - bottom}"><title>alert</title></line>`);
  return `<svg class="memplot" width="${W}" height="${H}" role="img" aria-label="memory over time">${parts.join('')}</svg>`;
}

const CSS = `
body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1000px;padding:0 1em;color:#222}
h1{font-size:1.5em}h2{font-size:1.1em;margin:.2em 0}
section.process{border:1px solid #ddd;border-radius:6px;padding:.6em 1em;margin:1em 0}
.alert,.was,.ok{display:inline-block;padding:0 .5em;border-radius:3px;font-size:.85em;color:#fff}
.alert{background:#c0392b}.was{background:#d68910}.ok{background:#1e8449}
.loc{font-family:ui-monospace,monospace;font-size:.9em;color:#555}
svg text{font:12px system-ui,sans-serif;fill:#222}
.grid{stroke:#eee}.series{fill:none;stroke-width:2}
.rss{stroke:#7f8c8d}.nongo{stroke:#c0392b}.go{stroke:#2e86c1}.c{stroke:#d68910}.anon{stroke:#8e44ad}
.trend{stroke:#111;stroke-width:1.5;stroke-dasharray:6 4}.alertmark{stroke:#c0392b;stroke-width:1;stroke-dasharray:2 3}
table.grown{border-collapse:collapse;margin:.4em 0}table.grown td,table.grown th{border:1px solid #ccc;padding:.2em .6em;text-align:left}
footer{margin-top:3em;color:#999;font-size:.85em}
`;
