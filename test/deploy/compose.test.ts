/**
 * compose.yaml, checked statically (no Docker engine here): the file is parsed with `yaml` and
 * interpolated as Compose would, then held against the code: the entry points, the variables the app
 * and the simulator read (core/config/variables.ts, simulator/options.ts), the init scripts.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { parse } from 'yaml';
import { loadConfig, parseDurationMs, VARIABLES, type AppConfig } from '../../core/config/index.js';
import { ENTRY_POINTS, NODE_FLAGS, type ProcessKind } from '../../scripts/lib/entry-points.js';
import { ENV_NAMES, parseSimulatorEnv } from '../../simulator/options.js';
import {
  commandOf,
  dependenciesOf,
  environmentOf,
  interpolate,
  isAppService,
  isOneShot,
  loadCompose,
  needsOf,
  references,
  ROOT,
  strings,
  type Service,
} from './compose-file.js';
import { instructionsOf, readDockerfile } from './dockerfile-file.js';

const { compose, header } = loadCompose();
const services = Object.entries(compose.services);
const appServices = services.filter(([, s]) => isAppService(s));
const longRunningApp = appServices.filter(([, s]) => !isOneShot(s));
const ENV_EXAMPLE = readFileSync(`${ROOT}.env.example`, 'utf8');

/** What an operator puts in .env: the required secrets only, so every other setting is compose's default. */
const DOT_ENV: Record<string, string> = {
  POSTGRES_PASSWORD: 'pg-secret-1',
  REDIS_PASSWORD: 'redis-secret-2',
  CDP_LOADER_PASSWORD: 'loader-secret-3',
  CDP_TRANSFORMER_PASSWORD: 'transformer-secret-4',
  CDP_READER_PASSWORD: 'reader-secret-5',
  COINGECKO_API_KEY: 'CG-demo-key-123',
  DASHBOARD_PASSWORD: 'a-long-dashboard-password',
  GF_ADMIN_PASSWORD: 'grafana-secret-6',
  CDP_ALERT_WEBHOOK_URL: 'https://alerts.example.com/hook',
};

/** Environment the image itself sets (Dockerfile ENV of the runtime target), under the service's. */
const IMAGE_ENV: Record<string, string> = Object.fromEntries(
  instructionsOf(readDockerfile(), 'runtime')
    .instructions.filter((i) => i.keyword === 'ENV')
    .flatMap((i) => i.args.split(' ').map((pair) => pair.split('=') as [string, string])),
);

const containerEnv = (service: Service) => ({ ...IMAGE_ENV, ...environmentOf(service, DOT_ENV) });
const entryOf = (service: Service) => commandOf(service).find((word) => /^dist\/.*\.js$/.test(word));
const isWorkerProcess = (service: Service) => /^dist\/(workers|producers)\//.test(entryOf(service) ?? '');

describe('compose.yaml', () => {
  it('uses the Compose spec without the obsolete version key', () => {
    expect(compose).not.toHaveProperty('version');
    expect(Object.keys(compose.services)).toEqual(
      expect.arrayContaining([
        'postgres',
        'redis',
        'migrate',
        'simulator',
        'scheduler',
        'fetch-worker',
        'load-worker',
        'transform-worker',
        'dashboard',
        'prometheus',
        'grafana',
      ]),
    );
  });

  it('gives every service a healthcheck, unless it is a one-shot', () => {
    for (const [name, service] of services) {
      if (isOneShot(service)) continue;
      expect([name, service.healthcheck?.test !== undefined && service.healthcheck.disable !== true]).toEqual([
        name,
        true,
      ]);
    }
  });

  it('runs one-shots once: restart "no"', () => {
    expect(compose.services.migrate!.restart).toBe('no');
    expect(commandOf(compose.services.migrate!)).toEqual(['node', 'dist/scripts/migrate.js']);
  });
});

describe('app services', () => {
  it('run compiled entry points whose TypeScript source exists', () => {
    for (const [name, service] of appServices) {
      const command = commandOf(service);
      expect([name, command[0]]).toEqual([name, 'node']);
      const entry = entryOf(service);
      expect([name, entry]).toEqual([name, expect.stringMatching(/^dist\//)]);
      const source = entry!.replace(/^dist\//, '').replace(/\.js$/, '.ts');
      expect([name, source, existsSync(`${ROOT}${source}`)]).toEqual([name, source, true]);
    }
  });

  it('start each process kind with its node flags (scripts/lib/entry-points.ts), as the local spawners do', () => {
    const kinds = Object.entries(ENTRY_POINTS) as [ProcessKind, string][];
    let checked = 0;
    for (const [name, service] of appServices) {
      const kind = kinds.find(([, entry]) => entry === entryOf(service))?.[0];
      if (kind === undefined) continue; // one-shots (migrate) are not process kinds
      expect([name, commandOf(service)]).toEqual([name, ['node', ...NODE_FLAGS[kind], ENTRY_POINTS[kind]]]);
      checked++;
    }
    expect(checked).toBe(kinds.length);
  });

  it('cover every process kind the repository has', () => {
    const entries = new Set(appServices.map(([, s]) => entryOf(s)));
    for (const folder of ['producers', 'workers', 'dashboard', 'simulator']) {
      for (const file of readdirSync(`${ROOT}${folder}`, { recursive: true, encoding: 'utf8' }).filter((f) =>
        f.endsWith('main.ts'),
      )) {
        const entry = `dist/${folder}/${file.replace(/\.ts$/, '.js')}`;
        expect([entry, entries.has(entry)]).toEqual([entry, true]);
      }
    }
  });

  it('set only variables the app reads (core/config/variables.ts), or the simulator its SIM_* ones', () => {
    const simulatorVariables = new Set(Object.values(ENV_NAMES));
    for (const [name, service] of appServices) {
      const known =
        entryOf(service) === 'dist/simulator/main.js' ? simulatorVariables : new Set(Object.keys(VARIABLES));
      for (const variable of Object.keys(environmentOf(service, DOT_ENV))) {
        expect([name, variable, known.has(variable)]).toEqual([name, variable, true]);
      }
    }
  });

  it('start with a configuration the app accepts, in production mode, given only the required secrets', () => {
    for (const [name, service] of appServices.filter(([, s]) => entryOf(s) !== 'dist/simulator/main.js')) {
      const env = containerEnv(service);
      expect([name, env.NODE_ENV]).toEqual([name, 'production']);
      expect(() => loadConfig(env, { needs: needsOf(entryOf(service)!) })).not.toThrow();
    }
  });

  it('hand the CoinGecko key only to the processes that call CoinGecko', () => {
    for (const [name, service] of appServices.filter(([, s]) => entryOf(s) !== 'dist/simulator/main.js')) {
      const callsCoinGecko = needsOf(entryOf(service)!).includes('coingecko-api');
      expect([name, 'COINGECKO_API_KEY' in containerEnv(service)]).toEqual([name, callsCoinGecko]);
    }
    expect(needsOf('dist/workers/fetch/main.js')).toEqual(['coingecko-api']);
  });

  it('start the simulator with valid SIM_* settings, listening on every interface, checking the key the workers send', () => {
    const env = containerEnv(compose.services.simulator!);
    const options = parseSimulatorEnv(env);
    expect(options.host).toBe('0.0.0.0');
    expect(options.apiKey).toBe(DOT_ENV.COINGECKO_API_KEY);
    expect(options.plan).toBe(loadConfig(containerEnv(compose.services['fetch-worker']!)).coingecko.plan);
    expect(compose.services.simulator!.profiles).toEqual(['simulator']);
  });

  it('share one pipeline: the same database, Redis and queue prefix everywhere', () => {
    const configs = appServices
      .filter(([, s]) => entryOf(s) !== 'dist/simulator/main.js')
      .map(([, s]) => loadConfig(containerEnv(s)));
    const database = (url: string) => {
      const u = new URL(url);
      return `${u.host}${u.pathname}`;
    };
    const identity = (c: AppConfig) => [database(c.postgres.url), c.redis.url, c.redis.prefix, c.coingecko.vsCurrency];
    for (const config of configs) expect(identity(config)).toEqual(identity(configs[0]!));
  });

  it('connect each process kind as its least-privilege role; only migrate as the schema owner', () => {
    const roleOf = (service: Service) => {
      const url = new URL(containerEnv(service).DATABASE_URL!);
      return { user: url.username, password: decodeURIComponent(url.password) };
    };
    expect(
      Object.fromEntries(
        appServices.filter(([, s]) => entryOf(s) !== 'dist/simulator/main.js').map(([name, s]) => [name, roleOf(s)]),
      ),
    ).toEqual({
      migrate: { user: 'postgres', password: DOT_ENV.POSTGRES_PASSWORD },
      scheduler: { user: 'cdp_loader', password: DOT_ENV.CDP_LOADER_PASSWORD },
      'fetch-worker': { user: 'cdp_loader', password: DOT_ENV.CDP_LOADER_PASSWORD },
      'load-worker': { user: 'cdp_loader', password: DOT_ENV.CDP_LOADER_PASSWORD },
      'transform-worker': { user: 'cdp_transformer', password: DOT_ENV.CDP_TRANSFORMER_PASSWORD },
      dashboard: { user: 'cdp_reader', password: DOT_ENV.CDP_READER_PASSWORD },
    });
  });

  it('wait for healthy Postgres and Redis and a finished migration, and restart unless stopped', () => {
    for (const [name, service] of longRunningApp) {
      if (service.profiles?.includes('simulator')) continue; // the simulator needs neither
      expect([name, dependenciesOf(service)]).toEqual([
        name,
        { postgres: 'service_healthy', redis: 'service_healthy', migrate: 'service_completed_successfully' },
      ]);
    }
    for (const [name, service] of longRunningApp) expect([name, service.restart]).toEqual([name, 'unless-stopped']);
    expect(dependenciesOf(compose.services.migrate!)).toEqual({ postgres: 'service_healthy' });
  });

  it('get longer to stop than SHUTDOWN_TIMEOUT gives their jobs, with time left to close connections', () => {
    for (const [name, service] of longRunningApp.filter(([, s]) => entryOf(s) !== 'dist/simulator/main.js')) {
      const shutdownMs = loadConfig(containerEnv(service)).jobs.shutdownTimeoutMs;
      const graceMs = parseDurationMs(service.stop_grace_period ?? '10s')!; // Compose's default is 10s
      // The scheduler closes its tick and universe workers one after the other.
      const closers = entryOf(service) === 'dist/producers/scheduler/main.js' ? 2 : 1;
      expect([name, graceMs >= closers * shutdownMs + 10_000]).toEqual([name, true]);
    }
  });
});

describe('scaling', () => {
  it('names no container, so that --scale can run several', () => {
    for (const [name, service] of services) expect([name, service.container_name]).toEqual([name, undefined]);
  });

  it('publishes no port from scheduler and worker services', () => {
    const workers = appServices.filter(([, s]) => isWorkerProcess(s));
    expect(workers.map(([name]) => name).sort()).toEqual([
      'fetch-worker',
      'load-worker',
      'scheduler',
      'transform-worker',
    ]);
    for (const [name, service] of workers) expect([name, service.ports]).toEqual([name, undefined]);
  });

  it('publishes host ports that do not clash, on loopback unless told otherwise', () => {
    const published = services.flatMap(([name, service]) =>
      (service.ports ?? []).map((port) => {
        const text = interpolate(
          typeof port === 'string' ? port : `${port.host_ip ?? ''}:${port.published}:${port.target}`,
          DOT_ENV,
        );
        const [, ip = '', host = '', protocol = 'tcp'] = /^(?:(.*):)?(\d+):\d+(?:\/(\w+))?$/.exec(text) ?? [];
        return { name, ip, port: `${host}/${protocol}` };
      }),
    );
    expect(published.map((p) => p.name).sort()).toEqual(['dashboard', 'grafana', 'prometheus', 'simulator']);
    expect(new Set(published.map((p) => p.port)).size).toBe(published.length);
    for (const p of published) expect([p.name, p.ip]).toEqual([p.name, '127.0.0.1']);
  });
});

describe('dependencies', () => {
  it('name existing services, with conditions those services can meet', () => {
    for (const [name, service] of services) {
      for (const [dependency, condition] of Object.entries(dependenciesOf(service))) {
        const target = compose.services[dependency];
        expect([name, dependency, target !== undefined]).toEqual([name, dependency, true]);
        // A service outside any profile must not need one that only starts with a profile.
        if (!service.profiles) expect([name, dependency, target!.profiles]).toEqual([name, dependency, undefined]);
        if (condition === 'service_healthy')
          expect([dependency, target!.healthcheck?.test !== undefined]).toEqual([dependency, true]);
        else if (condition === 'service_completed_successfully')
          expect([dependency, isOneShot(target!)]).toEqual([dependency, true]);
        else expect([name, dependency, condition]).toEqual([name, dependency, 'service_started']);
      }
    }
  });
});

describe('volumes', () => {
  it('mount host paths that exist and named volumes that are declared', () => {
    for (const [name, service] of services) {
      for (const volume of service.volumes ?? []) {
        const source = typeof volume === 'string' ? volume.split(':')[0]! : (volume.source ?? '');
        if (/^[./~]/.test(source)) expect([name, source, existsSync(`${ROOT}${source}`)]).toEqual([name, source, true]);
        else expect([name, source, Object.keys(compose.volumes ?? {}).includes(source)]).toEqual([name, source, true]);
      }
    }
  });

  it('keep Postgres and Redis data on named volumes', () => {
    const targets = (service: Service) =>
      (service.volumes ?? []).map((v) => (typeof v === 'string' ? v : `${v.source}:${v.target}`));
    expect(targets(compose.services.postgres!)).toContain('pgdata:/var/lib/postgresql/data');
    expect(targets(compose.services.redis!)).toContain('redisdata:/data');
  });
});

describe('variables compose interpolates', () => {
  const all = [...strings(compose)].flatMap(([path, text]) => references(text).map((ref) => ({ path, ...ref })));
  const documentedInExample = (name: string) => new RegExp(`^(# )?${name}=`, 'm').test(ENV_EXAMPLE);
  const namedInHeader = (name: string) => new RegExp(`\\b${name}\\b`).test(header);

  it('each say what happens when unset: a default (:-) or a clear error (:?)', () => {
    // This also catches a stray `$x` in a script, which Compose (not the shell) would replace with
    // nothing: a shell's $ is written $$ in compose.yaml.
    expect(all.length).toBeGreaterThan(0);
    for (const ref of all)
      expect([ref.path, ref.name, ref.modifier]).toEqual([ref.path, ref.name, expect.stringMatching(/^:[-?]$/)]);
  });

  it('fail fast naming .env when a required one is missing', () => {
    for (const ref of all.filter((r) => r.modifier === ':?'))
      expect([ref.name, ref.argument]).toEqual([ref.name, `set ${ref.name} in .env`]);
    for (const secret of [
      'POSTGRES_PASSWORD',
      'REDIS_PASSWORD',
      'COINGECKO_API_KEY',
      'DASHBOARD_PASSWORD',
      'GF_ADMIN_PASSWORD',
      'CDP_ALERT_WEBHOOK_URL',
    ]) {
      const { [secret]: _, ...rest } = DOT_ENV;
      expect(() => [...strings(compose)].forEach(([, value]) => interpolate(value, rest))).toThrow(
        `set ${secret} in .env`,
      );
    }
  });

  it('are documented: in .env.example when the app reads them, otherwise in the header of compose.yaml', () => {
    for (const { name, modifier } of all) {
      const documented = name in VARIABLES ? documentedInExample(name) : namedInHeader(name);
      expect([name, documented]).toEqual([name, true]);
      if (modifier === ':?') expect([name, namedInHeader(name)]).toEqual([name, true]); // required ones are listed up front
    }
  });
});

describe('postgres', () => {
  const postgres = compose.services.postgres!;
  const env = environmentOf(postgres, DOT_ENV);
  const initDir = (postgres.volumes ?? [])
    .map((v) => (typeof v === 'string' ? v.split(':') : [v.source, v.target]))
    .find(([, target]) => target === '/docker-entrypoint-initdb.d')?.[0];
  // A missing folder is reported by the volumes test above; here it just means no scripts.
  const initScripts =
    initDir && existsSync(`${ROOT}${initDir}`)
      ? readdirSync(`${ROOT}${initDir}`).map((file) => readFileSync(`${ROOT}${initDir}/${file}`, 'utf8'))
      : [];

  it('is PostgreSQL 15 with a pg_isready healthcheck', () => {
    expect(postgres.image).toMatch(/^postgres:15\b/);
    expect(String(postgres.healthcheck!.test)).toContain('pg_isready');
  });

  it('runs an init script that creates the least-privilege roles', () => {
    expect(initDir).toBeDefined();
    expect(statSync(`${ROOT}${initDir}`).isDirectory()).toBe(true);
    expect(initScripts.length).toBeGreaterThan(0);
    for (const role of ['cdp_loader', 'cdp_transformer', 'cdp_reader']) expect(initScripts.join('\n')).toContain(role);
  });

  it('gets exactly the variables its image and init scripts read', () => {
    // Read by the postgres image's entrypoint (see its documentation on Docker Hub).
    const imageVariables = ['POSTGRES_USER', 'POSTGRES_PASSWORD', 'POSTGRES_DB'];
    const required = new Set(
      initScripts.flatMap((script) => [...script.matchAll(/:\s*"\$\{([A-Z_]+):\?/g)].map((m) => m[1]!)),
    );
    for (const variable of Object.keys(env)) {
      expect([variable, imageVariables.includes(variable) || required.has(variable)]).toEqual([variable, true]);
    }
    for (const variable of required) expect([variable, variable in env]).toEqual([variable, true]);
  });

  it("is what the migrate job's DATABASE_URL points at: same user (the schema owner), password and database", () => {
    const url = new URL(loadConfig(containerEnv(compose.services.migrate!)).postgres.url);
    expect(url.hostname).toBe('postgres');
    expect(url.port).toBe('5432');
    expect(decodeURIComponent(url.username)).toBe(env.POSTGRES_USER);
    expect(decodeURIComponent(url.password)).toBe(env.POSTGRES_PASSWORD);
    expect(url.pathname).toBe(`/${env.POSTGRES_DB}`);
  });
});

describe('redis', () => {
  const redis = compose.services.redis!;
  const command = commandOf(redis).map((word) => interpolate(word, DOT_ENV));
  const flag = (name: string) => command[command.indexOf(`--${name}`) + 1];

  it('is Redis 7, persistent (AOF fsynced every second) and never evicts (bullmq.md §16)', () => {
    expect(redis.image).toMatch(/^redis:7\b/);
    expect(command[0]).toBe('redis-server');
    expect([flag('appendonly'), flag('appendfsync'), flag('maxmemory-policy')]).toEqual([
      'yes',
      'everysec',
      'noeviction',
    ]);
  });

  it('requires the password REDIS_URL carries, which its healthcheck also uses', () => {
    const url = new URL(loadConfig(containerEnv(compose.services['fetch-worker']!)).redis.url);
    expect(url.hostname).toBe('redis');
    expect(decodeURIComponent(url.password)).toBe(DOT_ENV.REDIS_PASSWORD);
    expect(flag('requirepass')).toBe(DOT_ENV.REDIS_PASSWORD);
    expect(environmentOf(redis, DOT_ENV).REDISCLI_AUTH).toBe(DOT_ENV.REDIS_PASSWORD);
    expect(String(redis.healthcheck!.test)).toMatch(/redis-cli ping/);
  });
});

/** `source:target[:mode]` mounts of a service, as [source, target, mode]. */
const mounts = (service: Service) =>
  (service.volumes ?? []).map((v) =>
    typeof v === 'string'
      ? (v.split(':') as [string, string, string?])
      : ([v.source ?? '', v.target, undefined] as [string, string, string?]),
  );
const mountOf = (service: Service, target: string) => mounts(service).find(([, t]) => t === target);

describe('prometheus', () => {
  const prometheus = compose.services.prometheus!;
  const flags = Object.fromEntries(
    commandOf(prometheus).map((word) => interpolate(word, DOT_ENV).replace(/^--/, '').split('=') as [string, string]),
  );
  const config = parse(readFileSync(`${ROOT}prometheus/prometheus.yml`, 'utf8')) as {
    scrape_configs: Array<{ job_name: string; dns_sd_configs: Array<{ names: string[]; port: number }> }>;
  };

  it('reads prometheus/prometheus.yml, mounted read-only where --config.file points, and keeps its TSDB on a named volume', () => {
    expect(prometheus.image).toMatch(/^prom\/prometheus:v2\./);
    expect(mountOf(prometheus, flags['config.file']!)).toEqual([
      './prometheus/prometheus.yml',
      flags['config.file'],
      'ro',
    ]);
    expect(mountOf(prometheus, flags['storage.tsdb.path']!)?.[0]).toBe('promdata');
    expect(flags['storage.tsdb.retention.time']).toMatch(/^\d+[dhwy]$/);
  });

  it('discovers services that exist, on the port each exposes, so every --scale replica is scraped', () => {
    const discovered = config.scrape_configs.flatMap((job) =>
      job.dns_sd_configs.flatMap((sd) => sd.names.map((name) => ({ job: job.job_name, name, port: sd.port }))),
    );
    expect(discovered.length).toBe(5);
    for (const { job, name, port } of discovered) {
      const service = compose.services[name];
      expect([job, name, service !== undefined]).toEqual([job, name, true]);
      // Compose's DNS returns every replica of a service: a scaled service must not pin its address.
      expect([name, service!.container_name]).toEqual([name, undefined]);
      const listens = [
        ...(service!.expose ?? []).map(String),
        ...(service!.ports ?? []).map((p) => (typeof p === 'string' ? p.split(':').at(-1)! : String(p.target))),
      ];
      expect([name, listens]).toEqual([name, expect.arrayContaining([String(port)])]);
    }
  });
});

describe('grafana', () => {
  const grafana = compose.services.grafana!;
  const env = environmentOf(grafana, DOT_ENV);
  const GRAFANA = `${ROOT}grafana/`;
  const provisioningFiles = readdirSync(`${GRAFANA}provisioning`, { recursive: true, encoding: 'utf8' }).filter((f) =>
    /\.ya?ml$/.test(f),
  );
  const provisioningText = provisioningFiles.map((f) => readFileSync(`${GRAFANA}provisioning/${f}`, 'utf8')).join('\n');
  // Grafana expands $VAR / ${VAR} in provisioning files from its environment ($$ escapes a dollar).
  const provisioningVariables = [
    ...new Set(
      [...provisioningText.replace(/^\s*#.*$/gm, '').matchAll(/(?<!\$)\$\{?([A-Z_][A-Z0-9_]*)\}?/g)].map((m) => m[1]!),
    ),
  ];

  it('mounts the provisioning folder and the dashboards read-only, where Grafana and the dashboard provider look', () => {
    expect(grafana.image).toMatch(/^grafana\/grafana:1[1-9]\./);
    expect(mountOf(grafana, '/etc/grafana/provisioning')).toEqual([
      './grafana/provisioning',
      '/etc/grafana/provisioning',
      'ro',
    ]);
    const providers = (
      parse(readFileSync(`${GRAFANA}provisioning/dashboards/dashboards.yaml`, 'utf8')) as {
        providers: Array<{ options: { path: string } }>;
      }
    ).providers;
    for (const provider of providers)
      expect(mountOf(grafana, provider.options.path)).toEqual(['./grafana/dashboards', provider.options.path, 'ro']);
    expect(mountOf(grafana, '/var/lib/grafana')?.[0]).toBe('grafanadata');
  });

  it('gets every variable the provisioning files read, non-empty given only the required secrets, and each documented in grafana/README.md', () => {
    const readme = readFileSync(`${GRAFANA}README.md`, 'utf8');
    expect(provisioningVariables.sort()).toEqual(
      [
        'CDP_ALERT_WEBHOOK_URL',
        'CDP_GRAFANA_PG_ADDRESS',
        'CDP_GRAFANA_PG_DATABASE',
        'CDP_PROMETHEUS_URL',
        'CDP_READER_PASSWORD',
        'CDP_READER_USER',
      ].sort(),
    );
    for (const variable of provisioningVariables) {
      expect([variable, env[variable]]).toEqual([variable, expect.stringMatching(/.+/)]);
      expect([variable, readme.includes(`\`${variable}\``)]).toEqual([variable, true]);
    }
  });

  it('reads the warehouse as the read-only role the init script creates, with its password, on the database the app uses', () => {
    const initScript = readFileSync(`${ROOT}deploy/postgres/initdb/10-create-roles.sh`, 'utf8');
    expect(env.CDP_READER_USER).toBe('cdp_reader');
    expect(initScript).toContain(`alter role ${env.CDP_READER_USER} `);
    expect(env.CDP_READER_PASSWORD).toBe(DOT_ENV.CDP_READER_PASSWORD);
    expect(environmentOf(compose.services.postgres!, DOT_ENV).CDP_READER_PASSWORD).toBe(env.CDP_READER_PASSWORD);
    const appDatabase = new URL(loadConfig(containerEnv(compose.services.dashboard!)).postgres.url);
    expect(env.CDP_GRAFANA_PG_ADDRESS).toBe(`${appDatabase.hostname}:${appDatabase.port}`);
    expect(env.CDP_GRAFANA_PG_DATABASE).toBe(appDatabase.pathname.slice(1));
  });

  it('queries the compose Prometheus, requires an admin password, and allows no sign-up or anonymous access', () => {
    const prometheusUrl = new URL(env.CDP_PROMETHEUS_URL!);
    expect(compose.services[prometheusUrl.hostname]?.image).toMatch(/^prom\/prometheus/);
    expect(prometheusUrl.port).toBe('9090');
    expect(env.GF_SECURITY_ADMIN_PASSWORD).toBe(DOT_ENV.GF_ADMIN_PASSWORD);
    expect([env.GF_USERS_ALLOW_SIGN_UP, env.GF_AUTH_ANONYMOUS_ENABLED]).toEqual(['false', 'false']);
  });

  it('starts after a healthy Postgres and Prometheus', () => {
    expect(dependenciesOf(grafana)).toEqual({ postgres: 'service_healthy', prometheus: 'service_healthy' });
  });

  it.each([
    ['prometheus', 9090, '/-/ready'],
    ['grafana', 3000, '/api/health'],
  ])('%s is health-checked on its own port and readiness endpoint', (name, port, path) => {
    const test = compose.services[name]!.healthcheck!.test as string[];
    expect(test[0]).toBe('CMD');
    expect(test.at(-1)).toBe(`http://127.0.0.1:${port}${path}`);
    const published = (compose.services[name]!.ports ?? []).map((p) => String(p).split(':').at(-1));
    expect(published).toEqual([String(port)]);
  });
});

describe('transform-worker', () => {
  it("judges staleness by the STALE_AFTER the dashboard gets, default or set in .env (dbt's dim_coin_freshness and the freshness alert agree)", () => {
    const staleAfter = (service: string, env: Record<string, string>) =>
      loadConfig({ ...IMAGE_ENV, ...environmentOf(compose.services[service]!, env) }).freshness.staleAfterSeconds;
    expect(staleAfter('transform-worker', DOT_ENV)).toBe(loadConfig({}).freshness.staleAfterSeconds);
    expect(staleAfter('dashboard', DOT_ENV)).toBe(loadConfig({}).freshness.staleAfterSeconds);
    const set = { ...DOT_ENV, STALE_AFTER: '7m' };
    expect([staleAfter('transform-worker', set), staleAfter('dashboard', set)]).toEqual([420, 420]);
  });

  it('passes the transform settings through, empty meaning the app default', () => {
    const env = environmentOf(compose.services['transform-worker']!, DOT_ENV);
    expect(env).toEqual(expect.objectContaining({ TRANSFORM_SCHEMA: '', TRANSFORM_RAW_RETENTION_DAYS: '' }));
    expect(loadConfig(containerEnv(compose.services['transform-worker']!)).transform).toEqual(
      expect.objectContaining({ schema: 'analytics' }),
    );
  });
});
