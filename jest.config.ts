import type { Config } from 'jest';
import { TOOL_SUITES, ToolSuite, toolsNotice } from './test/monitoring/support/tools';

const aliases = {
  '^@oms/([a-z-]+)$': '<rootDir>/libs/$1/src',
};

const base = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.json' }] },
  moduleNameMapper: aliases,
  rootDir: __dirname,
} satisfies Config;

const CI = process.env.CI === 'true';
// Two instances of one deployment need a shared PostgreSQL and Redis. Outside CI without them the cache
// suite is left out; in CI it always runs, and fails loudly if they are missing.
const sharedServices = Boolean(process.env.DATABASE_URL && process.env.REDIS_URL) || CI;
const postgres = Boolean(process.env.DATABASE_URL) || CI;

/**
 * Outside CI, what this machine cannot run is said here, one line for each suite or target left out: this
 * file is read once per run (never by the workers), before any test starts. A suite left out is not run (or
 * not declared), so it never shows as passed. With CI=true nothing is left out: the suites fail instead.
 */
function leftOut(): string[] {
  if (CI) return [];
  const notices: string[] = [];
  // test/support/store-targets.ts: PGlite always; PostgreSQL with DATABASE_URL, its Redis tier with REDIS_URL.
  if (!process.env.DATABASE_URL)
    notices.push(
      'DATABASE_URL is not set: the store-backed suites run on PGlite only (no PostgreSQL target)',
    );
  else if (!process.env.REDIS_URL)
    notices.push(
      'REDIS_URL is not set: the PostgreSQL target of the store-backed suites runs without the Redis tier',
    );
  if (!sharedServices)
    notices.push(
      'DATABASE_URL and REDIS_URL are not both set: test/e2e/cache.e2e-spec.ts and feed-instances.e2e-spec.ts are not run',
    );
  if (!postgres) notices.push('DATABASE_URL is not set: test/e2e/connection-loss.e2e-spec.ts is not run');
  for (const suite of Object.keys(TOOL_SUITES) as ToolSuite[]) {
    const notice = toolsNotice(suite);
    if (notice) notices.push(`${notice}: not run`);
  }
  return notices;
}
for (const notice of leftOut()) console.warn(notice);

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
        ...(sharedServices ? [] : ['/cache\\.e2e-spec\\.ts$', '/feed-instances\\.e2e-spec\\.ts$']),
        ...(postgres ? [] : ['/connection-loss\\.e2e-spec\\.ts$']),
      ],
    },
    { ...base, displayName: 'resilience', testMatch: ['<rootDir>/test/resilience/**/*.resilience-spec.ts'] },
    { ...base, displayName: 'monitoring', testMatch: ['<rootDir>/test/monitoring/**/*.monitoring-spec.ts'] },
  ],
};

export default config;
