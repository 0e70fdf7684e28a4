import { randomUUID } from 'node:crypto';
import { StoreLocation } from '@oms/store';
import { TestApp, bootTestApp } from '../support/app';
import { given } from '../support/given';
import { freshPostgresDatabase } from '../support/postgres';
import { Receiver } from '../support/receiver';
import { SseStream, listening, openSse } from '../support/sse';
import { storeTargets } from '../support/store-targets';
import { eventually } from '../support/eventually';

// Instances of one deployment share PostgreSQL and Redis. jest.config.ts leaves this file out locally
// without them; in CI their absence fails here.
const realServices = storeTargets().find((t) => t.name === 'postgres' && t.redisUrl);
if (!realServices) throw new Error('the multi-instance feed suite needs DATABASE_URL and REDIS_URL');

describe('the change feed across two instances on PostgreSQL and Redis', () => {
  let location: StoreLocation;
  let env: Record<string, string>;
  let a: TestApp;
  let b: TestApp;
  let cleanup: () => Promise<void>;
  const receiver = new Receiver();
  const streams: SseStream[] = [];

  beforeAll(async () => {
    const db = await freshPostgresDatabase();
    cleanup = db.cleanup;
    location = { databaseUrl: db.databaseUrl, dataDir: 'unused' };
    env = {
      REDIS_URL: realServices.redisUrl!,
      REDIS_CACHE_PREFIX: `oms-test-${randomUUID()}:`,
      WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true',
      WEBHOOK_RETRY_BASE_MS: '100',
    };
    a = await bootTestApp(location, env);
    b = await bootTestApp(location, env);
    await receiver.up();
    await given(a).type('Item', [{ name: 'n', dataType: 'integer' }]);
    await given(a).branch('side');
  });
  afterAll(async () => {
    for (const s of streams) s.close();
    await Promise.all([a?.close(), b?.close()]);
    await receiver.down();
    await cleanup?.();
  });

  it('delivers each event once, in seq order per branch, when both instances deliver and no lease expires', async () => {
    const hook = await a.http
      .post('/api/v1/webhooks')
      .set(a.as('admin'))
      .send({ url: receiver.url, branches: ['main', 'side'] })
      .expect(201);
    // Slow enough answers that both instances have deliveries in flight at once.
    receiver.behave = () => ({ status: 200, delayMs: 20 });
    const writes: Promise<unknown>[] = [];
    for (let n = 0; n < 30; n++) {
      const via = n % 2 === 0 ? a : b;
      const branch = n % 3 === 0 ? 'side' : 'main';
      writes.push(
        via.http
          .post(`/api/v1/documents/crud?branch=${branch}`)
          .set(via.as('editor'))
          .send({ objectType: 'Item', properties: { n } })
          .expect(201),
      );
    }
    await Promise.all(writes);
    await eventually(() => receiver.acknowledged().length >= 30, 20_000, '30 deliveries');
    await new Promise((resolve) => setTimeout(resolve, 500)); // a duplicate would come now
    const sent = receiver.calls.map((c) => JSON.parse(c.body) as { branch: string; seq: number });
    expect(receiver.calls).toHaveLength(30);
    expect(new Set(receiver.calls.map((c) => c.headers['webhook-id'])).size).toBe(30);
    for (const branch of ['main', 'side']) {
      const seqs = sent.filter((e) => e.branch === branch).map((e) => e.seq);
      expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
      expect(new Set(seqs).size).toBe(seqs.length);
    }
    await a.http.delete(`/api/v1/webhooks/${hook.body.id}`).set(a.as('admin')).expect(204);
  });

  it('shows a commit made on A in a stream on B within 1 s', async () => {
    const stream = await openSse(`${await listening(b)}/api/v1/branches/main/events`, b.as('viewer'));
    streams.push(stream);
    const delays: number[] = [];
    for (let n = 0; n < 5; n++) {
      const res = await a.http
        .post('/api/v1/documents/crud?branch=main')
        .set(a.as('editor'))
        .send({ objectType: 'Item', properties: { n } })
        .expect(201);
      const committed = Date.now();
      const made = (e: Record<string, unknown>) =>
        (e.changes as { id: string }[]).some((c) => c.id === res.body.id);
      await stream.until((s) => s.events().some(made), 5_000, 'the commit');
      delays.push(Date.now() - committed);
    }
    expect(Math.max(...delays)).toBeLessThan(1_000);
  });

  it('resumes with Last-Event-ID after a restart and gives every event once', async () => {
    const baseA = await listening(a);
    const first = await openSse(`${baseA}/api/v1/branches/side/events?since=0`, a.as('viewer'));
    streams.push(first);
    await first.until((s) => s.events().length >= 3, 5_000, 'the first events');
    // A stops (its streams end cleanly); commits go on through B meanwhile; A comes back.
    await a.close();
    await first.until((s) => s.ended, 5_000, 'the stream to end');
    const seen = first.events().map((e) => e.seq);
    for (let n = 0; n < 5; n++) {
      await b.http
        .post('/api/v1/documents/crud?branch=side')
        .set(b.as('editor'))
        .send({ objectType: 'Item', properties: { n } })
        .expect(201);
    }
    a = await bootTestApp(location, env);
    const resumed = await openSse(`${await listening(a)}/api/v1/branches/side/events`, {
      ...a.as('viewer'),
      'Last-Event-ID': String(seen.at(-1)),
    });
    streams.push(resumed);
    const total = seen.at(-1)! + 5;
    await resumed.until((s) => s.events().some((e) => e.seq === total), 5_000, `seq ${total}`);
    const all = [...seen, ...resumed.events().map((e) => e.seq)];
    expect(all).toEqual(Array.from({ length: total }, (_, i) => i + 1));
  });
});
