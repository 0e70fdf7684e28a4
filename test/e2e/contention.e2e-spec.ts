import { TestApp, startTestApp } from '../support/app';
import { given } from '../support/given';
import { scrape, seriesValue } from '../support/metrics';
import { storeTargets } from '../support/store-targets';

const UNIQUE_PROPERTIES = 60;
const WRITERS = 30;

describe.each(storeTargets())('valid writes racing on one branch on $name', (target) => {
  let t: TestApp;
  beforeAll(async () => {
    // Production's breakers (three failures open them) and a tight store bound, so that a queue of slow,
    // valid writes would have looked like the store failing.
    t = await startTestApp(target, { OMS_ENV: 'production', LOG_LEVEL: 'error', STORE_TIMEOUT_MS: '300' });
    const properties = Array.from({ length: UNIQUE_PROPERTIES }, (_, i) => ({
      name: `u${i}`,
      dataType: 'string',
      unique: true,
    }));
    await given(t).type('Slow', properties);
    await t.http.get('/api/v1/auth/me').set(t.as('editor')).expect(200);
  });
  afterAll(() => t?.close());

  it('queue per branch: the ones that wait too long get a retryable 503, and no breaker counts them', async () => {
    const answers = await Promise.all(
      Array.from({ length: WRITERS }, (_, w) =>
        t.http
          .post('/api/v1/documents/crud')
          .set(t.as('editor'))
          .send({
            objectType: 'Slow',
            id: `slow-${w}`,
            properties: Object.fromEntries(
              Array.from({ length: UNIQUE_PROPERTIES }, (_, i) => [`u${i}`, `w${w}-${i}`]),
            ),
          }),
      ),
    );
    const statuses = answers.map((a) => a.status);
    expect(statuses.every((s) => s === 201 || s === 503)).toBe(true);
    expect(statuses.filter((s) => s === 201).length).toBeGreaterThan(0);
    for (const refused of answers.filter((a) => a.status === 503)) {
      expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(refused.body.breaker).toBeUndefined();
    }
    const text = await scrape(t.metrics);
    for (const breaker of ['schemas', 'documents', 'branches', 'store', 'redis'])
      expect([breaker, seriesValue(text, 'circuit_breaker_state', { breaker })]).toEqual([breaker, 0]);
    // Every write answered 201 is there.
    for (const answer of answers.filter((a) => a.status === 201))
      await t.http.get(`/api/v1/documents/crud/${answer.body.id}`).set(t.as('viewer')).expect(200);
  });
});
