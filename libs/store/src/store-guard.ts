import { NewUser, UserChanges, UserRecord, UserStore } from './user-store';
import {
  Branch,
  BranchReader,
  BranchWriter,
  Commit,
  CommitInfo,
  VersionedStore,
  WriteOptions,
} from './versioned-store';

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
}

export interface StoreGuard {
  /** Runs one operation under the guard. */
  run<T>(operation: string, fn: (call: StoreCall) => Promise<T>, options?: GuardOptions): Promise<T>;
  /** Runs a health probe: bounded in time, but never refused by a breaker. */
  probe<T>(fn: () => Promise<T>): Promise<T>;
}

export const STORE_GUARD = Symbol('StoreGuard');

/** The versioned store with each operation run through a guard. */
export class GuardedVersionedStore implements VersionedStore {
  constructor(
    private readonly inner: VersionedStore,
    private readonly guard: StoreGuard,
  ) {}

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

  write<T>(
    branch: string,
    commit: CommitInfo,
    fn: (writer: BranchWriter) => Promise<T>,
    options?: WriteOptions,
  ): Promise<T> {
    // A branch's writes queue on its row lock anyway: queued here, one per instance, they hold no pooled
    // connection while they wait and their wait is not mistaken for the store being slow.
    return this.guard.run(
      'write',
      (call) =>
        this.inner.write(branch, commit, fn, {
          precondition: options?.precondition,
          signal: options?.signal ?? call.signal,
          lockTimeoutMs: call.lockTimeoutMs,
          onCommit: () => {
            options?.onCommit?.();
            call.onCommit();
          },
        }),
      { serialize: { key: `branch:${branch}`, describe: `branch '${branch}'` } },
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
