import { randomBytes } from 'node:crypto';
import { Client } from 'pg';

/** True when the suite must not quietly skip what needs a service (CI=true). */
export const IN_CI = process.env.CI === 'true';

/**
 * A fresh database on the server named by DATABASE_URL, for one test file. Each file gets its own so
 * files run in parallel without sharing rows.
 */
export async function freshPostgresDatabase(): Promise<{
  databaseUrl: string;
  cleanup: () => Promise<void>;
}> {
  const serverUrl = process.env.DATABASE_URL;
  if (!serverUrl) throw new Error('DATABASE_URL is not set');
  const name = `oms_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = new Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    databaseUrl: url.toString(),
    cleanup: async () => {
      const c = new Client({ connectionString: serverUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}
