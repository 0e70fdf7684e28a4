import { migrate } from './migrations';
import { PgliteClient } from './pglite-client';
import { PostgresClient } from './postgres-client';
import { SettingsStore, SqlSettingsStore } from './settings-store';
import { SqlClient } from './sql-client';
import { SqlUserStore, UserStore } from './user-store';
import { SqlVersionedStore } from './sql-versioned-store';
import { StoreObserver, VersionedStore } from './versioned-store';
import { EventLog, SqlEventLog } from './event-log';
import { SqlWebhookStore, WebhookStore } from './webhook-store';

export interface StoreLocation {
  databaseUrl?: string;
  dataDir: string;
  /** STORE_TIMEOUT_MS: bounds the wait for a PostgreSQL connection. */
  timeoutMs?: number;
}

export interface OpenedStore {
  client: SqlClient;
  versioned: VersionedStore;
  users: UserStore;
  settings: SettingsStore;
  events: EventLog;
  webhooks: WebhookStore;
}

/** Connects to PostgreSQL when a URL is given, else opens PGlite in dataDir; then migrates. */
export async function openStore(location: StoreLocation, observer?: StoreObserver): Promise<OpenedStore> {
  const client: SqlClient = location.databaseUrl
    ? new PostgresClient(location.databaseUrl, { connectTimeoutMs: location.timeoutMs })
    : await PgliteClient.open(location.dataDir);
  try {
    await migrate(client);
  } catch (error) {
    await client.close().catch(() => undefined);
    throw error;
  }
  return {
    client,
    versioned: new SqlVersionedStore(client, observer),
    users: new SqlUserStore(client),
    settings: new SqlSettingsStore(client),
    events: new SqlEventLog(client),
    webhooks: new SqlWebhookStore(client),
  };
}
