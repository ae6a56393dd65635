// The Kubernetes manifests of deploy/, checked for structure (no Kubernetes
// schema validator installs offline from npm or the Go module proxy without
// fetching its schemas from elsewhere): every resource of the kustomize base
// is listed and well-formed, field names are those of the Kubernetes API
// (a typo in a security setting would silently do nothing), selectors and
// port names meet, the least-privilege settings hold, the rules match the
// shipped rule file, and the watcher's arguments are ones `cgoguard watch`
// accepts.
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { cgoguard, repoRoot } from './support/cli.js';

const base = path.join(repoRoot, 'deploy/kustomize/base');
type Doc = Record<string, any>;
const load = (f: string): Doc => YAML.parse(readFileSync(path.join(base, f), 'utf8'));
const kustomization = load('kustomization.yaml');
const docs = new Map<string, Doc>((kustomization.resources as string[]).map((f) => [f, load(f)]));
const byKind = (kind: string) => [...docs.values()].find((d) => d.kind === kind)!;

/** The fields of the Kubernetes API objects these manifests use (core/v1, apps/v1, monitoring.coreos.com/v1). */
const FIELDS: Record<string, string[]> = {
  podSpec: ['serviceAccountName', 'automountServiceAccountToken', 'hostPID', 'enableServiceLinks', 'tolerations', 'securityContext', 'containers', 'volumes', 'nodeSelector', 'priorityClassName'],
  podSecurityContext: ['runAsNonRoot', 'runAsUser', 'runAsGroup', 'seccompProfile', 'fsGroup'],
  container: ['name', 'image', 'args', 'ports', 'securityContext', 'resources', 'livenessProbe', 'readinessProbe', 'volumeMounts', 'env'],
  securityContext: ['allowPrivilegeEscalation', 'privileged', 'readOnlyRootFilesystem', 'capabilities', 'runAsNonRoot', 'runAsUser', 'seccompProfile'],
  volumeMount: ['name', 'mountPath', 'readOnly', 'subPath'],
  containerPort: ['name', 'containerPort', 'protocol'],
  daemonSetSpec: ['selector', 'updateStrategy', 'template', 'minReadySeconds', 'revisionHistoryLimit'],
  serviceSpec: ['clusterIP', 'selector', 'ports', 'type'],
  servicePort: ['name', 'port', 'targetPort', 'protocol'],
  serviceMonitorEndpoint: ['port', 'interval', 'path', 'relabelings', 'scrapeTimeout'],
};

function onlyKnown(obj: Doc, kind: string): void {
  for (const k of Object.keys(obj)) expect(FIELDS[kind], `${kind}.${k}`).toContain(k);
}

describe('deploy/kustomize/base', () => {
  it('lists every manifest of the folder, each a well-formed object of a known kind', () => {
    const files = readdirSync(base).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml');
    expect([...docs.keys()].sort()).toEqual(files.sort());
    const apiVersions: Record<string, string> = { Namespace: 'v1', ServiceAccount: 'v1', Service: 'v1', DaemonSet: 'apps/v1', ServiceMonitor: 'monitoring.coreos.com/v1', PrometheusRule: 'monitoring.coreos.com/v1' };
    for (const [f, d] of docs) {
      expect(apiVersions[d.kind], f).toBe(d.apiVersion);
      expect(d.metadata?.name, f).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
    }
    expect(kustomization.apiVersion).toBe('kustomize.config.k8s.io/v1beta1');
    expect(kustomization.images.map((i: Doc) => i.name)).toContain(byKind('DaemonSet').spec.template.spec.containers[0].image);
  });

  it('runs the watcher with hostPID, the host /proc read-only, and least privilege', () => {
    const ds = byKind('DaemonSet');
    onlyKnown(ds.spec, 'daemonSetSpec');
    expect(ds.spec.template.metadata.labels).toMatchObject(ds.spec.selector.matchLabels);
    const pod = ds.spec.template.spec;
    onlyKnown(pod, 'podSpec');
    onlyKnown(pod.securityContext, 'podSecurityContext');
    expect(pod.hostPID).toBe(true);
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    expect(pod.securityContext.runAsUser).toBeGreaterThan(0);
    expect(pod.containers).toHaveLength(1);
    const c = pod.containers[0];
    onlyKnown(c, 'container');
    onlyKnown(c.securityContext, 'securityContext');
    c.volumeMounts.forEach((m: Doc) => onlyKnown(m, 'volumeMount'));
    c.ports.forEach((p: Doc) => onlyKnown(p, 'containerPort'));
    expect(c.securityContext).toEqual({ allowPrivilegeEscalation: false, privileged: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
    // The host's /proc, read-only, where --proc says.
    const vol = pod.volumes.find((v: Doc) => v.hostPath?.path === '/proc');
    const mount = c.volumeMounts.find((m: Doc) => m.name === vol.name);
    expect(mount.readOnly).toBe(true);
    expect(c.args).toContain(`--proc=${mount.mountPath}`);
    expect(c.volumeMounts.every((m: Doc) => m.readOnly)).toBe(true);
    // Metrics on the port named in the Service and the ServiceMonitor.
    const port = c.ports.find((p: Doc) => p.name === 'metrics');
    expect(c.args).toContain(`--listen=:${port.containerPort}`);
    expect(byKind('ServiceAccount').automountServiceAccountToken).toBe(false);
  });

  it('has a Service and a ServiceMonitor that find the watcher pods', () => {
    const pod = byKind('DaemonSet').spec.template;
    const svc = byKind('Service');
    onlyKnown(svc.spec, 'serviceSpec');
    svc.spec.ports.forEach((p: Doc) => onlyKnown(p, 'servicePort'));
    expect(pod.metadata.labels).toMatchObject(svc.spec.selector);
    expect(svc.spec.ports[0].targetPort).toBe('metrics');
    const sm = byKind('ServiceMonitor');
    expect(svc.metadata.labels).toMatchObject(sm.spec.selector.matchLabels);
    sm.spec.endpoints.forEach((e: Doc) => onlyKnown(e, 'serviceMonitorEndpoint'));
    expect(sm.spec.endpoints.map((e: Doc) => e.port)).toEqual([svc.spec.ports[0].name]);
  });

  it('ships the same rules as deploy/prometheus', () => {
    const file = YAML.parse(readFileSync(path.join(repoRoot, 'deploy/prometheus/cgoguard-rules.yml'), 'utf8'));
    expect(byKind('PrometheusRule').spec).toEqual(file);
  });

  it('gives the watcher arguments that cgoguard watch accepts', () => {
    const args = (byKind('DaemonSet').spec.template.spec.containers[0].args as string[]).map((a) => (a.startsWith('--proc=') ? '--proc=/proc' : a.startsWith('--listen=') ? '--listen=127.0.0.1:0' : a.startsWith('--interval=') ? '--interval=100ms' : a));
    const r = cgoguard([...args, '--count=1'], { timeout: 60_000 });
    expect(r.stderr).toMatch(/serving \/metrics on 127\.0\.0\.1:\d+/);
    expect(r.code, r.stderr).toBe(0);
  });
});
