import { TestApp, startTestApp } from '../support/app';
import { given } from '../support/given';
import { scrape, seriesValue } from '../support/metrics';
import { storeTargets } from '../support/store-targets';

const DOCS = '/api/v1/documents/crud';
const PROBLEM = /^application\/problem\+json/;
const WRITERS = 20;

const range = (n: number) => Array.from({ length: n }, (_, i) => i + 1);
const name = (i: number) => `p${String(i).padStart(2, '0')}`;
const countOf = (statuses: number[], status: number) => statuses.filter((s) => s === status).length;

describe.each(storeTargets())('concurrent writes on $name', (target) => {
  let t: TestApp;
  let make: ReturnType<typeof given>;
  const editor = () => t.as('editor');

  beforeAll(async () => {
    t = await startTestApp(target);
    make = given(t);
  });
  afterAll(() => t?.close());

  it(`lets exactly one of ${WRITERS} parallel POSTs claim a unique value`, async () => {
    await make.type('Account', [{ name: 'handle', dataType: 'string', unique: true }]);
    const responses = await Promise.all(
      range(WRITERS).map((i) =>
        t.http
          .post(DOCS)
          .set(editor())
          .send({ objectType: 'Account', id: `account-${i}`, properties: { handle: 'same-handle' } }),
      ),
    );
    const statuses = responses.map((r) => r.status);
    expect(countOf(statuses, 201)).toBe(1);
    expect(countOf(statuses, 409)).toBe(WRITERS - 1);
    for (const res of responses.filter((r) => r.status === 409)) {
      expect(res.headers['content-type']).toMatch(PROBLEM);
      expect(res.body.errors.map((e: { path: string }) => e.path)).toEqual(['/body/properties/handle']);
    }

    const winner = responses.find((r) => r.status === 201)!.body.id;
    const holders = await t.http
      .get(`${DOCS}?objectType=Account&property.handle=same-handle`)
      .set(editor())
      .expect(200);
    expect(holders.body.items.map((d: { id: string }) => d.id)).toEqual([winner]);
    const all = await t.http.get(`${DOCS}?objectType=Account`).set(editor()).expect(200);
    expect(all.body.items).toHaveLength(1);
  });

  it(`loses none of ${WRITERS} parallel PATCHes of one document`, async () => {
    await make.type(
      'Counter',
      range(WRITERS).map((i) => ({ name: name(i), dataType: 'integer' })),
    );
    const before = await make.document('Counter', {}, 'counter');
    const headBefore = (await t.http.get('/api/v1/branches/main/commits?limit=1').set(editor()).expect(200))
      .body[0].id;

    const responses = await Promise.all(
      range(WRITERS).map((i) =>
        t.http
          .patch(`${DOCS}/counter`)
          .set(editor())
          .set('Content-Type', 'application/merge-patch+json')
          .send(JSON.stringify({ properties: { [name(i)]: i } })),
      ),
    );
    expect(responses.map((r) => r.status)).toEqual(range(WRITERS).map(() => 200));

    const after = await t.http.get(`${DOCS}/counter`).set(editor()).expect(200);
    expect(after.body.properties).toEqual(Object.fromEntries(range(WRITERS).map((i) => [name(i), i])));

    // Every PATCH made its own version, and the last one is what is stored.
    const versions = responses.map((r) => r.body.version as number);
    expect(new Set(versions).size).toBe(WRITERS);
    expect(Math.min(...versions)).toBeGreaterThan(before.version);
    expect(after.body.version).toBe(Math.max(...versions));

    // Exactly one commit per PATCH on top of the head before them.
    const commits = (await t.http.get('/api/v1/branches/main/commits?limit=100').set(editor()).expect(200))
      .body as { id: string; author: string }[];
    expect(commits.findIndex((c) => c.id === headBefore)).toBe(WRITERS);
    expect(commits.slice(0, WRITERS).every((c) => c.author === 'editor')).toBe(true);
  });

  it(`lets exactly one of ${WRITERS} parallel PUTs with the same If-Match win`, async () => {
    await make.type('Note', [{ name: 'text', dataType: 'string' }]);
    const read = await make.document('Note', { text: 'original' }, 'note');
    const responses = await Promise.all(
      range(WRITERS).map((i) =>
        t.http
          .put(`${DOCS}/note`)
          .set(editor())
          .set('If-Match', `"${read.version}"`)
          .send({ properties: { text: `writer ${i}` } }),
      ),
    );
    const statuses = responses.map((r) => r.status);
    expect(countOf(statuses, 200)).toBe(1);
    expect(countOf(statuses, 412)).toBe(WRITERS - 1);

    const winner = responses.find((r) => r.status === 200)!.body;
    const stored = await t.http.get(`${DOCS}/note`).set(editor()).expect(200);
    expect(stored.body.properties).toEqual(winner.properties);
    expect(stored.body.version).toBe(winner.version);
  });

  it(`commits ${WRITERS} parallel creates in groups: each 2xx its own commit and there, no unique value twice`, async () => {
    await make.type('Seat', [{ name: 'seat', dataType: 'string', unique: true }]);
    const headBefore = (await t.http.get('/api/v1/branches/main/commits?limit=1').set(editor()).expect(200))
      .body[0].id;
    const before = await scrape(t.metrics);
    // A slow store (each call 100 ms later), so that writes queue behind one another as they arrive.
    const faults = '/api/v1/admin/faults/store';
    await t.http.put(faults).set(t.as('admin')).send({ errorRate: 0, latencyMs: 100 }).expect(200);
    // Two writers per seat: in a group, the second sees the first's write and is refused alone.
    const seatOf = (i: number) => `seat-${i % (WRITERS / 2)}`;
    const responses = await Promise.all(
      range(WRITERS).map((i) =>
        t.http
          .post(DOCS)
          .set(editor())
          .send({ objectType: 'Seat', id: `seat-writer-${i}`, properties: { seat: seatOf(i) } }),
      ),
    );
    await t.http.delete(faults).set(t.as('admin')).expect(204);
    const statuses = responses.map((r) => r.status);
    expect(countOf(statuses, 201)).toBe(WRITERS / 2);
    expect(countOf(statuses, 409)).toBe(WRITERS / 2);
    const created = responses.filter((r) => r.status === 201).map((r) => r.body as { id: string });
    for (const { id } of created) await t.http.get(`${DOCS}/${id}`).set(editor()).expect(200);
    const listed = await t.http.get(`${DOCS}?objectType=Seat&limit=100`).set(editor()).expect(200);
    const seats = listed.body.items.map((d: { properties: { seat: string } }) => d.properties.seat);
    expect(seats).toHaveLength(WRITERS / 2);
    expect(new Set(seats).size).toBe(WRITERS / 2);

    // One commit per created document, in one chain on top of the head before them.
    const commits = (await t.http.get('/api/v1/branches/main/commits?limit=100').set(editor()).expect(200))
      .body as { id: string; parents: string[]; message: string; createdAt: string }[];
    const ours = commits.slice(0, WRITERS / 2);
    expect(commits[WRITERS / 2]!.id).toBe(headBefore);
    ours.forEach((c, i) => expect(c.parents).toEqual([commits[i + 1]!.id]));
    expect(ours.map((c) => c.message.replace(/seat-writer-\d+/, 'X')).sort()).toEqual(
      ours.map(() => 'Create Seat X'),
    );
    // Fewer transactions than writes: the writes that queued were committed together.
    const after = await scrape(t.metrics);
    const [count, sum] = ['count', 'sum'].map(
      (part) =>
        (seriesValue(after, `store_write_group_size_${part}`) ?? NaN) -
        (seriesValue(before, `store_write_group_size_${part}`) ?? NaN),
    );
    // (A refused write counts where it ran in a group; alone, its transaction rolled back.)
    expect(sum).toBeGreaterThanOrEqual(WRITERS / 2);
    expect(sum).toBeLessThanOrEqual(WRITERS);
    expect(count).toBeLessThan(sum!);
  });
});
