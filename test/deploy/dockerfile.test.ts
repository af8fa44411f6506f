/**
 * The Dockerfile, checked statically (no Docker engine here): what each target's image is made of,
 * and that everything it copies is in the build context.
 */
import { existsSync, readFileSync } from 'node:fs';
import { ENTRY_POINTS, NODE_FLAGS } from '../../scripts/lib/entry-points.js';
import { commandOf, isAppService, loadCompose, ROOT } from './compose-file.js';
import { execForm, instructionsOf, readDockerfile, stage, type Instruction } from './dockerfile-file.js';

const dockerfile = readDockerfile();
const TARGETS = ['runtime', 'transform-dbt'] as const;
const dockerignore = readFileSync(`${ROOT}.dockerignore`, 'utf8')
  .split('\n')
  .map((line) => line.trim())
  .filter((line) => line !== '' && !line.startsWith('#'));

// RUN's own flags (--mount=...) are not part of the command.
const runs = (instructions: Instruction[]) =>
  instructions.filter((i) => i.keyword === 'RUN').map((i) => i.args.replace(/^(--\S+\s+)+/, ''));
const runFlags = (instructions: readonly Instruction[]) =>
  instructions.filter((i) => i.keyword === 'RUN').map((i) => /^((?:--\S+\s+)*)/.exec(i.args)![1]!.trim());
const last = (instructions: Instruction[], keyword: string) => instructions.filter((i) => i.keyword === keyword).at(-1);

describe('Dockerfile stages', () => {
  it('builds in several stages on node:20-bookworm-slim', () => {
    expect(dockerfile.stages.length).toBeGreaterThanOrEqual(3);
    for (const target of TARGETS) expect(instructionsOf(dockerfile, target).baseImage).toBe('node:20-bookworm-slim');
  });

  it('makes the lean runtime image, not the dbt one, the default (last) target', () => {
    expect(dockerfile.stages.at(-1)!.name).toBe('runtime');
  });

  it('compiles with all dependencies in a build stage that runs npm ci, then npm run build', () => {
    const build = instructionsOf(dockerfile, 'build').instructions;
    const commands = runs(build);
    const install = commands.findIndex((c) => /(^|&& )npm ci\b(?!.*--omit)/.test(c));
    expect(install).toBeGreaterThanOrEqual(0);
    expect(commands.findIndex((c) => c.includes('npm run build'))).toBeGreaterThan(install);
  });

  it('has no `# syntax=` line: a frontend image would be pulled from a registry at every build', () => {
    expect(readFileSync(`${ROOT}Dockerfile`, 'utf8')).not.toMatch(/^#\s*syntax=/m);
  });

  it('takes a build-time CA for npm only as a secret mount, which no layer keeps', () => {
    for (const s of dockerfile.stages) {
      for (const i of s.instructions) {
        if (i.keyword === 'COPY' || i.keyword === 'ADD' || i.keyword === 'ENV' || i.keyword === 'ARG') {
          expect(i.args).not.toMatch(/ca-certificates|\.crt\b|NODE_EXTRA_CA_CERTS|npm_ca/i);
        }
      }
      const npmRuns = s.instructions.filter((i) => i.keyword === 'RUN' && /\bnpm ci\b/.test(i.args));
      for (const run of npmRuns) {
        expect(runFlags([run])[0]).toBe('--mount=type=secret,id=npm_ca');
        expect(run.args).toMatch(/export NODE_EXTRA_CA_CERTS=\/run\/secrets\/npm_ca/);
      }
    }
  });
});

describe.each(TARGETS)('the %s image', (target) => {
  const { instructions } = instructionsOf(dockerfile, target);

  it('installs production dependencies only (npm ci --omit=dev), never the dev ones', () => {
    const installs = runs(instructions).filter((c) => /\bnpm (ci|install|i)\b/.test(c));
    expect(installs.length).toBeGreaterThan(0);
    for (const install of installs) expect(install).toMatch(/npm ci --omit=dev/);
    // node_modules of a stage that ran a full `npm ci` would smuggle the dev dependencies in.
    for (const copy of instructions.filter((i) => i.keyword === 'COPY' && i.args.includes('--from'))) {
      expect(copy.args).not.toMatch(/node_modules/);
    }
  });

  it('takes dist/ from the stage that compiled it', () => {
    const copy = instructions.find((i) => i.keyword === 'COPY' && /--from=(\S+) \/app\/dist/.test(i.args));
    expect(copy).toBeDefined();
    const from = /--from=(\S+)/.exec(copy!.args)![1]!;
    expect(runs(instructionsOf(dockerfile, from).instructions).some((c) => c.includes('npm run build'))).toBe(true);
  });

  it('sets NODE_ENV=production', () => {
    const env = instructions.filter((i) => i.keyword === 'ENV').map((i) => i.args);
    expect(env.some((e) => /(^|\s)NODE_ENV=production(\s|$)/.test(e))).toBe(true);
  });

  it('runs as a non-root user', () => {
    const user = last(instructions, 'USER');
    expect(user).toBeDefined();
    expect(user!.args).not.toMatch(/^(root|0)(:|$)/);
  });

  it('runs node under tini, which forwards SIGTERM and reaps child processes', () => {
    expect(runs(instructions).some((c) => /apt-get install .*\btini\b/.test(c))).toBe(true);
    expect(execForm(last(instructions, 'ENTRYPOINT')!.args)).toEqual(['/usr/bin/tini', '--']);
  });

  it('ships the dbt project (both transform runners read it) exactly when the repository has one', () => {
    const copiesProject = instructions.some((i) => i.keyword === 'COPY' && /^dbt \S+$/.test(i.args));
    // Without the project the transform worker fails every job; with COPY of a missing path the build fails.
    expect(copiesProject).toBe(existsSync(`${ROOT}dbt/dbt_project.yml`));
  });

  it('has a HEALTHCHECK that needs nothing but node (no curl in the slim image)', () => {
    const healthcheck = last(instructions, 'HEALTHCHECK');
    expect(healthcheck).toBeDefined();
    const [, command = ''] = /\bCMD (.*)$/.exec(healthcheck!.args) ?? [];
    expect(execForm(command).slice(0, 2)).toEqual(['node', '-e']);
  });
});

describe('the transform-dbt image', () => {
  const { instructions } = instructionsOf(dockerfile, 'transform-dbt');

  it('adds dbt-core and dbt-postgres, pip-installed in a venv that is on PATH', () => {
    const install = runs(instructions).find((c) => c.includes('pip install'));
    expect(install).toMatch(/python3 -m venv (\S+)/);
    const venv = /python3 -m venv (\S+)/.exec(install!)![1]!;
    expect(install).toContain(`${venv}/bin/pip install`);
    expect(install).toMatch(/"dbt-core==/);
    expect(install).toMatch(/"dbt-postgres==/);
    expect(instructions.some((i) => i.keyword === 'ENV' && i.args.includes(`PATH=${venv}/bin:`))).toBe(true);
  });

  it('runs the transform worker by default', () => {
    expect(execForm(last(instructions, 'CMD')!.args)).toEqual([
      'node',
      ...NODE_FLAGS.transform,
      ENTRY_POINTS.transform,
    ]);
  });
});

describe('what the Dockerfile copies', () => {
  const copies = dockerfile.stages.flatMap((s) =>
    s.instructions.filter((i) => i.keyword === 'COPY' && !i.args.includes('--from')),
  );
  const sources = copies.flatMap((copy) =>
    execForm(copy.args)
      .filter((word) => !word.startsWith('--'))
      .slice(0, -1),
  );

  it('exists in the repository', () => {
    expect(sources.length).toBeGreaterThan(0);
    for (const source of sources) expect([source, existsSync(`${ROOT}${source}`)]).toEqual([source, true]);
  });

  it('is not excluded from the build context by .dockerignore', () => {
    const ignored = (path: string) =>
      dockerignore.some((pattern) => !pattern.startsWith('!') && (path === pattern || path.startsWith(`${pattern}/`)));
    for (const source of sources) expect([source, ignored(source)]).toEqual([source, false]);
  });

  it('includes every source folder tsconfig.build.json compiles, except the benchmarks', () => {
    const tsconfig = JSON.parse(readFileSync(`${ROOT}tsconfig.build.json`, 'utf8')) as { include: string[] };
    // bench/ is compiled locally but never runs in a container; leaving it out keeps the image lean.
    const wanted = tsconfig.include.filter((path) => path !== 'bench');
    for (const path of wanted) expect([path, sources.includes(path)]).toEqual([path, true]);
  });
});

describe('.dockerignore', () => {
  it('keeps dependencies, build output, git history, local artefacts and secrets out of the context', () => {
    for (const entry of ['node_modules', 'dist', '.git', 'bench-results', 'test-output', '.local-logs', '.env']) {
      expect(dockerignore).toContain(entry);
    }
  });
});

describe('compose.yaml and the Dockerfile', () => {
  const { compose } = loadCompose();

  it('build only targets that are stages of the Dockerfile', () => {
    for (const [name, service] of Object.entries(compose.services).filter(([, s]) => isAppService(s))) {
      const build = typeof service.build === 'string' ? { context: service.build } : service.build!;
      expect([name, build.context]).toEqual([name, '.']);
      expect(() => stage(dockerfile, build.target ?? 'runtime')).not.toThrow();
    }
  });

  it('run the transform worker on the dbt image, the other kinds on the lean one', () => {
    for (const [name, service] of Object.entries(compose.services).filter(([, s]) => isAppService(s))) {
      const target = typeof service.build === 'object' ? service.build.target : undefined;
      const isTransform = commandOf(service).includes('dist/workers/transform/main.js');
      expect([name, target]).toEqual([name, isTransform ? 'transform-dbt' : 'runtime']);
    }
  });
});
