import { EventLog, OpenedStore, VersionedStore, WebhookStore, openStore } from '@oms/store';
import { storeTargets } from '../support/store-targets';

const alice = { author: 'alice', message: 'test write' };
const doc = (n: number) => ({ objectType: 'Person', body: { n } });

/**
 * The outbox is written by the commits themselves: a commit and its event (and its deliveries) exist
 * together or not at all, numbered per branch with no gap, whatever else the transaction did.
 */
describe.each(storeTargets())('the outbox on $name', (target) => {
  let opened: OpenedStore;
  let store: VersionedStore;
  let events: EventLog;
  let webhooks: WebhookStore;
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    const provisioned = await target.provision();
    cleanup = provisioned.cleanup;
    opened = await openStore(provisioned.location);
    ({ versioned: store, events, webhooks } = opened);
  });
  afterAll(async () => {
    await opened?.client.close();
    await cleanup?.();
  });

  const seqs = async (branch: string) => (await events.after(branch, 0, 1000)).map((e) => e.seq);

  it('writes no event for a write that fails, is rolled back, is a dry run, or changes nothing', async () => {
    await store.createBranch('quiet', 'main', 'alice');
    await expect(
      store.write('quiet', alice, async (w) => {
        await w.put('document', 'a', doc(1));
        throw new Error('half-way');
      }),
    ).rejects.toThrow('half-way');
    await store.write('quiet', alice, (w) => w.put('document', 'b', doc(1)), { dryRun: true });
    await store.write('quiet', alice, () => Promise.resolve('nothing'));
    const controller = new AbortController();
    controller.abort();
    await expect(
      store.write('quiet', alice, (w) => w.put('document', 'c', doc(1)), { signal: controller.signal }),
    ).rejects.toThrow();
    expect(await seqs('quiet')).toEqual([]);
    expect(await events.horizon('quiet')).toEqual({ lastSeq: 0, prunedThrough: 0 });
  });

  it('numbers the events of a group commit in commit order, without the writes that failed in it', async () => {
    await store.createBranch('grouped', 'main', 'alice');
    const outcomes = await store.writeEach('grouped', [
      { commit: { author: 'a', message: 'one' }, fn: (w) => w.put('document', 'g1', doc(1)) },
      {
        commit: { author: 'b', message: 'fails' },
        fn: async (w) => {
          await w.put('document', 'g2', doc(2));
          throw new Error('no');
        },
      },
      { commit: { author: 'c', message: 'three' }, fn: (w) => w.put('document', 'g3', doc(3)) },
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    const written = await events.after('grouped', 0, 10);
    expect(written.map((e) => [e.seq, e.message, e.changes.map((c) => c.id)])).toEqual([
      [1, 'one', ['g1']],
      [2, 'three', ['g3']],
    ]);
    const commits = await store.listCommits('grouped', 2);
    expect(written.map((e) => e.id)).toEqual(commits.map((c) => c.id).reverse());
    expect(written[1]!.parents).toEqual([written[0]!.id]);
  });

  it('counts an entity written several times in one commit once, from before to after', async () => {
    await store.createBranch('twice', 'main', 'alice');
    await store.write('twice', alice, (w) => w.put('document', 'kept', doc(0)));
    await store.write('twice', alice, async (w) => {
      await w.writeMany('document', [
        { id: 'new', value: doc(1) },
        { id: 'kept', value: doc(2) },
      ]);
      await w.writeMany('document', [
        { id: 'new', value: null }, // added and removed in one commit: no change
        { id: 'kept', value: doc(3) },
        { id: 'other', value: doc(4) },
      ]);
    });
    const [, event] = await events.after('twice', 0, 10);
    expect(event!.changes).toEqual([
      { kind: 'document', objectType: 'Person', id: 'kept', op: 'modified' },
      { kind: 'document', objectType: 'Person', id: 'other', op: 'added' },
    ]);
    expect(event!.summary.documents).toEqual({ Person: { added: 1, modified: 1, removed: 0 } });
  });

  it('goes on counting when a branch is deleted and made again', async () => {
    await store.createBranch('again', 'main', 'alice');
    await store.write('again', alice, (w) => w.put('document', 'x', doc(1)));
    await store.deleteBranch('again');
    await store.createBranch('again', 'main', 'alice');
    await store.write('again', alice, (w) => w.put('document', 'y', doc(1)));
    expect(await seqs('again')).toEqual([1, 2]);
  });

  it("queues a delivery for each webhook following the branch, with the commit, and leases only a queue's head", async () => {
    const hook = await webhooks.create({
      id: 'w-outbox',
      url: 'http://127.0.0.1:9/x',
      branches: ['hooked'],
      secret: 'whsec_' + Buffer.alloc(32, 1).toString('base64'),
      createdBy: 'alice',
    });
    await store.createBranch('hooked', 'main', 'alice');
    for (let n = 0; n < 3; n++) await store.write('hooked', alice, (w) => w.put('document', `h${n}`, doc(n)));
    await store.write('main', alice, (w) => w.put('document', 'not-followed', doc(0)));
    const page = await webhooks.deliveries(hook.id, { limit: 10 });
    expect(page.items.map((d) => [d.branch, d.seq, d.status])).toEqual([
      ['hooked', 3, 'pending'],
      ['hooked', 2, 'pending'],
      ['hooked', 1, 'pending'],
    ]);
    // The head alone, leased once: a second lease finds nothing until it is settled.
    const [head, ...none] = await webhooks.lease(10, 60_000);
    expect([head?.event.seq, none]).toEqual([1, []]);
    expect(await webhooks.lease(10, 60_000)).toEqual([]);
    await webhooks.settle(head!, { outcome: 'delivered', status: 200 });
    expect((await webhooks.lease(10, 60_000)).map((d) => d.event.seq)).toEqual([2]);
    expect(await webhooks.backlog()).toEqual({ pending: 2, dead: 0 });
    // Owed events are not pruned; the delivered one is, and the branch's horizon moves past it.
    expect(await events.prune(new Date(Date.now() + 60_000))).toBeGreaterThan(0);
    expect(await seqs('hooked')).toEqual([2, 3]);
    expect((await events.horizon('hooked')).prunedThrough).toBe(1);
    await webhooks.delete(hook.id);
  });
});
