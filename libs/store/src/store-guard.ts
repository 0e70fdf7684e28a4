import { NewUser, UserChanges, UserRecord, UserStore } from './user-store';
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
  Tag,
  VersionedStore,
  WriteOptions,
  WriteOutcome,
} from './versioned-store';
import { WriteGroups } from './write-groups';

/**
 * Wraps every store operation: the resilience layer plugs its breaker, timeout and fault injection in
 * here, so the store itself stays plain.
 */
/**
 * What the guard hands each operation: `signal` aborts when the guard gives up on it (a write then rolls
 * back instead of committing), and a write calls `onCommit` as it sends COMMIT, so the guard can tell
 * "not applied" (503) from "outcome unknown" (504) when the answer is lost.
 */
export interface StoreCall {
  signal: AbortSignal;
  onCommit: () => void;
  /** Lock waits end (as contention, 55P03) before the call's own bound would count them as a failure. */
  lockTimeoutMs: number;
}

export interface GuardOptions {
  /** Calls with the same key run one at a time; waiting for the key is not timed as a store call. */
  serialize?: { key: string; describe: string };
  /** The call's bound where it is longer than the dependency's usual one (a bulk import). */
  timeoutMs?: number;
}

export interface StoreGuard {
  /** Runs one operation under the guard. */
  run<T>(operation: string, fn: (call: StoreCall) => Promise<T>, options?: GuardOptions): Promise<T>;
  /** Runs a health probe: bounded in time, but never refused by a breaker. */
  probe<T>(fn: () => Promise<T>): Promise<T>;
  /**
   * What an error of one write in a group means to its caller, when the group's transaction went on
   * without it (the error `run` would have thrown had the write run alone).
   */
  explain(operation: string, error: unknown): unknown;
  /** A call's usual bound (ms). */
  readonly timeoutMs: number;
}

/** The most writes one group commit carries. */
export const MAX_WRITE_GROUP = 64;
/**
 * The part of a call's bound a group may spend before it starts no further write: the group then ends
 * within its bound, however many writes it gathered, and the rest wait for the next.
 */
const GROUP_BUDGET_SHARE = 0.25;

export const STORE_GUARD = Symbol('StoreGuard');

/**
 * The versioned store with each operation run through a guard. Writes to a branch that queue behind
 * another share one transaction (WriteGroups): one lock, one commit to disk, for as many as have queued.
 */
export class GuardedVersionedStore implements VersionedStore {
  private readonly groups: WriteGroups;

  constructor(
    private readonly inner: VersionedStore,
    private readonly guard: StoreGuard,
    maxGroup = MAX_WRITE_GROUP,
  ) {
    this.groups = new WriteGroups(
      maxGroup,
      (branch, take) =>
        this.locked('write', branch, { budgetMs: guard.timeoutMs * GROUP_BUDGET_SHARE }, (o) =>
          this.inner.writeEach(branch, take(), o),
        ),
      (error) => guard.explain('write', error),
    );
  }

  ping(): Promise<void> {
    return this.guard.probe(() => this.inner.ping());
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  listBranches(): Promise<Branch[]> {
    return this.guard.run('listBranches', () => this.inner.listBranches());
  }

  getBranch(name: string): Promise<Branch | null> {
    return this.guard.run('getBranch', () => this.inner.getBranch(name));
  }

  createBranch(name: string, from: string, author: string): Promise<Branch> {
    return this.guard.run('createBranch', (call) => this.inner.createBranch(name, from, author, call));
  }

  deleteBranch(name: string): Promise<void> {
    return this.guard.run('deleteBranch', (call) => this.inner.deleteBranch(name, call));
  }

  listCommits(branch: string, limit: number, beforeSeq?: number): Promise<Commit[]> {
    return this.guard.run('listCommits', () => this.inner.listCommits(branch, limit, beforeSeq));
  }

  schemaVersion(branch: string): Promise<string> {
    return this.guard.run('schemaVersion', () => this.inner.schemaVersion(branch));
  }

  read<T>(branch: string, fn: (reader: BranchReader) => Promise<T>): Promise<T> {
    return this.guard.run('read', () => this.inner.read(branch, fn));
  }

  getCommit(id: string): Promise<Commit | null> {
    return this.guard.run('getCommit', () => this.inner.getCommit(id));
  }

  commitInHistory(branch: string, ref: string): Promise<Commit> {
    return this.guard.run('commitInHistory', () => this.inner.commitInHistory(branch, ref));
  }

  readAt<T>(branch: string, ref: string, fn: (reader: BranchReader) => Promise<T>): Promise<T> {
    return this.guard.run('readAt', () => this.inner.readAt(branch, ref, fn));
  }

  compare(base: string, head: string, mode: 'three-dot' | 'two-dot'): Promise<Comparison> {
    return this.guard.run('compare', () => this.inner.compare(base, head, mode));
  }

  commitChanges(id: string): Promise<EntityChange[]> {
    return this.guard.run('commitChanges', () => this.inner.commitChanges(id));
  }

  history(
    branch: string,
    kind: EntityKind,
    id: string,
    limit: number,
    beforeSeq?: number,
  ): Promise<HistoryEntry[]> {
    return this.guard.run('history', () => this.inner.history(branch, kind, id, limit, beforeSeq));
  }

  merge<T>(
    target: string,
    source: string,
    commit: CommitInfo,
    fn: (writer: MergeWriter) => Promise<T>,
    options?: WriteOptions,
  ): Promise<T> {
    return this.locked('merge', target, options, (o) => this.inner.merge(target, source, commit, fn, o));
  }

  revert<T>(
    branch: string,
    commitId: string,
    commit: CommitInfo,
    fn: (writer: MergeWriter) => Promise<T>,
    options?: WriteOptions,
  ): Promise<T> {
    return this.locked('revert', branch, options, (o) => this.inner.revert(branch, commitId, commit, fn, o));
  }

  createTag(name: string, ref: string, author: string, message: string): Promise<Tag> {
    return this.guard.run('createTag', () => this.inner.createTag(name, ref, author, message));
  }

  listTags(): Promise<Tag[]> {
    return this.guard.run('listTags', () => this.inner.listTags());
  }

  write<T>(
    branch: string,
    commit: CommitInfo,
    fn: (writer: BranchWriter) => Promise<T>,
    options?: WriteOptions,
  ): Promise<T> {
    // A long write (a bulk import) runs alone: a group waits for its slowest member. So does one that must
    // hear its own COMMIT being sent (a group sends one for all).
    if (options?.timeoutMs !== undefined || options?.onCommit)
      return this.locked('write', branch, options, (o) => this.inner.write(branch, commit, fn, o));
    return this.groups.submit(branch, { commit, fn, options });
  }

  writeEach(branch: string, writes: GroupedWrite[], options?: WriteOptions): Promise<WriteOutcome[]> {
    return this.locked('write', branch, options, (o) => this.inner.writeEach(branch, writes, o));
  }

  /**
   * A branch's writes queue on its row lock anyway: queued here, one per instance, they hold no pooled
   * connection while they wait and their wait is not mistaken for the store being slow.
   */
  private locked<T>(
    operation: string,
    branch: string,
    options: WriteOptions | undefined,
    fn: (options: WriteOptions) => Promise<T>,
  ): Promise<T> {
    return this.guard.run(
      operation,
      (call) =>
        fn({
          precondition: options?.precondition,
          dryRun: options?.dryRun,
          budgetMs: options?.budgetMs,
          fastForward: options?.fastForward,
          signal: options?.signal ?? call.signal,
          lockTimeoutMs: call.lockTimeoutMs,
          onCommit: () => {
            options?.onCommit?.();
            call.onCommit();
          },
        }),
      {
        serialize: { key: `branch:${branch}`, describe: `branch '${branch}'` },
        timeoutMs: options?.timeoutMs,
      },
    );
  }
}

/** Users with each operation run through a guard. */
export class GuardedUserStore implements UserStore {
  constructor(
    private readonly inner: UserStore,
    private readonly guard: StoreGuard,
  ) {}

  find(username: string): Promise<UserRecord | null> {
    return this.guard.run('findUser', () => this.inner.find(username));
  }

  list(): Promise<UserRecord[]> {
    return this.guard.run('listUsers', () => this.inner.list());
  }

  create(user: NewUser): Promise<UserRecord> {
    return this.guard.run('createUser', (call) => this.inner.create(user, call));
  }

  upsert(user: NewUser): Promise<{ created: boolean }> {
    return this.guard.run('upsertUser', (call) => this.inner.upsert(user, call));
  }

  createIfMissing(user: NewUser): Promise<boolean> {
    return this.guard.run('createUserIfMissing', (call) => this.inner.createIfMissing(user, call));
  }

  update(username: string, changes: UserChanges): Promise<UserRecord | null> {
    return this.guard.run('updateUser', (call) => this.inner.update(username, changes, call));
  }

  delete(username: string): Promise<boolean> {
    return this.guard.run('deleteUser', (call) => this.inner.delete(username, call));
  }
}
