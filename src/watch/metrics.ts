// What watch sees, in Prometheus's text exposition format (0.0.4), served at
// /metrics by `watch --listen`. Series are labelled by pid, command and
// cgroup only: a label per stack or per site would make the series count
// grow with the code, so stacks go to the alert and the log instead.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { UsageError } from '../workspace/discover.js';
import type { ProcessState, Watcher } from './watcher.js';

interface Family {
  name: string;
  help: string;
  type: 'gauge' | 'counter';
  value: (p: ProcessState) => number | undefined;
}

const last = (p: ProcessState) => p.samples[p.samples.length - 1];

const FAMILIES: Family[] = [
  { name: 'cgoguard_process_rss_bytes', help: 'Resident set size (VmRSS).', type: 'gauge', value: (p) => last(p)?.rss },
  { name: 'cgoguard_process_rss_anon_bytes', help: 'Resident anonymous memory (RssAnon).', type: 'gauge', value: (p) => last(p)?.rssAnon },
  { name: 'cgoguard_process_rss_file_bytes', help: 'Resident file-backed memory (RssFile).', type: 'gauge', value: (p) => last(p)?.rssFile },
  { name: 'cgoguard_process_swap_bytes', help: 'Swapped-out memory (VmSwap).', type: 'gauge', value: (p) => last(p)?.swap },
  { name: 'cgoguard_process_pss_bytes', help: 'Proportional set size, from smaps_rollup when readable.', type: 'gauge', value: (p) => last(p)?.pss },
  { name: 'cgoguard_process_go_bytes', help: 'Memory the Go runtime has mapped and not released, when the process serves its figures.', type: 'gauge', value: (p) => last(p)?.goBytes },
  { name: 'cgoguard_process_non_go_bytes', help: 'RSS minus the Go runtime\'s memory: C and other non-Go memory.', type: 'gauge', value: (p) => last(p)?.nonGoBytes },
  { name: 'cgoguard_process_c_live_bytes', help: 'C bytes in use by traced allocations (a production build; estimated from samples).', type: 'gauge', value: (p) => last(p)?.c?.liveBytes },
  { name: 'cgoguard_process_c_live_objects', help: 'C objects in use by traced allocations (a production build: allocations minus releases).', type: 'gauge', value: (p) => last(p)?.c?.liveObjects },
  { name: 'cgoguard_process_c_allocations_total', help: 'C allocations at traced sites (a production build).', type: 'counter', value: (p) => last(p)?.c?.allocations },
  { name: 'cgoguard_process_c_frees_total', help: 'C releases at traced sites (a production build).', type: 'counter', value: (p) => last(p)?.c?.frees },
  { name: 'cgoguard_process_memory_slope_bytes_per_second', help: 'Theil-Sen slope of the watched memory (non-Go, else anonymous RSS) over the window.', type: 'gauge', value: (p) => p.trend?.slope },
  { name: 'cgoguard_process_memory_growth_confidence', help: 'Mann-Kendall confidence (0..1) that the watched memory grows.', type: 'gauge', value: (p) => p.trend?.confidence },
  { name: 'cgoguard_process_memory_alert', help: '1 while the watched memory grows steadily, else 0.', type: 'gauge', value: (p) => (p.alerting ? 1 : 0) },
];

/** A label value, escaped as the format wants (backslash, double quote, newline). */
export function labelValue(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function number(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? '+Inf' : '-Inf';
  return String(x);
}

export function exposition(w: Watcher): string {
  const procs = w.live();
  const lines: string[] = [];
  for (const f of FAMILIES) {
    const rows = procs.flatMap((p) => {
      const v = f.value(p);
      if (v === undefined) return [];
      const basis = f.name.includes('memory_') ? `,basis="${p.basis}"` : '';
      return [`${f.name}{pid="${p.id.pid}",command="${labelValue(p.id.command)}",cgroup="${labelValue(p.id.cgroup)}"${basis}} ${number(v)}`];
    });
    if (!rows.length) continue;
    lines.push(`# HELP ${f.name} ${f.help}`, `# TYPE ${f.name} ${f.type}`, ...rows);
  }
  lines.push('# HELP cgoguard_watch_processes Processes watched in the last interval.', '# TYPE cgoguard_watch_processes gauge', `cgoguard_watch_processes ${procs.length}`);
  lines.push('# HELP cgoguard_watch_intervals_total Intervals sampled since watch started.', '# TYPE cgoguard_watch_intervals_total counter', `cgoguard_watch_intervals_total ${w.intervals}`);
  return `${lines.join('\n')}\n`;
}

/** ":9464", "127.0.0.1:0", "[::1]:9464": the host (undefined: every interface) and the port. */
export function parseListen(v: string): { host?: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(v);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new UsageError(`--listen: expected [HOST]:PORT such as :9464 or 127.0.0.1:9464, got "${v}"`);
  return { host: m[1] ?? (m[2] || undefined), port };
}

export interface MetricsServer {
  address: string;
  close(): Promise<void>;
}

export function serveMetrics(listen: string, render: () => string): Promise<MetricsServer> {
  const { host, port } = parseListen(listen);
  const server: Server = createServer((req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405).end();
      return;
    }
    if ((req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('cgoguard watch serves /metrics\n');
      return;
    }
    res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8' }).end(render());
  });
  return new Promise((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => reject(new UsageError(`--listen ${listen}: ${e.code === 'EADDRINUSE' ? 'address already in use' : e.message}`)));
    server.listen(port, host, () => {
      const a = server.address() as AddressInfo;
      resolve({
        address: `${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`,
        close: () => new Promise((r) => server.close(() => r())),
      });
    });
  });
}
