import { setTimeout as sleep } from 'node:timers/promises';
import { Webhook } from 'standardwebhooks';
import { TestApp, startTestApp } from '../support/app';
import { given } from '../support/given';
import { Receiver } from '../support/receiver';
import { storeTargets } from '../support/store-targets';

// One long scenario (about 45 s), on the most realistic store this machine has: PostgreSQL with Redis in
// CI, PGlite otherwise.
const target = storeTargets().at(-1)!;

describe(`a flaky webhook receiver on ${target.name}`, () => {
  let t: TestApp;
  let make: ReturnType<typeof given>;
  const receiver = new Receiver();
  beforeAll(async () => {
    t = await startTestApp(target, {
      WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true',
      WEBHOOK_RETRY_BASE_MS: '100',
      WEBHOOK_RETRY_MAX_MS: '1000',
      WEBHOOK_MAX_ATTEMPTS: '100',
      WEBHOOK_TIMEOUT_MS: '5000',
      CIRCUIT_BREAKER_FAILURE_THRESHOLD: '5',
      CIRCUIT_BREAKER_HALF_OPEN_AFTER_SECONDS: '1',
    });
    make = given(t);
    await receiver.up();
  });
  afterAll(async () => {
    await t?.close();
    await receiver.down().catch(() => undefined);
  });

  it('gets every event, in seq order per branch, each signature valid: failing half its calls, then down 20 s, then answering in 3 s', async () => {
    await make.branch('flaky-b');
    const hook = await t.http
      .post('/api/v1/webhooks')
      .set(t.as('admin'))
      .send({ url: receiver.url, branches: ['main', 'flaky-b'] })
      .expect(201);
    const made: Record<string, number> = { main: 0, 'flaky-b': 0 };
    const commit = async (branch: string) => {
      if (made[branch] === 0) await make.type('Flaky', [{ name: 'n', dataType: 'integer' }], branch);
      else await make.document('Flaky', { n: made[branch] }, undefined, branch);
      made[branch]!++;
    };

    // 1. Half the calls fail (500, alternately).
    receiver.behave = (call) => ({ status: call % 2 === 0 ? 500 : 200 });
    for (let n = 0; n < 6; n++) for (const branch of ['main', 'flaky-b']) await commit(branch);
    await sleep(2_000);

    // 2. Down for 20 s (connections refused), while commits go on.
    await receiver.down();
    for (let n = 0; n < 2; n++) {
      for (const branch of ['main', 'flaky-b']) await commit(branch);
      await sleep(7_000);
    }
    await sleep(6_000);

    // 3. Back, but every answer takes 3 s (within WEBHOOK_TIMEOUT_MS).
    receiver.behave = () => ({ status: 200, delayMs: 3_000 });
    await receiver.up();
    for (const branch of ['main', 'flaky-b']) await commit(branch);

    const acknowledged = (branch: string) =>
      new Set(
        receiver
          .acknowledged()
          .map((c) => JSON.parse(c.body) as { branch: string; seq: number })
          .filter((e) => e.branch === branch)
          .map((e) => e.seq),
      );
    const deadline = Date.now() + 60_000;
    while (Object.entries(made).some(([branch, n]) => acknowledged(branch).size < n)) {
      if (Date.now() > deadline) throw new Error(`not all acknowledged: ${JSON.stringify(made)}`);
      await sleep(250);
    }

    const verifier = new Webhook(hook.body.secret as string);
    const calls = receiver.calls.map(
      (c) => verifier.verify(c.body, c.headers as Record<string, string>) as { branch: string; seq: number },
    );
    for (const [branch, n] of Object.entries(made)) {
      expect([...acknowledged(branch)].sort((x, y) => x - y)).toEqual(
        Array.from({ length: n }, (_, i) => i + 1),
      );
      // In seq order: a later event is never sent before the one before it was acknowledged.
      const order = calls.filter((e) => e.branch === branch).map((e) => e.seq);
      expect(order).toEqual([...order].sort((x, y) => x - y));
    }
    // It was really tested: answered failures, and refusals by the breaker the outage opened.
    expect(receiver.calls.some((c) => c.status === 500)).toBe(true);
    const metrics = (await t.metrics.get('/metrics').expect(200)).text;
    expect(metrics).toMatch(/^webhook_deliveries_total\{outcome="failed"\} [1-9]/m);
    expect(metrics).toMatch(/^webhook_deliveries_total\{outcome="breaker_open"\} [1-9]/m);
    expect(metrics).toMatch(/^webhook_delivery_lag_seconds_count [1-9]/m);
  }, 120_000);
});
