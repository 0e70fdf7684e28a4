import { AlreadyExists, NotFound, StateConflict, one } from '@oms/common';
import {
  NO_LIMIT,
  VIEW_AT_SQL,
  View,
  ViewRow,
  ViewSegment,
  capView,
  headViewSql,
  commonView,
  rangesBeyond,
  toView,
  unionView,
  viewIncludes,
  viewValues,
} from './view';
import { MAIN_BRANCH } from './migrations';
import { SqlClient, SqlExecutor } from './sql-client';
import { TransactionAbandoned } from './store-errors';
import { ADVISORY_LOCKS } from './advisory-locks';
import { SqlBranchReader } from './sql-branch-reader';
import { HeadMove, SqlBranchWriter, TypeMemo, addSegments, moveHead } from './sql-branch-writer';
import {
  Branch,
  BranchReader,
  BranchWriter,
  Commit,
  CommitInfo,
  Comparison,
  EntityChange,
  EntityKind,
  GroupedWrite,
  HistoryEntry,
  MergeWriter,
  NO_OBSERVER,
  StoreObserver,
  Tag,
  ThreeWayStates,
  VersionedStore,
  WriteOptions,
  WriteOutcome,
  sameEntityValue,
} from './versioned-store';
import { ENTITY_COLUMNS, EntityRow, toRecord } from './sql-branch-reader';
import { SqlMergeWriter } from './sql-merge-writer';
import { ChangeTracker, PendingEvent, appendEvents } from './outbox';

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
  branch_id: string | number;
  parents: string[];
  author: string;
  message: string;
  created_at: Date;
}

interface TagRow {
  name: string;
  commit_id: string;
  message: string;
  created_by: string;
  created_at: Date;
}

/** A state: a commit, and the view that reads the data as of it (a branch head's view is live). */
interface Snapshot {
  commit: CommitRow;
  view: View;
}

const COMMIT_COLUMNS = 'c.seq, c.id, c.branch_id, c.parents, c.author, c.message, c.created_at';
const COMMIT_ID = /^[0-9a-f]{40}$/;
/** How many commits' views readAt keeps (each a few segments). */
const PAST_VIEWS = 1_000;

const BRANCH_COLUMNS = 'id, name, head_commit, head_seq, schema_seq, created_from, created_at, created_by';
const UNIQUE_VIOLATION = '23505';

/** Whether a commit is in the history a view holds. */
const inHistory = (view: View, commit: CommitRow) =>
  viewIncludes(view.history, String(commit.branch_id), String(commit.seq));

function toCommit(r: CommitRow): Commit {
  return {
    seq: Number(r.seq),
    id: r.id,
    parents: r.parents,
    author: r.author,
    message: r.message,
    createdAt: r.created_at,
  };
}

function toTag(r: TagRow): Tag {
  return {
    name: r.name,
    commit: r.commit_id,
    message: r.message,
    createdBy: r.created_by,
    createdAt: r.created_at,
  };
}

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
  private readonly pastViews = new Map<string, Snapshot>();

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
        const branch = one(created, 'created branch');
        // The view of the source as of the fork, and the branch's own rows: a few rows, whatever the data.
        await tx.query(
          `INSERT INTO branch_views (branch_id, source_id, lim, since, covered)
           SELECT $1::bigint, source_id, LEAST(lim, $2::bigint), since, covered FROM branch_views
            WHERE branch_id = $3::bigint
           UNION ALL SELECT $1::bigint, $1::bigint, ${NO_LIMIT}, 0, false`,
          [branch.id, source.head_seq, source.id],
        );
        return toBranch(branch);
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
    const { history } = await this.view(this.db, branch);
    const params: unknown[] = [limit];
    const before = beforeSeq === undefined ? '' : `AND c.seq < $${params.push(beforeSeq)}`;
    const rows = await this.db.query<CommitRow>(
      `SELECT ${COMMIT_COLUMNS}
         FROM commits c JOIN (VALUES ${viewValues(history)}) AS l(branch_id, lim, live)
           ON c.branch_id = l.branch_id AND c.seq <= l.lim
        WHERE TRUE ${before}
        ORDER BY c.seq DESC LIMIT $1`,
      params,
    );
    return rows.map(toCommit);
  }

  async getCommit(id: string): Promise<Commit | null> {
    const row = await this.findCommit(this.db, id);
    return row ? toCommit(row) : null;
  }

  async commitInHistory(branch: string, ref: string): Promise<Commit> {
    return toCommit((await this.pastSnapshot(this.db, branch, ref)).commit);
  }

  async readAt<T>(branch: string, ref: string, fn: (reader: BranchReader) => Promise<T>): Promise<T> {
    const { view } = await this.pastSnapshot(this.db, branch, ref);
    return fn(new SqlBranchReader(this.db, view.data, this.observer));
  }

  async compare(base: string, head: string, mode: 'three-dot' | 'two-dot'): Promise<Comparison> {
    const [from, to] = [await this.snapshot(this.db, base), await this.snapshot(this.db, head)];
    const common = commonView(from.view.history, to.view.history);
    const mergeBase = await this.newestCommit(this.db, common);
    const before = mode === 'three-dot' ? common : from.view.data;
    const candidates = await this.writtenBeyond(
      this.db,
      common,
      mode === 'three-dot' ? [to.view.history] : [from.view.history, to.view.history],
    );
    return {
      base: toCommit(from.commit),
      head: toCommit(to.commit),
      mergeBase: toCommit(mergeBase),
      changes: await this.differences(this.db, candidates, before, to.view.data),
    };
  }

  async commitChanges(id: string): Promise<EntityChange[]> {
    const commit = await this.findCommit(this.db, id);
    if (!commit) throw new NotFound('Commit', id);
    const after = await this.viewAt(this.db, commit);
    const parent = commit.parents[0] ? await this.findCommit(this.db, commit.parents[0]) : null;
    const before = parent ? await this.viewAt(this.db, parent) : { data: [], history: [] };
    const common = commonView(before.history, after.history);
    const candidates = await this.writtenBeyond(this.db, common, [before.history, after.history]);
    return this.differences(this.db, candidates, before.data, after.data);
  }

  async history(
    branch: string,
    kind: EntityKind,
    id: string,
    limit: number,
    beforeSeq?: number,
  ): Promise<HistoryEntry[]> {
    const { history } = await this.view(this.db, branch);
    const params: unknown[] = [kind, id, limit];
    const before = beforeSeq === undefined ? '' : `AND v.seq < $${params.push(beforeSeq)}`;
    const rows = await this.db.query<EntityRow & CommitRow & { commit_id: string; committed_at: Date }>(
      `SELECT ${ENTITY_COLUMNS.split(', ')
        .map((c) => `v.${c}`)
        .join(', ')}, c.id AS commit_id, c.branch_id, c.parents, c.author, c.message,
              c.created_at AS committed_at
         FROM (VALUES ${viewValues(history)}) AS l(branch_id, lim, live)
         JOIN versions v ON v.branch_id = l.branch_id AND v.seq <= l.lim AND v.kind = $1 AND v.entity_id = $2
         JOIN commits c ON c.seq = v.seq
        WHERE TRUE ${before}
        ORDER BY v.seq DESC LIMIT $3`,
      params,
    );
    return rows.map((r) => ({
      commit: toCommit({ ...r, id: r.commit_id, created_at: r.committed_at }),
      record: r.deleted ? null : toRecord(r),
      objectType: r.object_type,
    }));
  }

  merge<T>(
    target: string,
    source: string,
    commit: CommitInfo,
    fn: (writer: MergeWriter) => Promise<T>,
    options: WriteOptions = {},
  ): Promise<T> {
    return this.locked<T>(
      target,
      options,
      async (tx, row, ours) => {
        const theirs = await this.snapshot(tx, source);
        const head = await this.findCommit(tx, row.head_commit);
        if (!head) throw new Error(`branch '${target}' has no head commit`);
        const theirsSeq = String(theirs.commit.seq);
        const relation = inHistory(ours, theirs.commit)
          ? 'up-to-date'
          : options.fastForward !== false && inHistory(theirs.view, head)
            ? 'fast-forward'
            : 'diverged';
        const common = commonView(ours.history, theirs.view.history);
        const mergeBase = await this.newestCommit(tx, common);
        const data = capView(theirs.view.data, theirsSeq);
        const segments = capView(theirs.view.history, theirsSeq);
        const states = await this.threeWay(tx, {
          base: common,
          ours: ours.data,
          theirs: theirs.view.data,
          merged: unionView(ours.history, segments),
          since: common,
          // Up to date: nothing to merge, no candidates to look for.
          sides: relation === 'up-to-date' ? [] : [ours.history, theirs.view.history],
        });
        return new SqlMergeWriter(
          tx,
          ours.data,
          { id: String(row.id), headCommit: row.head_commit },
          commit,
          this.observer,
          relation === 'diverged' ? { commit: theirs.commit.id, segments } : undefined,
          {
            relation,
            targetHead: row.head_commit,
            sourceHead: theirs.commit.id,
            mergeBase: mergeBase.id,
            states,
            fastForward: async () => {
              // The target then reads what the source reads, and has in its history what the source has.
              await addSegments(tx, String(row.id), data, theirsSeq, false);
              await addSegments(tx, String(row.id), segments, theirsSeq, true);
              await tx.query(
                `UPDATE branches SET head_seq = $1, head_commit = $2, schema_seq = $1 WHERE id = $3`,
                [theirsSeq, theirs.commit.id, row.id],
              );
              // The feed tells the target's new head as one event: the source head, with what it changes.
              await appendEvents(tx, row.name, [await fastForwardEvent(theirs.commit, states)]);
            },
          },
        );
      },
      fn,
    );
  }

  revert<T>(
    branch: string,
    commitId: string,
    commit: CommitInfo,
    fn: (writer: MergeWriter) => Promise<T>,
    options: WriteOptions = {},
  ): Promise<T> {
    return this.locked<T>(
      branch,
      options,
      async (tx, row, ours) => {
        const reverted = await this.findRef(tx, commitId);
        if (!reverted || !inHistory(ours, reverted))
          throw new NotFound('Commit', commitId, `in the history of branch '${branch}'`);
        const parentId = reverted.parents[0];
        const parent = parentId ? await this.findCommit(tx, parentId) : null;
        if (!parent)
          throw new StateConflict('Commit cannot be reverted', `Commit '${commitId}' has no parent.`);
        const [base, theirs] = [await this.viewAt(tx, reverted), await this.viewAt(tx, parent)];
        const states = await this.threeWay(tx, {
          base: base.data,
          ours: ours.data,
          theirs: theirs.data,
          merged: ours.data,
          since: commonView(base.history, theirs.history),
          sides: [base.history, theirs.history],
        });
        return new SqlMergeWriter(
          tx,
          ours.data,
          { id: String(row.id), headCommit: row.head_commit },
          commit,
          this.observer,
          undefined,
          {
            relation: 'diverged',
            targetHead: row.head_commit,
            sourceHead: parent.id,
            mergeBase: reverted.id,
            states,
            fastForward: () => Promise.reject(new Error('a revert cannot fast-forward')),
          },
        );
      },
      fn,
    );
  }

  async createTag(name: string, ref: string, author: string, message: string): Promise<Tag> {
    try {
      return await this.db.transaction(async (tx) => {
        const { commit } = await this.snapshot(tx, ref);
        const [taken] = await tx.query<TagRow>('SELECT name FROM tags WHERE name = $1', [name]);
        if (taken) throw new AlreadyExists('Tag', name);
        const rows = await tx.query<TagRow>(
          `INSERT INTO tags (name, commit_id, message, created_by) VALUES ($1, $2, $3, $4)
           RETURNING name, commit_id, message, created_by, created_at`,
          [name, commit.id, message, author],
        );
        return toTag(one(rows, 'created tag'));
      });
    } catch (error) {
      if ((error as { code?: string }).code === UNIQUE_VIOLATION) throw new AlreadyExists('Tag', name);
      throw error;
    }
  }

  async listTags(): Promise<Tag[]> {
    const rows = await this.db.query<TagRow>(
      'SELECT name, commit_id, message, created_by, created_at FROM tags ORDER BY name',
    );
    return rows.map(toTag);
  }

  async schemaVersion(branch: string): Promise<string> {
    const row = await this.findBranch(this.db, branch);
    if (!row) throw new NotFound('Branch', branch);
    return `${row.id}.${row.schema_seq}`;
  }

  async read<T>(branch: string, fn: (reader: BranchReader) => Promise<T>): Promise<T> {
    return fn(new SqlBranchReader(this.db, (await this.view(this.db, branch)).data, this.observer));
  }

  async write<T>(
    branch: string,
    commit: CommitInfo,
    fn: (writer: BranchWriter) => Promise<T>,
    options: WriteOptions = {},
  ): Promise<T> {
    const outcome = one(await this.writeEach(branch, [{ commit, fn, options }], options), 'outcome');
    if (outcome.status === 'rejected') throw outcome.reason;
    return outcome.value as T;
  }

  /**
   * One transaction with the branch locked, each write after the one before it. A write alone needs no
   * savepoint: its failure rolls the transaction back. In a group, each write starts at a savepoint, so that
   * a failing write takes back only its own rows (the savepoint stays for the next one); a write that
   * succeeds moves the savepoint past itself in one round trip. A savepoint that cannot be rolled back to
   * means the transaction itself is lost, and every write with it.
   */
  writeEach(branch: string, writes: GroupedWrite[], options: WriteOptions = {}): Promise<WriteOutcome[]> {
    const alone = writes.length === 1;
    const started = performance.now();
    const spent = () => options.budgetMs !== undefined && performance.now() - started > options.budgetMs;
    const run = this.db.transaction(async (tx) => {
      const row = await this.lockBranch(tx, branch, options);
      const view = toView(await tx.query<ViewRow>(headViewSql(), [row.id]));
      const moves: HeadMove[] = [];
      const types: TypeMemo = new Map();
      const outcomes: WriteOutcome[] = [];
      if (!alone) await tx.exec('SAVEPOINT write');
      for (const [at, { commit, fn, options: own = {} }] of writes.entries()) {
        if (outcomes.length > 0 && spent()) break;
        try {
          if (own.signal?.aborted) throw new TransactionAbandoned();
          const writer = new SqlBranchWriter(
            tx,
            view.data,
            { id: String(row.id), headCommit: moves.at(-1)?.id ?? row.head_commit },
            commit,
            this.observer,
            undefined,
            types,
          );
          const { value, move } = await applyTo(writer, fn, own);
          const done: WriteOutcome = { status: 'fulfilled', value };
          if (alone) {
            if (own.dryRun) throw new RolledBack([done]);
          } else if (own.dryRun) {
            await tx.exec(UNDO);
            types.clear();
            outcomes.push(done);
            continue;
          } else if (at < writes.length - 1) {
            await tx.exec('RELEASE SAVEPOINT write; SAVEPOINT write'); // (COMMIT releases the last)
          }
          // Only now: a savepoint statement that failed above makes this write's outcome a failure.
          outcomes.push(done);
          if (move) moves.push(move);
        } catch (error) {
          if (alone) throw error;
          await tx.exec(UNDO);
          types.clear();
          outcomes.push({ status: 'rejected', reason: error });
        }
      }
      await moveHead(tx, { id: String(row.id), name: row.name }, moves);
      return outcomes;
      // A caller that gave up (timeout) was told the writes failed: the transaction checks its signal
      // just before COMMIT and rolls back instead.
    }, options);
    return run.then(
      (outcomes) => {
        this.observer.writeGroup(outcomes.length);
        return outcomes;
      },
      (error: unknown) => RolledBack.unwrap<WriteOutcome[]>(error),
    );
  }

  /**
   * One transaction with the branch locked: the row lock serialises commits on one branch, so seq order is
   * commit order and checks made inside fn (versions, unique values) cannot be raced by another writer.
   */
  private locked<T>(
    branch: string,
    options: WriteOptions,
    open: (tx: SqlExecutor, row: BranchRow, view: View) => SqlMergeWriter | Promise<SqlMergeWriter>,
    fn: (writer: SqlMergeWriter) => Promise<T>,
  ): Promise<T> {
    const run = this.db.transaction(async (tx) => {
      const row = await this.lockBranch(tx, branch, options);
      const writer = await open(tx, row, toView(await tx.query<ViewRow>(headViewSql(), [row.id])));
      const { value, move } = await applyTo(writer, fn, options);
      if (options.dryRun) throw new RolledBack(value);
      await moveHead(tx, { id: String(row.id), name: row.name }, move ? [move] : []);
      return value;
    }, options);
    return options.dryRun ? run.catch((error: unknown) => RolledBack.unwrap<T>(error)) : run;
  }

  /** The branch's row, locked for this transaction's commits. */
  private async lockBranch(tx: SqlExecutor, branch: string, options: WriteOptions): Promise<BranchRow> {
    const row = await this.findBranch(tx, branch, 'FOR UPDATE');
    if (!row) throw new NotFound('Branch', branch);
    // The lock may have been a long wait: a caller that gave up meanwhile gets no work done for it.
    if (options.signal?.aborted) throw new TransactionAbandoned();
    return row;
  }

  /**
   * The states of a merge, and the entities written since `since` in any of `sides` (for a merge: ours and
   * theirs since the merge base; for a revert: the reverted commit and its parent).
   */
  private async threeWay(
    tx: SqlExecutor,
    views: Record<'base' | 'ours' | 'theirs' | 'merged' | 'since', ViewSegment[]> & {
      sides: ViewSegment[][];
    },
  ): Promise<ThreeWayStates> {
    const reader = (view: ViewSegment[]) => new SqlBranchReader(tx, view, this.observer);
    return {
      base: reader(views.base),
      ours: reader(views.ours),
      theirs: reader(views.theirs),
      merged: reader(views.merged),
      candidates: await this.writtenBeyond(tx, views.since, views.sides),
    };
  }

  /** Entities with a row in any of `views` that `base` does not see: one index range per segment. */
  private async writtenBeyond(
    db: SqlExecutor,
    base: ViewSegment[],
    views: ViewSegment[][],
  ): Promise<{ kind: EntityKind; id: string }[]> {
    const seen = new Map<string, { kind: EntityKind; id: string }>();
    for (const view of views) {
      const rows = await db.query<{ kind: EntityKind; entity_id: string }>(
        `SELECT DISTINCT v.kind, v.entity_id FROM (VALUES ${rangesBeyond(base, view)}) AS d(branch_id, lo, hi)
           JOIN versions v ON v.branch_id = d.branch_id AND v.seq > d.lo AND v.seq <= d.hi`,
      );
      for (const r of rows) seen.set(`${r.kind}\u0000${r.entity_id}`, { kind: r.kind, id: r.entity_id });
    }
    return [...seen.values()].sort(
      (a, b) =>
        (a.kind === b.kind ? 0 : a.kind === 'type' ? -1 : 1) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
    );
  }

  /** The candidates whose visible values differ between the two views, in the candidates' order. */
  private async differences(
    db: SqlExecutor,
    candidates: { kind: EntityKind; id: string }[],
    before: ViewSegment[],
    after: ViewSegment[],
  ): Promise<EntityChange[]> {
    const [from, to] = [
      new SqlBranchReader(db, before, this.observer),
      new SqlBranchReader(db, after, this.observer),
    ];
    const ids = (kind: EntityKind) => candidates.filter((c) => c.kind === kind).map((c) => c.id);
    const found = new Map<EntityKind, [Map<string, unknown>, Map<string, unknown>]>();
    for (const kind of ['type', 'document'] as const) {
      found.set(kind, [await from.getMany(kind, ids(kind)), await to.getMany(kind, ids(kind))]);
    }
    const changes: EntityChange[] = [];
    for (const { kind, id } of candidates) {
      const [a, b] = found.get(kind)!;
      const change = {
        kind,
        id,
        before: (a.get(id) ?? null) as EntityChange['before'],
        after: (b.get(id) ?? null) as EntityChange['after'],
      };
      if (!sameEntityValue(change.before, change.after)) changes.push(change);
    }
    return changes;
  }

  /** The state `ref` names: a branch's head (live), or a tag's or commit's (as of that commit). */
  private async snapshot(db: SqlExecutor, ref: string): Promise<Snapshot> {
    const branch = await this.findBranch(db, ref);
    if (branch) {
      const commit = await this.findCommit(db, branch.head_commit);
      if (!commit) throw new Error(`branch '${ref}' has no head commit`);
      return { commit, view: toView(await db.query<ViewRow>(headViewSql(), [branch.id])) };
    }
    const commit = await this.findRef(db, ref);
    if (!commit) throw new NotFound('Branch, tag or commit', ref);
    return { commit, view: await this.viewAt(db, commit) };
  }

  /** A commit (or tag) in the branch's history, and the view as of it. */
  private async pastSnapshot(db: SqlExecutor, branch: string, ref: string): Promise<Snapshot> {
    const view = await this.view(db, branch);
    const past = this.pastViews.get(ref) ?? (await this.findPast(db, ref));
    if (!past || !inHistory(view, past.commit))
      throw new NotFound('Commit', ref, `in the history of branch '${branch}'`);
    return past;
  }

  /**
   * The commit a commit id or tag names, and its view. Both never change (a tag never moves; segments added
   * to a branch later start after its existing commits), so they are kept, the newest PAST_VIEWS of them.
   */
  private async findPast(db: SqlExecutor, ref: string): Promise<Snapshot | null> {
    const commit = await this.findRef(db, ref);
    if (!commit) return null;
    const past = { commit, view: await this.viewAt(db, commit) };
    const oldest = this.pastViews.keys().next();
    if (this.pastViews.size >= PAST_VIEWS && !oldest.done) this.pastViews.delete(oldest.value);
    this.pastViews.set(ref, past);
    return past;
  }

  private async viewAt(db: SqlExecutor, commit: CommitRow): Promise<View> {
    return toView(await db.query<ViewRow>(VIEW_AT_SQL, [commit.branch_id, commit.seq]));
  }

  /** A commit id, or a tag's commit. */
  private async findRef(db: SqlExecutor, ref: string): Promise<CommitRow | null> {
    if (COMMIT_ID.test(ref)) return this.findCommit(db, ref);
    const [row] = await db.query<CommitRow>(
      `SELECT ${COMMIT_COLUMNS} FROM tags t JOIN commits c ON c.id = t.commit_id WHERE t.name = $1`,
      [ref],
    );
    return row ?? null;
  }

  private async findCommit(db: SqlExecutor, id: string): Promise<CommitRow | null> {
    const [row] = await db.query<CommitRow>(`SELECT ${COMMIT_COLUMNS} FROM commits c WHERE c.id = $1`, [id]);
    return row ?? null;
  }

  /** The newest commit a view shows: the merge base's commit when the view is what two states share. */
  private async newestCommit(db: SqlExecutor, view: ViewSegment[]): Promise<CommitRow> {
    const rows = await db.query<CommitRow>(
      `SELECT ${COMMIT_COLUMNS} FROM (VALUES ${viewValues(view)}) AS l(branch_id, lim, live)
         CROSS JOIN LATERAL (
           SELECT * FROM commits c WHERE c.branch_id = l.branch_id AND c.seq <= l.lim ORDER BY c.seq DESC LIMIT 1
         ) c
        ORDER BY c.seq DESC LIMIT 1`,
    );
    return one(rows, 'merge base commit');
  }

  private async findBranch(db: SqlExecutor, name: string, lock = ''): Promise<BranchRow | null> {
    const [row] = await db.query<BranchRow>(
      `SELECT ${BRANCH_COLUMNS} FROM branches WHERE name = $1 AND deleted_at IS NULL ${lock}`,
      [name],
    );
    return row ?? null;
  }

  private async view(db: SqlExecutor, branch: string): Promise<View> {
    const rows = await db.query<ViewRow>(
      headViewSql(`(SELECT id FROM branches WHERE name = $1 AND deleted_at IS NULL)`),
      [branch],
    );
    if (rows.length === 0) throw new NotFound('Branch', branch);
    return toView(rows);
  }
}

/** A write on its locked branch: its precondition first, then its work; and where it takes the head. */
async function applyTo<W extends SqlBranchWriter, T>(
  writer: W,
  fn: (writer: W) => Promise<T>,
  { precondition }: Pick<WriteOptions, 'precondition'>,
): Promise<{ value: T; move: HeadMove | null }> {
  if (precondition) precondition.check(await writer.version(precondition.kind, precondition.id));
  const value = await fn(writer);
  return { value, move: await writer.finish() };
}

/** Takes back what the write since the savepoint did; the savepoint stays, for the next write. */
const UNDO = 'ROLLBACK TO SAVEPOINT write';

/** Carries a dry run's result out of its transaction, which it rolls back on the way. */
class RolledBack extends Error {
  constructor(readonly result: unknown) {
    super('dry run rolled back');
  }

  static unwrap<T>(error: unknown): T {
    if (error instanceof RolledBack) return error.result as T;
    throw error;
  }
}

/** A fast-forward's event: the commit the target moves to, with what differs from the target's old head. */
async function fastForwardEvent(commit: CommitRow, states: ThreeWayStates): Promise<PendingEvent> {
  const changes = new ChangeTracker();
  for (const kind of ['type', 'document'] as const) {
    const ids = states.candidates.filter((c) => c.kind === kind).map((c) => c.id);
    const [before, after] = [await states.ours.getMany(kind, ids), await states.theirs.getMany(kind, ids)];
    for (const id of ids) {
      const [was, is] = [before.get(id) ?? null, after.get(id) ?? null];
      if (!sameEntityValue(was, is))
        changes.note(kind, id, is?.objectType ?? was?.objectType ?? null, was !== null, is !== null);
    }
  }
  return {
    id: commit.id,
    parents: commit.parents,
    author: commit.author,
    message: commit.message,
    createdAt: commit.created_at.toISOString(),
    ...changes.summarize(),
  };
}
