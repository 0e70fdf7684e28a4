import { StoreLocation } from '@oms/store';
import { freshPgliteDir } from './pglite-template';
import { IN_CI, freshPostgresDatabase } from './postgres';

export interface StoreTarget {
  name: 'pglite' | 'postgres';
  /** The embedded default runs memory-only; the real-services target adds Redis when REDIS_URL is set. */
  redisUrl?: string;
  /** A fresh, migrated-on-open location for one test file. */
  provision(): Promise<{ location: StoreLocation; cleanup: () => Promise<void> }>;
}

const pglite: StoreTarget = {
  name: 'pglite',
  provision: () => {
    const { dataDir, cleanup } = freshPgliteDir();
    return Promise.resolve({ location: { dataDir }, cleanup: () => Promise.resolve(cleanup()) });
  },
};

const postgres: StoreTarget = {
  name: 'postgres',
  redisUrl: process.env.REDIS_URL,
  provision: async () => {
    const { databaseUrl, cleanup } = await freshPostgresDatabase();
    return { location: { databaseUrl, dataDir: 'unused' }, cleanup };
  },
};

/**
 * The stores every store-backed suite runs on: PGlite (memory cache only) always, PostgreSQL (with the
 * Redis tier when REDIS_URL is set) when DATABASE_URL is set. In CI a missing service is an error, never
 * a silent skip; outside CI, jest.config.ts says once per run what is left out (a notice from here would
 * come once per test file, and Jest does not show Node warnings from its workers).
 */
export function storeTargets(): StoreTarget[] {
  if (IN_CI && !process.env.REDIS_URL)
    throw new Error('CI=true but REDIS_URL is not set: the Redis tier cannot be tested');
  if (process.env.DATABASE_URL) return [pglite, postgres];
  if (IN_CI) throw new Error('CI=true but DATABASE_URL is not set: the PostgreSQL suites cannot run');
  return [pglite];
}
