/**
 * The container stack test (test/stack/), run only by `npm run test:stack`: never by `npm test`,
 * whose projects (jest.config.mjs) leave test/stack/ out. A configuration of its own rather than a
 * third project because Jest 30 reads testTimeout only from the global configuration, and a stack
 * test needs 30 minutes (image builds and containers) where the others get 2. No global setup:
 * the stack brings its own PostgreSQL and Redis.
 */
import { base } from './jest.config.mjs';

export default {
  ...base,
  displayName: 'stack',
  testMatch: ['<rootDir>/test/stack/**/*.test.ts'],
  testTimeout: 1800000,
};
