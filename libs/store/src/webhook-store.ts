import { SqlClient } from './sql-client';
import { FeedEvent } from './outbox';
import { toEvent } from './event-log';

export interface WebhookRecord {
  id: string;
  url: string;
  branches: string[];
  createdBy: string;
  createdAt: Date;
  /** Set when the receiver answered 410 Gone: nothing more is sent, nothing more is queued. */
  disabledAt: Date | null;
  disabledReason: string | null;
}

export interface NewWebhook {
  id: string;
  url: string;
  branches: string[];
  secret: string;
  createdBy: string;
}

export const DELIVERY_STATUSES = ['pending', 'delivered', 'dead'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

export interface DeliveryRecord {
  id: string;
  webhookId: string;
  branch: string;
  seq: number;
  /** The commit the event tells of. */
  eventId: string | null;
  status: DeliveryStatus;
  attempts: number;
  lastStatus: number | null;
  lastError: string | null;
  /** When a pending delivery is tried next (null once it is delivered or dead). */
  nextAttemptAt: Date | null;
  createdAt: Date;
  deliveredAt: Date | null;
}

/** A delivery given to this instance until `leasedUntil`, with what sending it takes. */
export interface LeasedDelivery {
  id: string;
  webhookId: string;
  url: string;
  secret: string;
  attempts: number;
  event: FeedEvent;
}

/** What became of one try. */
export type Settlement =
  | { outcome: 'delivered'; status: number }
  /** Failed: tried again at `retryAt`, or dead-lettered when `retryAt` is null. */
  | { outcome: 'failed'; status: number | null; error: string; retryAt: Date | null }
  /** Not tried (the receiver's breaker is open): no attempt is counted. */
  | { outcome: 'deferred'; error: string; retryAt: Date }
  /** 410 Gone: the webhook is disabled; the delivery stays pending. */
  | { outcome: 'gone'; status: number };

export interface DeliveryPage {
  items: DeliveryRecord[];
  /** The id to pass as `after` for the next page (null: this is the last). */
  next: string | null;
}

/**
 * Webhooks and their deliveries. A delivery row is written with the commit (outbox.ts); the head of each
 * (webhook, branch) queue (its pending row of lowest seq) is leased to one instance at a time with
 * FOR UPDATE SKIP LOCKED, so deliveries go out in seq order, once unless a lease expires. A queue is the
 * webhook's pending deliveries of one of its branches (the branches of a webhook never change).
 */
export interface WebhookStore {
  create(webhook: NewWebhook): Promise<WebhookRecord>;
  count(): Promise<number>;
  list(): Promise<WebhookRecord[]>;
  get(id: string): Promise<WebhookRecord | null>;
  /** The signing secret, for a ping. */
  secret(id: string): Promise<string | null>;
  delete(id: string): Promise<boolean>;
  /** Up to `limit` queue heads that are due and not leased, leased for `leaseMs`. */
  lease(limit: number, leaseMs: number): Promise<LeasedDelivery[]>;
  settle(delivery: LeasedDelivery, settlement: Settlement): Promise<void>;
  deliveries(
    webhookId: string,
    query: { status?: DeliveryStatus; limit: number; before?: string },
  ): Promise<DeliveryPage>;
  /** Due now with its attempts counted afresh, whatever its status; null when there is no such delivery. */
  redeliver(webhookId: string, deliveryId: string): Promise<DeliveryRecord | null>;
  /** Pending and dead-lettered deliveries, over every webhook. */
  backlog(): Promise<{ pending: number; dead: number }>;
}

export const WEBHOOK_STORE = Symbol('WebhookStore');

interface WebhookRow {
  id: string;
  url: string;
  branches: string[];
  created_by: string;
  created_at: Date;
  disabled_at: Date | null;
  disabled_reason: string | null;
}

interface DeliveryRow {
  id: string | number;
  webhook_id: string;
  branch: string;
  seq: string | number;
  commit_id: string | null;
  status: DeliveryStatus;
  attempts: number;
  last_status: number | null;
  last_error: string | null;
  next_at: Date;
  created_at: Date;
  delivered_at: Date | null;
}

const WEBHOOK_COLUMNS = 'id, url, branches, created_by, created_at, disabled_at, disabled_reason';
const DELIVERY_COLUMNS = `d.id, d.webhook_id, d.branch, d.seq, e.commit_id, d.status, d.attempts,
  d.last_status, d.last_error, d.next_at, d.created_at, d.delivered_at`;

const toWebhook = (r: WebhookRow): WebhookRecord => ({
  id: r.id,
  url: r.url,
  branches: r.branches,
  createdBy: r.created_by,
  createdAt: r.created_at,
  disabledAt: r.disabled_at,
  disabledReason: r.disabled_reason,
});

const toDelivery = (r: DeliveryRow): DeliveryRecord => ({
  id: String(r.id),
  webhookId: r.webhook_id,
  branch: r.branch,
  seq: Number(r.seq),
  eventId: r.commit_id,
  status: r.status,
  attempts: Number(r.attempts),
  lastStatus: r.last_status,
  lastError: r.last_error,
  nextAttemptAt: r.status === 'pending' ? r.next_at : null,
  createdAt: r.created_at,
  deliveredAt: r.delivered_at,
});

/** Errors are kept short: a receiver's page of HTML is not a delivery's record. */
const MAX_ERROR = 500;

export class SqlWebhookStore implements WebhookStore {
  constructor(private readonly db: SqlClient) {}

  async create(webhook: NewWebhook): Promise<WebhookRecord> {
    const [row] = await this.db.query<WebhookRow>(
      `INSERT INTO webhooks (id, url, branches, secret, created_by) VALUES ($1, $2, $3, $4, $5)
       RETURNING ${WEBHOOK_COLUMNS}`,
      [webhook.id, webhook.url, webhook.branches, webhook.secret, webhook.createdBy],
    );
    return toWebhook(row!);
  }

  async count(): Promise<number> {
    const [row] = await this.db.query<{ n: string }>('SELECT count(*) AS n FROM webhooks');
    return Number(row?.n ?? 0);
  }

  async list(): Promise<WebhookRecord[]> {
    const rows = await this.db.query<WebhookRow>(
      `SELECT ${WEBHOOK_COLUMNS} FROM webhooks ORDER BY created_at, id`,
    );
    return rows.map(toWebhook);
  }

  async get(id: string): Promise<WebhookRecord | null> {
    const [row] = await this.db.query<WebhookRow>(`SELECT ${WEBHOOK_COLUMNS} FROM webhooks WHERE id = $1`, [
      id,
    ]);
    return row ? toWebhook(row) : null;
  }

  async secret(id: string): Promise<string | null> {
    const [row] = await this.db.query<{ secret: string }>('SELECT secret FROM webhooks WHERE id = $1', [id]);
    return row?.secret ?? null;
  }

  async delete(id: string): Promise<boolean> {
    const rows = await this.db.query('DELETE FROM webhooks WHERE id = $1 RETURNING id', [id]);
    return rows.length > 0;
  }

  async lease(limit: number, leaseMs: number): Promise<LeasedDelivery[]> {
    // One statement. `heads`: the pending row of lowest seq of each (webhook, branch) queue, one index probe
    // per queue however long the queues are; those due and not leased are then locked (SKIP LOCKED: another
    // instance's pick is left to it), checked again under the lock, and leased.
    const rows = await this.db.query<{
      id: string | number;
      webhook_id: string;
      url: string;
      secret: string;
      attempts: number;
      branch: string;
      seq: string | number;
      payload: never;
    }>(
      `WITH heads AS (
         SELECT head.id FROM webhooks w
          CROSS JOIN LATERAL unnest(w.branches) AS b(branch)
          CROSS JOIN LATERAL (
            SELECT d.id, d.next_at, d.leased_until FROM webhook_deliveries d
             WHERE d.webhook_id = w.id AND d.branch = b.branch AND d.status = 'pending'
             ORDER BY d.seq LIMIT 1
          ) head
         WHERE w.disabled_at IS NULL AND head.next_at <= clock_timestamp()
           AND (head.leased_until IS NULL OR head.leased_until < clock_timestamp())
         ORDER BY head.next_at
         LIMIT $1
       ), picked AS (
         SELECT d.id FROM webhook_deliveries d
          WHERE d.id IN (SELECT id FROM heads) AND d.status = 'pending'
            AND (d.leased_until IS NULL OR d.leased_until < clock_timestamp())
            -- Still the head (a redelivery may have queued an older event meanwhile).
            AND NOT EXISTS (SELECT 1 FROM webhook_deliveries p
                             WHERE p.webhook_id = d.webhook_id AND p.branch = d.branch
                               AND p.status = 'pending' AND p.seq < d.seq)
          FOR UPDATE OF d SKIP LOCKED
       )
       UPDATE webhook_deliveries d
          SET leased_until = clock_timestamp() + $2 * interval '1 millisecond'
         FROM picked, webhooks w, events e
        WHERE d.id = picked.id AND w.id = d.webhook_id AND e.branch = d.branch AND e.seq = d.seq
       RETURNING d.id, d.webhook_id, w.url, w.secret, d.attempts, e.branch, e.seq, e.payload`,
      [limit, leaseMs],
    );
    return rows.map((r) => ({
      id: String(r.id),
      webhookId: r.webhook_id,
      url: r.url,
      secret: r.secret,
      attempts: Number(r.attempts),
      event: toEvent(r),
    }));
  }

  async settle(delivery: LeasedDelivery, settlement: Settlement): Promise<void> {
    const id = delivery.id;
    switch (settlement.outcome) {
      case 'delivered':
        await this.db.query(
          `UPDATE webhook_deliveries SET status = 'delivered', attempts = attempts + 1, last_status = $2,
             last_error = NULL, leased_until = NULL, delivered_at = date_trunc('milliseconds', clock_timestamp())
           WHERE id = $1`,
          [id, settlement.status],
        );
        return;
      case 'failed':
        await this.db.query(
          `UPDATE webhook_deliveries SET attempts = attempts + 1, last_status = $2, last_error = $3,
             leased_until = NULL, status = CASE WHEN $4::timestamptz IS NULL THEN 'dead' ELSE 'pending' END,
             next_at = COALESCE($4::timestamptz, next_at)
           WHERE id = $1`,
          [id, settlement.status, settlement.error.slice(0, MAX_ERROR), settlement.retryAt],
        );
        return;
      case 'deferred':
        await this.db.query(
          `UPDATE webhook_deliveries SET last_error = $2, leased_until = NULL, next_at = $3 WHERE id = $1`,
          [id, settlement.error, settlement.retryAt],
        );
        return;
      case 'gone':
        await this.db.transaction(async (tx) => {
          await tx.query(
            `UPDATE webhook_deliveries SET attempts = attempts + 1, last_status = $2, leased_until = NULL,
               last_error = 'the receiver answered 410 Gone: webhook disabled' WHERE id = $1`,
            [id, settlement.status],
          );
          await tx.query(
            `UPDATE webhooks SET disabled_at = date_trunc('milliseconds', clock_timestamp()),
               disabled_reason = 'the receiver answered 410 Gone' WHERE id = $1 AND disabled_at IS NULL`,
            [delivery.webhookId],
          );
        });
        return;
    }
  }

  async deliveries(
    webhookId: string,
    query: { status?: DeliveryStatus; limit: number; before?: string },
  ): Promise<DeliveryPage> {
    const params: unknown[] = [webhookId, query.limit + 1];
    const status = query.status ? `AND d.status = $${params.push(query.status)}` : '';
    const before = query.before ? `AND d.id < $${params.push(query.before)}` : '';
    const rows = await this.db.query<DeliveryRow>(
      `SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries d
         LEFT JOIN events e ON e.branch = d.branch AND e.seq = d.seq
        WHERE d.webhook_id = $1 ${status} ${before}
        ORDER BY d.id DESC LIMIT $2`,
      params,
    );
    const items = rows.slice(0, query.limit).map(toDelivery);
    return { items, next: rows.length > query.limit ? (items.at(-1)?.id ?? null) : null };
  }

  async redeliver(webhookId: string, deliveryId: string): Promise<DeliveryRecord | null> {
    const [row] = await this.db.query<DeliveryRow>(
      `WITH d AS (
         UPDATE webhook_deliveries SET status = 'pending', attempts = 0, next_at = clock_timestamp(),
           leased_until = NULL, delivered_at = NULL
          WHERE webhook_id = $1 AND id = $2
         RETURNING *
       )
       SELECT ${DELIVERY_COLUMNS} FROM d LEFT JOIN events e ON e.branch = d.branch AND e.seq = d.seq`,
      [webhookId, deliveryId],
    );
    return row ? toDelivery(row) : null;
  }

  async backlog(): Promise<{ pending: number; dead: number }> {
    // Each count reads its partial index only, never the delivered rows.
    const [row] = await this.db.query<{ pending: string; dead: string }>(
      `SELECT (SELECT count(*) FROM webhook_deliveries WHERE status = 'pending') AS pending,
              (SELECT count(*) FROM webhook_deliveries WHERE status = 'dead') AS dead`,
    );
    return { pending: Number(row?.pending ?? 0), dead: Number(row?.dead ?? 0) };
  }
}
