/**
 * compose.yaml, checked statically (no Docker engine here): the file is parsed with `yaml` and
 * interpolated as Compose would, then held against the code: the entry points, the variables the app
 * and the simulator read (core/config/variables.ts, simulator/options.ts), the init scripts.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { loadConfig, parseDurationMs, VARIABLES, type AppConfig } from '../../core/config/index.js';
import { ENV_NAMES, parseSimulatorEnv } from '../../simulator/options.js';
import {
  commandOf,
  dependenciesOf,
  environmentOf,
  interpolate,
  isAppService,
  isOneShot,
  loadCompose,
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
      expect.arrayContaining(['postgres', 'redis', 'migrate', 'simulator', 'scheduler', 'fetch-worker', 'load-worker', 'transform-worker', 'dashboard']),
    );
  });

  it('gives every service a healthcheck, unless it is a one-shot', () => {
    for (const [name, service] of services) {
      if (isOneShot(service)) continue;
      expect([name, service.healthcheck?.test !== undefined && service.healthcheck.disable !== true]).toEqual([name, true]);
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

  it('cover every process kind the repository has', () => {
    const entries = new Set(appServices.map(([, s]) => entryOf(s)));
    for (const folder of ['producers', 'workers', 'dashboard', 'simulator']) {
      for (const file of readdirSync(`${ROOT}${folder}`, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('main.ts'))) {
        const entry = `dist/${folder}/${file.replace(/\.ts$/, '.js')}`;
        expect([entry, entries.has(entry)]).toEqual([entry, true]);
      }
    }
  });

  it('set only variables the app reads (core/config/variables.ts), or the simulator its SIM_* ones', () => {
    const simulatorVariables = new Set(Object.values(ENV_NAMES));
    for (const [name, service] of appServices) {
      const known = entryOf(service) === 'dist/simulator/main.js' ? simulatorVariables : new Set(Object.keys(VARIABLES));
      for (const variable of Object.keys(environmentOf(service, DOT_ENV))) {
        expect([name, variable, known.has(variable)]).toEqual([name, variable, true]);
      }
    }
  });

  it('start with a configuration the app accepts, in production mode, given only the required secrets', () => {
    for (const [name, service] of appServices.filter(([, s]) => entryOf(s) !== 'dist/simulator/main.js')) {
      const env = containerEnv(service);
      expect([name, env.NODE_ENV]).toEqual([name, 'production']);
      expect(() => loadConfig(env)).not.toThrow();
    }
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
    const configs = appServices.filter(([, s]) => entryOf(s) !== 'dist/simulator/main.js').map(([, s]) => loadConfig(containerEnv(s)));
    const identity = (c: AppConfig) => [c.postgres.url, c.redis.url, c.redis.prefix, c.coingecko.vsCurrency];
    for (const config of configs) expect(identity(config)).toEqual(identity(configs[0]!));
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
    expect(workers.map(([name]) => name).sort()).toEqual(['fetch-worker', 'load-worker', 'scheduler', 'transform-worker']);
    for (const [name, service] of workers) expect([name, service.ports]).toEqual([name, undefined]);
  });

  it('publishes host ports that do not clash, on loopback unless told otherwise', () => {
    const published = services.flatMap(([name, service]) =>
      (service.ports ?? []).map((port) => {
        const text = interpolate(typeof port === 'string' ? port : `${port.host_ip ?? ''}:${port.published}:${port.target}`, DOT_ENV);
        const [, ip = '', host = '', protocol = 'tcp'] = /^(?:(.*):)?(\d+):\d+(?:\/(\w+))?$/.exec(text) ?? [];
        return { name, ip, port: `${host}/${protocol}` };
      }),
    );
    expect(published.map((p) => p.name).sort()).toEqual(['dashboard', 'simulator']);
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
        if (condition === 'service_healthy') expect([dependency, target!.healthcheck?.test !== undefined]).toEqual([dependency, true]);
        else if (condition === 'service_completed_successfully') expect([dependency, isOneShot(target!)]).toEqual([dependency, true]);
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
    const targets = (service: Service) => (service.volumes ?? []).map((v) => (typeof v === 'string' ? v : `${v.source}:${v.target}`));
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
    for (const ref of all) expect([ref.path, ref.name, ref.modifier]).toEqual([ref.path, ref.name, expect.stringMatching(/^:[-?]$/)]);
  });

  it('fail fast naming .env when a required one is missing', () => {
    for (const ref of all.filter((r) => r.modifier === ':?')) expect([ref.name, ref.argument]).toEqual([ref.name, `set ${ref.name} in .env`]);
    for (const secret of ['POSTGRES_PASSWORD', 'REDIS_PASSWORD', 'COINGECKO_API_KEY', 'DASHBOARD_PASSWORD']) {
      const { [secret]: _, ...rest } = DOT_ENV;
      expect(() => [...strings(compose)].forEach(([, value]) => interpolate(value, rest))).toThrow(`set ${secret} in .env`);
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
  const initScripts = initDir && existsSync(`${ROOT}${initDir}`) ? readdirSync(`${ROOT}${initDir}`).map((file) => readFileSync(`${ROOT}${initDir}/${file}`, 'utf8')) : [];

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
    const required = new Set(initScripts.flatMap((script) => [...script.matchAll(/:\s*"\$\{([A-Z_]+):\?/g)].map((m) => m[1]!)));
    for (const variable of Object.keys(env)) {
      expect([variable, imageVariables.includes(variable) || required.has(variable)]).toEqual([variable, true]);
    }
    for (const variable of required) expect([variable, variable in env]).toEqual([variable, true]);
  });

  it('is what DATABASE_URL points at: same user, password and database', () => {
    const url = new URL(loadConfig(containerEnv(compose.services['load-worker']!)).postgres.url);
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
    expect([flag('appendonly'), flag('appendfsync'), flag('maxmemory-policy')]).toEqual(['yes', 'everysec', 'noeviction']);
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
