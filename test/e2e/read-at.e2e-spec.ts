import { VERSIONED_STORE, VersionedStore } from '@oms/store';
import { TestApp, startTestApp } from '../support/app';
import { given } from '../support/given';
import { scrape, seriesValue } from '../support/metrics';
import { storeTargets } from '../support/store-targets';

const DOCS = '/api/v1/documents/crud';
const TYPES = '/api/v1/schemas/main/object-types';
const PROBLEM = /^application\/problem\+json/;
const HEAD_CACHE_CONTROL = 'private, no-cache, must-revalidate';
const IMMUTABLE = 'private, max-age=31536000, immutable';

type Doc = { id: string; version: number; properties: Record<string, unknown> };
type TypeBody = { name: string; version: number; properties: { name: string }[] };

/** `?at=` on the reads of object types and documents: the state as of a commit (or tag) of the branch. */
describe.each(storeTargets())('reads at a commit on $name', (target) => {
  let t: TestApp;
  /** main's head before the changes below, and a tag on it. */
  let before: string;
  const TAG = 'release-1';
  /** A commit made on another branch after it forked: in no history of main. */
  let foreign: string;
  let oldP1: Doc;
  let oldType: TypeBody;
  const viewer = () => t.as('viewer');
  const get = (url: string) => t.http.get(url).set(viewer());
  const headOf = async (branch: string) =>
    (await get(`/api/v1/branches/${branch}`).expect(200)).body.head as string;

  beforeAll(async () => {
    t = await startTestApp(target);
    const make = given(t);
    oldType = await make.type('Part', [{ name: 'label', dataType: 'string' }]);
    oldP1 = await make.document('Part', { label: 'old' }, 'p1');
    await make.document('Part', { label: 'two' }, 'p2');
    await make.document('Part', { label: 'bye' }, 'gone');
    before = await headOf('main');
    await t.app.get<VersionedStore>(VERSIONED_STORE).createTag(TAG, before, 'editor', 'first release');

    await t.http
      .put(`${TYPES}/Part`)
      .set(t.as('editor'))
      .send({
        name: 'Part',
        properties: [
          { name: 'label', dataType: 'string' },
          { name: 'note', dataType: 'string' },
        ],
      })
      .expect(200);
    await t.http
      .put(`${DOCS}/p1`)
      .set(t.as('editor'))
      .send({ properties: { label: 'new' } })
      .expect(200);
    await t.http.delete(`${DOCS}/gone`).set(t.as('editor')).expect(204);
    await make.document('Part', { label: 'three' }, 'p3');

    await make.branch('other');
    await make.document('Part', { label: 'elsewhere' }, 'o1', 'other');
    foreign = await headOf('other');
  });
  afterAll(() => t?.close());

  describe.each([
    ['a commit id', () => before],
    ['a tag', () => TAG],
  ])('at %s', (_, ref) => {
    it('answers an object type as it was, and the head as it is', async () => {
      const at = await get(`${TYPES}/Part?at=${ref()}`).expect(200);
      expect(at.body).toEqual(oldType);
      expect(at.headers.etag).toBe(`"${oldType.version}"`);
      const head = await get(`${TYPES}/Part`).expect(200);
      expect((head.body as TypeBody).properties.map((p) => p.name)).toEqual(['label', 'note']);
      expect(head.body.version).toBeGreaterThan(oldType.version);
    });

    it('answers the type list as it was, tagged by the commit', async () => {
      const at = await get(`${TYPES}?at=${ref()}`).expect(200);
      expect(at.body).toEqual({ branch: 'main', items: [oldType] });
      expect(at.headers.etag).toBe(`"${before}"`);
      const head = await get(TYPES).expect(200);
      expect((head.body.items as TypeBody[])[0]!.properties).toHaveLength(2);
      expect(head.headers.etag).not.toBe(at.headers.etag);
    });

    it('answers a document as it was, and the head as it is', async () => {
      const at = await get(`${DOCS}/p1?branch=main&at=${ref()}`).expect(200);
      expect(at.body).toEqual(oldP1);
      expect(at.headers.etag).toBe(`"${oldP1.version}"`);
      const head = await get(`${DOCS}/p1`).expect(200);
      expect(head.body.properties).toEqual({ label: 'new' });
    });

    it('answers a document deleted since', async () => {
      const at = await get(`${DOCS}/gone?at=${ref()}`).expect(200);
      expect(at.body).toMatchObject({ id: 'gone', properties: { label: 'bye' } });
      await get(`${DOCS}/gone`).expect(404);
    });

    it('answers the document list as it was', async () => {
      const at = await get(`${DOCS}?objectType=Part&at=${ref()}`).expect(200);
      expect((at.body.items as Doc[]).map((d) => [d.id, d.properties.label])).toEqual([
        ['gone', 'bye'],
        ['p1', 'old'],
        ['p2', 'two'],
      ]);
      const head = await get(`${DOCS}?objectType=Part`).expect(200);
      expect((head.body.items as Doc[]).map((d) => [d.id, d.properties.label])).toEqual([
        ['p1', 'new'],
        ['p2', 'two'],
        ['p3', 'three'],
      ]);
    });
  });

  it('combines at with the list filters', async () => {
    const at = await get(`${DOCS}?objectType=Part&property.label=old&at=${before}`).expect(200);
    expect((at.body.items as Doc[]).map((d) => d.id)).toEqual(['p1']);
    const head = await get(`${DOCS}?objectType=Part&property.label=old`).expect(200);
    expect(head.body.items).toEqual([]);
  });

  it('pages a list at a commit by cursor, every page as of that commit', async () => {
    const ids: string[] = [];
    let cursor: string | null = '';
    while (cursor !== null) {
      const page = await get(
        `${DOCS}?sort=-id&limit=1&at=${before}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      ).expect(200);
      expect(page.headers['cache-control']).toBe(IMMUTABLE);
      ids.push(...(page.body.items as Doc[]).map((d) => d.id));
      cursor = page.body.nextCursor as string | null;
    }
    expect(ids).toEqual(['p2', 'p1', 'gone']);
  });

  it('reads a branch at a commit it inherited from the branch it was created from', async () => {
    const res = await get(`${DOCS}/p1?branch=other&at=${before}`).expect(200);
    expect(res.body.properties).toEqual({ label: 'old' });
  });

  describe('a commit or tag not in the branch history', () => {
    it.each([
      ['a document', () => `${DOCS}/p1?at=${foreign}`],
      ['the document list', () => `${DOCS}?at=${foreign}`],
      ['an object type', () => `${TYPES}/Part?at=${foreign}`],
      ['the type list', () => `${TYPES}?at=${foreign}`],
      ['the type list, an unknown tag', () => `${TYPES}?at=no-such-tag`],
      ['a document, an unknown commit', () => `${DOCS}/p1?at=${'0'.repeat(40)}`],
    ])('answers 404 for %s', async (_, url) => {
      const res = await get(url()).expect(404);
      expect(res.headers['content-type']).toMatch(PROBLEM);
      expect(res.body).toMatchObject({ status: 404, type: 'urn:oms:problem:not-found' });
    });

    it('is 404 also when revalidating', async () => {
      await get(`${DOCS}/p1?at=${foreign}`).set('If-None-Match', '*').expect(404);
      await get(`${TYPES}?at=${foreign}`).set('If-None-Match', `"${foreign}"`).expect(404);
    });

    it('answers 404 for a document that did not exist yet', async () => {
      await get(`${DOCS}/p3?at=${before}`).expect(404);
      await get(`${DOCS}/p3`).expect(200);
    });
  });

  describe('a malformed at', () => {
    const routes = [`${DOCS}/p1`, DOCS, `${TYPES}/Part`, TYPES];
    it.each([
      ['empty', 'at='],
      ['starting with a dash', 'at=-v1'],
      ['with a space', 'at=v%201'],
      ['with a slash', 'at=v1%2F2'],
      ['longer than 200', `at=${'a'.repeat(201)}`],
      ['repeated', `at=${TAG}&at=${TAG}`],
    ])('is a 400 at /query/at when %s', async (_, query) => {
      for (const route of routes) {
        for (const conditional of [false, true]) {
          const request = get(`${route}?${query}`);
          const res = await (conditional ? request.set('If-None-Match', '"1"') : request);
          expect([route, res.status]).toEqual([route, 400]);
          expect(res.headers['content-type']).toMatch(PROBLEM);
          expect(res.body.errors).toEqual([{ path: '/query/at', message: expect.any(String) }]);
        }
      }
    });

    it('is refused on a write', async () => {
      const res = await t.http
        .put(`${DOCS}/p2?at=${before}`)
        .set(t.as('editor'))
        .send({ properties: { label: 'x' } })
        .expect(400);
      expect(res.body.errors).toEqual([{ path: '/query/at', message: 'is not a parameter of this route' }]);
    });
  });

  describe('caching', () => {
    const atReads = () => [
      `${DOCS}/p1?at=${before}`,
      `${DOCS}?at=${before}`,
      `${TYPES}/Part?at=${before}`,
      `${TYPES}?at=${before}`,
    ];

    it('marks reads at a commit immutable, and head reads not', async () => {
      for (const url of atReads()) {
        const res = await get(url).expect(200);
        expect([url, res.headers['cache-control']]).toEqual([url, IMMUTABLE]);
        expect(res.headers.vary).toMatch(/Authorization/);
      }
      for (const url of [`${DOCS}/p1`, DOCS, `${TYPES}/Part`, TYPES]) {
        const res = await get(url).expect(200);
        expect([url, res.headers['cache-control']]).toEqual([url, HEAD_CACHE_CONTROL]);
      }
    });

    it.each([
      ['a document', () => `${DOCS}/p1?at=${before}`, () => `"${oldP1.version}"`],
      ['an object type', () => `${TYPES}/Part?at=${TAG}`, () => `"${oldType.version}"`],
      ['the type list', () => `${TYPES}?at=${before}`, () => `"${before}"`],
    ])('answers %s with 304 for its ETag at the commit', async (_, url, etag) => {
      const first = await get(url()).expect(200);
      expect(first.headers.etag).toBe(etag());
      const res = await get(url()).set('If-None-Match', etag()).expect(304);
      expect(res.headers.etag).toBe(etag());
      expect(res.headers['cache-control']).toBe(IMMUTABLE);
      expect(res.text ?? '').toBe('');
    });

    it("answers 200 with the old state for the head's ETag", async () => {
      const head = await get(`${DOCS}/p1`).expect(200);
      const res = await get(`${DOCS}/p1?at=${before}`).set('If-None-Match', head.headers.etag!).expect(200);
      expect(res.body).toEqual(oldP1);
      const headList = await get(TYPES).expect(200);
      await get(`${TYPES}?at=${before}`).set('If-None-Match', headList.headers.etag!).expect(200);
    });

    it('neither reads nor fills the read-through cache', async () => {
      const lookups = async () => {
        const text = await scrape(t.metrics);
        return ['memory', 'redis']
          .flatMap((tier) => ['hit', 'miss'].map((result) => ({ tier, result })))
          .reduce((sum, labels) => sum + (seriesValue(text, 'cache_requests_total', labels) ?? 0), 0);
      };
      const start = await lookups();
      for (const url of atReads()) {
        await get(url).expect(200);
        await get(url).set('If-None-Match', '"0"').expect(200);
      }
      expect(await lookups()).toBe(start);
      // The old state never lands under the head's keys.
      expect((await get(`${DOCS}/p1`).expect(200)).body.properties).toEqual({ label: 'new' });
      expect((await get(`${TYPES}/Part`).expect(200)).body.properties).toHaveLength(2);
      expect((await get(TYPES).expect(200)).body.items[0].properties).toHaveLength(2);
    });
  });
});
