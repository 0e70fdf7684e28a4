import { AlreadyExists, NotFound, StateConflict, one } from '@oms/common';
import { LineageLevel, LineageRow, lineageSql, lineageValues, toLineage } from './lineage';
import { MAIN_BRANCH } from './migrations';
import { SqlClient, SqlExecutor } from './sql-client';
import { TransactionAbandoned } from './store-errors';
import { ADVISORY_LOCKS } from './advisory-locks';
import { SqlBranchReader } from './sql-branch-reader';
import { SqlBranchWriter } from './sql-branch-writer';
import {
  Branch,
  BranchReader,
  BranchWriter,
  Commit,
  CommitInfo,
  NO_OBSERVER,
  StoreObserver,
  VersionedStore,
  WriteOptions,
} from './versioned-store';

interface BranchRow {
  id: string | number;
  name: string;
  head_commit: string;
  head_seq: string | number;
  schema_seq: string | number;
  created_from: string | null;
  created_at: Date;
  created_by: string;
}

interface CommitRow {
  seq: string | number;
  id: string;
  parents: string[];
  author: string;
  message: string;
  created_at: Date;
}

const BRANCH_COLUMNS = 'id, name, head_commit, head_seq, schema_seq, created_from, created_at, created_by';
const UNIQUE_VIOLATION = '23505';

function toBranch(row: BranchRow): Branch {
  return {
    name: row.name,
    head: row.head_commit,
    createdFrom: row.created_from,
    createdAt: row.created_at,
    createdBy: row.created_by,
  };
}

/** The versioned store on any SqlClient (PostgreSQL or PGlite): one SQL dialect, one implementation. */
export class SqlVersionedStore implements VersionedStore {
  constructor(
    private readonly db: SqlClient,
    private readonly observer: StoreObserver = NO_OBSERVER,
  ) {}

  async ping(): Promise<void> {
    await this.db.query('SELECT 1');
  }

  close(): Promise<void> {
    return this.db.close();
  }

  async listBranches(): Promise<Branch[]> {
    const rows = await this.db.query<BranchRow>(
      `SELECT ${BRANCH_COLUMNS} FROM branches WHERE deleted_at IS NULL ORDER BY name`,
    );
    return rows.map(toBranch);
  }

  async getBranch(name: string): Promise<Branch | null> {
    const row = await this.findBranch(this.db, name);
    return row ? toBranch(row) : null;
  }

  async createBranch(
    name: string,
    from: string,
    author: string,
    options: WriteOptions = {},
  ): Promise<Branch> {
    try {
      return await this.db.transaction(async (tx) => {
        // FOR SHARE waits for a write in progress on `from`, so the fork point is a settled commit.
        const source = await this.findBranch(tx, from, 'FOR SHARE');
        if (!source) throw new NotFound('Branch', from);
        // Names are unique ignoring case (`Main` beside `main` is a trap): creators queue on one lock, so
        // two of them cannot both find the name free.
        await tx.query(`SELECT pg_advisory_xact_lock(${ADVISORY_LOCKS.branchNames})`);
        const [taken] = await tx.query<{ name: string }>(
          'SELECT name FROM branches WHERE lower(name) = lower($1) AND deleted_at IS NULL',
          [name],
        );
        if (taken) {
          throw new AlreadyExists(
            'Branch',
            taken.name,
            taken.name === name ? undefined : `(branch names are unique ignoring case)`,
          );
        }
        const created = await tx.query<BranchRow>(
          `INSERT INTO branches (name, parent_id, fork_seq, head_seq, head_commit, schema_seq, created_from, created_by)
           VALUES ($1, $2, $3, $3, $4, $5, $6, $7) RETURNING ${BRANCH_COLUMNS}`,
          [name, source.id, source.head_seq, source.head_commit, source.schema_seq, source.name, author],
        );
        return toBranch(one(created, 'created branch'));
      }, options);
    } catch (error) {
      // Two creators raced past the existence check: the partial unique index decides.
      if ((error as { code?: string }).code === UNIQUE_VIOLATION) throw new AlreadyExists('Branch', name);
      throw error;
    }
  }

  async deleteBranch(name: string, options: WriteOptions = {}): Promise<void> {
    if (name === MAIN_BRANCH) {
      throw new StateConflict('Branch is protected', `Branch '${MAIN_BRANCH}' cannot be deleted.`);
    }
    // History stays: branches forked from this one still read it up to their fork point.
    const rows = await this.db.transaction(
      (tx) =>
        tx.query(
          `UPDATE branches SET deleted_at = now() WHERE name = $1 AND deleted_at IS NULL RETURNING id`,
          [name],
        ),
      options,
    );
    if (rows.length === 0) throw new NotFound('Branch', name);
  }

  async listCommits(branch: string, limit: number, beforeSeq?: number): Promise<Commit[]> {
    const lineage = await this.lineage(this.db, branch);
    const params: unknown[] = [limit];
    const before = beforeSeq === undefined ? '' : `AND c.seq < $${params.push(beforeSeq)}`;
    const rows = await this.db.query<CommitRow>(
      `SELECT c.seq, c.id, c.parents, c.author, c.message, c.created_at
         FROM commits c JOIN (VALUES ${lineageValues(lineage)}) AS l(branch_id, lim, depth)
           ON c.branch_id = l.branch_id AND c.seq <= l.lim
        WHERE TRUE ${before}
        ORDER BY c.seq DESC LIMIT $1`,
      params,
    );
    return rows.map((r) => ({
      seq: Number(r.seq),
      id: r.id,
      parents: r.parents,
      author: r.author,
      message: r.message,
      createdAt: r.created_at,
    }));
  }

  async schemaVersion(branch: string): Promise<string> {
    const row = await this.findBranch(this.db, branch);
    if (!row) throw new NotFound('Branch', branch);
    return `${row.id}.${row.schema_seq}`;
  }

  async read<T>(branch: string, fn: (reader: BranchReader) => Promise<T>): Promise<T> {
    return fn(new SqlBranchReader(this.db, await this.lineage(this.db, branch), this.observer));
  }

  write<T>(
    branch: string,
    commit: CommitInfo,
    fn: (writer: BranchWriter) => Promise<T>,
    options: WriteOptions = {},
  ): Promise<T> {
    return this.db.transaction(async (tx) => {
      // The row lock serialises commits on one branch: seq order is commit order, and checks made
      // inside fn (versions, unique values) cannot be raced by another writer.
      const row = await this.findBranch(tx, branch, 'FOR UPDATE');
      if (!row) throw new NotFound('Branch', branch);
      // The lock may have been a long wait: a caller that gave up meanwhile gets no work done for it.
      if (options.signal?.aborted) throw new TransactionAbandoned();
      const lineage = toLineage(await tx.query<LineageRow>(lineageSql('id'), [row.id]));
      const writer = new SqlBranchWriter(
        tx,
        lineage,
        { id: String(row.id), headCommit: row.head_commit },
        commit,
        this.observer,
      );
      const { precondition } = options;
      if (precondition) precondition.check(await writer.version(precondition.kind, precondition.id));
      const result = await fn(writer);
      await writer.finish();
      return result;
      // A caller that gave up (timeout) was told the write failed: the transaction checks its signal
      // just before COMMIT and rolls back instead.
    }, options);
  }

  private async findBranch(db: SqlExecutor, name: string, lock = ''): Promise<BranchRow | null> {
    const [row] = await db.query<BranchRow>(
      `SELECT ${BRANCH_COLUMNS} FROM branches WHERE name = $1 AND deleted_at IS NULL ${lock}`,
      [name],
    );
    return row ?? null;
  }

  private async lineage(db: SqlExecutor, branch: string): Promise<LineageLevel[]> {
    const rows = await db.query<LineageRow>(lineageSql('name'), [branch]);
    if (rows.length === 0) throw new NotFound('Branch', branch);
    return toLineage(rows);
  }
}
