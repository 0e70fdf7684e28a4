import { TransactionAbandoned } from './store-errors';

/** Runs SQL on one connection or transaction. Both stores speak the same PostgreSQL dialect. */
export interface SqlExecutor {
  query<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>;
}

/** The connection of one transaction: parameterised queries, and statements sent together. */
export interface SqlTransaction extends SqlExecutor {
  /** Runs statements without parameters, several in one round trip (PostgreSQL's simple query protocol). */
  exec(sql: string): Promise<void>;
}

export interface TransactionOptions {
  /** Aborted before the commit: the transaction rolls back (TransactionAbandoned) instead. */
  signal?: AbortSignal;
  /** Called just before COMMIT is sent: from then on a lost answer leaves the outcome unknown. */
  onCommit?: () => void;
  /**
   * The longest wait for another transaction's lock (PostgreSQL's lock_timeout; past it, 55P03). PGlite
   * has one connection and no such waits.
   */
  lockTimeoutMs?: number;
}

/** A database behind the store: PostgreSQL through a pool, or embedded PGlite. */
export interface SqlClient extends SqlExecutor {
  readonly kind: 'postgres' | 'pglite';
  /**
   * Runs fn in one transaction: committed when fn resolves, rolled back when it throws. A connection lost
   * while committing throws CommitOutcomeUnknown.
   */
  transaction<T>(fn: (tx: SqlTransaction) => Promise<T>, options?: TransactionOptions): Promise<T>;
  /**
   * Calls onMessage with the payload of each NOTIFY on `channel` (sent by any connection, delivered when
   * its transaction commits). A listener that lost its connection listens again by itself and then calls
   * `resumed`, since what was sent meanwhile is lost. Resolves to the function that stops listening.
   */
  listen(
    channel: string,
    onMessage: (payload: string) => void,
    resumed: () => void,
  ): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

/** The last step of every transaction before COMMIT, on either client. */
export function beforeCommit(options: TransactionOptions): void {
  if (options.signal?.aborted) throw new TransactionAbandoned();
  options.onCommit?.();
}
