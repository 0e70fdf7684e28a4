import { SqlClient } from './sql-client';
import { EVENTS_CHANNEL, FeedEvent, PendingEvent } from './outbox';

/** Where a branch's feed stands: its last event, and the seq up to which events may have been pruned. */
export interface FeedHorizon {
  lastSeq: number;
  prunedThrough: number;
}

/** The outbox, read: every commit's event per branch, in seq order (written by the commits themselves). */
export interface EventLog {
  horizon(branch: string): Promise<FeedHorizon>;
  /** The branch's events after `seq`, oldest first, at most `limit`. */
  after(branch: string, seq: number, limit: number): Promise<FeedEvent[]>;
  /** The last seq of every branch that has events (one small read, for readers that poll). */
  lastSeqs(): Promise<Map<string, number>>;
  /**
   * Drops events created before `before` that no webhook still owes (pending or dead-lettered
   * deliveries keep theirs), with the deliveries done for them; returns how many went.
   */
  prune(before: Date): Promise<number>;
  /**
   * Calls `committed` with a branch's name whenever a commit on it is committed, by any instance sharing
   * the database; `resumed` after a gap in which some may have been missed. A wake-up only: the log is
   * the truth. Resolves to the function that stops it.
   */
  subscribe(committed: (branch: string) => void, resumed: () => void): Promise<() => Promise<void>>;
}

export const EVENT_LOG = Symbol('EventLog');

interface EventRow {
  branch: string;
  seq: string | number;
  payload: PendingEvent;
}

/** An event as sent: its fields in one order, whatever order the stored JSON has. */
export function toEvent(row: EventRow): FeedEvent {
  const { id, parents, author, message, createdAt, summary, changes, truncated } = row.payload;
  return {
    id,
    seq: Number(row.seq),
    branch: row.branch,
    parents,
    author,
    message,
    createdAt,
    summary,
    changes,
    truncated,
  };
}

interface Subscriber {
  committed: (branch: string) => void;
  resumed: () => void;
}

/** The outbox on SQL. Its subscribers share one listening connection, opened for the first. */
export class SqlEventLog implements EventLog {
  private readonly subscribers = new Set<Subscriber>();
  private listening?: Promise<() => Promise<void>>;

  constructor(private readonly db: SqlClient) {}

  async horizon(branch: string): Promise<FeedHorizon> {
    const [row] = await this.db.query<{ last_seq: string; pruned_through: string }>(
      'SELECT last_seq, pruned_through FROM event_seqs WHERE branch = $1',
      [branch],
    );
    return { lastSeq: Number(row?.last_seq ?? 0), prunedThrough: Number(row?.pruned_through ?? 0) };
  }

  async after(branch: string, seq: number, limit: number): Promise<FeedEvent[]> {
    const rows = await this.db.query<EventRow>(
      'SELECT branch, seq, payload FROM events WHERE branch = $1 AND seq > $2 ORDER BY seq LIMIT $3',
      [branch, seq, limit],
    );
    return rows.map(toEvent);
  }

  async lastSeqs(): Promise<Map<string, number>> {
    const rows = await this.db.query<{ branch: string; last_seq: string }>(
      'SELECT branch, last_seq FROM event_seqs',
    );
    return new Map(rows.map((r) => [r.branch, Number(r.last_seq)]));
  }

  async subscribe(committed: (branch: string) => void, resumed: () => void): Promise<() => Promise<void>> {
    const subscriber = { committed, resumed };
    this.subscribers.add(subscriber);
    this.listening ??= this.db.listen(
      EVENTS_CHANNEL,
      (branch) => this.subscribers.forEach((s) => s.committed(branch)),
      () => this.subscribers.forEach((s) => s.resumed()),
    );
    const listening = this.listening;
    await listening;
    return async () => {
      this.subscribers.delete(subscriber);
      if (this.subscribers.size > 0 || this.listening !== listening) return;
      this.listening = undefined;
      await (
        await listening
      )();
    };
  }

  async prune(before: Date): Promise<number> {
    const [row] = await this.db.query<{ pruned: string }>(
      `WITH gone AS (
         DELETE FROM events e
          WHERE e.created_at < $1
            AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d
                             WHERE d.branch = e.branch AND d.seq = e.seq AND d.status <> 'delivered')
         RETURNING branch, seq
       ), horizon AS (
         UPDATE event_seqs q SET pruned_through = GREATEST(q.pruned_through, g.last)
           FROM (SELECT branch, max(seq) AS last FROM gone GROUP BY branch) g
          WHERE q.branch = g.branch
         RETURNING 1
       ), done AS (
         DELETE FROM webhook_deliveries d USING gone WHERE d.branch = gone.branch AND d.seq = gone.seq
         RETURNING 1
       )
       SELECT (SELECT count(*) FROM gone) AS pruned, (SELECT count(*) FROM horizon) AS branches,
              (SELECT count(*) FROM done) AS deliveries`,
      [before],
    );
    return Number(row?.pruned ?? 0);
  }
}
