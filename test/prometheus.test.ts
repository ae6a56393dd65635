// watch --listen scraped by a real Prometheus (Debian's): the series and the
// alert state arrive, as PromQL sees them; the shipped alerting rules pass
// promtool's check and unit tests and go pending on the live data; every
// query of the shipped Grafana dashboard runs.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bin, repoRoot } from './support/cli.js';
import { buildProduction, hasGo, hasPrometheus, promQuery, start, startPrometheus, startService, waitFor, type Running, type Server, type Service } from './support/servers.js';

const rules = path.join(repoRoot, 'deploy/prometheus/cgoguard-rules.yml');
const dashboard = JSON.parse(readFileSync(path.join(repoRoot, 'deploy/grafana/cgoguard-dashboard.json'), 'utf8')) as { panels: { title: string; targets: { expr: string }[] }[] };

describe.skipIf(!hasPrometheus && !process.env.CI)('shipped Prometheus rules', () => {
  it('pass promtool check rules and their unit tests', () => {
    const check = spawnSync('promtool', ['check', 'rules', rules], { encoding: 'utf8' });
    expect(check.status, check.stderr).toBe(0);
    expect(check.stdout).toMatch(/SUCCESS: 3 rules found/);
    const unit = spawnSync('promtool', ['test', 'rules', 'cgoguard-rules.test.yml'], { encoding: 'utf8', cwd: path.dirname(rules) });
    expect(unit.status, unit.stdout + unit.stderr).toBe(0);
  });
});

describe.skipIf((!hasPrometheus || !hasGo) && !process.env.CI)('watch --listen scraped by Prometheus', () => {
  const tmp = mkdtempSync(path.join(tmpdir(), 'cgoguard-prom-test-'));
  let service: Service;
  let watch: Running;
  let prom: Server;

  beforeAll(async () => {
    service = await startService(buildProduction('service', tmp), ['-leak', '-every', '5ms']);
    watch = start(process.execPath, [bin, 'watch', String(service.pid), '--endpoint', service.url, '--interval', '200ms', '--window', '10', '--min-samples', '6', '--listen', '127.0.0.1:0', '--quiet']);
    const addr = await waitFor('watch to listen', () => /serving \/metrics on (\S+)/.exec(watch.output())?.[1]);
    prom = await startPrometheus([addr], rules);
  });
  afterAll(async () => {
    await prom?.stop();
    await watch?.stop();
    await service?.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('has the series and the alert state, labelled by pid, command and cgroup', async () => {
    const pid = String(service.pid);
    const alert = await waitFor('the alert series to be 1', async () => {
      const r = await promQuery(prom.url, `cgoguard_process_memory_alert{pid="${pid}"} == 1`);
      return r.length ? r : undefined;
    });
    expect(alert[0].metric).toMatchObject({ pid, command: 'service', basis: 'non-go', job: 'cgoguard-watch' });
    expect(alert[0].metric.cgroup).toMatch(/^\//);
    const nonGo = await promQuery(prom.url, `cgoguard_process_non_go_bytes{pid="${pid}"}`);
    const rss = await promQuery(prom.url, `cgoguard_process_rss_bytes{pid="${pid}"}`);
    expect(Number(nonGo[0].value[1])).toBeGreaterThan(0);
    expect(Number(nonGo[0].value[1])).toBeLessThan(Number(rss[0].value[1]));
    const c = await promQuery(prom.url, `cgoguard_process_c_live_bytes{pid="${pid}"}`);
    expect(Number(c[0].value[1])).toBeGreaterThan(0);
    const slope = await promQuery(prom.url, `cgoguard_process_memory_slope_bytes_per_second{pid="${pid}"} > 1e6`);
    expect(slope).toHaveLength(1);
    // The shipped rule sees it: pending for its 10 minutes.
    const pending = await waitFor('the rule to go pending', async () => {
      const r = await promQuery(prom.url, `ALERTS{alertname="CgoguardMemoryGrowing", pid="${pid}"}`);
      return r.length ? r : undefined;
    });
    expect(pending[0].metric.alertstate).toBe('pending');
  });

  it('answers every query of the shipped Grafana dashboard', async () => {
    let withData = 0;
    for (const p of dashboard.panels) {
      for (const t of p.targets) {
        const expr = t.expr.replace(/\$instance|\$command/g, '.*');
        const r = await promQuery(prom.url, expr);
        if (r.length) withData++;
      }
    }
    // All but the ones with no data while nothing else is watched: every panel here has some.
    expect(withData).toBe(dashboard.panels.reduce((a, p) => a + p.targets.length, 0));
  });
});
