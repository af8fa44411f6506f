// ESLint (flat config): typescript-eslint's recommended rules (syntactic, no type information, so
// `npm run lint` stays fast), type-only imports marked as such, and the layering of the tree
// (README "Layout"), enforced by eslint-plugin-import-x on resolved paths:
//   core/                          imports nothing of the processes or tools built on it;
//   producers/, workers/, dashboard/ import core/ and never each other (nor scripts/, bench/,
//                                  simulator/); a workers/<kind>/ folder imports no other
//                                  workers/<kind>/ (shared worker code sits at workers/'s top);
//   no import cycles anywhere.
import { readdirSync } from 'node:fs';
import js from '@eslint/js';
import { createNodeResolver, importX } from 'eslint-plugin-import-x';
import globals from 'globals';
import tseslint from 'typescript-eslint';
import { UNIT_TESTS } from './jest.config.mjs';

const ROOT = import.meta.dirname;
const workerKinds = readdirSync(`${ROOT}/workers`, { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name);

export default tseslint.config(
  {
    // What the build, the tests, dbt and the local runner write.
    ignores: ['dist/', 'coverage/', 'bench-results/', 'test-output/', 'dbt/target/', '.local-logs/'],
  },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: { globals: globals.node },
  },
  {
    plugins: { 'import-x': importX },
    settings: {
      'import-x/extensions': ['.ts', '.js', '.mjs'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      // Sources import each other as ./name.js (nodenext); the file is ./name.ts.
      'import-x/resolver-next': [
        createNodeResolver({
          extensions: ['.ts', '.js', '.mjs', '.json', '.node'],
          extensionAlias: { '.js': ['.ts', '.js'] },
        }),
      ],
    },
    rules: {
      // Every relative import resolves, so the path rules below never pass one by unseen.
      'import-x/no-unresolved': ['error', { ignore: ['^[^.]'] }],
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      'import-x/no-restricted-paths': [
        'error',
        {
          basePath: ROOT,
          zones: [
            {
              target: 'core',
              from: ['producers', 'workers', 'dashboard', 'scripts', 'bench', 'simulator'],
              message: 'core/ is shared by every process kind and imports none of them.',
            },
            ...['producers', 'workers', 'dashboard'].map((layer) => ({
              target: layer,
              from: ['producers', 'workers', 'dashboard', 'scripts', 'bench', 'simulator'].filter(
                (other) => other !== layer,
              ),
              message:
                'producers/, workers/ and dashboard/ import core/, never each other: move what they share into core/.',
            })),
            ...workerKinds.map((kind) => ({
              target: `workers/${kind}`,
              from: workerKinds.filter((other) => other !== kind).map((other) => `workers/${other}`),
              message: 'a worker kind imports no other kind: move what they share to workers/ (top level) or core/.',
            })),
          ],
        },
      ],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      // `const { dropped: _, ...rest } = row` is how this code leaves fields out of an object.
      '@typescript-eslint/no-unused-vars': ['error', { ignoreRestSiblings: true }],
    },
  },
  {
    // The unit project (jest.config.mjs) runs without PostgreSQL, Redis, the simulator or child
    // processes: its files do not import what needs them.
    files: UNIT_TESTS,
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: ['pg', 'ioredis', 'bullmq', 'playwright-core', 'child_process', 'node:child_process'].map((name) => ({
            name,
            message:
              'a unit test needs no server or child process: move this file out of UNIT_TESTS (jest.config.mjs).',
          })),
          patterns: [
            {
              regex:
                '(^|/)(helpers/(env|database|redis|processes|pipeline|scenario|loader-rig|snapshot-loads|private-[\\w-]+|tcp-fault-proxy)|simulator/server)\\.js$',
              message:
                'a unit test needs no server or child process: move this file out of UNIT_TESTS (jest.config.mjs).',
            },
          ],
        },
      ],
    },
  },
);
