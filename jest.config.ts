import type { Config } from 'jest';

const aliases = {
  '^@oms/([a-z-]+)$': '<rootDir>/libs/$1/src',
};

const base = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.json' }] },
  moduleNameMapper: aliases,
  rootDir: __dirname,
} satisfies Config;

// Two instances of one deployment need a shared PostgreSQL and Redis. Outside CI without them the cache
// suite is left out (with a notice); in CI it always runs, and fails loudly if they are missing.
const sharedServices =
  Boolean(process.env.DATABASE_URL && process.env.REDIS_URL) || process.env.CI === 'true';
if (!sharedServices)
  console.warn('DATABASE_URL and REDIS_URL are not both set: test/e2e/cache.e2e-spec.ts is not run');
const postgres = Boolean(process.env.DATABASE_URL) || process.env.CI === 'true';
if (!postgres) console.warn('DATABASE_URL is not set: test/e2e/connection-loss.e2e-spec.ts is not run');

/** Unit specs beside the code; store and e2e suites against real PGlite, PostgreSQL and Redis under test/. */
const config: Config = {
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  testTimeout: 60_000,
  projects: [
    { ...base, displayName: 'unit', testMatch: ['<rootDir>/{apps,libs}/**/*.spec.ts'] },
    { ...base, displayName: 'integration', testMatch: ['<rootDir>/test/integration/**/*.int-spec.ts'] },
    {
      ...base,
      displayName: 'e2e',
      testMatch: ['<rootDir>/test/e2e/**/*.e2e-spec.ts'],
      testPathIgnorePatterns: [
        ...(sharedServices ? [] : ['/cache\\.e2e-spec\\.ts$']),
        ...(postgres ? [] : ['/connection-loss\\.e2e-spec\\.ts$']),
      ],
    },
    { ...base, displayName: 'resilience', testMatch: ['<rootDir>/test/resilience/**/*.resilience-spec.ts'] },
    { ...base, displayName: 'monitoring', testMatch: ['<rootDir>/test/monitoring/**/*.monitoring-spec.ts'] },
  ],
};

export default config;
