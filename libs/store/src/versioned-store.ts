import { isDeepStrictEqual } from 'node:util';

/** What the store keeps under version control. */
export type EntityKind = 'type' | 'document';

export interface Branch {
  name: string;
  /** Id of the branch's newest commit. */
  head: string;
  createdFrom: string | null;
  createdAt: Date;
  createdBy: string;
}

export interface Commit {
  /** Position in the global commit order (internal; pages of history are cut by it). */
  seq: number;
  id: string;
  parents: string[];
  author: string;
  message: string;
  createdAt: Date;
}

/** One entity as visible on a branch. `version` is the sequence number of the commit that wrote it. */
export interface EntityRecord<B = unknown> {
  id: string;
  objectType: string | null;
  body: B;
  version: number;
  createdAt: Date;
  createdBy: string;
  updatedAt: Date;
  updatedBy: string;
}

export type SortOrder = 'id' | '-id' | 'createdAt' | '-createdAt';

/** Position after which a page starts: the last item's sort key. */
export interface ListPosition {
  id: string;
  createdAt?: Date;
}

export interface ListFilter {
  objectType?: string;
  /** Any of these object types (an interface's implementers); with objectType, both must hold. */
  objectTypes?: string[];
  /** JSON containment on the body (`{"age": 37}` matches bodies whose age is 37). */
  contains?: Record<string, unknown>;
}

export interface ListQuery extends ListFilter {
  sort?: SortOrder;
  after?: ListPosition;
  limit: number;
}

export interface WriteOptions {
  /**
   * The write's target and a check on its version (If-Match / If-None-Match), run under the branch lock
   * before anything else in the write: what it throws aborts the write with nothing changed.
   */
  precondition?: { kind: EntityKind; id: string; check: (version: number | null) => void };
  /** Aborted: the write rolls back instead of committing (its caller has given up on it). */
  signal?: AbortSignal;
  /** Called as the commit is sent: from then on a lost answer leaves the outcome unknown. */
  onCommit?: () => void;
  /** The longest wait for another transaction's lock. */
  lockTimeoutMs?: number;
  /** Runs the write and rolls it back: what it would do, with nothing changed. */
  dryRun?: boolean;
  /** The bound on the whole write where it is longer than the store's usual one (a bulk import). */
  timeoutMs?: number;
  /**
   * For a group of writes: once the transaction has run this long, no further write of the group starts;
   * those left have no outcome (the outcomes are the first writes'), for the caller to run in another.
   */
  budgetMs?: number;
  /**
   * For merges, false: a merge commit even where the target could fast-forward, so that the target keeps
   * reading only its own rows (a fast-forward makes it read the source's too, from then on).
   */
  fastForward?: boolean;
}

export interface CommitInfo {
  author: string;
  message: string;
}

/**
 * Called with the entity as it is inside the write transaction (after the branch is locked), before the
 * write: throwing aborts the whole commit. This is how preconditions (If-Match, "must not exist") hold
 * under concurrency.
 */
export type WriteCheck = (current: EntityRecord | null) => void;

/** Reads of one branch at one moment. */
export interface BranchReader {
  get<B = unknown>(kind: EntityKind, id: string): Promise<EntityRecord<B> | null>;
  getMany<B = unknown>(kind: EntityKind, ids: string[]): Promise<Map<string, EntityRecord<B>>>;
  /** The visible version alone, without reading the body (for revalidation); null when absent. */
  version(kind: EntityKind, id: string): Promise<number | null>;
  list<B = unknown>(kind: EntityKind, query: ListQuery): Promise<EntityRecord<B>[]>;
  /**
   * The entities of `objectType` whose body contains at least one of `anyOf` (JSON containment): one look-up
   * per probe, whatever the number of entities.
   */
  containing<B = unknown>(
    kind: EntityKind,
    objectType: string,
    anyOf: Record<string, unknown>[],
  ): Promise<EntityRecord<B>[]>;
  /** How many entities the filters of a list match (all of them, not a page). */
  count(kind: EntityKind, filter: ListFilter): Promise<number>;
}

/**
 * A write in progress on one branch: every put and remove lands in one commit, or none does. A write that
 * puts and removes nothing makes no commit at all.
 */
export interface BranchWriter extends BranchReader {
  /** The commit this write builds on (the branch head when the write took the lock). */
  readonly head: string;
  /** The commit this write has opened (null while it has written nothing). */
  readonly openedCommit: string | null;
  /** Sets the commit's message while nothing is written yet (e.g. "Create" once the write knows it creates). */
  describe(message: string): void;
  put<B>(
    kind: EntityKind,
    id: string,
    value: { objectType: string | null; body: B },
    check?: WriteCheck,
  ): Promise<EntityRecord<B>>;
  remove(kind: EntityKind, id: string, check?: WriteCheck): Promise<EntityRecord>;
  /**
   * Writes many entities at once, unchecked (value null: deleted; also where only the merged history shows
   * the entity, so that a tombstone hides it there). Ids must be distinct within one call; an entity written
   * again by a later call of the same write keeps only its last value in the commit.
   */
  writeMany(
    kind: EntityKind,
    changes: { id: string; value: { objectType: string | null; body: unknown } | null }[],
  ): Promise<void>;
}

/** One entity that differs between two states (absent on one side: null). */
export interface EntityChange {
  kind: EntityKind;
  id: string;
  before: EntityRecord | null;
  after: EntityRecord | null;
}

/** An entity's value, its versions aside: its object type and body. */
export interface EntityValue {
  objectType: string | null;
  body: unknown;
}

/** Both absent, or both present with the same type and body (changed and changed back is unchanged). */
export function sameEntityValue(a: EntityValue | null, b: EntityValue | null): boolean {
  if (a === null || b === null) return a === b;
  return a.objectType === b.objectType && isDeepStrictEqual(a.body, b.body);
}

/** How two states relate, and what differs between them. */
export interface Comparison {
  base: Commit;
  head: Commit;
  /** The newest commit both have in their history. */
  mergeBase: Commit;
  /** Only entities whose value differs (changed and changed back: absent); schema first, then by id. */
  changes: EntityChange[];
}

/** One version of an entity in a branch's history, newest first; a deletion has no record. */
export interface HistoryEntry {
  commit: Commit;
  record: EntityRecord | null;
  objectType: string | null;
}

export interface Tag {
  name: string;
  commit: string;
  message: string;
  createdBy: string;
  createdAt: Date;
}

/** The three states a merge or a revert combines, and the entities that may differ among them. */
export interface ThreeWayStates {
  base: BranchReader;
  ours: BranchReader;
  theirs: BranchReader;
  /**
   * Both sides as the target's history will hold them after a merge (newest row wins; for a revert: ours).
   * A merge must write every entity whose merged value differs from ours or from this.
   */
  merged: BranchReader;
  /** Every entity written on either side since the base (a superset of those whose values differ). */
  candidates: { kind: EntityKind; id: string }[];
}

/**
 * A merge (or revert) in progress on the locked target. Its writer reads the target (and what it wrote);
 * puts and removes become the merge commit, which has the source head as its second parent even when it
 * writes nothing.
 */
export interface MergeWriter extends BranchWriter {
  /** up-to-date: the source is already in the target's history; fast-forward: the target is in the source's. */
  readonly relation: 'up-to-date' | 'fast-forward' | 'diverged';
  readonly targetHead: string;
  readonly sourceHead: string;
  readonly mergeBase: string;
  readonly states: ThreeWayStates;
  /** Moves the target to the source head, copying nothing (only for relation fast-forward). */
  fastForward(): Promise<void>;
  /** Opens the merge commit now (it is made even when nothing is written) and returns its id. */
  open(): Promise<string>;
}

/** The versioned store: git-like branches over an append-only history. */
export interface VersionedStore {
  ping(): Promise<void>;
  close(): Promise<void>;

  listBranches(): Promise<Branch[]>;
  getBranch(name: string): Promise<Branch | null>;
  /** O(1): copies nothing; the new branch sees `from` as it is now. Throws AlreadyExists / NotFound. */
  createBranch(name: string, from: string, author: string, options?: WriteOptions): Promise<Branch>;
  /** Throws NotFound, or StateConflict for `main`. */
  deleteBranch(name: string, options?: WriteOptions): Promise<void>;
  /** Newest first, including the history the branch inherited up to its fork; pages cut by `beforeSeq`. */
  listCommits(branch: string, limit: number, beforeSeq?: number): Promise<Commit[]>;
  /** A commit by id, wherever it was made; null when there is none. */
  getCommit(id: string): Promise<Commit | null>;
  /** The commit `ref` names in `branch`'s history (a commit id or a tag); NotFound when it is not there. */
  commitInHistory(branch: string, ref: string): Promise<Commit>;
  /** Reads `branch` as it was at `ref` (a commit id or tag in its history; NotFound otherwise). */
  readAt<T>(branch: string, ref: string, fn: (reader: BranchReader) => Promise<T>): Promise<T>;
  /**
   * What differs from `base` to `head` (each a branch, commit id or tag): from their merge base
   * (`three-dot`) or from base itself (`two-dot`). Costs in proportion to the writes since the merge base.
   */
  compare(base: string, head: string, mode: 'three-dot' | 'two-dot'): Promise<Comparison>;
  /** What one commit changed, against its first parent. */
  commitChanges(id: string): Promise<EntityChange[]>;
  /** Versions of one entity in the branch's history (both sides of merges), newest first. */
  history(
    branch: string,
    kind: EntityKind,
    id: string,
    limit: number,
    beforeSeq?: number,
  ): Promise<HistoryEntry[]>;
  /** Merges `source` (branch, commit id or tag) into `target` under the target's lock. */
  merge<T>(
    target: string,
    source: string,
    commit: CommitInfo,
    fn: (writer: MergeWriter) => Promise<T>,
    options?: WriteOptions,
  ): Promise<T>;
  /**
   * Undoes a commit (id or tag) of the branch's history: a three-way merge of its parent onto the head,
   * based on it.
   */
  revert<T>(
    branch: string,
    commitId: string,
    commit: CommitInfo,
    fn: (writer: MergeWriter) => Promise<T>,
    options?: WriteOptions,
  ): Promise<T>;
  /** Names the commit `ref` is (a branch's head, a tag's or a commit id), for good. AlreadyExists / NotFound. */
  createTag(name: string, ref: string, author: string, message: string): Promise<Tag>;
  listTags(): Promise<Tag[]>;

  /** Changes whenever an object type is written on the branch (or the branch is recreated). */
  schemaVersion(branch: string): Promise<string>;

  /** Reads the branch (NotFound if it does not exist). */
  read<T>(branch: string, fn: (reader: BranchReader) => Promise<T>): Promise<T>;
  /** Runs fn with the branch locked; its puts and removes become one commit. NotFound if no branch. */
  write<T>(
    branch: string,
    commit: CommitInfo,
    fn: (writer: BranchWriter) => Promise<T>,
    options?: WriteOptions,
  ): Promise<T>;
  /**
   * Several writes to one branch in one transaction (group commit), in order. Each makes its own commit
   * (its parent: the commit of the write before it) and sees what the writes before it wrote; one that
   * fails is rolled back to its savepoint and settles rejected, alone. `options` bound the transaction:
   * when it fails as a whole, nothing of any write is applied and the promise rejects. With
   * `options.budgetMs`, the outcomes may cover only the first writes.
   */
  writeEach(branch: string, writes: GroupedWrite[], options?: WriteOptions): Promise<WriteOutcome[]>;
}

/** One write of a group: its commit's author and message, its work, and its own options. */
export interface GroupedWrite<T = unknown> {
  commit: CommitInfo;
  fn: (writer: BranchWriter) => Promise<T>;
  options?: Pick<WriteOptions, 'precondition' | 'dryRun' | 'signal'>;
}

export type WriteOutcome<T = unknown> = PromiseSettledResult<T>;

export const VERSIONED_STORE = Symbol('VersionedStore');

/** Told of every read, by kind: `entity` loads bodies, `version` only the version, `list` a page. */
export interface StoreObserver {
  read(kind: 'entity' | 'version' | 'list'): void;
  /** A transaction of writes on one branch committed: how many writes it carried (group commit). */
  writeGroup(size: number): void;
}

export const STORE_OBSERVER = Symbol('StoreObserver');

export const NO_OBSERVER: StoreObserver = { read: () => undefined, writeGroup: () => undefined };
