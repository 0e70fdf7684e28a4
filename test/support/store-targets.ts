import { StoreLocation } from '@oms/store';
import { freshPgliteDir } from './pglite-template';
import { IN_CI, freshPostgresDatabase } from './postgres';

export interface StoreTarget {
  name: 'pglite' | 'postgres';
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
  provision: async () => {
    const { databaseUrl, cleanup } = await freshPostgresDatabase();
    return { location: { databaseUrl, dataDir: 'unused' }, cleanup };
  },
};

/**
 * The stores every store-backed suite runs on: PGlite always, PostgreSQL when DATABASE_URL is set.
 * In CI a missing DATABASE_URL is an error, never a silent skip.
 */
export function storeTargets(): StoreTarget[] {
  if (process.env.DATABASE_URL) return [pglite, postgres];
  if (IN_CI) throw new Error('CI=true but DATABASE_URL is not set: the PostgreSQL suites cannot run');
  process.emitWarning('DATABASE_URL is not set: store suites run on PGlite only');
  return [pglite];
}
