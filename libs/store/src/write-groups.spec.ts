import { GroupedWrite, WriteOutcome } from './versioned-store';
import { WriteGroups } from './write-groups';

const write = (message: string): GroupedWrite => ({
  commit: { author: 'alice', message },
  fn: () => Promise.resolve(message),
});

/**
 * A branch's runner: one group at a time, in the order they start (as the store guard's serializer runs
 * them); each group is held until the test releases it, and answers each write with its message, or as
 * `answer` says.
 */
function runner(
  answer: (writes: GroupedWrite[]) => WriteOutcome[] | Error = (writes) =>
    writes.map((w) => ({ status: 'fulfilled', value: w.commit.message })),
) {
  const groups: string[][] = [];
  const held: (() => void)[] = [];
  let tail: Promise<unknown> = Promise.resolve();
  const run = (_key: string, take: () => GroupedWrite[]) => {
    const turn = tail.then(async () => {
      const writes = take();
      groups.push(writes.map((w) => w.commit.message));
      await new Promise<void>((resolve) => held.push(resolve));
      const outcome = answer(writes);
      if (outcome instanceof Error) throw outcome;
      return outcome;
    });
    tail = turn.catch(() => undefined);
    return turn;
  };
  /** Until a group is running (taken, held). */
  const running = async () => {
    while (held.length === 0) await new Promise((resolve) => setImmediate(resolve));
  };
  const releaseNext = async () => {
    await running();
    held.shift()!();
  };
  return { run, groups, running, releaseNext };
}

describe('WriteGroups', () => {
  it('runs a write alone when its branch is at rest, and gathers the ones that queue behind it', async () => {
    const r = runner();
    const groups = new WriteGroups(64, r.run, (e) => e);
    const first = groups.submit('main', write('a'));
    await r.running();
    const queued = ['b', 'c', 'd'].map((m) => groups.submit('main', write(m)));
    await r.releaseNext();
    expect(await first).toBe('a');
    await r.releaseNext();
    expect(await Promise.all(queued)).toEqual(['b', 'c', 'd']);
    expect(r.groups).toEqual([['a'], ['b', 'c', 'd']]);
  });

  it('lets the writes that arrive in the same turn of the event loop join one that found its branch at rest', async () => {
    const r = runner();
    const groups = new WriteGroups(64, r.run, (e) => e);
    // Two callbacks of one loop phase, like two sockets read in one poll: the second comes before the next turn.
    const answers = await new Promise<Promise<unknown>[]>((resolve) => {
      const submitted: Promise<unknown>[] = [];
      setImmediate(() => submitted.push(groups.submit('main', write('a'))));
      setImmediate(() => resolve([...submitted, groups.submit('main', write('b'))]));
    });
    await r.releaseNext();
    expect(await Promise.all(answers)).toEqual(['a', 'b']);
    expect(r.groups).toEqual([['a', 'b']]);
  });

  it('keeps branches apart', async () => {
    const r = runner();
    const groups = new WriteGroups(64, r.run, (e) => e);
    const answers = [groups.submit('main', write('a')), groups.submit('dev', write('b'))];
    await r.releaseNext();
    await r.releaseNext();
    expect(await Promise.all(answers)).toEqual(['a', 'b']);
    expect(r.groups).toEqual([['a'], ['b']]);
  });

  it('starts a new group past the size limit', async () => {
    const r = runner();
    const groups = new WriteGroups(2, r.run, (e) => e);
    const answers = ['a', 'b', 'c', 'd', 'e'].map((m) => groups.submit('main', write(m)));
    for (let i = 0; i < 3; i++) await r.releaseNext();
    expect(await Promise.all(answers)).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(r.groups).toEqual([['a', 'b'], ['c', 'd'], ['e']]);
  });

  it("settles each write with its own outcome, a failure explained, and fails all when the group's run fails", async () => {
    const r = runner((writes) =>
      writes.some((w) => w.commit.message === 'boom')
        ? new Error('store down')
        : writes.map((w) =>
            w.commit.message === 'bad'
              ? { status: 'rejected', reason: new Error('refused') }
              : { status: 'fulfilled', value: w.commit.message },
          ),
    );
    const groups = new WriteGroups(64, r.run, (e) => new Error(`explained: ${(e as Error).message}`));
    const first = groups.submit('main', write('a'));
    await r.running();
    const mixed = ['b', 'bad', 'c'].map((m) => groups.submit('main', write(m)));
    await r.releaseNext();
    await first;
    await r.releaseNext();
    expect(await Promise.allSettled(mixed)).toEqual([
      { status: 'fulfilled', value: 'b' },
      { status: 'rejected', reason: new Error('explained: refused') },
      { status: 'fulfilled', value: 'c' },
    ]);

    const doomed = ['x', 'boom'].map((m) => groups.submit('main', write(m)));
    await r.releaseNext();
    const settled = await Promise.allSettled(doomed);
    expect(settled).toEqual([
      { status: 'rejected', reason: new Error('store down') },
      { status: 'rejected', reason: new Error('store down') },
    ]);
    // The branch goes on: the next write runs at once.
    const after = groups.submit('main', write('z'));
    await r.releaseNext();
    expect(await after).toBe('z');
  });

  it('hands the writes a group had no time for to the next one, ahead of those gathered there', async () => {
    // The store stops after two writes of a group (its budget).
    const r = runner((writes) =>
      writes.slice(0, 2).map((w) => ({ status: 'fulfilled', value: w.commit.message })),
    );
    const groups = new WriteGroups(64, r.run, (e) => e);
    const first = groups.submit('main', write('a'));
    await r.running();
    const queued = ['b', 'c', 'd'].map((m) => groups.submit('main', write(m)));
    await r.releaseNext(); // a
    await first;
    await r.releaseNext(); // b c (d left over)
    const late = groups.submit('main', write('e'));
    await r.releaseNext(); // d e
    expect(await Promise.all([...queued, late])).toEqual(['b', 'c', 'd', 'e']);
    expect(r.groups).toEqual([['a'], ['b', 'c', 'd'], ['d', 'e']]);
  });
});
