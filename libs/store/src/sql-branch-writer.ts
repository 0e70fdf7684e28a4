import { randomBytes } from 'node:crypto';
import { NotFound, one } from '@oms/common';
import { NO_LIMIT, ViewSegment } from './view';
import { SqlExecutor } from './sql-client';
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

/** What a merge commit adds to a plain one: a second parent, and the source's segments for its history. */
export interface MergeParent {
  commit: string;
  /** Each capped at the source head; added (covered) to the branch's view from the merge commit on. */
  segments: ViewSegment[];
}

interface OpenCommit {
  seq: string;
  id: string;
  createdAt: Date;
}

const KIND_NAMES: Record<EntityKind, string> = { type: 'Object type', document: 'Document' };

/**
 * Writes on a locked branch. The commit row is created by the first put or remove, so a write that
 * changes nothing leaves no commit; `finish()` moves the branch head.
 */
export class SqlBranchWriter extends SqlBranchReader implements BranchWriter {
  private commit: OpenCommit | null = null;
  private schemaTouched = false;
  private message: string;

  constructor(
    db: SqlExecutor,
    view: ViewSegment[],
    protected readonly branch: LockedBranch,
    private readonly info: CommitInfo,
    observer: StoreObserver,
    private readonly merged?: MergeParent,
  ) {
    super(db, view, observer);
    this.message = info.message;
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
    return this.append<B>(kind, id, current, false, value.objectType, value.body);
  }

  async remove(kind: EntityKind, id: string, check?: WriteCheck): Promise<EntityRecord> {
    const current = await this.get(kind, id);
    check?.(current);
    if (!current) throw new NotFound(KIND_NAMES[kind], id);
    await this.append(kind, id, current, true, current.objectType, null);
    return current;
  }

  /** Moves the branch head to the commit, if this write made one (a merge always makes one). */
  async finish(): Promise<void> {
    if (this.merged) await this.openCommit();
    if (!this.commit) return;
    await this.db.query(
      `UPDATE branches SET head_seq = $1, head_commit = $2 ${this.schemaTouched ? ', schema_seq = $1' : ''}
        WHERE id = $3`,
      [this.commit.seq, this.commit.id, this.branch.id],
    );
  }

  protected async append<B>(
    kind: EntityKind,
    id: string,
    current: EntityRecord | null,
    deleted: boolean,
    objectType: string | null,
    body: B | null,
  ): Promise<EntityRecord<B>> {
    const commit = await this.openCommit();
    if (kind === 'type') this.schemaTouched = true;
    const values = [
      this.branch.id,
      kind,
      id,
      commit.seq,
      deleted,
      objectType,
      body === null ? null : JSON.stringify(body),
      current?.createdAt ?? commit.createdAt,
      current?.createdBy ?? this.info.author,
      commit.createdAt,
      this.info.author,
    ];
    const placeholders = '$1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9, $10, $11';
    const inserted = await this.db.query<EntityRow>(
      `INSERT INTO versions (branch_id, kind, ${ENTITY_COLUMNS}) VALUES (${placeholders}) RETURNING ${ENTITY_COLUMNS}`,
      values,
    );
    await this.db.query(
      `INSERT INTO heads (branch_id, kind, ${ENTITY_COLUMNS}) VALUES (${placeholders})
       ON CONFLICT (branch_id, kind, entity_id) DO UPDATE SET
         seq = EXCLUDED.seq, deleted = EXCLUDED.deleted, object_type = EXCLUDED.object_type, body = EXCLUDED.body,
         created_at = EXCLUDED.created_at, created_by = EXCLUDED.created_by,
         updated_at = EXCLUDED.updated_at, updated_by = EXCLUDED.updated_by`,
      values,
    );
    return toRecord<B>(one(inserted, 'inserted version'));
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
    this.commit = { seq: String(row.seq), id, createdAt: row.created_at };
    if (this.merged) {
      await addSegments(this.db, this.branch.id, this.merged.segments, this.commit.seq, true);
      // The source may have changed object types: schema ETags move on.
      this.schemaTouched = true;
    }
    return this.commit;
  }
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
