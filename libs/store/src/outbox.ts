import { SqlExecutor } from './sql-client';
import { EntityKind } from './versioned-store';

/** What a commit did to one entity, as the change feed tells it. */
export type ChangeOp = 'added' | 'modified' | 'removed';

export interface FeedChange {
  kind: 'objectType' | 'document';
  /** The document's object type (for an object type: its own name). */
  objectType: string;
  id: string;
  op: ChangeOp;
}

export interface ChangeCounts {
  added: number;
  modified: number;
  removed: number;
}

export interface EventSummary {
  schema: ChangeCounts;
  documents: Record<string, ChangeCounts>;
}

/** One commit as the change feed and webhooks deliver it. */
export interface FeedEvent {
  /** The commit's id. */
  id: string;
  /** Position in the branch's feed: strictly increasing, one per commit. */
  seq: number;
  branch: string;
  parents: string[];
  author: string;
  message: string;
  createdAt: string;
  summary: EventSummary;
  /** The first MAX_EVENT_CHANGES changes (object types first, then documents in write order). */
  changes: FeedChange[];
  truncated: boolean;
}

/** The changes an event lists; the summary counts them all. */
export const MAX_EVENT_CHANGES = 1000;

/** Wakes the readers of the feed on every instance (PostgreSQL NOTIFY; the payload is the branch). */
export const EVENTS_CHANNEL = 'oms_events';

/** An event before the outbox numbers it. */
export type PendingEvent = Omit<FeedEvent, 'seq' | 'branch'>;

interface Tracked {
  kind: EntityKind;
  id: string;
  objectType: string | null;
  existed: boolean;
  exists: boolean;
}

/**
 * What one commit's writes did, entity by entity: an entity written several times in one commit counts
 * once, from what it was before the commit to what it is after (added and removed again: nothing).
 */
export class ChangeTracker {
  private readonly entities = new Map<string, Tracked>();

  note(kind: EntityKind, id: string, objectType: string | null, existed: boolean, exists: boolean): void {
    const key = `${kind}\u0000${id}`;
    const seen = this.entities.get(key);
    if (seen) {
      seen.exists = exists;
      seen.objectType = objectType ?? seen.objectType;
    } else {
      this.entities.set(key, { kind, id, objectType, existed, exists });
    }
  }

  summarize(): Pick<FeedEvent, 'summary' | 'changes' | 'truncated'> {
    const summary: EventSummary = { schema: counts(), documents: {} };
    const changes: FeedChange[] = [];
    let total = 0;
    // Object types first: a consumer learns of a type before the documents that use it.
    const all = [...this.entities.values()];
    const ordered = [...all.filter((e) => e.kind === 'type'), ...all.filter((e) => e.kind !== 'type')];
    for (const entity of ordered) {
      const op = opOf(entity);
      if (!op) continue;
      const isType = entity.kind === 'type';
      const objectType = isType ? entity.id : (entity.objectType ?? '');
      const bucket = isType ? summary.schema : (summary.documents[objectType] ??= counts());
      bucket[op]++;
      if (total++ < MAX_EVENT_CHANGES)
        changes.push({ kind: isType ? 'objectType' : 'document', objectType, id: entity.id, op });
    }
    return { summary, changes, truncated: total > MAX_EVENT_CHANGES };
  }
}

const counts = (): ChangeCounts => ({ added: 0, modified: 0, removed: 0 });

function opOf({ existed, exists }: Tracked): ChangeOp | null {
  if (existed) return exists ? 'modified' : 'removed';
  return exists ? 'added' : null;
}

/**
 * Writes the events of a transaction's commits (in commit order) to the outbox, numbered after the
 * branch's last, with a delivery for every webhook that follows the branch, and wakes the feed's readers
 * once the transaction commits. One round trip: it runs inside the commit's own transaction, so there is
 * no commit without its event and no event without its commit.
 */
export async function appendEvents(db: SqlExecutor, branch: string, events: PendingEvent[]): Promise<void> {
  if (events.length === 0) return;
  const rows = events.map((event, n) => ({
    n: n + 1,
    id: event.id,
    created_at: event.createdAt,
    payload: event,
  }));
  await db.query(
    `WITH s AS (
       INSERT INTO event_seqs AS q (branch, last_seq) VALUES ($1, $2)
       ON CONFLICT (branch) DO UPDATE SET last_seq = q.last_seq + $2
       RETURNING last_seq
     ), e AS (
       INSERT INTO events (branch, seq, commit_id, created_at, payload)
       SELECT $1, s.last_seq - $2 + x.n, x.id, x.created_at, x.payload
         FROM s, json_to_recordset($3::json) AS x(n int, id text, created_at timestamptz, payload json)
       RETURNING seq
     ), d AS (
       INSERT INTO webhook_deliveries (webhook_id, branch, seq)
       SELECT w.id, $1, e.seq FROM webhooks w, e WHERE w.disabled_at IS NULL AND $1 = ANY (w.branches)
       RETURNING 1
     )
     SELECT pg_notify('${EVENTS_CHANNEL}', $1), (SELECT count(*) FROM d) AS deliveries`,
    [branch, events.length, JSON.stringify(rows)],
  );
}
