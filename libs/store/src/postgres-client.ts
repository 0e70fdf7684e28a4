import { Logger } from '@nestjs/common';
import { Client, Pool, PoolClient } from 'pg';
import { SqlClient, SqlTransaction, TransactionOptions, beforeCommit } from './sql-client';
import { CommitOutcomeUnknown, classifyStoreError } from './store-errors';

export interface PostgresClientOptions {
  max?: number;
  /** How long to wait for a connection (pool exhausted or server unreachable) before failing. */
  connectTimeoutMs?: number;
}

/** PostgreSQL through a pg pool. A lost connection is an error of the call that used it, never of the process. */
export class PostgresClient implements SqlClient {
  readonly kind = 'postgres';
  private readonly pool: Pool;
  private readonly logger = new Logger('PostgreSQL');

  private readonly listeners = new Set<{ stop: () => Promise<void> }>();

  constructor(
    private readonly connectionString: string,
    private readonly options: PostgresClientOptions = {},
  ) {
    this.pool = new Pool({
      connectionString,
      max: options.max ?? 10,
      connectionTimeoutMillis: options.connectTimeoutMs ?? 5000,
      keepAlive: true,
    });
    // An idle client that loses its connection is dropped by the pool; the next query reports the outage.
    this.pool.on('error', (error) => this.connectionLost(error));
  }

  async query<T>(text: string, params?: unknown[]): Promise<T[]> {
    const result = await this.pool.query(text, params);
    return result.rows as T[];
  }

  async transaction<T>(fn: (tx: SqlTransaction) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
    const client: PoolClient = await this.pool.connect();
    // A checked-out client has no pool listener: without ours, a connection dropped between two queries
    // of this transaction ('error' emitted with no listener) would end the process.
    const onError = (error: Error) => this.connectionLost(error);
    client.on('error', onError);
    let broken = false;
    let committing = false;
    try {
      const lockTimeout = options.lockTimeoutMs;
      await client.query(
        lockTimeout === undefined
          ? 'BEGIN'
          : `BEGIN; SET LOCAL lock_timeout = ${Math.max(1, Math.floor(lockTimeout))}`,
      );
      const result = await fn({
        query: async <R>(text: string, params?: unknown[]) => (await client.query(text, params)).rows as R[],
        exec: async (sql: string) => void (await client.query(sql)),
      });
      beforeCommit(options);
      committing = true;
      await client.query('COMMIT');
      return result;
    } catch (error) {
      // The server answered COMMIT with an error: it rolled back. No answer at all: nobody knows.
      if (committing && classifyStoreError(error) === 'dependency') {
        broken = true;
        throw new CommitOutcomeUnknown(error);
      }
      await client.query('ROLLBACK').catch(() => {
        broken = true;
      });
      throw error;
    } finally {
      // A broken client is being destroyed and may still report its socket closing: keep listening to it.
      if (!broken) client.off('error', onError);
      client.release(broken);
    }
  }

  /**
   * LISTEN needs a connection of its own (a pooled one goes back to the pool). Lost (or not there at
   * start), it connects again after a second, for as long as it is not stopped.
   */
  async listen(
    channel: string,
    onMessage: (payload: string) => void,
    resumed: () => void,
  ): Promise<() => Promise<void>> {
    let client: Client | null = null;
    let stopped = false;
    let retry: NodeJS.Timeout | undefined;
    const connect = async (again: boolean): Promise<void> => {
      const next = new Client({
        connectionString: this.connectionString,
        connectionTimeoutMillis: this.options.connectTimeoutMs ?? 5000,
        keepAlive: true,
      });
      const lost = (error?: Error) => {
        if (client !== next) return;
        client = null;
        if (error) this.connectionLost(error);
        next.end().catch(() => undefined);
        if (!stopped) retry = setTimeout(() => void connect(true), 1000);
      };
      next.on('error', lost);
      next.on('end', () => lost());
      next.on('notification', (message) => onMessage(message.payload ?? ''));
      client = next;
      try {
        await next.connect();
        await next.query(`LISTEN ${channel}`);
        if (again) resumed();
      } catch (error) {
        lost(error as Error); // tried again in a second: the feed's readers poll meanwhile
      }
    };
    await connect(false);
    const listener = {
      stop: async () => {
        stopped = true;
        clearTimeout(retry);
        const open = client;
        client = null;
        this.listeners.delete(listener);
        await open?.end().catch(() => undefined);
      },
    };
    this.listeners.add(listener);
    return listener.stop;
  }

  async close(): Promise<void> {
    await Promise.all([...this.listeners].map((l) => l.stop()));
    await this.pool.end();
  }

  private connectionLost(error: Error): void {
    this.logger.warn({ message: 'PostgreSQL connection lost', error: error.message });
  }
}
