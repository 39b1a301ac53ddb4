// deploy/k8s/ and compose.yaml, checked by machine. The Kubernetes manifests are validated
// against the API schemas vendored in `kubernetes-models` (JSON Schema compiled with ajv; nothing
// is fetched), then cross-checked: probes on routes the service has, DATABASE_URL from the Secret,
// the Service and PDB selecting the pods, the HPA scaling the Deployment on CPU. The validator is
// shown to reject planted mistakes.
import t from 'tap';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments, parse } from 'yaml';
import { Secret, Service } from 'kubernetes-models/v1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';

const ROOT = new URL('../../', import.meta.url).pathname;
const K8S = join(ROOT, 'deploy/k8s');

type Manifest = { apiVersion: string; kind: string; metadata: { name: string }; [k: string]: unknown };
type Model = { validate(): void };
const MODELS: Record<string, new (data: never) => Model> = {
  'v1/Secret': Secret,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
};

/** Throws the schema's complaint for a manifest of a known kind. */
function validate(m: Manifest): void {
  const Cls = MODELS[`${m.apiVersion}/${m.kind}`];
  if (!Cls) throw new Error(`no schema for ${m.apiVersion} ${m.kind}`);
  new Cls(m as never).validate();
}

function load(): { file: string; doc: Manifest }[] {
  const out: { file: string; doc: Manifest }[] = [];
  for (const file of readdirSync(K8S).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml').sort()) {
    for (const d of parseAllDocuments(readFileSync(join(K8S, file), 'utf8'))) {
      if (d.errors.length) throw new Error(`${file}: ${d.errors[0].message}`);
      out.push({ file, doc: d.toJS() as Manifest });
    }
  }
  return out;
}

const clone = <T>(x: T): T => structuredClone(x);

t.test('every manifest validates against its Kubernetes schema', async (t) => {
  const docs = load();
  t.ok(docs.length >= 4, `${docs.length} manifests`);
  for (const { file, doc } of docs) t.doesNotThrow(() => validate(doc), `${file}: ${doc.kind} ${doc.metadata.name}`);
  const kinds = new Set(docs.map((d) => d.doc.kind));
  for (const k of ['Deployment', 'Service', 'HorizontalPodAutoscaler', 'Secret']) t.ok(kinds.has(k), `has a ${k}`);
  const kustomization = parse(readFileSync(join(K8S, 'kustomization.yaml'), 'utf8')) as { resources: string[] };
  t.same([...kustomization.resources].sort(), [...new Set(docs.map((d) => d.file))].sort(), 'kustomization.yaml lists every manifest');
});

t.test('the validator rejects planted mistakes', async (t) => {
  const dep = load().find((d) => d.doc.kind === 'Deployment')!.doc;
  const bad1 = clone(dep) as { spec: { template: { spec: { containers: { ports: { containerPort: unknown }[] }[] } } } } & Manifest;
  bad1.spec.template.spec.containers[0].ports[0].containerPort = '3000';
  t.throws(() => validate(bad1), 'containerPort as a string');
  const bad2 = clone(dep) as { spec: { selector?: unknown } } & Manifest;
  delete bad2.spec.selector;
  t.throws(() => validate(bad2), 'a Deployment without a selector');
  const hpa = load().find((d) => d.doc.kind === 'HorizontalPodAutoscaler')!.doc as { spec: { maxReplicas?: unknown } } & Manifest;
  const bad3 = clone(hpa);
  delete bad3.spec.maxReplicas;
  t.throws(() => validate(bad3), 'an HPA without maxReplicas');
  t.throws(() => validate({ apiVersion: 'apps/v1beta1', kind: 'Deployment', metadata: { name: 'x' } }), 'an unknown API version');
});

t.test('the manifests fit together and fit the service', async (t) => {
  const docs = load().map((d) => d.doc);
  const of = (kind: string) => docs.find((d) => d.kind === kind) as never as Record<string, any>; // any: walking parsed YAML
  const dep = of('Deployment');
  const pod = dep.spec.template;
  const c = pod.spec.containers[0];
  t.same(dep.spec.selector.matchLabels, pod.metadata.labels, 'the Deployment selects its own pods');
  // Neither probe depends on the database: an outage must neither empty the Service nor restart
  // the pods, which keep answering (deploy/README.md).
  t.equal(c.readinessProbe?.httpGet?.path, '/healthz', 'readiness probe on /healthz');
  t.equal(c.livenessProbe?.httpGet?.path, '/healthz', 'liveness probe on /healthz');
  t.ok(c.livenessProbe.failureThreshold * c.livenessProbe.periodSeconds > c.readinessProbe.failureThreshold * c.readinessProbe.periodSeconds, 'liveness more tolerant than readiness');
  const portName = c.ports[0].name;
  t.equal(c.ports[0].containerPort, 3000, 'the image listens on 3000');
  for (const p of [c.readinessProbe, c.livenessProbe, c.startupProbe]) t.equal(p.httpGet.port, portName, 'probes use the named port');
  const dbEnv = c.env.find((e: { name: string }) => e.name === 'DATABASE_URL');
  const secret = of('Secret');
  t.equal(dbEnv?.valueFrom?.secretKeyRef?.name, secret.metadata.name, 'DATABASE_URL comes from the Secret');
  t.ok(Object.keys(secret.stringData ?? secret.data).includes(dbEnv.valueFrom.secretKeyRef.key), 'the Secret has that key');
  t.ok(c.resources?.requests?.cpu, 'a CPU request (the HPA scales relative to it)');
  t.equal(pod.spec.securityContext.runAsNonRoot, true, 'runs as non-root');
  const svc = of('Service');
  t.same(svc.spec.selector, pod.metadata.labels, 'the Service selects the pods');
  t.equal(svc.spec.ports[0].targetPort, portName, 'the Service targets the named port');
  const hpa = of('HorizontalPodAutoscaler');
  t.same([hpa.spec.scaleTargetRef.kind, hpa.spec.scaleTargetRef.name], ['Deployment', dep.metadata.name], 'the HPA scales the Deployment');
  t.equal(hpa.spec.metrics[0].resource.name, 'cpu', 'on CPU');
  const routes = readFileSync(join(ROOT, 'src/server/routes/meta.ts'), 'utf8');
  for (const p of ['/readyz', '/healthz']) t.match(routes, `router.get('${p}'`, `the service has ${p}`);
});

t.test('compose.yaml: PostgreSQL, replicas, HAProxy, health-based startup order', async (t) => {
  const compose = parse(readFileSync(join(ROOT, 'compose.yaml'), 'utf8')) as { services: Record<string, any>; volumes: Record<string, unknown> }; // any: parsed YAML
  const { postgres, inkling, haproxy } = compose.services;
  t.ok(postgres && inkling && haproxy, 'the three services');
  t.ok(postgres.healthcheck?.test, 'PostgreSQL has a health check');
  t.equal(inkling.depends_on?.postgres?.condition, 'service_healthy', 'replicas wait for a healthy PostgreSQL');
  t.equal(haproxy.depends_on?.inkling?.condition, 'service_healthy', 'HAProxy waits for a healthy replica');
  t.match(String(inkling.deploy?.replicas), /INKLING_REPLICAS/, 'replica count from INKLING_REPLICAS');
  t.match(inkling.environment.DATABASE_URL, /@postgres:5432\//, 'replicas use the compose PostgreSQL');
  t.notOk(inkling.volumes, 'no shared volume for the replicas (each has its own spool)');
  t.ok(compose.volumes.pgdata !== undefined && postgres.volumes.some((v: string) => v.startsWith('pgdata:')), 'PostgreSQL data on a named volume');
  const cfg = readFileSync(join(ROOT, 'deploy/haproxy.cfg'), 'utf8');
  t.match(cfg, /server-template inkling \d+-\d+ inkling:3000/, 'HAProxy finds the replicas by the service name');
  t.match(cfg, /option httpchk GET \/healthz/, 'HAProxy health-checks the replicas');
  const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
  t.match(dockerfile, /HEALTHCHECK[\s\S]*\/readyz/, 'the image health check is /readyz');
  t.match(dockerfile, /^USER inkling$/m, 'the image runs as a non-root user');
  t.match(dockerfile, /^FROM node:20-bookworm AS build$/m, 'standard base image names');
});
