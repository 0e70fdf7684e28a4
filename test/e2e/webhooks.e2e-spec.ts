import { Webhook } from 'standardwebhooks';
import { TestApp, startTestApp } from '../support/app';
import { given } from '../support/given';
import { Receiver } from '../support/receiver';
import { listening, openSse } from '../support/sse';
import { storeTargets } from '../support/store-targets';
import { eventually } from '../support/eventually';

const PROBLEM = /^application\/problem\+json/;

const seqOf = (body: string) => (JSON.parse(body) as { seq: number }).seq;

describe.each(storeTargets())('webhooks on $name', (target) => {
  let t: TestApp;
  let make: ReturnType<typeof given>;
  const receiver = new Receiver();
  beforeAll(async () => {
    t = await startTestApp(target, {
      WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true',
      WEBHOOK_RETRY_BASE_MS: '50',
      WEBHOOK_RETRY_MAX_MS: '200',
      WEBHOOK_MAX_ATTEMPTS: '3',
      WEBHOOK_TIMEOUT_MS: '2000',
      // One breaker per receiver: opened by 2 failures in a row, tried again after 0.5 s.
      CIRCUIT_BREAKER_FAILURE_THRESHOLD: '2',
      CIRCUIT_BREAKER_HALF_OPEN_AFTER_SECONDS: '0.5',
    });
    make = given(t);
    await receiver.up();
  });
  afterAll(async () => {
    await t?.close();
    await receiver.down();
  });
  beforeEach(() => {
    receiver.calls.length = 0;
    receiver.behave = () => ({ status: 200 });
  });

  const admin = () => t.as('admin');
  const subscribe = async (branches: string[], url = receiver.url) =>
    (await t.http.post('/api/v1/webhooks').set(admin()).send({ url, branches }).expect(201)).body as {
      id: string;
      secret: string;
    };
  const deliveries = async (id: string, query = '') =>
    (await t.http.get(`/api/v1/webhooks/${id}/deliveries${query}`).set(admin()).expect(200)).body as {
      id: string;
      seq: number;
      status: string;
      attempts: number;
      lastStatus: number | null;
      lastError: string | null;
    }[];
  const metrics = async () => (await t.metrics.get('/metrics').expect(200)).text;

  it('is made, shown without its secret, and deleted by admins only', async () => {
    const created = await t.http
      .post('/api/v1/webhooks')
      .set(admin())
      .send({ url: receiver.url, branches: ['main'] })
      .expect(201);
    expect(created.body).toMatchObject({
      url: receiver.url,
      branches: ['main'],
      createdBy: 'admin',
      disabledAt: null,
    });
    expect(created.body.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(created.headers.location).toBe(`/api/v1/webhooks/${created.body.id}`);
    const shown = await t.http.get(`/api/v1/webhooks/${created.body.id}`).set(admin()).expect(200);
    expect(shown.body.secret).toBeUndefined();
    const listed = await t.http.get('/api/v1/webhooks').set(admin()).expect(200);
    expect(listed.body.map((w: { id: string }) => w.id)).toContain(created.body.id);
    expect(JSON.stringify(listed.body)).not.toContain('whsec_');

    const chosen = 'whsec_' + Buffer.alloc(32, 7).toString('base64');
    const own = await t.http
      .post('/api/v1/webhooks')
      .set(admin())
      .send({ url: receiver.url, branches: ['main'], secret: chosen })
      .expect(201);
    expect(own.body.secret).toBe(chosen);

    await t.http.get('/api/v1/webhooks').set(t.as('editor')).expect(403);
    await t.http
      .post('/api/v1/webhooks')
      .set(t.as('viewer'))
      .send({ url: receiver.url, branches: ['main'] })
      .expect(403);
    for (const id of [created.body.id, own.body.id]) {
      await t.http.delete(`/api/v1/webhooks/${id}`).set(admin()).expect(204);
      await t.http.get(`/api/v1/webhooks/${id}`).set(admin()).expect(404);
    }
    await t.http.delete(`/api/v1/webhooks/${created.body.id}`).set(admin()).expect(404);
  });

  it('lists every violation of a bad webhook', async () => {
    const res = await t.http
      .post('/api/v1/webhooks')
      .set(admin())
      .send({ url: 42, branches: ['bad name!', 'main', 'main'], secret: 'not-a-secret' })
      .expect(400);
    expect(res.headers['content-type']).toMatch(PROBLEM);
    const paths = (res.body.errors as { path: string }[]).map((e) => e.path);
    expect(paths).toEqual(expect.arrayContaining(['/body/url', '/body/branches', '/body/secret']));
    for (const url of ['ftp://example.com/x', 'http://user:pw@example.com/x', 'not a url']) {
      const refused = await t.http
        .post('/api/v1/webhooks')
        .set(admin())
        .send({ url, branches: ['main'] });
      expect([refused.status, refused.body.errors?.[0]?.path]).toEqual([400, '/body/url']);
    }
  });

  it('delivers every commit of its branches, in seq order, signed per Standard Webhooks', async () => {
    await make.branch('hooked');
    const hook = await subscribe(['hooked']);
    await make.type('H', [{ name: 'n', dataType: 'integer' }], 'hooked');
    for (let n = 0; n < 5; n++) await make.document('H', { n }, `h${n}`, 'hooked');
    await make.type('Elsewhere', [], 'main'); // not this webhook's branch
    await eventually(() => receiver.acknowledged().length >= 6, 10_000, 'six deliveries');
    await new Promise((resolve) => setTimeout(resolve, 300)); // nothing more comes
    const verifier = new Webhook(hook.secret);
    const sent = receiver.calls.map((c) => verifier.verify(c.body, c.headers as Record<string, string>)) as {
      seq: number;
      branch: string;
    }[];
    expect(sent.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(sent.every((e) => e.branch === 'hooked')).toBe(true);
    const ids = receiver.calls.map((c) => c.headers['webhook-id']);
    expect(new Set(ids).size).toBe(6);
    expect(receiver.calls[0]!.headers['content-type']).toBe('application/json');
    // A tampered body does not verify.
    expect(() =>
      verifier.verify(
        receiver.calls[0]!.body.replace('"seq":1', '"seq":7'),
        receiver.calls[0]!.headers as Record<string, string>,
      ),
    ).toThrow();

    const page = await deliveries(hook.id);
    expect(page.map((d) => [d.seq, d.status, d.attempts, d.lastStatus])).toEqual(
      [6, 5, 4, 3, 2, 1].map((seq) => [seq, 'delivered', 1, 200]),
    );
    const first = await t.http.get(`/api/v1/webhooks/${hook.id}/deliveries?limit=4`).set(admin()).expect(200);
    expect(first.body).toHaveLength(4);
    const next = /<([^>]+)>; rel="next"/.exec(first.headers.link as string)![1]!;
    const second = await t.http.get(next).set(admin()).expect(200);
    expect(second.body.map((d: { seq: number }) => d.seq)).toEqual([2, 1]);
    expect(await metrics()).toMatch(
      new RegExp(`^circuit_breaker_state\\{breaker="webhook:${hook.id}"\\} 0$`, 'm'),
    );
    await t.http.delete(`/api/v1/webhooks/${hook.id}`).set(admin()).expect(204);
    expect(await metrics()).not.toContain(`webhook:${hook.id}`);
  });

  it('retries a failing receiver, dead-letters after WEBHOOK_MAX_ATTEMPTS, goes on with the next event, and redelivers on request', async () => {
    await make.branch('dead');
    const hook = await subscribe(['dead']);
    receiver.behave = (_call, req) => (seqOf(req.body) === 1 ? { status: 500 } : { status: 200 });
    await make.type('D', [], 'dead');
    await make.document('D', {}, 'd1', 'dead');
    await eventually(
      async () => (await deliveries(hook.id, '?status=delivered')).length === 1,
      10_000,
      'seq 2 delivered',
    );
    const calls = receiver.calls.map((c) => [seqOf(c.body), c.status]);
    // Three tries of seq 1 (500), then seq 2, never before seq 1 was dead-lettered.
    expect(calls).toEqual([
      [1, 500],
      [1, 500],
      [1, 500],
      [2, 200],
    ]);
    const [dead] = await deliveries(hook.id, '?status=dead');
    expect(dead).toMatchObject({
      seq: 1,
      attempts: 3,
      lastStatus: 500,
      lastError: expect.stringMatching(/500/),
    });
    await eventually(
      async () => /^webhook_dead_letters [1-9]/m.test(await metrics()),
      10_000,
      'dead-letter gauge',
    );
    expect(await metrics()).toMatch(/^webhook_deliveries_total\{outcome="dead_lettered"\} [1-9]/m);

    receiver.behave = () => ({ status: 204 });
    const again = await t.http
      .post(`/api/v1/webhooks/${hook.id}/deliveries/${dead!.id}/redeliver`)
      .set(admin())
      .expect(202);
    expect(again.body).toMatchObject({ id: dead!.id, status: 'pending', attempts: 0 });
    await eventually(
      async () => (await deliveries(hook.id, '?status=delivered')).length === 2,
      10_000,
      'redelivered',
    );
    expect(receiver.calls.at(-1)!.status).toBe(204);
    await t.http.post(`/api/v1/webhooks/${hook.id}/deliveries/999999999/redeliver`).set(admin()).expect(404);
    await t.http.post(`/api/v1/webhooks/${hook.id}/deliveries/x/redeliver`).set(admin()).expect(404);
    await t.http.delete(`/api/v1/webhooks/${hook.id}`).set(admin()).expect(204);
  });

  it('opens the receiver breaker on failures in a row and counts its refusals apart from attempts', async () => {
    await make.branch('tripped');
    const hook = await subscribe(['tripped']);
    const refusals = async () =>
      Number(/^webhook_deliveries_total\{outcome="breaker_open"\} (\d+)/m.exec(await metrics())?.[1] ?? 0);
    const before = await refusals();
    receiver.behave = () => 'drop';
    await make.type('T', [], 'tripped');
    await eventually(async () => (await refusals()) > before, 10_000, 'breaker refusal');
    expect(await metrics()).toMatch(
      new RegExp(`^circuit_breaker_state\\{breaker="webhook:${hook.id}"\\} 1$`, 'm'),
    );
    receiver.behave = () => ({ status: 200 });
    await eventually(async () => (await deliveries(hook.id))[0]!.status === 'delivered', 10_000, 'recovered');
    // Two failures opened it; its refusals were not attempts, or the third (the trial that succeeded)
    // would have been past WEBHOOK_MAX_ATTEMPTS.
    expect((await deliveries(hook.id))[0]).toMatchObject({ attempts: 3, lastStatus: 200 });
    expect(receiver.calls).toHaveLength(3);
    expect(await metrics()).toMatch(
      new RegExp(`^circuit_breaker_state\\{breaker="webhook:${hook.id}"\\} 0$`, 'm'),
    );
    await t.http.delete(`/api/v1/webhooks/${hook.id}`).set(admin()).expect(204);
  });

  it('is disabled by a 410 from its receiver, and queues nothing more', async () => {
    await make.branch('gone');
    const hook = await subscribe(['gone']);
    receiver.behave = () => ({ status: 410 });
    await make.type('G', [], 'gone');
    await eventually(
      async () => (await t.http.get(`/api/v1/webhooks/${hook.id}`).set(admin())).body.disabledAt !== null,
      10_000,
      'disabled',
    );
    const shown = await t.http.get(`/api/v1/webhooks/${hook.id}`).set(admin()).expect(200);
    expect(shown.body.disabledReason).toMatch(/410/);
    await make.document('G', {}, 'g1', 'gone');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(receiver.calls).toHaveLength(1);
    expect((await deliveries(hook.id)).map((d) => d.seq)).toEqual([1]);
    await t.http.delete(`/api/v1/webhooks/${hook.id}`).set(admin()).expect(204);
  });

  it('pings its receiver with a signed message and tells the answer', async () => {
    const hook = await subscribe(['main']);
    const ping = await t.http.post(`/api/v1/webhooks/${hook.id}/ping`).set(admin()).expect(200);
    expect(ping.body).toMatchObject({ delivered: true, status: 200, error: null });
    const [call] = receiver.calls;
    expect(
      new Webhook(hook.secret).verify(call!.body, call!.headers as Record<string, string>),
    ).toMatchObject({
      type: 'ping',
      webhookId: hook.id,
    });
    receiver.behave = () => ({ status: 503 });
    const failed = await t.http.post(`/api/v1/webhooks/${hook.id}/ping`).set(admin()).expect(200);
    expect(failed.body).toMatchObject({ delivered: false, status: 503 });
    await t.http.delete(`/api/v1/webhooks/${hook.id}`).set(admin()).expect(204);
  });
});

describe.each(storeTargets())('webhook targets and retention on $name', (target) => {
  let t: TestApp;
  let make: ReturnType<typeof given>;
  const receiver = new Receiver();
  beforeAll(async () => {
    // Events live 2 s (pruned every second), except those a webhook still owes.
    t = await startTestApp(target, {
      EVENT_RETENTION_DAYS: String(2 / 86_400),
      WEBHOOK_RETRY_BASE_MS: '60000',
    });
    make = given(t);
    await receiver.up();
  });
  afterAll(async () => {
    await t?.close();
    await receiver.down();
  });

  it('refuses receivers on loopback, private and link-local addresses (SSRF)', async () => {
    for (const url of [
      receiver.url,
      'http://localhost:9/x',
      'http://10.1.2.3/x',
      'http://192.168.0.1/x',
      'http://169.254.169.254/latest/meta-data',
      'http://[::1]:8080/x',
      'http://[::ffff:127.0.0.1]/x',
      'http://0.0.0.0/x',
    ]) {
      const res = await t.http
        .post('/api/v1/webhooks')
        .set(t.as('admin'))
        .send({ url, branches: ['main'] });
      expect([url, res.status, res.body.errors?.[0]?.message]).toEqual([
        url,
        400,
        expect.stringMatching(/loopback, private or link-local/),
      ]);
    }
  });

  it('prunes events past EVENT_RETENTION_DAYS (a resume from before them is 410) but keeps those still owed', async () => {
    await make.branch('owed');
    // A webhook whose host never resolves (.invalid): its deliveries stay pending.
    const hook = await t.http
      .post('/api/v1/webhooks')
      .set(t.as('admin'))
      .send({ url: 'http://receiver.invalid/unreachable', branches: ['owed'] })
      .expect(201);
    await make.type('P', [], 'owed');
    await make.type('P', [], 'main');
    await make.document('P', {}, 'p1', 'main');
    // Past the 2 s retention, at the next prune (every second). A stream that opens instead is closed.
    const base = await listening(t);
    const resumable = async () => {
      const stream = await openSse(`${base}/api/v1/branches/main/events?since=0`, t.as('viewer'));
      stream.close();
      return stream.status;
    };
    await eventually(async () => (await resumable()) === 410, 6_000, "main's events pruned");
    const gone = await t.http.get('/api/v1/branches/main/events?since=0').set(t.as('viewer'));
    expect([gone.status, gone.headers['content-type']]).toEqual([410, expect.stringMatching(PROBLEM)]);
    expect(gone.body.prunedThrough).toBeGreaterThanOrEqual(2);
    // The owed branch's event is still there: a delivery of it is pending.
    const pending = await t.http
      .get(`/api/v1/webhooks/${hook.body.id}/deliveries`)
      .set(t.as('admin'))
      .expect(200);
    expect(
      pending.body.map((d: { seq: number; status: string; eventId: string }) => [
        d.seq,
        d.status,
        typeof d.eventId,
      ]),
    ).toEqual([[1, 'pending', 'string']]);
  });
});
