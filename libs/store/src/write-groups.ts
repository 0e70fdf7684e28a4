import { GroupedWrite, WriteOutcome } from './versioned-store';

interface Group {
  writes: GroupedWrite[];
  settle: { resolve: (value: unknown) => void; reject: (reason: unknown) => void }[];
}

/**
 * Group commit: the writes to one key (a branch) that arrive while its last group is still waiting for its
 * turn join that group, and the group runs as one transaction, up to `maxSize` writes. A write that finds
 * its branch at rest waits one turn of the event loop for company: the requests read from other sockets in
 * the same turn join it. (PGlite runs a transaction without giving the loop a turn, so no write ever arrives
 * while one runs: without this wait its writes never grouped.) A group the store had no time to finish (its
 * budget) hands its last writes to the next one, ahead of those gathered there.
 */
export class WriteGroups {
  /** Per key, the group that has not started yet: new writes join it. */
  private readonly gathering = new Map<string, Group>();

  constructor(
    private readonly maxSize: number,
    /** Runs a group: `take()` closes it (later writes start the next) and gives its writes. */
    private readonly run: (key: string, take: () => GroupedWrite[]) => Promise<WriteOutcome[]>,
    /** What one write's own failure means to its caller. */
    private readonly explain: (reason: unknown) => unknown,
  ) {}

  submit<T>(key: string, write: GroupedWrite<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let group = this.gathering.get(key);
      const starts = !group || group.writes.length >= this.maxSize;
      if (!group || starts) {
        group = { writes: [], settle: [] };
        this.gathering.set(key, group);
      }
      group.writes.push(write);
      group.settle.push({ resolve: resolve as (value: unknown) => void, reject });
      if (starts) void this.start(key, group, true);
    });
  }

  private async start(key: string, group: Group, gather = false): Promise<void> {
    if (gather) await new Promise((resolve) => setImmediate(resolve));
    const take = () => {
      if (this.gathering.get(key) === group) this.gathering.delete(key);
      return group.writes;
    };
    try {
      const outcomes = await this.run(key, take);
      group.settle.slice(0, outcomes.length).forEach(({ resolve, reject }, i) => {
        const outcome = outcomes[i]!;
        if (outcome.status === 'fulfilled') resolve(outcome.value);
        else reject(this.explain(outcome.reason));
      });
      if (outcomes.length < group.writes.length) {
        this.requeue(key, {
          writes: group.writes.slice(outcomes.length),
          settle: group.settle.slice(outcomes.length),
        });
      }
    } catch (error) {
      take();
      for (const { reject } of group.settle) reject(error);
    }
  }

  /** Writes a group had no time for go first in the next one. */
  private requeue(key: string, rest: Group): void {
    const next = this.gathering.get(key);
    if (next) {
      next.writes.unshift(...rest.writes);
      next.settle.unshift(...rest.settle);
      return;
    }
    this.gathering.set(key, rest);
    void this.start(key, rest);
  }
}
