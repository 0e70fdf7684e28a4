import { TestApp, startTestApp } from '../support/app';
import { storeTargets } from '../support/store-targets';

describe.each(storeTargets())('smoke on $name', (target) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(target);
  });
  afterAll(() => t?.close());

  it('answers /health/live', async () => {
    const res = await t.http.get('/health/live').expect(200);
    expect(res.body.status).toBe('ok');
  });

  it('lists main', async () => {
    const res = await t.http.get('/api/v1/branches').set(t.as('viewer')).expect(200);
    expect(res.body.map((b: { name: string }) => b.name)).toContain('main');
  });
});
