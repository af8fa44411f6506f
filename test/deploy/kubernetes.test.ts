/**
 * deploy/kubernetes/crypto-data-pipeline.yaml, checked statically (no cluster here): parsed with the
 * `yaml` package and held against the code, as test/deploy/compose.test.ts does for compose.yaml.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { Deployment } from 'kubernetes-models/apps/v1';
import { Job } from 'kubernetes-models/batch/v1';
import { ConfigMap, Service } from 'kubernetes-models/v1';
import { parseAllDocuments } from 'yaml';
import { loadConfig, parseDurationMs, VARIABLES } from '../../core/config/index.js';
import { ENTRY_POINTS, NODE_FLAGS, type ProcessKind } from '../../scripts/lib/entry-points.js';
import { needsOf, ROOT } from './compose-file.js';

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string } };
}
interface Probe {
  httpGet: { path: string; port: string | number };
}
interface Container {
  name: string;
  image: string;
  command: string[];
  envFrom?: { configMapRef: { name: string } }[];
  env?: EnvVar[];
  ports?: { name: string; containerPort: number }[];
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  securityContext?: { allowPrivilegeEscalation?: boolean };
}
interface PodSpec {
  terminationGracePeriodSeconds?: number;
  restartPolicy?: string;
  securityContext?: { runAsNonRoot?: boolean };
  containers: Container[];
}
interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  data?: Record<string, string>;
  spec: {
    replicas?: number;
    selector?: { matchLabels: Record<string, string> } | Record<string, string>;
    ports?: { targetPort: string | number }[];
    template: { metadata: { labels: Record<string, string>; annotations?: Record<string, string> }; spec: PodSpec };
  };
}

const PATH = `${ROOT}deploy/kubernetes/crypto-data-pipeline.yaml`;
const TEXT = readFileSync(PATH, 'utf8');
const docs = parseAllDocuments(TEXT);
const manifests = (Array.isArray(docs) ? docs : [docs])
  .map((d) => {
    if (d.errors.length > 0) throw new Error(`${PATH} does not parse: ${d.errors.map((e) => e.message).join('; ')}`);
    return d.toJS() as Manifest;
  })
  .filter(Boolean);
const byKind = (kind: string) => manifests.filter((m) => m.kind === kind);
const workloads = manifests.filter((m) => m.kind === 'Deployment' || m.kind === 'Job');
const configMap = byKind('ConfigMap')[0]!;

/** The keys the header's `kubectl create secret` line documents, with what an operator would put there. */
const SECRET_KEYS = [...TEXT.matchAll(/--from-literal=([a-z-]+)=/g)].map((m) => m[1]!);
const SECRET_VALUES: Record<string, string> = {
  'owner-database-url': 'postgres://postgres:owner-secret@db:5432/crypto_pipeline',
  'loader-database-url': 'postgres://cdp_loader:loader-secret@db:5432/crypto_pipeline',
  'transformer-database-url': 'postgres://cdp_transformer:transformer-secret@db:5432/crypto_pipeline',
  'reader-database-url': 'postgres://cdp_reader:reader-secret@db:5432/crypto_pipeline',
  'redis-url': 'redis://:redis-secret@redis:6379',
  'coingecko-api-key': 'CG-demo-key-123',
  'dashboard-password': 'a-long-dashboard-password',
};

const entryOf = (c: Container) => c.command.find((w) => /^dist\/.*\.js$/.test(w))!;
/** What the container's process sees: the ConfigMap, then its own env (secrets resolved). */
function containerEnv(c: Container): Record<string, string> {
  const env: Record<string, string> = {};
  for (const ref of c.envFrom ?? []) {
    expect(ref.configMapRef.name).toBe(configMap.metadata.name);
    Object.assign(env, configMap.data);
  }
  for (const v of c.env ?? []) {
    const ref = v.valueFrom?.secretKeyRef;
    env[v.name] = ref ? SECRET_VALUES[ref.key]! : v.value!;
  }
  return env;
}
const containers = workloads.map((w) => ({ workload: w, container: w.spec.template.spec.containers[0]! }));

describe('deploy/kubernetes', () => {
  it('has one Deployment per long-running process kind of the repository, a migrate Job, and no CronJob', () => {
    const entries = byKind('Deployment')
      .map((d) => entryOf(d.spec.template.spec.containers[0]!))
      .sort();
    const kinds = ['producers', 'workers', 'dashboard']
      .flatMap((folder) =>
        readdirSync(`${ROOT}${folder}`, { recursive: true, encoding: 'utf8' })
          .filter((f) => f.endsWith('main.ts'))
          .map((f) => `dist/${folder}/${f.replace(/\.ts$/, '.js')}`),
      )
      .sort();
    expect(entries).toEqual(kinds);
    expect(byKind('Job').map((j) => entryOf(j.spec.template.spec.containers[0]!))).toEqual(['dist/scripts/migrate.js']);
    expect(byKind('CronJob')).toEqual([]);
  });

  it('starts each process kind with its node flags (scripts/lib/entry-points.ts)', () => {
    for (const { workload, container } of containers) {
      const kind = (Object.entries(ENTRY_POINTS) as [ProcessKind, string][]).find(
        ([, entry]) => entry === entryOf(container),
      )?.[0];
      if (kind === undefined) continue; // the migrate Job
      expect([workload.metadata.name, container.command]).toEqual([
        workload.metadata.name,
        ['node', ...NODE_FLAGS[kind], ENTRY_POINTS[kind]],
      ]);
    }
  });

  it('runs compiled entry points whose TypeScript source exists', () => {
    for (const { workload, container } of containers) {
      expect([workload.metadata.name, container.command[0]]).toEqual([workload.metadata.name, 'node']);
      const source = entryOf(container)
        .replace(/^dist\//, '')
        .replace(/\.js$/, '.ts');
      expect([workload.metadata.name, source, existsSync(`${ROOT}${source}`)]).toEqual([
        workload.metadata.name,
        source,
        true,
      ]);
    }
  });

  it('sets only variables the app reads, from secrets the header tells how to create', () => {
    for (const name of Object.keys(configMap.data!)) expect([name, name in VARIABLES]).toEqual([name, true]);
    expect(SECRET_KEYS.sort()).toEqual(Object.keys(SECRET_VALUES).sort());
    for (const { workload, container } of containers) {
      for (const v of container.env ?? []) {
        expect([workload.metadata.name, v.name, v.name in VARIABLES]).toEqual([workload.metadata.name, v.name, true]);
        const ref = v.valueFrom?.secretKeyRef;
        if (ref) expect([v.name, ref.name, SECRET_KEYS.includes(ref.key)]).toEqual([v.name, 'cdp-secrets', true]);
        // A secret is never written inline.
        if (VARIABLES[v.name as keyof typeof VARIABLES]?.secret)
          expect([workload.metadata.name, v.name, ref !== undefined]).toEqual([workload.metadata.name, v.name, true]);
      }
    }
  });

  it('starts every container with a configuration the app accepts, in production mode', () => {
    for (const { workload, container } of containers) {
      const env = containerEnv(container);
      expect([workload.metadata.name, env.NODE_ENV]).toEqual([workload.metadata.name, 'production']);
      expect(() => loadConfig(env, { needs: needsOf(entryOf(container)) })).not.toThrow();
      // The CoinGecko key goes only where CoinGecko is called.
      expect([workload.metadata.name, 'COINGECKO_API_KEY' in env]).toEqual([
        workload.metadata.name,
        needsOf(entryOf(container)).includes('coingecko-api'),
      ]);
    }
  });

  it('connects each kind as its least-privilege role; only the migrate Job as the schema owner', () => {
    const roles = Object.fromEntries(
      containers.map(({ workload, container }) => [
        workload.metadata.name,
        new URL(containerEnv(container).DATABASE_URL!).username,
      ]),
    );
    expect(roles).toEqual({
      migrate: 'postgres',
      scheduler: 'cdp_loader',
      'fetch-worker': 'cdp_loader',
      'load-worker': 'cdp_loader',
      'transform-worker': 'cdp_transformer',
      dashboard: 'cdp_reader',
    });
  });

  it('gives pods longer to stop than SHUTDOWN_TIMEOUT gives their jobs', () => {
    for (const deployment of byKind('Deployment')) {
      const container = deployment.spec.template.spec.containers[0]!;
      const shutdownMs = loadConfig(containerEnv(container)).jobs.shutdownTimeoutMs;
      const closers = entryOf(container) === 'dist/producers/scheduler/main.js' ? 2 : 1;
      const graceMs = (deployment.spec.template.spec.terminationGracePeriodSeconds ?? 30) * 1000; // Kubernetes' default is 30 s
      expect([deployment.metadata.name, graceMs >= closers * shutdownMs + 10_000]).toEqual([
        deployment.metadata.name,
        true,
      ]);
      expect(parseDurationMs(configMap.data!.SHUTDOWN_TIMEOUT!)).toBe(shutdownMs);
    }
  });

  it('probes and scrapes the port each process really listens on', () => {
    for (const deployment of byKind('Deployment')) {
      const container = deployment.spec.template.spec.containers[0]!;
      const config = loadConfig(containerEnv(container));
      const isDashboard = entryOf(container) === 'dist/dashboard/main.js';
      const port = isDashboard ? config.dashboard.port : config.metrics.port;
      const named = Object.fromEntries((container.ports ?? []).map((p) => [p.name, p.containerPort]));
      for (const probe of [container.livenessProbe, container.readinessProbe].filter(
        (p): p is Probe => p !== undefined,
      )) {
        expect([deployment.metadata.name, named[probe.httpGet.port as string]]).toEqual([
          deployment.metadata.name,
          port,
        ]);
      }
      expect([deployment.metadata.name, container.livenessProbe?.httpGet.path]).toEqual([
        deployment.metadata.name,
        '/healthz',
      ]);
      const annotations = deployment.spec.template.metadata.annotations ?? {};
      expect([
        deployment.metadata.name,
        annotations['prometheus.io/scrape'],
        Number(annotations['prometheus.io/port']),
        annotations['prometheus.io/path'],
      ]).toEqual([deployment.metadata.name, 'true', port, '/metrics']);
    }
    expect(
      byKind('Deployment').find((d) => d.metadata.name === 'dashboard')!.spec.template.spec.containers[0]!
        .readinessProbe?.httpGet.path,
    ).toBe('/readyz');
  });

  it('selects its own pods, runs them as non-root, and uses the dbt image for the transform worker only', () => {
    for (const deployment of byKind('Deployment')) {
      const { selector, template } = deployment.spec;
      for (const [k, v] of Object.entries((selector as { matchLabels: Record<string, string> }).matchLabels))
        expect(template.metadata.labels[k]).toBe(v);
      expect([deployment.metadata.name, template.spec.securityContext?.runAsNonRoot]).toEqual([
        deployment.metadata.name,
        true,
      ]);
      expect([
        deployment.metadata.name,
        template.spec.containers[0]!.securityContext?.allowPrivilegeEscalation,
      ]).toEqual([deployment.metadata.name, false]);
      const image = template.spec.containers[0]!.image;
      const wantsDbt = entryOf(template.spec.containers[0]!) === 'dist/workers/transform/main.js';
      expect([deployment.metadata.name, /-dbt:/.test(image)]).toEqual([deployment.metadata.name, wantsDbt]);
    }
    const service = byKind('Service')[0]!;
    const dashboard = byKind('Deployment').find((d) => d.metadata.name === 'dashboard')!;
    for (const [k, v] of Object.entries(service.spec.selector as Record<string, string>))
      expect(dashboard.spec.template.metadata.labels[k]).toBe(v);
    expect(dashboard.spec.template.spec.containers[0]!.ports!.map((p) => p.name)).toContain(
      service.spec.ports![0]!.targetPort,
    );
  });
});

/**
 * Against the Kubernetes API's own OpenAPI schemas, as kubernetes-models ships them (generated from
 * Kubernetes 1.27; version 4.x, the last line that runs on Node 20). No cluster can run here, so
 * this is as close to `kubectl apply --dry-run=server` as these machines get.
 */
describe('the Kubernetes example against the API schemas', () => {
  const MODELS: Record<string, new (data: never) => { validate(): void }> = {
    'v1/ConfigMap': ConfigMap,
    'v1/Service': Service,
    'apps/v1/Deployment': Deployment,
    'batch/v1/Job': Job,
  };
  const validate = (m: Manifest) => {
    const Model = MODELS[`${m.apiVersion}/${m.kind}`];
    if (!Model) throw new Error(`no schema mapped for ${m.apiVersion} ${m.kind}: add its kubernetes-models class`);
    new Model(m as never).validate();
  };

  it.each(manifests.map((m) => [`${m.kind} ${m.metadata.name}`, m] as const))('%s is valid', (_name, manifest) => {
    expect(() => validate(manifest)).not.toThrow();
  });

  it('rejects what the API server would (the check can fail)', () => {
    const deployment = structuredClone(byKind('Deployment')[0]!);
    (deployment.spec as { replicas: unknown }).replicas = 'two';
    expect(() => validate(deployment)).toThrow(/replicas/);
    const noImage = structuredClone(byKind('Deployment')[0]!);
    (noImage.spec.template.spec.containers[0] as Partial<Container>).name = undefined;
    expect(() => validate(noImage)).toThrow(/name/);
  });
});
