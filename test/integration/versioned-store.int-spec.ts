import { AlreadyExists, NotFound, PreconditionFailed, StateConflict } from '@oms/common';
import { isDeepStrictEqual } from 'node:util';
import {
  BranchReader,
  EntityChange,
  EntityRecord,
  MergeWriter,
  OpenedStore,
  VersionedStore,
  openStore,
} from '@oms/store';
import { defined, first, last } from '../support/one';
import { storeTargets } from '../support/store-targets';

const alice = { author: 'alice', message: 'test write' };
const doc = (name: string, extra: Record<string, unknown> = {}) => ({
  objectType: 'Person',
  body: { name, ...extra },
});

describe.each(storeTargets())('VersionedStore on $name', (target) => {
  let opened: OpenedStore;
  let store: VersionedStore;
  let cleanup: () => Promise<void>;
  /** Entity reads the store has sent to the database (its observer). */
  let entityReads = 0;

  beforeAll(async () => {
    const provisioned = await target.provision();
    cleanup = provisioned.cleanup;
    opened = await openStore(provisioned.location, {
      read: (kind) => void (kind === 'entity' && (entityReads += 1)),
      writeGroup: () => undefined,
    });
    store = opened.versioned;
  });

  afterAll(async () => {
    await opened?.client.close();
    await cleanup?.();
  });

  const put = (
    branch: string,
    id: string,
    body: { objectType: string; body: object } = doc(id),
    info = alice,
  ) => store.write(branch, info, (w) => w.put('document', id, body));
  const get = (branch: string, id: string) =>
    store.read(branch, (r) => r.get<{ name: string }>('document', id));

  describe('branches', () => {
    it('has main from the start, with an initial commit', async () => {
      const main = await store.getBranch('main');
      expect(main).toMatchObject({ name: 'main', createdFrom: null });
      const commits = await store.listCommits('main', 10);
      expect(commits[commits.length - 1]).toMatchObject({ parents: [], author: 'system' });
      expect(main?.head).toBe(first(commits, 'commit').id);
    });

    it('creates a branch pointing at the source head and lists it', async () => {
      await put('main', 'b-src');
      const main = await store.getBranch('main');
      const created = await store.createBranch('feature-1', 'main', 'alice');
      expect(created).toMatchObject({
        name: 'feature-1',
        head: main?.head,
        createdFrom: 'main',
        createdBy: 'alice',
      });
      expect((await store.listBranches()).map((b) => b.name)).toEqual(
        expect.arrayContaining(['main', 'feature-1']),
      );
    });

    it('refuses an existing name and a missing source', async () => {
      await store.createBranch('dup', 'main', 'alice');
      await expect(store.createBranch('dup', 'main', 'alice')).rejects.toBeInstanceOf(AlreadyExists);
      await expect(store.createBranch('x', 'nope', 'alice')).rejects.toBeInstanceOf(NotFound);
    });

    it('lets exactly one of several racing creators win a name', async () => {
      const results = await Promise.allSettled(
        Array.from({ length: 8 }, () => store.createBranch('race', 'main', 'alice')),
      );
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      for (const r of results.filter((r) => r.status === 'rejected')) {
        expect(r.reason).toBeInstanceOf(AlreadyExists);
      }
    });

    it('protects main and deletes others, keeping what their children inherited', async () => {
      await expect(store.deleteBranch('main')).rejects.toBeInstanceOf(StateConflict);
      await store.createBranch('parent', 'main', 'alice');
      await put('parent', 'from-parent');
      await store.createBranch('child', 'parent', 'alice');
      await store.deleteBranch('parent');
      expect(await store.getBranch('parent')).toBeNull();
      await expect(store.deleteBranch('parent')).rejects.toBeInstanceOf(NotFound);
      expect((await get('child', 'from-parent'))?.body.name).toBe('from-parent');
      // The name is free again and the new branch does not see the old one's data.
      await store.createBranch('parent', 'main', 'alice');
      expect(await get('parent', 'from-parent')).toBeNull();
    });
  });

  describe('isolation through the lineage', () => {
    it('shows the source as it was at the fork, and the branch its own writes', async () => {
      await put('main', 'iso-1', doc('before'));
      await store.createBranch('iso', 'main', 'alice');
      await put('main', 'iso-1', doc('after-on-main'));
      await put('main', 'iso-2', doc('new-on-main'));
      await put('iso', 'iso-3', doc('only-on-branch'));

      expect((await get('iso', 'iso-1'))?.body.name).toBe('before');
      expect(await get('iso', 'iso-2')).toBeNull();
      expect((await get('iso', 'iso-3'))?.body.name).toBe('only-on-branch');
      expect(await get('main', 'iso-3')).toBeNull();
      expect((await get('main', 'iso-1'))?.body.name).toBe('after-on-main');
    });

    it('hides an inherited entity deleted on the branch, and only there', async () => {
      await put('main', 'tomb', doc('t'));
      await store.createBranch('tomb-branch', 'main', 'alice');
      await store.write('tomb-branch', alice, (w) => w.remove('document', 'tomb'));
      expect(await get('tomb-branch', 'tomb')).toBeNull();
      expect(await get('main', 'tomb')).not.toBeNull();
      const listed = await store.read('tomb-branch', (r) =>
        r.list('document', { objectType: 'Person', limit: 1000 }),
      );
      expect(listed.map((e) => e.id)).not.toContain('tomb');
    });

    it('reads three levels deep', async () => {
      await store.createBranch('l1', 'main', 'alice');
      await put('l1', 'deep', doc('l1'));
      await store.createBranch('l2', 'l1', 'alice');
      await put('l1', 'deep', doc('l1-later'));
      await store.createBranch('l3', 'l2', 'alice');
      expect((await get('l3', 'deep'))?.body.name).toBe('l1');
    });
  });

  describe('commits and versions', () => {
    it('records every write as a commit with author, message and parent', async () => {
      await store.createBranch('hist', 'main', 'alice');
      const before = await store.getBranch('hist');
      await put('hist', 'h1', doc('h1'), { author: 'bob', message: 'add h1' });
      await put('hist', 'h1', doc('h1b'), { author: 'carol', message: 'rename h1' });
      const commits = await store.listCommits('hist', 3);
      const newest = defined(commits[0], 'a newest commit on hist');
      const previous = defined(commits[1], 'a commit before the newest on hist');
      const inherited = defined(commits[2], 'the main commit hist was made from');
      expect(newest).toMatchObject({ author: 'carol', message: 'rename h1', parents: [previous.id] });
      expect(previous).toMatchObject({ author: 'bob', message: 'add h1', parents: [before?.head] });
      expect(inherited.id).toBe(before?.head);
      expect((await store.getBranch('hist'))?.head).toBe(newest.id);
    });

    it('pages history by sequence', async () => {
      const all = await store.listCommits('hist', 100);
      const page2 = await store.listCommits('hist', 2, defined(all[1], 'a second commit on hist').seq);
      expect(page2.map((c) => c.id)).toEqual(all.slice(2, 4).map((c) => c.id));
    });

    it('changes the version on every write and keeps creation facts', async () => {
      const first = await put('main', 'v1', doc('a'), { author: 'bob', message: 'm' });
      const second = await put('main', 'v1', doc('b'), { author: 'carol', message: 'm' });
      expect(second.version).toBeGreaterThan(first.version);
      expect(second).toMatchObject({ createdBy: 'bob', updatedBy: 'carol', createdAt: first.createdAt });
    });

    it('makes no commit for a write that changes nothing', async () => {
      const head = (await store.getBranch('main'))?.head;
      await store.write('main', alice, async (w) => w.get('document', 'v1'));
      expect((await store.getBranch('main'))?.head).toBe(head);
    });

    it('leaves nothing behind when the write fails half-way', async () => {
      const head = (await store.getBranch('main'))?.head;
      await expect(
        store.write('main', alice, async (w) => {
          await w.put('document', 'half-1', doc('one'));
          await w.put('document', 'half-2', doc('two'));
          throw new Error('boom');
        }),
      ).rejects.toThrow('boom');
      expect(await get('main', 'half-1')).toBeNull();
      expect((await store.getBranch('main'))?.head).toBe(head);
    });

    it('rolls back a write whose caller gave up (aborted signal) instead of committing', async () => {
      const head = (await store.getBranch('main'))?.head;
      const controller = new AbortController();
      await expect(
        store.write(
          'main',
          alice,
          async (w) => {
            await w.put('document', 'abandoned', doc('late'));
            controller.abort(); // the caller timed out while the write was running
          },
          { signal: controller.signal },
        ),
      ).rejects.toThrow('rolled back');
      expect(await get('main', 'abandoned')).toBeNull();
      expect((await store.getBranch('main'))?.head).toBe(head);
    });

    it('reads a version without the body', async () => {
      const written = await put('main', 'versioned', doc('v'));
      expect(await store.read('main', (r) => r.version('document', 'versioned'))).toBe(written.version);
      expect(await store.read('main', (r) => r.version('document', 'never-written'))).toBeNull();
    });

    it('runs the check under the lock and aborts on its error', async () => {
      await put('main', 'chk', doc('c'));
      await expect(
        store.write('main', alice, (w) =>
          w.put('document', 'chk', doc('d'), (current) => {
            if (current) throw new AlreadyExists('Document', 'chk');
          }),
        ),
      ).rejects.toBeInstanceOf(AlreadyExists);
      expect((await get('main', 'chk'))?.body.name).toBe('c');
    });

    it("checks a write's precondition on its target's version under the lock, before the write runs", async () => {
      const written = await put('main', 'pre', doc('p1'));
      const seen: (number | null)[] = [];
      let ran = false;
      const refuse = (version: number | null) => {
        seen.push(version);
        throw new PreconditionFailed('stale', version ?? undefined);
      };
      await expect(
        store.write(
          'main',
          alice,
          async (w) => {
            ran = true;
            return w.put('document', 'pre', doc('p2'));
          },
          { precondition: { kind: 'document', id: 'pre', check: refuse } },
        ),
      ).rejects.toBeInstanceOf(PreconditionFailed);
      expect(ran).toBe(false);
      expect((await get('main', 'pre'))?.body.name).toBe('p1');
      const accept = (version: number | null) => void seen.push(version);
      await store.write('main', alice, (w) => w.put('document', 'pre', doc('p3')), {
        precondition: { kind: 'document', id: 'pre', check: accept },
      });
      await store.write('main', alice, (w) => w.put('document', 'pre-new', doc('n')), {
        precondition: { kind: 'document', id: 'pre-new', check: accept },
      });
      expect(seen).toEqual([written.version, written.version, null]);
      expect((await get('main', 'pre'))?.body.name).toBe('p3');
    });

    describe('group commit (writeEach)', () => {
      const by = (message: string) => ({ author: `author-${message}`, message });

      it('gives each write its own commit, chained, seeing the writes before it; a failing one fails alone', async () => {
        await store.createBranch('grouped', 'main', 'alice');
        const before = (await store.getBranch('grouped'))!.head;
        const seen: (number | null)[] = [];
        const outcomes = await store.writeEach('grouped', [
          { commit: by('one'), fn: (w) => w.put('document', 'g1', doc('first')) },
          {
            // Sees g1, then fails after writing: its row goes, the others stay.
            commit: by('two'),
            fn: async (w) => {
              expect((await w.get<{ name: string }>('document', 'g1'))?.body.name).toBe('first');
              await w.put('document', 'g2', doc('dropped'));
              throw new AlreadyExists('Document', 'g1');
            },
          },
          {
            // A value the store itself refuses (a NUL character): rolled back alone too.
            commit: by('three'),
            fn: (w) => w.put('document', 'g3', doc('nul\u0000byte')),
          },
          {
            commit: by('four'),
            fn: async (w) => {
              expect(await w.get('document', 'g2')).toBeNull();
              return w.put('document', 'g4', doc('fourth'));
            },
            options: {
              precondition: { kind: 'document', id: 'g1', check: (v) => void seen.push(v) },
            },
          },
          { commit: by('five'), fn: (w) => w.put('document', 'g5', doc('dry')), options: { dryRun: true } },
        ]);
        expect(outcomes.map((o) => o.status)).toEqual([
          'fulfilled',
          'rejected',
          'rejected',
          'fulfilled',
          'fulfilled',
        ]);
        expect((outcomes[1] as PromiseRejectedResult).reason).toBeInstanceOf(AlreadyExists);
        for (const id of ['g2', 'g3', 'g5']) expect(await get('grouped', id)).toBeNull();
        expect((await get('grouped', 'g4'))?.body.name).toBe('fourth');

        const commits = await store.listCommits('grouped', 3);
        expect(commits.map((c) => [c.author, c.message])).toEqual([
          ['author-four', 'four'],
          ['author-one', 'one'],
          [expect.any(String), expect.any(String)],
        ]);
        expect(commits[0]!.parents).toEqual([commits[1]!.id]);
        expect(commits[1]!.parents).toEqual([before]);
        expect((await store.getBranch('grouped'))!.head).toBe(commits[0]!.id);
        // The precondition of the fourth saw the first's document.
        expect(seen).toEqual([(await get('grouped', 'g1'))?.version]);
      });

      it('reads a type once per group until a write changes it; a change taken back is not seen', async () => {
        await store.createBranch('typed', 'main', 'alice');
        const labels: unknown[] = [];
        type Writer = Parameters<Parameters<VersionedStore['write']>[2]>[0];
        const label = async (w: Writer) =>
          void labels.push((await w.get<{ label: string }>('type', 'Kind'))?.body.label ?? null);
        const kind = (value: string) => ({ objectType: null, body: { label: value } });
        const readsBefore = entityReads;
        const outcomes = await store.writeEach('typed', [
          {
            commit: by('a'),
            fn: async (w) => {
              await label(w);
              await w.put('type', 'Kind', kind('one'));
              await label(w);
            },
          },
          {
            commit: by('b'),
            fn: async (w) => {
              await label(w);
              await w.put('type', 'Kind', kind('dropped'));
              await label(w);
              throw new AlreadyExists('Object type', 'Kind');
            },
          },
          { commit: by('c'), fn: label },
          {
            commit: by('d'),
            fn: async (w) => {
              await w.remove('type', 'Kind');
              await label(w);
            },
          },
        ]);
        expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
        expect(labels).toEqual([null, 'one', 'one', 'dropped', 'one', null]);
        // Read from the database: a's first look, after a's put, after b's put, c's after b was taken back,
        // d's after its remove. The other four looks (b's first, and the put/remove's own) are the memo's.
        expect(entityReads - readsBefore).toBe(5);
      });

      it("starts no write past its budget: the outcomes are the first writes'", async () => {
        const slow = (id: string) => ({
          commit: by(id),
          fn: async (w: Parameters<Parameters<VersionedStore['write']>[2]>[0]) => {
            await new Promise((resolve) => setTimeout(resolve, 30));
            return w.put('document', id, doc(id));
          },
        });
        const outcomes = await store.writeEach('main', [slow('b1'), slow('b2'), slow('b3')], {
          budgetMs: 10,
        });
        expect(outcomes.map((o) => o.status)).toEqual(['fulfilled']);
        expect(await get('main', 'b1')).not.toBeNull();
        expect(await get('main', 'b2')).toBeNull();
      });
    });

    it('serialises racing writers so no check can be raced', async () => {
      const attempts = Array.from({ length: 20 }, (_, i) =>
        store.write('main', alice, async (w) => {
          const taken = await w.list('document', {
            objectType: 'Ticket',
            contains: { seat: '1A' },
            limit: 1,
          });
          if (taken.length > 0) throw new AlreadyExists('Seat', '1A');
          return w.put('document', `ticket-${i}`, { objectType: 'Ticket', body: { seat: '1A' } });
        }),
      );
      const results = await Promise.allSettled(attempts);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    });

    it('moves the schema version on type writes only', async () => {
      await store.createBranch('schema-v', 'main', 'alice');
      const v0 = await store.schemaVersion('schema-v');
      await put('schema-v', 'doc-only');
      expect(await store.schemaVersion('schema-v')).toBe(v0);
      await store.write('schema-v', alice, (w) =>
        w.put('type', 'Person', { objectType: null, body: { name: 'Person' } }),
      );
      expect(await store.schemaVersion('schema-v')).not.toBe(v0);
    });
  });

  describe('lists', () => {
    const ids = (records: EntityRecord[]) => records.map((r) => r.id);

    beforeAll(async () => {
      await store.createBranch('lists', 'main', 'alice');
      for (const [i, name] of ['a', 'c', 'e', 'b', 'd'].entries()) {
        await put('lists', `L-${name}`, {
          objectType: 'Item',
          body: { name, even: i % 2 === 0, tags: [name] },
        });
      }
      await store.createBranch('lists-child', 'lists', 'alice');
      await put('lists-child', 'L-a', { objectType: 'Item', body: { name: 'a2', even: false, tags: ['a'] } });
      await store.write('lists-child', alice, (w) => w.remove('document', 'L-b'));
      await put('lists-child', 'L-f', { objectType: 'Item', body: { name: 'f', even: true, tags: ['f'] } });
      await put('lists', 'L-g', { objectType: 'Item', body: { name: 'g', even: true, tags: ['g'] } });
    });

    it.each(['lists', 'lists-child'])('pages by id with a keyset on %s', async (branch) => {
      const all = await store.read(branch, (r) => r.list('document', { objectType: 'Item', limit: 100 }));
      const expected =
        branch === 'lists' ? ['L-a', 'L-b', 'L-c', 'L-d', 'L-e', 'L-g'] : ['L-a', 'L-c', 'L-d', 'L-e', 'L-f'];
      expect(ids(all)).toEqual(expected);
      const page = await store.read(branch, (r) =>
        r.list('document', {
          objectType: 'Item',
          limit: 2,
          after: { id: defined(expected[1], 'a second id') },
        }),
      );
      expect(ids(page)).toEqual(expected.slice(2, 4));
      const desc = await store.read(branch, (r) =>
        r.list('document', { objectType: 'Item', sort: '-id', limit: 100 }),
      );
      expect(ids(desc)).toEqual([...expected].reverse());
    });

    it.each(['lists', 'lists-child'])('orders by creation on %s', async (branch) => {
      const all = await store.read(branch, (r) =>
        r.list('document', { objectType: 'Item', sort: 'createdAt', limit: 100 }),
      );
      const times = all.map((e) => e.createdAt.getTime());
      expect(times).toEqual([...times].sort((a, b) => a - b));
      const after = defined(all[1], `a second Item on ${branch}`);
      const rest = await store.read(branch, (r) =>
        r.list('document', {
          objectType: 'Item',
          sort: 'createdAt',
          limit: 100,
          after: { id: after.id, createdAt: after.createdAt },
        }),
      );
      expect(ids(rest)).toEqual(ids(all.slice(2)));
    });

    it('pages a branch through many inherited, overwritten, deleted and own entities, both ways', async () => {
      const n = (i: number) => `M-${String(i).padStart(3, '0')}`;
      await store.write('lists', alice, async (w) => {
        for (let i = 0; i < 90; i++) await w.put('document', n(i), { objectType: 'Many', body: { i } });
      });
      await store.createBranch('many-child', 'lists', 'alice');
      await store.write('many-child', alice, async (w) => {
        for (let i = 0; i < 90; i += 3) await w.remove('document', n(i)); // a third gone
        for (let i = 1; i < 90; i += 3)
          await w.put('document', n(i), { objectType: 'Many', body: { i, changed: true } });
        for (let i = 90; i < 100; i++) await w.put('document', n(i), { objectType: 'Many', body: { i } });
      });
      const expected = Array.from({ length: 100 }, (_, i) => i)
        .filter((i) => i >= 90 || i % 3 !== 0)
        .map(n);
      for (const sort of ['id', '-id'] as const) {
        const seen: string[] = [];
        let after: { id: string } | undefined;
        for (let pages = 0; pages < 50; pages++) {
          const page = await store.read('many-child', (r) =>
            r.list('document', { objectType: 'Many', sort, limit: 7, after }),
          );
          seen.push(...ids(page));
          if (page.length < 7) break;
          after = { id: last(page, 'entity').id };
        }
        expect(seen).toEqual(sort === 'id' ? expected : [...expected].reverse());
      }
      const changed = await store.read('many-child', (r) =>
        r.list('document', { objectType: 'Many', contains: { changed: true }, limit: 100 }),
      );
      expect(ids(changed)).toEqual(Array.from({ length: 30 }, (_, k) => n(1 + 3 * k)));
    });

    it('pages the same branch in creation order, both ways, an entity deleted and created again included', async () => {
      // M-004 is inherited from `lists`; deleted and created again on the child, it is newer than all.
      await store.write('many-child', alice, (w) => w.remove('document', 'M-004'));
      await store.write('many-child', alice, (w) =>
        w.put('document', 'M-004', { objectType: 'Many', body: { i: 4, changed: true } }),
      );
      const visible = await store.read('many-child', (r) =>
        r.list('document', { objectType: 'Many', limit: 1000 }),
      );
      const byCreation = [...visible].sort(
        (a, b) => a.createdAt.getTime() - b.createdAt.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
      );
      expect(last(byCreation, 'entity').id).toBe('M-004');
      for (const sort of ['createdAt', '-createdAt'] as const) {
        const seen: string[] = [];
        let after: { id: string; createdAt: Date } | undefined;
        for (let pages = 0; pages < 50; pages++) {
          const page = await store.read('many-child', (r) =>
            r.list('document', { objectType: 'Many', sort, limit: 7, after }),
          );
          seen.push(...ids(page));
          if (page.length < 7) break;
          const end = last(page, 'entity');
          after = { id: end.id, createdAt: end.createdAt };
        }
        const expected = ids(byCreation);
        expect(seen).toEqual(sort === 'createdAt' ? expected : [...expected].reverse());
      }
    });

    it('counts what the filters match through the lineage, like a list with no limit', async () => {
      const counted = await store.read('many-child', (r) =>
        Promise.all([
          r.count('document', { objectType: 'Many' }),
          r.count('document', { objectType: 'Many', contains: { changed: true } }),
          r.count('document', { objectType: 'Nothing' }),
        ]),
      );
      // 100 documents, a third of the inherited ones removed on the child: as the paging test lists them.
      expect(counted).toEqual([70, 30, 0]);
      const own = await store.read('lists', (r) =>
        Promise.all([r.count('document', { contains: { tags: ['d'] } }), r.count('document', {})]),
      );
      const listed = await store.read('lists', (r) => r.list('document', { limit: 1000 }));
      expect(own).toEqual([1, listed.length]);
    });

    it('filters by containment on the visible version only', async () => {
      const evens = await store.read('lists-child', (r) =>
        r.list('document', { objectType: 'Item', contains: { even: true }, limit: 100 }),
      );
      // L-a was even on `lists` and is odd on the child: the older version must not match.
      expect(ids(evens)).toEqual(['L-d', 'L-e', 'L-f']);
      const tagged = await store.read('lists', (r) =>
        r.list('document', { contains: { tags: ['d'] }, limit: 100 }),
      );
      expect(ids(tagged)).toEqual(['L-d']);
    });

    it('finds what contains any of several values, as visible on the branch and at a commit', async () => {
      const person = (name: string, code: string) => ({ objectType: 'Coded', body: { name, code } });
      await put('main', 'ct-1', person('a', 'X'));
      await put('main', 'ct-2', person('b', 'Y'));
      await put('main', 'ct-3', person('c', 'Z'));
      await store.createBranch('ct', 'main', 'alice');
      const fork = defined((await store.getBranch('ct'))?.head, 'head');
      await put('ct', 'ct-2', person('b', 'W')); // no longer Y here
      await store.write('ct', alice, (w) => w.remove('document', 'ct-3'));
      await put('ct', 'ct-4', person('d', 'Y'));
      const codes = [{ code: 'X' }, { code: 'Y' }, { code: 'Z' }];
      const found = (reader: BranchReader) => reader.containing('document', 'Coded', codes);
      expect((await store.read('ct', found)).map((r) => r.id)).toEqual(['ct-1', 'ct-4']);
      expect((await store.read('main', found)).map((r) => r.id)).toEqual(['ct-1', 'ct-2', 'ct-3']);
      expect((await store.readAt('ct', fork, found)).map((r) => r.id)).toEqual(['ct-1', 'ct-2', 'ct-3']);
      expect(await store.read('ct', (r) => r.containing('document', 'Other', codes))).toEqual([]);
    });

    it('reads many at once through the lineage', async () => {
      const found = await store.read('lists-child', (r) =>
        r.getMany('document', ['L-a', 'L-b', 'L-f', 'missing']),
      );
      expect([...found.keys()].sort()).toEqual(['L-a', 'L-f']);
      expect((found.get('L-a')?.body as { name: string }).name).toBe('a2');
    });
  });

  describe('version control', () => {
    /** A merge that takes the source's value wherever the source changed something (no conflicts here). */
    const takeTheirs = async (w: MergeWriter) => {
      if (w.relation === 'fast-forward') await w.fastForward();
      if (w.relation !== 'diverged') return w.relation;
      for (const { kind, id } of w.states.candidates) {
        const [base, theirs] = [await w.states.base.get(kind, id), await w.states.theirs.get(kind, id)];
        if (isDeepStrictEqual(base?.body, theirs?.body)) continue;
        // What the merged view shows already needs no row of its own.
        if (isDeepStrictEqual((await w.get(kind, id))?.body, theirs?.body)) continue;
        if (theirs) await w.put(kind, id, { objectType: theirs.objectType, body: theirs.body });
        else if (await w.get(kind, id)) await w.remove(kind, id);
      }
      return w.relation;
    };
    const merge = (target: string, source: string, fn = takeTheirs) =>
      store.merge(target, source, { author: 'alice', message: `Merge ${source}` }, fn);
    const headOf = async (branch: string) =>
      defined((await store.getBranch(branch))?.head, `branch ${branch}`);
    const ids = (changes: EntityChange[]) => changes.map((c) => `${c.kind}:${c.id}`);

    it('compares from the merge base (three dots) or directly (two dots), leaving out what changed back', async () => {
      await put('main', 'cmp-kept', doc('kept'));
      await put('main', 'cmp-back', doc('original'));
      await store.createBranch('cmp', 'main', 'alice');
      const fork = await headOf('cmp');
      await put('cmp', 'cmp-new', doc('new'));
      await put('cmp', 'cmp-back', doc('changed'));
      await put('cmp', 'cmp-back', doc('original'));
      await store.write('cmp', alice, (w) => w.remove('document', 'cmp-kept'));
      await put('main', 'cmp-main-only', doc('main'));

      const three = await store.compare('main', 'cmp', 'three-dot');
      expect(three.mergeBase.id).toBe(fork);
      expect(ids(three.changes)).toEqual(['document:cmp-kept', 'document:cmp-new']);
      expect(three.changes[0]?.after).toBeNull();
      expect(three.changes[1]?.before).toBeNull();
      const two = await store.compare('main', 'cmp', 'two-dot');
      expect(ids(two.changes)).toEqual(['document:cmp-kept', 'document:cmp-main-only', 'document:cmp-new']);
      // A commit id names a state too: the fork against itself changes nothing.
      expect((await store.compare(fork, fork, 'two-dot')).changes).toEqual([]);
    });

    it('merges: each side keeps what only it changed, the commit has both heads as parents, history has both', async () => {
      await put('main', 'mg-a', doc('a0'));
      await put('main', 'mg-b', doc('b0'));
      await store.createBranch('mg', 'main', 'alice');
      await put('mg', 'mg-a', doc('a-feature'));
      await put('mg', 'mg-c', doc('c-feature'));
      await put('main', 'mg-b', doc('b-main'));
      const [targetHead, sourceHead] = [await headOf('main'), await headOf('mg')];

      expect(
        await merge('main', 'mg', async (w) => {
          expect(w.states.candidates.map((c) => c.id).sort()).toEqual(['mg-a', 'mg-b', 'mg-c']);
          return takeTheirs(w);
        }),
      ).toBe('diverged');
      const head = first(await store.listCommits('main', 50), 'commit');
      expect(head.parents).toEqual([targetHead, sourceHead]);
      expect((await get('main', 'mg-a'))?.body.name).toBe('a-feature');
      expect((await get('main', 'mg-b'))?.body.name).toBe('b-main');
      expect((await get('main', 'mg-c'))?.body.name).toBe('c-feature');
      expect((await store.listCommits('main', 50)).map((c) => c.id)).toContain(sourceHead);
      // The branch itself is untouched.
      expect((await get('mg', 'mg-b'))?.body.name).toBe('b0');

      // Merging again later starts from the new base: only what was written since.
      await put('mg', 'mg-d', doc('d'));
      await put('main', 'mg-e', doc('e'));
      await merge('main', 'mg', async (w) => {
        expect(w.mergeBase).toBe(sourceHead);
        expect((await w.states.base.get('document', 'mg-a'))?.body).toEqual({ name: 'a-feature' });
        expect(w.states.candidates.map((c) => c.id)).toEqual(expect.arrayContaining(['mg-d', 'mg-e']));
        return takeTheirs(w);
      });
      expect((await get('main', 'mg-d'))?.body.name).toBe('d');
      // Merging main into the branch works the same way (here: the branch has not moved since).
      expect(await merge('mg', 'main')).toBe('fast-forward');
      expect((await get('mg', 'mg-e'))?.body.name).toBe('e');
      expect((await get('mg', 'mg-b'))?.body.name).toBe('b-main');
    });

    it('fast-forwards a target that has not moved, and knows when it is up to date', async () => {
      await store.createBranch('ff-base', 'main', 'alice');
      await store.createBranch('ff', 'ff-base', 'alice');
      await put('ff', 'ff-1', doc('one'));
      await store.write('ff', alice, (w) => w.remove('document', 'ff-1'));
      await put('ff', 'ff-2', doc('two'));
      const sourceHead = await headOf('ff');

      expect(
        await merge('ff-base', 'ff', async (w) => {
          await w.fastForward();
          return w.relation;
        }),
      ).toBe('fast-forward');
      expect(await headOf('ff-base')).toBe(sourceHead);
      expect(await get('ff-base', 'ff-1')).toBeNull();
      expect((await get('ff-base', 'ff-2'))?.body.name).toBe('two');
      expect(await merge('ff-base', 'ff')).toBe('up-to-date');
      // Each goes on on its own.
      await put('ff-base', 'ff-2', doc('two-on-base'));
      expect((await get('ff', 'ff-2'))?.body.name).toBe('two');
      const listed = await store.read('ff-base', (r) => r.list('document', { limit: 1000 }));
      expect(listed.filter((d) => d.id.startsWith('ff-')).map((d) => d.body)).toEqual([
        { name: 'two-on-base' },
      ]);
    });

    it('reads a branch as of a commit or tag in its history, and refuses one that is not', async () => {
      await store.createBranch('at', 'main', 'alice');
      await put('at', 'at-1', doc('v1'));
      const v1 = await headOf('at');
      await put('at', 'at-1', doc('v2'));
      await store.createTag('at-v1', v1, 'alice', 'first');

      const read = (ref: string) =>
        store.readAt('at', ref, (r) => r.get<{ name: string }>('document', 'at-1'));
      expect((await read(v1))?.body.name).toBe('v1');
      expect((await read('at-v1'))?.body.name).toBe('v1');
      expect((await get('at', 'at-1'))?.body.name).toBe('v2');
      await expect(store.readAt('main', v1, () => Promise.resolve(1))).rejects.toBeInstanceOf(NotFound);
      await expect(store.readAt('at', 'no-such-tag', () => Promise.resolve(1))).rejects.toBeInstanceOf(
        NotFound,
      );
      await expect(store.createTag('at-v1', v1, 'alice', '')).rejects.toBeInstanceOf(AlreadyExists);
      expect((await store.listTags()).map((t) => t.name)).toContain('at-v1');
    });

    it("lists an entity's versions newest first, through merges, and one commit's changes", async () => {
      await put('main', 'hist', doc('h1'));
      await store.createBranch('hist-b', 'main', 'alice');
      await put('hist-b', 'hist', doc('h2'));
      const changed = await headOf('hist-b');
      await put('main', 'hist-other', doc('x'));
      await merge('main', 'hist-b');
      await store.write('main', alice, (w) => w.remove('document', 'hist'));

      const history = await store.history('main', 'document', 'hist', 10);
      // Newest first: the deletion, the merge (which wrote the merged value on main), the branch's edit, the
      // creation on main.
      expect(history.map((h) => (h.record?.body as { name: string } | undefined)?.name ?? null)).toEqual([
        null,
        'h2',
        'h2',
        'h1',
      ]);
      expect(history[2]?.commit.id).toBe(changed);
      expect(history[1]?.commit.parents).toEqual([expect.any(String), changed]);
      expect((await store.history('main', 'document', 'hist', 1, history[0]?.commit.seq)).length).toBe(1);
      expect(ids(await store.commitChanges(changed))).toEqual(['document:hist']);
    });

    it("writes the merged values on the target of a diverged merge, after the source's in its history", async () => {
      await put('main', 'cv-1', doc('base'));
      await store.createBranch('cv', 'main', 'alice');
      await put('cv', 'cv-1', doc('feature'));
      await put('main', 'cv-2', doc('main'));
      await merge('main', 'cv');
      // The merge wrote cv-1 on main itself: later writes on the branch cannot show through.
      await put('cv', 'cv-1', doc('feature again'));
      expect((await get('main', 'cv-1'))?.body.name).toBe('feature');
      const history = await store.history('main', 'document', 'cv-1', 10);
      expect(history.map((h) => (h.record?.body as { name: string }).name)).toEqual([
        'feature',
        'feature',
        'base',
      ]);
    });

    it('writes many entities in one statement, tombstones included, keeping creation facts', async () => {
      await put('main', 'wm-1', doc('one'));
      const created = defined((await get('main', 'wm-1'))?.createdAt, 'createdAt');
      await store.createBranch('wm', 'main', 'alice');
      await put('wm', 'wm-x', doc('x'));
      await store.merge('main', 'wm', { author: 'bob', message: 'many' }, async (w) => {
        await w.writeMany('document', [
          { id: 'wm-1', value: doc('one again') },
          { id: 'wm-2', value: doc('two') },
          { id: 'wm-3', value: null },
        ]);
      });
      expect(await get('main', 'wm-1')).toMatchObject({
        body: { name: 'one again' },
        createdAt: created,
        updatedBy: 'bob',
      });
      expect((await get('main', 'wm-2'))?.body.name).toBe('two');
      expect(await get('main', 'wm-3')).toBeNull();
      expect((await store.history('main', 'document', 'wm-3', 10)).map((h) => h.record)).toEqual([null]);
    });

    it('reverts through three states: the commit, its parent, and the head', async () => {
      await store.createBranch('rv', 'main', 'alice');
      await put('rv', 'rv-1', doc('before'));
      await put('rv', 'rv-1', doc('reverted'));
      const reverted = await headOf('rv');
      await put('rv', 'rv-2', doc('later'));
      await store.revert('rv', reverted, { author: 'alice', message: 'Revert' }, takeTheirs);
      expect((await get('rv', 'rv-1'))?.body.name).toBe('before');
      expect((await get('rv', 'rv-2'))?.body.name).toBe('later');
      await expect(
        store.revert('main', reverted, alice, () => Promise.resolve(undefined)),
      ).rejects.toBeInstanceOf(NotFound);
    });
  });

  describe('users and settings', () => {
    it('creates, finds, resets and deletes users', async () => {
      await opened.users.create({ username: 'u1', passwordHash: 'h1', roles: ['viewer'] });
      await expect(
        opened.users.create({ username: 'u1', passwordHash: 'h', roles: [] }),
      ).rejects.toBeInstanceOf(AlreadyExists);
      expect(
        await opened.users.createIfMissing({ username: 'u1', passwordHash: 'h2', roles: ['admin'] }),
      ).toBe(false);
      expect((await opened.users.find('u1'))?.passwordHash).toBe('h1');
      expect(await opened.users.upsert({ username: 'u1', passwordHash: 'h3', roles: ['admin'] })).toEqual({
        created: false,
      });
      expect(await opened.users.find('u1')).toMatchObject({ passwordHash: 'h3', roles: ['admin'] });
      expect(await opened.users.upsert({ username: 'u2', passwordHash: 'h', roles: ['editor'] })).toEqual({
        created: true,
      });
      expect((await opened.users.list()).map((u) => u.username)).toEqual(['u1', 'u2']);
      // u1 is the last admin: it cannot go until another admin exists.
      await expect(opened.users.delete('u1')).rejects.toBeInstanceOf(StateConflict);
      await opened.users.upsert({ username: 'u2', passwordHash: 'h', roles: ['admin'] });
      expect(await opened.users.delete('u1')).toBe(true);
      expect(await opened.users.delete('u1')).toBe(false);
    });

    it('keeps the first value of a setting', async () => {
      const first = await opened.settings.getOrCreate('k', () => 'one');
      const second = await opened.settings.getOrCreate('k', () => 'two');
      expect([first, second]).toEqual(['one', 'one']);
    });
  });
});
