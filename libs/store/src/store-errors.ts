/**
 * What kind of failure a raw error from PostgreSQL or PGlite is. Decides whether a breaker counts it and
 * what the client is told; the resilience layer's store guard is its one user.
 * - `dependency`: the store itself is failing (connection lost or refused, out of resources, shutting down,
 *   internal error) — a breaker counts it, the client gets 503.
 * - `data`: the store refused a value the request carried (SQLSTATE class 22, 54): a gap in validation —
 *   the client gets 400, no breaker counts it.
 * - `contention`: the store gave up on this transaction because of a concurrent one (class 40, or 55P03
 *   when lock_timeout passed waiting for another's lock): retryable
 *   503, not a sign of an unhealthy store.
 * - `internal`: anything else (class 23, 42, a bug of ours): 500, no breaker counts it.
 */
export type StoreFailureKind = 'dependency' | 'data' | 'contention' | 'internal';

/** SQLSTATE classes (first two characters) by kind; see PostgreSQL's errcodes appendix. */
const SQLSTATE_CLASSES: Record<string, StoreFailureKind> = {
  '08': 'dependency', // connection exception
  '53': 'dependency', // insufficient resources
  '57': 'dependency', // operator intervention (admin shutdown, query cancelled)
  '58': 'dependency', // system error (I/O)
  F0: 'dependency', // configuration file error
  XX: 'dependency', // internal error (data corrupted)
  '22': 'data', // data exception (bad encoding, out of range)
  '54': 'data', // program limit exceeded (statement too complex, nesting too deep)
  '40': 'contention', // transaction rollback (serialization failure, deadlock)
  '55': 'contention', // object not in prerequisite state (55P03: lock_timeout passed waiting for a lock)
};

/** Node socket errors: the store could not be reached or went away. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/**
 * pg's own messages when a connection is lost or cannot be had (they carry no code), and both clients'
 * once the store was closed at shutdown (a write still queued then is the store going away, not a bug).
 */
const LOST_CONNECTION =
  /Connection terminated|Client has encountered a connection error|not queryable|timeout exceeded when trying to connect|Connection ended unexpectedly|PGlite is closed|Cannot use a pool after calling end/i;

const SQLSTATE = /^[0-9A-Z]{5}$/;

export function classifyStoreError(error: unknown): StoreFailureKind {
  if (error instanceof CommitOutcomeUnknown) return 'dependency';
  if (typeof error !== 'object' || error === null) return 'internal';
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (NETWORK_CODES.has(code)) return 'dependency';
    if (SQLSTATE.test(code)) return SQLSTATE_CLASSES[code.slice(0, 2)] ?? 'internal';
  }
  if (error instanceof Error && LOST_CONNECTION.test(error.message)) return 'dependency';
  // PGlite's WebAssembly runtime failing (out of memory, an abort) is the store failing.
  if (error instanceof Error && error.name === 'RuntimeError') return 'dependency';
  return 'internal';
}

/**
 * The connection failed after COMMIT was sent and before its answer came: the transaction may or may not
 * have been applied.
 */
export class CommitOutcomeUnknown extends Error {
  constructor(override readonly cause: unknown) {
    super(
      `the connection failed while committing: ${cause instanceof Error ? cause.message : String(cause)}`,
    );
    this.name = 'CommitOutcomeUnknown';
  }
}

/** A transaction whose caller gave up on it (a timeout) was rolled back instead of committed. */
export class TransactionAbandoned extends Error {
  constructor() {
    super('the caller gave up on this transaction; it was rolled back');
    this.name = 'TransactionAbandoned';
  }
}
