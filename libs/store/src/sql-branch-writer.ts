import { randomBytes } from 'node:crypto';
import { NotFound, first, one } from '@oms/common';
import { NO_LIMIT, ViewSegment } from './view';
import { SqlExecutor } from './sql-client';
import { ChangeTracker, PendingEvent, appendEvents } from './outbox';
import { ENTITY_COLUMNS, EntityRow, SqlBranchReader, toRecord } from './sql-branch-reader';
import {
  BranchWriter,
  CommitInfo,
  EntityKind,
  EntityRecord,
  StoreObserver,
  WriteCheck,
} from './versioned-store';

export interface LockedBranch {
  id: string;
  headCommit: string;
}

/** A version to write: the entity's current record (null: none) keeps its creation facts. */
export interface AppendRow {
  id: string;
  current: EntityRecord | null;
  deleted: boolean;
  objectType: string | null;
  body: unknown;
}

/** What a merge commit adds to a plain one: a second parent, and the source's segments for its history. */
export interface MergeParent {
  commit: string;
  /** Each capped at the source head; added (covered) to the branch's view from the merge commit on. */
  segments: ViewSegment[];
}

/**
 * A commit the branch head moves to; `schema`: it changed object types (the schema's version moves too);
 * `event`: what the change feed tells of it.
 */
export interface HeadMove {
  seq: string;
  id: string;
  schema: boolean;
  event: PendingEvent;
}

/**
 * The object types the writes of one transaction have read (null: absent), so that a group of writes to
 * documents reads each type once. Cleared by every write of a type, and by the transaction when it takes a
 * write back (its savepoint), since what was read after that write's changes is gone with them.
 */
export type TypeMemo = Map<string, EntityRecord | null>;

interface OpenCommit {
  seq: string;
  id: string;
  createdAt: Date;
  parents: string[];
}

/** Rows per statement when a write puts many entities at once. */
const WRITE_BATCH = 1_000;

const KIND_NAMES: Record<EntityKind, string> = { type: 'Object type', document: 'Document' };

/**
 * Writes on a locked branch. The commit row is created by the first put or remove, so a write that
 * changes nothing leaves no commit; `finish()` says where the branch head goes, and the transaction moves it
 * once for all its writes (moveHead).
 */
export class SqlBranchWriter extends SqlBranchReader implements BranchWriter {
  private commit: OpenCommit | null = null;
  private schemaTouched = false;
  private message: string;
  private readonly changes = new ChangeTracker();

  constructor(
    db: SqlExecutor,
    view: ViewSegment[],
    protected readonly branch: LockedBranch,
    private readonly info: CommitInfo,
    observer: StoreObserver,
    private readonly merged?: MergeParent,
    private readonly types?: TypeMemo,
  ) {
    super(db, view, observer);
    this.message = info.message;
  }

  /** An object type is read once per transaction (TypeMemo), until a write changes one. */
  override async get<B>(kind: EntityKind, id: string): Promise<EntityRecord<B> | null> {
    if (kind !== 'type' || !this.types) return super.get<B>(kind, id);
    if (!this.types.has(id)) this.types.set(id, await super.get(kind, id));
    return this.types.get(id) as EntityRecord<B> | null;
  }

  get head(): string {
    return this.branch.headCommit;
  }

  get openedCommit(): string | null {
    return this.commit?.id ?? null;
  }

  describe(message: string): void {
    if (this.commit) throw new Error('describe() after the commit was opened');
    this.message = message;
  }

  async put<B>(
    kind: EntityKind,
    id: string,
    value: { objectType: string | null; body: B },
    check?: WriteCheck,
  ): Promise<EntityRecord<B>> {
    const current = await this.get(kind, id);
    check?.(current);
    const [record] = await this.appendMany(kind, [
      { id, current, deleted: false, objectType: value.objectType, body: value.body },
    ]);
    return record as EntityRecord<B>;
  }

  async remove(kind: EntityKind, id: string, check?: WriteCheck): Promise<EntityRecord> {
    const current = await this.get(kind, id);
    check?.(current);
    if (!current) throw new NotFound(KIND_NAMES[kind], id);
    await this.appendMany(kind, [{ id, current, deleted: true, objectType: current.objectType, body: null }]);
    return current;
  }

  async writeMany(
    kind: EntityKind,
    changes: { id: string; value: { objectType: string | null; body: unknown } | null }[],
  ): Promise<void> {
    for (let at = 0; at < changes.length; at += WRITE_BATCH) {
      const batch = changes.slice(at, at + WRITE_BATCH);
      const current = await this.getMany(
        kind,
        batch.map((c) => c.id),
      );
      await this.appendMany(
        kind,
        batch.map(({ id, value }) => ({
          id,
          current: current.get(id) ?? null,
          deleted: value === null,
          objectType: value?.objectType ?? current.get(id)?.objectType ?? null,
          body: value?.body ?? null,
        })),
        false,
      );
    }
  }

  /** Where this write takes the branch head: its commit, if it made one (a merge always makes one). */
  async finish(): Promise<HeadMove | null> {
    if (this.merged) await this.openCommit();
    const commit = this.commit;
    if (!commit) return null;
    return {
      seq: commit.seq,
      id: commit.id,
      schema: this.schemaTouched,
      event: {
        id: commit.id,
        parents: commit.parents,
        author: this.info.author,
        message: this.message,
        createdAt: commit.createdAt.toISOString(),
        ...this.changes.summarize(),
      },
    };
  }

  /**
   * One version row per entity (and its head row), all in the write's commit. Ids must be distinct. The
   * first rows of a write open its commit in the same statement (a merge's commit is opened on its own).
   * Without `records` (a bulk write, whose caller knows what it wrote) no row travels back but one.
   */
  protected async appendMany(kind: EntityKind, rows: AppendRow[], records = true): Promise<EntityRecord[]> {
    if (rows.length === 0) return [];
    const open = this.commit ?? (this.merged ? await this.openCommit() : null);
    if (kind === 'type') {
      this.schemaTouched = true;
      this.types?.clear();
    }
    const values = rows.map((r) => ({
      entity_id: r.id,
      deleted: r.deleted,
      object_type: r.objectType,
      body: r.body,
      created_at: r.current?.createdAt.toISOString() ?? null, // null: created now, by this commit
      created_by: r.current?.createdBy ?? this.info.author,
    }));
    for (const r of rows) this.changes.note(kind, r.id, r.objectType, r.current !== null, !r.deleted);
    const id = open ? open.id : randomBytes(20).toString('hex');
    const parents = this.branch.headCommit ? [this.branch.headCommit] : [];
    // Times are kept to the millisecond, as JavaScript (and a list's cursor) has them.
    const commit = open
      ? { sql: `SELECT $5::bigint AS seq, $6::timestamptz AS at`, params: [open.seq, open.createdAt] }
      : {
          sql: `INSERT INTO commits (id, branch_id, parents, author, message) VALUES ($5, $1, $6, $3, $7)
                RETURNING seq, date_trunc('milliseconds', created_at) AS at`,
          params: [id, parents, this.message],
        };
    // One statement: the commit (if new), the version rows, and the head rows copied from them.
    const inserted = await this.db.query<EntityRow>(
      `WITH c AS (${commit.sql}), version AS (
         INSERT INTO versions (branch_id, kind, ${ENTITY_COLUMNS})
         SELECT $1::bigint, $2::text, x.entity_id, c.seq, x.deleted, x.object_type, x.body,
                COALESCE(x.created_at, c.at), x.created_by, c.at, $3::text
           FROM c, jsonb_to_recordset($4::jsonb) AS x(entity_id text, deleted boolean, object_type text,
                                                      body jsonb, created_at timestamptz, created_by text)
         -- Written again in the same commit (a bulk import's later line): the commit's row is replaced.
         ON CONFLICT (branch_id, kind, entity_id, seq) DO UPDATE SET
           deleted = EXCLUDED.deleted, object_type = EXCLUDED.object_type, body = EXCLUDED.body
         RETURNING branch_id, kind, ${ENTITY_COLUMNS}
       ), head AS (
         INSERT INTO heads (branch_id, kind, ${ENTITY_COLUMNS})
         SELECT branch_id, kind, ${ENTITY_COLUMNS} FROM version
         ON CONFLICT (branch_id, kind, entity_id) DO UPDATE SET
           seq = EXCLUDED.seq, deleted = EXCLUDED.deleted, object_type = EXCLUDED.object_type,
           body = EXCLUDED.body, created_at = EXCLUDED.created_at, created_by = EXCLUDED.created_by,
           updated_at = EXCLUDED.updated_at, updated_by = EXCLUDED.updated_by
       )
       SELECT ${ENTITY_COLUMNS} FROM version ${records ? '' : 'LIMIT 1'}`,
      [this.branch.id, kind, this.info.author, JSON.stringify(values), ...commit.params],
    );
    const row = first(inserted, 'version');
    this.commit ??= { seq: String(row.seq), id, createdAt: row.updated_at, parents };
    return records ? inserted.map((row) => toRecord(row)) : [];
  }

  protected async openCommit(): Promise<OpenCommit> {
    if (this.commit) return this.commit;
    const id = randomBytes(20).toString('hex');
    const parents = this.branch.headCommit ? [this.branch.headCommit] : [];
    if (this.merged) parents.push(this.merged.commit);
    const opened = await this.db.query<{ seq: string | number; created_at: Date }>(
      `INSERT INTO commits (id, branch_id, parents, author, message) VALUES ($1, $2, $3, $4, $5)
       RETURNING seq, created_at`,
      [id, this.branch.id, parents, this.info.author, this.message],
    );
    const row = one(opened, 'commit');
    this.commit = { seq: String(row.seq), id, createdAt: row.created_at, parents };
    if (this.merged) {
      await addSegments(this.db, this.branch.id, this.merged.segments, this.commit.seq, true);
      // The source may have changed object types: schema ETags move on.
      this.schemaTouched = true;
    }
    return this.commit;
  }
}

/**
 * Moves a branch's head after the commits of one transaction, given in commit order: to the last one, and
 * the schema's version to the last that changed object types; and writes their events to the outbox.
 */
export async function moveHead(
  db: SqlExecutor,
  branch: { id: string; name: string },
  moves: HeadMove[],
): Promise<void> {
  const head = moves.at(-1);
  if (!head) return;
  const schema = moves.findLast((m) => m.schema);
  await db.query(
    `UPDATE branches SET head_seq = $1, head_commit = $2 ${schema ? ', schema_seq = $4' : ''} WHERE id = $3`,
    [head.seq, head.id, branch.id, ...(schema ? [schema.seq] : [])],
  );
  await appendEvents(
    db,
    branch.name,
    moves.map((m) => m.event),
  );
}

/**
 * Adds segments to a branch's view from sequence number `since` on (a segment seen before keeps the
 * higher limit); `covered` ones are history only.
 */
export async function addSegments(
  db: SqlExecutor,
  branchId: string,
  segments: ViewSegment[],
  since: string,
  covered: boolean,
): Promise<void> {
  for (const segment of segments) {
    await db.query(
      `INSERT INTO branch_views (branch_id, source_id, lim, since, covered) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (branch_id, source_id, since, covered)
       DO UPDATE SET lim = GREATEST(branch_views.lim, EXCLUDED.lim)`,
      [branchId, segment.branchId, segment.limit ?? NO_LIMIT, since, covered],
    );
  }
}
