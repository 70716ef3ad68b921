// The Kubernetes manifests, checked offline (no cluster runs here): every object validates against the
// Kubernetes API's JSON schemas (kubernetes-models), and the parts that must agree with the platform do —
// the roles, the probes' paths, the settings (loadConfig accepts them), the Docker socket and data paths.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigMap, Namespace, Secret, Service } from 'kubernetes-models/v1';
import { DaemonSet, Deployment, StatefulSet } from 'kubernetes-models/apps/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../platform/config.js';

const file = path.join(import.meta.dirname, '../../../deploy/kubernetes/faas.yaml');
const docs = parseAllDocuments(readFileSync(file, 'utf8')).map(
  (d) => d.toJS() as { apiVersion: string; kind: string; metadata: { name: string } } & Record<string, any>,
);

const MODELS: Record<string, new (data: any) => { validate(): void }> = {
  'v1/Namespace': Namespace,
  'v1/Secret': Secret,
  'v1/ConfigMap': ConfigMap,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'apps/v1/DaemonSet': DaemonSet,
  'apps/v1/StatefulSet': StatefulSet,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
};

const find = (kind: string, name: string) => docs.find((d) => d.kind === kind && d.metadata.name === name)!;
const envOf = (container: any): Record<string, string> =>
  Object.fromEntries((container.env ?? []).filter((e: any) => 'value' in e).map((e: any) => [e.name, e.value]));

describe('deploy/kubernetes/faas.yaml', () => {
  it('holds only objects of known kinds, each valid against the Kubernetes schemas', () => {
    expect(docs.length).toBeGreaterThanOrEqual(9);
    for (const doc of docs) {
      const Model = MODELS[`${doc.apiVersion}/${doc.kind}`];
      expect(Model, `${doc.apiVersion}/${doc.kind}`).toBeDefined();
      expect(() => new Model!(doc).validate(), `${doc.kind} ${doc.metadata.name}`).not.toThrow();
    }
  });

  it('runs gateways and one invoker per node with settings the platform accepts', () => {
    const config = find('ConfigMap', 'faas-config').data as Record<string, string>;
    const token = find('Secret', 'faas-token').stringData as Record<string, string>;
    const gateway = find('Deployment', 'faas-gateway').spec.template.spec.containers[0];
    const invoker = find('DaemonSet', 'faas-invoker').spec.template.spec.containers[0];
    expect(gateway.args).toEqual(['up', '--role', 'gateway']);
    expect(invoker.args).toEqual(['up', '--role', 'invoker']);
    const gatewayConfig = loadConfig({ ...config, ...token, ...envOf(gateway), FAAS_ROLE: 'gateway' });
    expect(gatewayConfig).toMatchObject({ port: 8080, host: '0.0.0.0', redisUrl: config.REDIS_URL });
    // Kubernetes expands $(NODE_IP) from the env var the downward API sets.
    const invokerEnv: Record<string, string> = { ...config, ...token, ...envOf(invoker), NODE_IP: '10.0.0.7' };
    const invokerConfig = loadConfig({ ...invokerEnv, FAAS_INVOKER_URL: invokerEnv.FAAS_INVOKER_URL!.replace('$(NODE_IP)', '10.0.0.7'), FAAS_ROLE: 'invoker' });
    expect(invokerConfig).toMatchObject({ invokerPort: 8081, invokerUrl: 'http://10.0.0.7:8081', dataDir: '/var/lib/faas' });
  });

  it('probes the paths the gateway and the invoker serve, readiness on /readyz (503 while no invoker is live)', () => {
    const gateway = find('Deployment', 'faas-gateway').spec.template.spec.containers[0];
    expect(gateway.readinessProbe.httpGet.path).toBe('/readyz');
    expect(gateway.livenessProbe.httpGet.path).toBe('/healthz');
    const invoker = find('DaemonSet', 'faas-invoker').spec.template.spec.containers[0];
    expect(invoker.readinessProbe.httpGet.path).toBe('/healthz');
  });

  it("gives the invoker its node's Docker engine, and its data directory at the same path on the node", () => {
    const pod = find('DaemonSet', 'faas-invoker').spec.template.spec;
    const mounts = Object.fromEntries(pod.containers[0].volumeMounts.map((m: any) => [m.name, m.mountPath]));
    const volumes = Object.fromEntries(pod.volumes.map((v: any) => [v.name, v.hostPath?.path]));
    expect(volumes['docker-socket']).toBe('/var/run/docker.sock');
    expect(mounts['docker-socket']).toBe('/var/run/docker.sock');
    expect(mounts.data).toBe(volumes.data);
    expect(envOf(pod.containers[0]).FAAS_DATA_DIR).toBe(volumes.data);
    expect(pod.hostNetwork).toBe(true);
  });
});
