import { randomBytes } from 'node:crypto';
import { ADVISORY_LOCKS } from './advisory-locks';
import { SqlClient } from './sql-client';
import { NO_LIMIT } from './view';

/** The first commit's author and the name of the branch that always exists. */
export const SYSTEM_AUTHOR = 'system';
export const MAIN_BRANCH = 'main';

const ENTITY_COLUMNS = `
  branch_id bigint NOT NULL,
  kind text NOT NULL,
  entity_id text NOT NULL,
  seq bigint NOT NULL,
  deleted boolean NOT NULL,
  object_type text,
  body jsonb,
  created_at timestamptz NOT NULL,
  created_by text NOT NULL,
  updated_at timestamptz NOT NULL,
  updated_by text NOT NULL`;

/**
 * Ordered, append-only. Each migration is a list of single statements (PGlite runs one per query).
 * `versions` is the append-only history; `heads` the latest row per entity written on a branch.
 */
const MIGRATIONS: { version: number; statements: string[] }[] = [
  {
    version: 1,
    statements: [
      `CREATE TABLE branches (
        id bigserial PRIMARY KEY,
        name text NOT NULL,
        parent_id bigint REFERENCES branches(id),
        fork_seq bigint,
        head_seq bigint NOT NULL,
        head_commit text NOT NULL,
        schema_seq bigint NOT NULL DEFAULT 0,
        created_from text,
        created_by text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', clock_timestamp()),
        deleted_at timestamptz
      )`,
      `CREATE UNIQUE INDEX branches_live_name ON branches (name) WHERE deleted_at IS NULL`,
      `CREATE TABLE commits (
        seq bigserial PRIMARY KEY,
        id text NOT NULL UNIQUE,
        branch_id bigint NOT NULL REFERENCES branches(id),
        parents text[] NOT NULL,
        author text NOT NULL,
        message text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', clock_timestamp())
      )`,
      `CREATE INDEX commits_branch_seq ON commits (branch_id, seq DESC)`,
      `CREATE TABLE versions (${ENTITY_COLUMNS}, PRIMARY KEY (branch_id, kind, entity_id, seq))`,
      `CREATE INDEX versions_body ON versions USING gin (body jsonb_path_ops)`,
      `CREATE TABLE heads (${ENTITY_COLUMNS}, PRIMARY KEY (branch_id, kind, entity_id))`,
      `CREATE INDEX heads_by_type ON heads (branch_id, kind, object_type, entity_id)`,
      `CREATE INDEX heads_by_type_created ON heads (branch_id, kind, object_type, created_at, entity_id)`,
      `CREATE INDEX heads_body ON heads USING gin (body jsonb_path_ops)`,
      `CREATE TABLE users (
        username text PRIMARY KEY,
        password_hash text NOT NULL,
        roles text[] NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`,
      `CREATE TABLE settings (key text PRIMARY KEY, value text NOT NULL)`,
    ],
  },
  {
    version: 2,
    statements: [
      // Tokens carry the version they were issued at (`tv`); changing roles or password moves it on.
      `ALTER TABLE users ADD COLUMN token_version integer NOT NULL DEFAULT 1`,
      // New and changed users take their version from one sequence, so a user deleted and created again
      // never gets back a version that a token of the deleted account still carries.
      `CREATE SEQUENCE user_token_versions AS integer START 2`,
    ],
  },
  {
    version: 3,
    statements: [
      // What each branch sees: rows of a source branch up to a limit, from a sequence number on (see view.ts).
      `CREATE TABLE branch_views (
        branch_id bigint NOT NULL REFERENCES branches(id),
        source_id bigint NOT NULL REFERENCES branches(id),
        lim bigint NOT NULL,
        since bigint NOT NULL,
        PRIMARY KEY (branch_id, source_id, since)
      )`,
      // Existing branches see their chain of ancestors, each up to the fork of the level below.
      `INSERT INTO branch_views (branch_id, source_id, lim, since)
       WITH RECURSIVE chain AS (
         SELECT id AS branch_id, id AS source_id, parent_id, fork_seq, ${NO_LIMIT}::bigint AS lim FROM branches
         UNION ALL
         SELECT chain.branch_id, p.id, p.parent_id, p.fork_seq, chain.fork_seq
           FROM branches p JOIN chain ON p.id = chain.parent_id
       )
       SELECT branch_id, source_id, lim, 0 FROM chain`,
      // Rows written after a point, per branch: what compare and merge read (in proportion to the changes).
      `CREATE INDEX versions_by_seq ON versions (branch_id, seq)`,
      `CREATE TABLE tags (
        name text PRIMARY KEY,
        commit_id text NOT NULL REFERENCES commits(id),
        message text NOT NULL,
        created_by text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', clock_timestamp())
      )`,
    ],
  },
  {
    version: 4,
    statements: [
      // A merge's source segments are history only when the merge wrote the merged values itself (view.ts).
      `ALTER TABLE branch_views ADD COLUMN covered boolean NOT NULL DEFAULT false`,
      `ALTER TABLE branch_views DROP CONSTRAINT branch_views_pkey`,
      `ALTER TABLE branch_views ADD PRIMARY KEY (branch_id, source_id, since, covered)`,
      // Containment look-ups (unique values, references, property filters) must not scan GIN's pending list
      // of recent inserts: measured at 1.2 ms per look-up after 20k inserts, 0.002 ms once it was merged.
      `ALTER INDEX heads_body SET (fastupdate = off)`,
      `ALTER INDEX versions_body SET (fastupdate = off)`,
    ],
  },
  {
    version: 5,
    statements: [
      // A list in creation order across types (`?sort=createdAt`, no objectType): without it a page sorted
      // every document of the branch (measured at 100k on PGlite: 48 / 88 ms a page for createdAt /
      // -createdAt, against 6 ms by id).
      `CREATE INDEX heads_by_created ON heads (branch_id, kind, created_at, entity_id)`,
    ],
  },
  {
    version: 6,
    statements: [
      // The same order on an ancestor's rows, for a forked branch's list in creation order (measured at 100k
      // on PGlite: 859 ms a page, against 128 ms at 1k, every ancestor row sorted).
      `CREATE INDEX versions_by_created ON versions (branch_id, kind, created_at, entity_id)`,
    ],
  },
  {
    version: 7,
    statements: [
      // The change feed's outbox: one event per commit, numbered per branch name (a branch deleted and made
      // again goes on counting, so a consumer's Last-Event-ID never points into a different history).
      `CREATE TABLE event_seqs (
        branch text PRIMARY KEY,
        last_seq bigint NOT NULL DEFAULT 0,
        -- Events up to here may have been pruned: a resume from before it is refused (410).
        pruned_through bigint NOT NULL DEFAULT 0
      )`,
      `CREATE TABLE events (
        branch text NOT NULL,
        seq bigint NOT NULL,
        commit_id text NOT NULL,
        created_at timestamptz NOT NULL,
        -- json, not jsonb: kept as written, so every reader sends the same bytes in the same key order.
        payload json NOT NULL,
        PRIMARY KEY (branch, seq)
      )`,
      `CREATE INDEX events_created ON events (created_at)`,
      `CREATE TABLE webhooks (
        id text PRIMARY KEY,
        url text NOT NULL,
        branches text[] NOT NULL,
        secret text NOT NULL,
        created_by text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', clock_timestamp()),
        disabled_at timestamptz,
        disabled_reason text
      )`,
      // One row per (webhook, event), written with the commit. The head of each (webhook, branch) queue is
      // its pending row of lowest seq; a lease (leased_until) gives it to one instance at a time.
      `CREATE TABLE webhook_deliveries (
        id bigserial PRIMARY KEY,
        webhook_id text NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
        branch text NOT NULL,
        seq bigint NOT NULL,
        status text NOT NULL DEFAULT 'pending',
        attempts integer NOT NULL DEFAULT 0,
        last_status integer,
        last_error text,
        next_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        leased_until timestamptz,
        created_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', clock_timestamp()),
        delivered_at timestamptz
      )`,
      // A queue's head: one probe per (webhook, branch), however many were delivered before it.
      `CREATE INDEX webhook_deliveries_queue ON webhook_deliveries (webhook_id, branch, seq) WHERE status = 'pending'`,
      // Pruning (is an event still owed?) and a webhook's deliveries, newest first.
      `CREATE INDEX webhook_deliveries_event ON webhook_deliveries (branch, seq)`,
      `CREATE INDEX webhook_deliveries_listed ON webhook_deliveries (webhook_id, id)`,
      // Dead letters are few: counted (webhook_dead_letters) without reading the rest.
      `CREATE INDEX webhook_deliveries_dead ON webhook_deliveries (webhook_id) WHERE status = 'dead'`,
    ],
  },
];

/** Applies pending migrations and creates `main`; idempotent, and safe when instances start together. */
export async function migrate(db: SqlClient): Promise<number[]> {
  return db.transaction(async (tx) => {
    await tx.query(`SELECT pg_advisory_xact_lock(${ADVISORY_LOCKS.migrations})`);
    await tx.query(`CREATE TABLE IF NOT EXISTS oms_migrations (
      version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`);
    const done = new Set(
      (await tx.query<{ version: number }>('SELECT version FROM oms_migrations')).map((r) =>
        Number(r.version),
      ),
    );
    const applied: number[] = [];
    for (const migration of MIGRATIONS) {
      if (done.has(migration.version)) continue;
      for (const statement of migration.statements) await tx.query(statement);
      await tx.query('INSERT INTO oms_migrations (version) VALUES ($1)', [migration.version]);
      applied.push(migration.version);
    }
    const main = await tx.query(`SELECT 1 FROM branches WHERE name = $1 AND deleted_at IS NULL`, [
      MAIN_BRANCH,
    ]);
    if (main.length === 0) {
      const [branch] = await tx.query<{ id: string }>(
        `INSERT INTO branches (name, head_seq, head_commit, created_by) VALUES ($1, 0, '', $2) RETURNING id`,
        [MAIN_BRANCH, SYSTEM_AUTHOR],
      );
      // No @oms/common here (one()): test set-up loads this file outside the module mapper.
      if (!branch) throw new Error('creating main returned no row');
      const id = randomBytes(20).toString('hex');
      const [commit] = await tx.query<{ seq: string }>(
        `INSERT INTO commits (id, branch_id, parents, author, message) VALUES ($1, $2, '{}', $3, $4) RETURNING seq`,
        [id, branch.id, SYSTEM_AUTHOR, 'Initialize main'],
      );
      if (!commit) throw new Error("main's first commit returned no row");
      await tx.query(`UPDATE branches SET head_seq = $1, head_commit = $2 WHERE id = $3`, [
        commit.seq,
        id,
        branch.id,
      ]);
      await tx.query(
        `INSERT INTO branch_views (branch_id, source_id, lim, since) VALUES ($1, $1, ${NO_LIMIT}, 0)`,
        [branch.id],
      );
    }
    return applied;
  });
}
