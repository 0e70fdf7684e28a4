import { gzipSync } from 'node:zlib';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TestApp, startTestApp } from '../support/app';
import { scrape, seriesValue } from '../support/metrics';
import { given } from '../support/given';
import { storeTargets } from '../support/store-targets';

const DOCS = 10_000;

type Line = Record<string, unknown>;
const ndjson = (lines: Line[]) => lines.map((l) => JSON.stringify(l)).join('\n') + '\n';

describe.each(storeTargets())('bulk import and export on $name', (target) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(target, { LOG_LEVEL: 'error', BULK_BODY_LIMIT: '4mb' });
    await given(t).type('City', [{ name: 'name', dataType: 'string', required: true }]);
    await given(t).type('Person', [
      { name: 'name', dataType: 'string', required: true },
      { name: 'email', dataType: 'string', unique: true },
      { name: 'age', dataType: 'integer' },
      { name: 'city', dataType: 'reference', referenceType: 'City' },
      { name: 'tags', dataType: 'string', array: true },
    ]);
  });
  afterAll(() => t?.close());

  const importInto = (branch: string, body: string, type = 'application/x-ndjson', headers = {}) =>
    t.http
      .post(`/api/v1/documents/bulk?branch=${branch}`)
      .set(t.as('editor'))
      .set(headers)
      .set('content-type', type)
      .send(body);
  const head = async (branch: string) =>
    (await t.http.get(`/api/v1/branches/${branch}`).set(t.as('viewer')).expect(200)).body.head as string;
  const commits = async (branch: string) =>
    (await t.http.get(`/api/v1/branches/${branch}/commits?limit=100`).set(t.as('viewer')).expect(200))
      .body as {
      id: string;
      message: string;
      author: string;
    }[];
  const exportOf = async (branch: string, query = '') => {
    const res = await t.http
      .get(`/api/v1/documents/export?branch=${branch}${query}`)
      .set(t.as('viewer'))
      .buffer(true)
      .parse((response, done) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('end', () => done(null, text));
      })
      .expect(200);
    return { res, lines: (res.body as string).split('\n').filter((l) => l !== '') };
  };

  it(`imports ${DOCS} documents as ONE commit, with author and message, and exports them back`, async () => {
    await given(t).branch('bulk-big');
    const before = await commits('bulk-big');
    const lines: Line[] = [{ op: 'create', objectType: 'City', id: 'paris', properties: { name: 'Paris' } }];
    for (let i = 0; i < DOCS - 1; i++) {
      lines.push({
        op: 'create',
        objectType: 'Person',
        id: `p-${String(i).padStart(5, '0')}`,
        properties: {
          name: `P ${i}`,
          email: `p${i}@example.com`,
          age: i % 90,
          city: 'paris',
          tags: ['a', 'é'],
        },
      });
    }
    const res = await importInto('bulk-big', ndjson(lines), 'application/x-ndjson', {
      'x-commit-message': 'Load the people',
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      commit: expect.stringMatching(/^[0-9a-f]{40}$/),
      created: DOCS,
      updated: 0,
      deleted: 0,
      unchanged: 0,
      dryRun: false,
    });
    expect(res.headers.etag).toBe(`"${res.body.commit}"`);
    const after = await commits('bulk-big');
    expect(after.length).toBe(before.length + 1);
    expect(after[0]).toMatchObject({ id: res.body.commit, message: 'Load the people', author: 'editor' });
    expect(await head('bulk-big')).toBe(res.body.commit);

    const doc = await t.http
      .get('/api/v1/documents/crud/p-00042?branch=bulk-big')
      .set(t.as('viewer'))
      .expect(200);
    expect(doc.body.properties).toEqual({
      name: 'P 42',
      email: 'p42@example.com',
      age: 42,
      city: 'paris',
      tags: ['a', 'é'],
    });

    const exported = await exportOf('bulk-big');
    expect(exported.res.headers['content-type']).toMatch(/^application\/x-ndjson/);
    expect(exported.res.headers['x-total-count']).toBe(String(DOCS));
    expect(exported.res.headers.etag).toBe(`"${res.body.commit}"`);
    expect(exported.lines.length).toBe(DOCS);
    // Referenced types first (City before Person), by id within a type.
    const ids = exported.lines.map((l) => (JSON.parse(l) as { id: string }).id);
    expect(ids[0]).toBe('paris');
    expect(ids.slice(1)).toEqual([...ids.slice(1)].sort());
    const people = await exportOf('bulk-big', '&objectType=City');
    expect(people.lines.map((l) => JSON.parse(l) as Line)).toEqual([
      expect.objectContaining({ id: 'paris', objectType: 'City', properties: { name: 'Paris' } }),
    ]);

    // Round trip: the export imports as is into an empty branch, and exports byte-identical properties.
    await given(t).branch('bulk-copy', 'main');
    const copied = await importInto('bulk-copy', exported.lines.join('\n'));
    expect(copied.status).toBe(200);
    expect(copied.body.created).toBe(DOCS);
    const again = await exportOf('bulk-copy');
    const properties = (lines: string[]) =>
      lines.map((l) => JSON.stringify((JSON.parse(l) as Line).properties));
    expect(properties(again.lines)).toEqual(properties(exported.lines));
    // Nothing changes on a second import of the same lines: no commit.
    const same = await importInto('bulk-copy', exported.lines.join('\n'));
    expect(same.body).toMatchObject({ commit: null, created: 0, updated: 0, unchanged: DOCS });
  });

  it('refuses the whole import when one line is invalid, listing every error with its line, writing nothing', async () => {
    await given(t).branch('bulk-bad');
    const start = await head('bulk-bad');
    const lines = Array.from({ length: 2_500 }, (_, i) => ({
      objectType: 'City',
      id: `c-${i}`,
      properties: { name: `City ${i}` },
    }));
    const body = ndjson(lines).split('\n');
    body[1_200] = '{"objectType":"City","id":"c-bad","properties":{"name":42}}'; // line 1201
    body[2_000] = '{not json'; // line 2001
    const res = await importInto('bulk-bad', body.join('\n'));
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body.errors).toEqual([
      { line: 1201, path: '/properties/name', message: expect.any(String) },
      { line: 2001, path: '', message: 'is not valid JSON' },
    ]);
    expect(res.body.detail).toMatch(/nothing was written/);
    expect(await head('bulk-bad')).toBe(start);
    const list = await t.http
      .get('/api/v1/documents/crud?branch=bulk-bad&objectType=City')
      .set(t.as('viewer'));
    expect(list.body.items).toEqual([]);
  });

  it('checks each item as a single write made after the ones before it', async () => {
    await given(t).branch('bulk-order');
    await given(t).document('City', { name: 'Lyon' }, 'lyon', 'bulk-order');
    await given(t).document(
      'Person',
      { name: 'Old', email: 'old@example.com', city: 'lyon' },
      'old',
      'bulk-order',
    );
    const res = await importInto(
      'bulk-order',
      ndjson([
        { op: 'create', objectType: 'City', id: 'rome', properties: { name: 'Rome' } }, // 1
        { op: 'create', objectType: 'Person', id: 'a', properties: { name: 'A', city: 'rome' } }, // 2: earlier line
        { op: 'create', objectType: 'Person', id: 'b', properties: { name: 'B', city: 'nowhere' } }, // 3
        { op: 'create', objectType: 'Person', id: 'c', properties: { name: 'C', email: 'old@example.com' } }, // 4
        { op: 'create', objectType: 'Person', id: 'd', properties: { name: 'D', email: 'd@example.com' } }, // 5
        { op: 'create', objectType: 'Person', id: 'e', properties: { name: 'E', email: 'd@example.com' } }, // 6
        { op: 'create', objectType: 'City', id: 'lyon', properties: { name: 'Lyon' } }, // 7: exists
        { op: 'delete', objectType: 'City', id: 'lyon' }, // 8: 'old' refers to it
        { op: 'delete', objectType: 'Person', id: 'ghost' }, // 9
        { op: 'upsert', objectType: 'City', id: 'old', properties: { name: 'X' } }, // 10: a Person
        { op: 'frob', objectType: 'City', id: 'f', properties: {} }, // 11
        { objectType: 'Nope', id: 'g', properties: {} }, // 12
        { objectType: 'City', id: 'h', properties: { name: 'H' }, extra: 1 }, // 13
      ]),
    );
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([
      {
        line: 3,
        path: '/properties/city',
        message: "references City 'nowhere', which does not exist on branch 'bulk-order'",
      },
      {
        line: 4,
        path: '/properties/email',
        message: 'must be unique: "old@example.com" is already used by document \'old\'',
      },
      {
        line: 6,
        path: '/properties/email',
        message: 'must be unique: "d@example.com" is already used by document \'d\'',
      },
      { line: 7, path: '/id', message: "document 'lyon' already exists" },
      { line: 8, path: '/id', message: "document 'lyon' is referenced by document 'old'" },
      { line: 9, path: '/id', message: "document 'ghost' does not exist" },
      { line: 10, path: '/objectType', message: "must match the document's type (Person)" },
      { line: 11, path: '/op', message: 'must be one of create, upsert, delete' },
      { line: 12, path: '/objectType', message: "object type 'Nope' does not exist on branch 'bulk-order'" },
      { line: 13, path: '/extra', message: 'is not a member of a bulk item' },
    ]);

    // What an item frees, a later one may take: the referrer goes first, then its target; a unique value
    // moves from one document to another. References hold at the end of the import: one may point at a
    // document created later, and a target may be deleted before the document that refers to it.
    await given(t).document('City', { name: 'C1' }, 'c1', 'bulk-order');
    await given(t).document('Person', { name: 'R1', city: 'c1' }, 'r1', 'bulk-order');
    const ok = await importInto(
      'bulk-order',
      JSON.stringify([
        {
          op: 'upsert',
          objectType: 'Person',
          id: 'old',
          properties: { name: 'Old', email: 'moved@example.com' },
        },
        {
          op: 'create',
          objectType: 'Person',
          id: 'new',
          properties: { name: 'New', email: 'old@example.com' },
        },
        { op: 'delete', objectType: 'City', id: 'lyon' },
        { op: 'create', objectType: 'City', id: 'tmp', properties: { name: 'Tmp' } },
        { op: 'delete', objectType: 'City', id: 'tmp' },
        { op: 'create', objectType: 'Person', id: 'fwd', properties: { name: 'F', city: 'later' } },
        { op: 'create', objectType: 'City', id: 'later', properties: { name: 'Later' } },
        { op: 'delete', objectType: 'City', id: 'c1' },
        { op: 'delete', objectType: 'Person', id: 'r1' },
      ]),
      'application/json',
    );
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ created: 4, updated: 1, deleted: 4, unchanged: 0 });
    await t.http.get('/api/v1/documents/crud/lyon?branch=bulk-order').set(t.as('viewer')).expect(404);
    await t.http.get('/api/v1/documents/crud/tmp?branch=bulk-order').set(t.as('viewer')).expect(404);
    const moved = await t.http
      .get('/api/v1/documents/crud/new?branch=bulk-order')
      .set(t.as('viewer'))
      .expect(200);
    expect(moved.body.properties.email).toBe('old@example.com');
  });

  it('If-Match on the branch head, dry runs, roles, media types and the body limit', async () => {
    await given(t).branch('bulk-edges');
    const start = await head('bulk-edges');
    const one = ndjson([{ objectType: 'City', id: 'x', properties: { name: 'X' } }]);
    expect(
      (await importInto('bulk-edges', one, 'application/x-ndjson', { 'if-match': '"0000"' })).status,
    ).toBe(412);
    const dry = await t.http
      .post('/api/v1/documents/bulk?branch=bulk-edges&dryRun=true')
      .set(t.as('editor'))
      .set('content-type', 'application/x-ndjson')
      .send(one);
    expect(dry.status).toBe(200);
    expect(dry.body).toMatchObject({ commit: null, created: 1, dryRun: true });
    expect(await head('bulk-edges')).toBe(start);
    const matched = await importInto('bulk-edges', one, 'application/x-ndjson', { 'if-match': `"${start}"` });
    expect(matched.status).toBe(200);
    expect(await head('bulk-edges')).toBe(matched.body.commit);

    const viewer = await t.http
      .post('/api/v1/documents/bulk?branch=bulk-edges')
      .set(t.as('viewer'))
      .set('content-type', 'application/x-ndjson')
      .send(one);
    expect(viewer.status).toBe(403);
    expect((await importInto('bulk-edges', one, 'text/plain')).status).toBe(415);
    // gzip is taken (the limit counts decoded bytes); a body that does not decompress is the client's 400.
    const zipped = await t.http
      .post('/api/v1/documents/bulk?branch=bulk-edges')
      .set(t.as('editor'))
      .set('content-type', 'application/x-ndjson')
      .set('content-encoding', 'gzip')
      .send(gzipSync(ndjson([{ objectType: 'City', id: 'zipped', properties: { name: 'Z' } }])));
    expect([zipped.status, zipped.body.created]).toEqual([200, 1]);
    const garbled = await t.http
      .post('/api/v1/documents/bulk?branch=bulk-edges')
      .set(t.as('editor'))
      .set('content-type', 'application/x-ndjson')
      .set('content-encoding', 'gzip')
      .send(Buffer.from('not gzip at all'));
    expect(garbled.status).toBe(400);
    const huge =
      `${JSON.stringify({ objectType: 'City', id: 'big', properties: { name: 'x'.repeat(1_000) } })}\n`.repeat(
        5_000,
      );
    const tooBig = await importInto('bulk-edges', huge);
    expect(tooBig.status).toBe(413);
    expect((await t.http.get('/api/v1/documents/export?branch=nope').set(t.as('viewer'))).status).toBe(404);
    expect(
      (await t.http.get('/api/v1/documents/export?branch=main&objectType=Nope').set(t.as('viewer'))).status,
    ).toBe(404);
  });
});

describe.each(storeTargets())('an import the client abandons, on $name', (target) => {
  let t: TestApp;
  beforeAll(async () => {
    // Production's breakers: three store failures in a row open the store breaker for everyone.
    t = await startTestApp(target, { OMS_ENV: 'production', LOG_LEVEL: 'error' });
    await given(t).type('Thing', [{ name: 'n', dataType: 'integer' }]);
    await new Promise<void>((resolve) => t.server.listen(0, '127.0.0.1', resolve));
  });
  afterAll(() => t?.close());

  /** Sends part of an import, waits for the service to work on it, then drops the connection. */
  async function abandon(run: number): Promise<void> {
    const { port } = t.server.address() as AddressInfo;
    const req = httpRequest({
      host: '127.0.0.1',
      port,
      method: 'POST',
      path: '/api/v1/documents/bulk',
      headers: { ...t.as('editor'), 'content-type': 'application/x-ndjson' },
    });
    req.on('error', () => undefined); // the abort is ours
    for (let batch = 0; batch < 3; batch++) {
      req.write(
        Array.from({ length: 1_000 }, (_, i) =>
          JSON.stringify({ objectType: 'Thing', id: `t-${run}-${batch}-${i}`, properties: { n: i } }),
        ).join('\n') + '\n',
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
    req.destroy();
    await new Promise((resolve) => setTimeout(resolve, 300));
  }

  it('is the client going away: nothing written, and no breaker counts it as the store failing', async () => {
    for (let run = 0; run < 4; run++) await abandon(run);
    const text = await scrape(t.metrics);
    for (const breaker of ['store', 'documents'])
      expect([breaker, seriesValue(text, 'circuit_breaker_state', { breaker })]).toEqual([breaker, 0]);
    const list = await t.http.get('/api/v1/documents/crud?objectType=Thing').set(t.as('viewer')).expect(200);
    expect(list.body.items).toEqual([]);
  });
});
