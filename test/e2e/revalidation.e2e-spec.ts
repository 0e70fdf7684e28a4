import { TestApp, startTestApp } from '../support/app';
import { given } from '../support/given';
import { scrape, seriesValue } from '../support/metrics';
import { storeTargets } from '../support/store-targets';

/** One look-up per request: a revalidation that does not match answers with what its look-up found. */
describe.each(storeTargets())('revalidating GETs that do not match on $name', (target) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(target);
    await given(t).type('Gauge', [{ name: 'label', dataType: 'string' }]);
    await given(t).document('Gauge', { label: 'x' }, 'g1');
  });
  afterAll(() => t?.close());

  const counts = async () => {
    const text = await scrape(t.metrics);
    const value = (name: string, labels: Record<string, string>) => seriesValue(text, name, labels) ?? 0;
    return {
      memoryHits: value('cache_requests_total', { tier: 'memory', result: 'hit' }),
      memoryMisses: value('cache_requests_total', { tier: 'memory', result: 'miss' }),
      storeReads:
        value('store_reads_total', { operation: 'entity' }) +
        value('store_reads_total', { operation: 'version' }) +
        value('store_reads_total', { operation: 'list' }),
      misses: value('etag_cache_misses_total', { resource: 'document' }),
    };
  };

  it.each([
    ['a document', '/api/v1/documents/crud/g1'],
    ['an object type', '/api/v1/schemas/main/object-types/Gauge'],
    ['the object-type list', '/api/v1/schemas/main/object-types'],
  ])(
    'answers %s from one memory look-up when cached, with the body and ETag of a plain GET',
    async (_, path) => {
      const plain = await t.http.get(path).set(t.as('viewer')).expect(200); // fills the cache
      const before = await counts();
      const res = await t.http.get(path).set(t.as('viewer')).set('If-None-Match', '"0"').expect(200);
      const after = await counts();
      expect(res.body).toEqual(plain.body);
      expect(res.headers.etag).toBe(plain.headers.etag);
      expect(res.headers['cache-control']).toBe(plain.headers['cache-control']);
      expect(after.memoryHits - before.memoryHits).toBe(1);
      expect(after.memoryMisses - before.memoryMisses).toBe(0);
      expect(after.storeReads - before.storeReads).toBe(0);
    },
  );

  it.each([
    ['a document', '/api/v1/documents/crud/g2'],
    ['an object type', '/api/v1/schemas/main/object-types/Meter'],
  ])(
    'keeps %s cached while only revalidations (304) ask for it: one store read, then memory hits',
    async (_, path) => {
      // Just written (nothing cached), and never read by a plain GET: only the 304s can fill the cache.
      const written = path.includes('/documents/')
        ? await given(t).document('Gauge', { label: 'y' }, 'g2')
        : await given(t).type('Meter', [{ name: 'n', dataType: 'integer' }]);
      const tag = `"${(written as { version: number }).version}"`;
      const revalidate = () => t.http.get(path).set(t.as('viewer')).set('If-None-Match', tag).expect(304);
      await revalidate();
      const before = await counts();
      for (let i = 0; i < 4; i++) await revalidate();
      const after = await counts();
      expect(after.storeReads - before.storeReads).toBe(0);
      expect(after.memoryHits - before.memoryHits).toBe(4);
    },
  );

  it('still runs the handler when nothing is cached, and answers 404 for a missing document', async () => {
    await t.http
      .get('/api/v1/documents/crud/nowhere')
      .set(t.as('viewer'))
      .set('If-None-Match', '"1"')
      .expect(404);
    const before = await counts();
    await t.http
      .get('/api/v1/documents/crud/nowhere')
      .set(t.as('viewer'))
      .set('If-None-Match', '"1"')
      .expect(404);
    expect((await counts()).misses - before.misses).toBe(1);
  });
});
