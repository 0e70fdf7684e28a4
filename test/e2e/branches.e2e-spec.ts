import { TestApp, startTestApp } from '../support/app';
import { given } from '../support/given';
import { first, last } from '../support/one';
import { storeTargets } from '../support/store-targets';

const PROBLEM = /^application\/problem\+json/;

interface BranchBody {
  name: string;
  head: string;
  createdFrom: string | null;
  createdAt: string;
}

interface CommitBody {
  id: string;
  parents: string[];
  author: string;
  message: string;
  createdAt: string;
}

/** The URL of a Link header's rel="next", or undefined when there is none. */
function nextLink(header: string | undefined): string | undefined {
  return header ? /<([^>]+)>;\s*rel="next"/.exec(header)?.[1] : undefined;
}

describe.each(storeTargets())('branches on $name', (target) => {
  let t: TestApp;
  let make: ReturnType<typeof given>;
  beforeAll(async () => {
    t = await startTestApp(target);
    make = given(t);
  });
  afterAll(() => t?.close());

  const getBranch = async (name: string): Promise<BranchBody> =>
    (await t.http.get(`/api/v1/branches/${name}`).set(t.as('viewer')).expect(200)).body;
  const commitsOf = async (branch: string): Promise<CommitBody[]> =>
    (await t.http.get(`/api/v1/branches/${branch}/commits?limit=1000`).set(t.as('viewer')).expect(200)).body;
  const typeNames = async (branch: string): Promise<string[]> =>
    (
      await t.http.get(`/api/v1/schemas/${branch}/object-types`).set(t.as('viewer')).expect(200)
    ).body.items.map((i: { name: string }) => i.name);
  /** A write on the branch: one commit, by `role`, with `message` when given. */
  const commitOn = async (
    branch: string,
    typeName: string,
    role: 'editor' | 'admin' = 'editor',
    message?: string,
  ) => {
    await t.http
      .post(`/api/v1/schemas/${branch}/object-types`)
      .set({ ...t.as(role), ...(message === undefined ? {} : { 'X-Commit-Message': message }) })
      .send({ name: typeName, properties: [] })
      .expect(201);
  };

  describe('GET /api/v1/branches', () => {
    it('lists main with its name, head, createdFrom and createdAt', async () => {
      const res = await t.http.get('/api/v1/branches').set(t.as('viewer')).expect(200);
      const main = (res.body as BranchBody[]).find((b) => b.name === 'main');
      expect(main).toEqual(
        expect.objectContaining({
          name: 'main',
          head: expect.stringMatching(/\S/),
          createdFrom: null,
          createdAt: expect.any(String),
        }),
      );
      expect(Number.isNaN(Date.parse(main!.createdAt))).toBe(false);
    });

    it('lists a created branch', async () => {
      await make.branch('listed');
      const res = await t.http.get('/api/v1/branches').set(t.as('viewer')).expect(200);
      expect(res.body.map((b: BranchBody) => b.name)).toEqual(expect.arrayContaining(['main', 'listed']));
    });
  });

  describe('POST /api/v1/branches', () => {
    it('creates a branch from main by default, at main head, with a Location', async () => {
      const main = await getBranch('main');
      const res = await t.http
        .post('/api/v1/branches')
        .set(t.as('editor'))
        .send({ name: 'from-default' })
        .expect(201);
      expect(res.headers.location).toBe('/api/v1/branches/from-default');
      expect(res.body).toEqual(
        expect.objectContaining({ name: 'from-default', createdFrom: 'main', head: main.head }),
      );
      expect(await getBranch('from-default')).toEqual(expect.objectContaining({ head: main.head }));
    });

    it('creates a branch from another branch, at that branch head', async () => {
      await make.branch('source-a');
      await commitOn('source-a', 'OnSourceA');
      const source = await getBranch('source-a');
      expect(source.head).not.toBe((await getBranch('main')).head);
      const res = await t.http
        .post('/api/v1/branches')
        .set(t.as('editor'))
        .send({ name: 'from-source-a', from: 'source-a' })
        .expect(201);
      expect(res.headers.location).toBe('/api/v1/branches/from-source-a');
      expect(res.body).toEqual(
        expect.objectContaining({ name: 'from-source-a', createdFrom: 'source-a', head: source.head }),
      );
    });

    it('accepts a name of 64 characters', async () => {
      const name = `b${'x'.repeat(63)}`;
      await t.http.post('/api/v1/branches').set(t.as('editor')).send({ name }).expect(201);
    });

    it('returns a 409 problem when the name exists', async () => {
      await make.branch('taken');
      const res = await t.http
        .post('/api/v1/branches')
        .set(t.as('editor'))
        .send({ name: 'taken' })
        .expect(409);
      expect(res.headers['content-type']).toMatch(PROBLEM);
      expect(res.body).toEqual(expect.objectContaining({ status: 409, title: expect.any(String) }));
    });

    it('returns 409 for main', async () => {
      await t.http.post('/api/v1/branches').set(t.as('editor')).send({ name: 'main' }).expect(409);
    });

    it('returns a 404 problem when `from` does not exist', async () => {
      const res = await t.http
        .post('/api/v1/branches')
        .set(t.as('editor'))
        .send({ name: 'orphan', from: 'no-such-branch' })
        .expect(404);
      expect(res.headers['content-type']).toMatch(PROBLEM);
      await t.http.get('/api/v1/branches/orphan').set(t.as('viewer')).expect(404);
    });

    it.each([
      ['a leading dot', '.hidden'],
      ['65 characters', `b${'x'.repeat(64)}`],
      ['a space', 'has space'],
      ['an empty name', ''],
      ['a slash', 'a/b'],
    ])('returns 400 with errors at /name for %s', async (_, name) => {
      const res = await t.http.post('/api/v1/branches').set(t.as('editor')).send({ name }).expect(400);
      expect(res.headers['content-type']).toMatch(PROBLEM);
      expect(res.body.errors).toEqual(
        expect.arrayContaining([expect.objectContaining({ path: '/body/name' })]),
      );
    });

    it('returns 400 when the name is missing', async () => {
      const res = await t.http.post('/api/v1/branches').set(t.as('editor')).send({}).expect(400);
      expect(res.body.errors).toEqual(
        expect.arrayContaining([expect.objectContaining({ path: '/body/name' })]),
      );
    });

    it('returns 400 for an unknown body field', async () => {
      const res = await t.http
        .post('/api/v1/branches')
        .set(t.as('editor'))
        .send({ name: 'with-extra', colour: 'blue' })
        .expect(400);
      expect(res.body.errors).toEqual(
        expect.arrayContaining([expect.objectContaining({ path: '/body/colour' })]),
      );
      await t.http.get('/api/v1/branches/with-extra').set(t.as('viewer')).expect(404);
    });
  });

  describe('GET and DELETE /api/v1/branches/:branch', () => {
    it('gets a branch', async () => {
      await make.branch('fetched');
      expect(await getBranch('fetched')).toEqual(
        expect.objectContaining({ name: 'fetched', createdFrom: 'main', createdAt: expect.any(String) }),
      );
    });

    it('returns a 404 problem for a missing branch', async () => {
      const res = await t.http.get('/api/v1/branches/never-made').set(t.as('viewer')).expect(404);
      expect(res.headers['content-type']).toMatch(PROBLEM);
    });

    it('deletes a branch: 204, then 404', async () => {
      await make.branch('doomed');
      await t.http.delete('/api/v1/branches/doomed').set(t.as('editor')).expect(204);
      await t.http.get('/api/v1/branches/doomed').set(t.as('viewer')).expect(404);
      const list = await t.http.get('/api/v1/branches').set(t.as('viewer')).expect(200);
      expect(list.body.map((b: BranchBody) => b.name)).not.toContain('doomed');
      await t.http.get('/api/v1/schemas/doomed/object-types').set(t.as('viewer')).expect(404);
    });

    it('refuses to delete main with 409', async () => {
      const res = await t.http.delete('/api/v1/branches/main').set(t.as('editor')).expect(409);
      expect(res.headers['content-type']).toMatch(PROBLEM);
      await getBranch('main');
    });

    it('returns 404 when deleting a missing branch', async () => {
      await t.http.delete('/api/v1/branches/never-made').set(t.as('editor')).expect(404);
    });

    it('re-creates a deleted name fresh from its new source', async () => {
      await make.branch('reborn');
      await commitOn('reborn', 'FromFirstLife');
      await t.http.delete('/api/v1/branches/reborn').set(t.as('editor')).expect(204);

      await make.branch('second-source');
      await commitOn('second-source', 'FromSecondSource');
      const source = await getBranch('second-source');
      const res = await t.http
        .post('/api/v1/branches')
        .set(t.as('editor'))
        .send({ name: 'reborn', from: 'second-source' })
        .expect(201);

      expect(res.body).toEqual(expect.objectContaining({ createdFrom: 'second-source', head: source.head }));
      const names = await typeNames('reborn');
      expect(names).toContain('FromSecondSource');
      expect(names).not.toContain('FromFirstLife');
      expect(first(await commitsOf('reborn'), 'commit').id).toBe(source.head);
    });
  });

  describe('lineage', () => {
    it('lets a branch of a branch see the grandparent data at the fork, and nothing after', async () => {
      await commitOn('main', 'GrandparentType');
      await make.branch('parent-1');
      await commitOn('parent-1', 'ParentType');
      await make.branch('child-1', 'parent-1');
      await commitOn('main', 'MainAfterFork');
      await commitOn('parent-1', 'ParentAfterFork');

      const names = await typeNames('child-1');
      expect(names).toEqual(expect.arrayContaining(['GrandparentType', 'ParentType']));
      expect(names).not.toContain('MainAfterFork');
      expect(names).not.toContain('ParentAfterFork');
    });

    it('copies nothing when creating a branch: its history starts with the source head commit', async () => {
      await commitOn('main', 'BeforeCheapFork');
      const main = await getBranch('main');
      await make.branch('cheap');
      const [mainCommits, branchCommits] = [await commitsOf('main'), await commitsOf('cheap')];
      expect(first(branchCommits, 'commit').id).toBe(main.head);
      expect(branchCommits.map((c) => c.id)).toEqual(mainCommits.map((c) => c.id));
      expect((await getBranch('cheap')).head).toBe(main.head);
    });

    it('writes on a branch leave its source untouched', async () => {
      await make.branch('isolated');
      const mainHead = (await getBranch('main')).head;
      await commitOn('isolated', 'OnlyOnIsolated');
      expect((await getBranch('main')).head).toBe(mainHead);
      expect(await typeNames('main')).not.toContain('OnlyOnIsolated');
    });
  });

  describe('GET /api/v1/branches/:branch/commits', () => {
    it('lists commits newest first with id, parents, author, message and createdAt', async () => {
      await make.branch('history');
      await commitOn('history', 'First', 'editor', 'first change');
      await commitOn('history', 'Second', 'admin', 'second change');
      const commits = await commitsOf('history');

      for (const c of commits) {
        expect(Object.keys(c).sort()).toEqual(['author', 'createdAt', 'id', 'message', 'parents']);
      }
      expect(commits[0]).toEqual(expect.objectContaining({ author: 'admin', message: 'second change' }));
      expect(commits[1]).toEqual(expect.objectContaining({ author: 'editor', message: 'first change' }));
      expect(first(commits, 'commit').id).toBe((await getBranch('history')).head);
      const times = commits.map((c) => Date.parse(c.createdAt));
      expect([...times].sort((a, b) => b - a)).toEqual(times);
    });

    it('chains parents from each commit to the one before it, down to the root', async () => {
      await make.branch('chained');
      for (const name of ['C1', 'C2', 'C3']) await commitOn('chained', name);
      const commits = await commitsOf('chained');
      expect(commits.length).toBeGreaterThanOrEqual(4);
      expect(commits.slice(0, -1).map((c) => c.parents)).toEqual(commits.slice(1).map((c) => [c.id]));
      expect(last(commits, 'commit').parents).toEqual([]);
    });

    it('gives a write without X-Commit-Message a non-empty default message', async () => {
      await make.branch('no-message');
      await commitOn('no-message', 'Unexplained');
      const latest = first(await commitsOf('no-message'), 'commit');
      expect(latest.author).toBe('editor');
      expect(latest.message.trim()).not.toBe('');
    });

    it('pages with limit and a Link rel="next" whose URL fetches the next page', async () => {
      await make.branch('paged');
      for (const name of ['P1', 'P2', 'P3', 'P4', 'P5']) await commitOn('paged', name);
      const all = (await commitsOf('paged')).map((c) => c.id);

      const seen: string[] = [];
      let url: string | undefined = '/api/v1/branches/paged/commits?limit=2';
      let pages = 0;
      while (url) {
        const res = await t.http.get(url).set(t.as('viewer')).expect(200);
        expect(res.body.length).toBeLessThanOrEqual(2);
        seen.push(...res.body.map((c: CommitBody) => c.id));
        url = nextLink(res.headers.link);
        pages += 1;
        expect(pages).toBeLessThanOrEqual(all.length);
      }
      expect(seen).toEqual(all);
      expect(pages).toBe(Math.ceil(all.length / 2));
    });

    it('sends no Link header on the last page', async () => {
      const res = await t.http
        .get('/api/v1/branches/paged/commits?limit=1000')
        .set(t.as('viewer'))
        .expect(200);
      expect(res.headers.link).toBeUndefined();
    });

    it.each(['0', '1001', 'x', '-1', '1.5'])('returns 400 for limit=%s', async (limit) => {
      const res = await t.http
        .get(`/api/v1/branches/main/commits?limit=${limit}`)
        .set(t.as('viewer'))
        .expect(400);
      expect(res.headers['content-type']).toMatch(PROBLEM);
    });

    it.each(['not-a-cursor', 'eyJmb28iOjF9', '%%%'])(
      'returns 400 for the malformed cursor %s',
      async (cursor) => {
        const res = await t.http
          .get(`/api/v1/branches/main/commits?cursor=${encodeURIComponent(cursor)}`)
          .set(t.as('viewer'))
          .expect(400);
        expect(res.headers['content-type']).toMatch(PROBLEM);
      },
    );

    it('returns 404 for the commits of a missing branch', async () => {
      await t.http.get('/api/v1/branches/never-made/commits').set(t.as('viewer')).expect(404);
    });

    it("includes the source's commits up to the fork but not the source's later commits", async () => {
      await make.branch('src-h');
      await commitOn('src-h', 'BeforeFork', 'editor', 'before the fork');
      await make.branch('fork-h', 'src-h');
      await commitOn('src-h', 'AfterFork', 'editor', 'after the fork');
      await commitOn('fork-h', 'OnFork', 'editor', 'on the fork');

      const source = await commitsOf('src-h');
      const fork = await commitsOf('fork-h');
      const afterFork = source.find((c) => c.message === 'after the fork')!;
      const beforeFork = source.find((c) => c.message === 'before the fork')!;

      expect(fork.map((c) => c.message)).not.toContain('after the fork');
      expect(fork.map((c) => c.id)).not.toContain(afterFork.id);
      const newest = first(fork, 'commit');
      expect(newest.message).toBe('on the fork');
      expect(newest.parents).toEqual([beforeFork.id]);
      expect(fork.slice(1).map((c) => c.id)).toEqual(source.slice(1).map((c) => c.id));
    });
  });

  describe('roles', () => {
    it('lets a viewer list and get branches and commits', async () => {
      await t.http.get('/api/v1/branches').set(t.as('viewer')).expect(200);
      await t.http.get('/api/v1/branches/main').set(t.as('viewer')).expect(200);
      await t.http.get('/api/v1/branches/main/commits').set(t.as('viewer')).expect(200);
    });

    it('refuses POST and DELETE to a viewer with 403', async () => {
      await make.branch('viewer-target');
      const post = await t.http
        .post('/api/v1/branches')
        .set(t.as('viewer'))
        .send({ name: 'by-viewer' })
        .expect(403);
      expect(post.headers['content-type']).toMatch(PROBLEM);
      await t.http.delete('/api/v1/branches/viewer-target').set(t.as('viewer')).expect(403);
      await t.http.get('/api/v1/branches/by-viewer').set(t.as('viewer')).expect(404);
      await getBranch('viewer-target');
    });

    it('returns 401 without a token', async () => {
      const res = await t.http.get('/api/v1/branches').expect(401);
      expect(res.headers['content-type']).toMatch(PROBLEM);
      await t.http.post('/api/v1/branches').send({ name: 'anonymous' }).expect(401);
      await t.http.delete('/api/v1/branches/main').expect(401);
    });

    it('returns 401 with an invalid token', async () => {
      await t.http.get('/api/v1/branches').set('Authorization', 'Bearer not.a.jwt').expect(401);
      const forged = `${t.tokens.editor.slice(0, -4)}AAAA`;
      await t.http
        .post('/api/v1/branches')
        .set('Authorization', `Bearer ${forged}`)
        .send({ name: 'forged' })
        .expect(401);
      await t.http.get('/api/v1/branches/forged').set(t.as('viewer')).expect(404);
    });
  });
});
