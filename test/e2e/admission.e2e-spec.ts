import { RunningService, callService as call, processSuite, startService } from '../support/service-process';
import { seriesValue } from '../support/metrics';
import { StoreTarget, storeTargets } from '../support/store-targets';

const ADMIN = { username: 'root', password: 'root-password-1' };
const CEILING = 64;
/** The load: this many clients, each sending its next request when the last is answered, for LOAD_MS. */
const CLIENTS = 32;
const LOAD_MS = 3_000;
/**
 * Health and metrics are probed at least this often under load, and both halves of the clients must have been
 * refused: the load lasts until they were (at most MAX_LOAD_MS). On a machine busy with other suites the
 * clients themselves are starved and arrive slower; the overload then takes longer to build, not less.
 */
const MIN_PROBES = 3;
const MAX_LOAD_MS = 20_000;
const CPU_MS = 20;

interface Answer {
  /** Sent with a token the service would refuse (401) had auth run. */
  wrongToken: boolean;
  status: number;
  retryAfter: string | null;
  contentType: string | null;
  reason?: unknown;
}

async function scrape(service: RunningService): Promise<string> {
  const res = await fetch(service.metricsUrl, { signal: AbortSignal.timeout(2_000) });
  expect(res.status).toBe(200);
  return res.text();
}

describe.each(storeTargets())('edge admission on $name', (target: StoreTarget) => {
  const suite = processSuite(target, {
    OMS_ADMIN_USERNAME: ADMIN.username,
    OMS_ADMIN_PASSWORD: ADMIN.password,
    FAULT_INJECTION_ENABLED: 'true',
    ADMISSION_MODE: 'adaptive',
    ADMISSION_MIN_LIMIT: '1',
    ADMISSION_MAX_LIMIT: String(CEILING),
    // Every read goes to the store, where the fault burns the CPU.
    MEMORY_CACHE_TTL_SECONDS: '0',
  });

  it('sheds CPU overload at the edge (503 + Retry-After) while health and metrics answer, then recovers', async () => {
    const service = await startService(suite.env);
    const login = await call(service, 'POST', '/api/v1/auth/login', undefined, ADMIN);
    const token = login.body!.accessToken as string;
    expect(
      (
        await call(service, 'POST', '/api/v1/schemas/main/object-types', token, {
          name: 'Thing',
          properties: [{ name: 'name', dataType: 'string' }],
        })
      ).status,
    ).toBe(201);
    const doc = { objectType: 'Thing', id: 't-1', properties: { name: 'one' } };
    expect((await call(service, 'POST', '/api/v1/documents/crud', token, doc)).status).toBe(201);
    expect(seriesValue(await scrape(service), 'admission_limit')).toBe(CEILING);
    const fault = await call(service, 'PUT', '/api/v1/admin/faults/store', token, {
      errorRate: 0,
      latencyMs: 0,
      cpuMs: CPU_MS,
    });
    expect(fault.status).toBe(200);
    const before = await scrape(service);

    // The load: every other client sends a wrong token, so a refusal at the edge shows that auth never ran
    // (it would have answered 401).
    const answers: Answer[] = [];
    const deadline = Date.now() + LOAD_MS;
    const hardDeadline = Date.now() + MAX_LOAD_MS;
    // Probes: health and metrics must answer throughout, and the limit is sampled.
    const probes: { live: number; metrics: number; ms: number }[] = [];
    const limits: number[] = [];
    // Under CI load a probe round can take over a second (it waits its turn on a loop the fault keeps busy),
    // and starved clients build the overload slower: the load lasts until enough rounds were made and both
    // halves were refused, not only for LOAD_MS.
    const refusedHalves = new Set<boolean>();
    const loading = () =>
      Date.now() < hardDeadline &&
      (Date.now() < deadline || probes.length < MIN_PROBES || refusedHalves.size < 2);
    const client = async (n: number) => {
      const headers = { authorization: n % 2 === 0 ? `Bearer ${token}` : 'Bearer not-a-token' };
      while (loading() && answers.length < 50_000) {
        const res = await fetch(`${service.url}/api/v1/documents/crud/t-1`, { headers });
        const text = await res.text();
        if (res.status === 503) refusedHalves.add(n % 2 === 1);
        answers.push({
          wrongToken: n % 2 === 1,
          status: res.status,
          retryAfter: res.headers.get('retry-after'),
          contentType: res.headers.get('content-type'),
          reason: res.status === 503 ? (JSON.parse(text) as { reason?: unknown }).reason : undefined,
        });
      }
    };
    const probe = async () => {
      while (loading()) {
        const started = Date.now();
        const live = await fetch(`${service.url}/health/live`, { signal: AbortSignal.timeout(2_000) });
        const text = await scrape(service);
        probes.push({ live: live.status, metrics: 200, ms: Date.now() - started });
        limits.push(seriesValue(text, 'admission_limit')!);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    };
    await Promise.all([...Array.from({ length: CLIENTS }, (_, n) => client(n)), probe()]);
    expect((await call(service, 'DELETE', '/api/v1/admin/faults/store', token)).status).toBe(204);

    const refused = answers.filter((a) => a.status === 503);
    const statuses = new Set(answers.map((a) => a.status));
    expect(refused.length).toBeGreaterThan(0);
    expect([...statuses].sort()).toEqual([200, 401, 503]); // still serving; nothing else went wrong
    // Both halves were refused at the edge: a wrong token got 503, not 401, so auth never ran for it.
    expect(new Set(refused.map((a) => a.wrongToken))).toEqual(new Set([true, false]));
    for (const answer of refused) {
      expect(answer).toEqual({
        wrongToken: expect.any(Boolean),
        status: 503,
        retryAfter: '1',
        contentType: 'application/problem+json',
        reason: 'admission',
      });
    }
    // Each probe call is bounded (2 s); the load lasted until MIN_PROBES rounds were made.
    expect(probes.length).toBeGreaterThanOrEqual(MIN_PROBES);
    expect(probes.every((p) => p.live === 200)).toBe(true);
    expect(Math.min(...limits)).toBeLessThan(CEILING / 4);

    // Refused requests never reached the framework: the HTTP metrics middleware, which runs before body
    // parsing and auth, saw exactly the answered ones; the counter saw exactly the refused ones.
    // Refusals reach the counter at the end of each 100 ms admission window: wait (bounded) for the last one.
    const rejected = (text: string) =>
      seriesValue(text, 'admission_rejected_total', { reason: 'limit' }) ?? 0;
    let after = await scrape(service);
    for (
      const until = Date.now() + 3_000;
      rejected(after) - rejected(before) < refused.length && Date.now() < until;
    ) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      after = await scrape(service);
    }
    const served = (text: string) =>
      [200, 401, 503].reduce(
        (sum, code) =>
          sum +
          (seriesValue(text, 'http_request_duration_seconds_count', {
            method: 'GET',
            route: '/api/v1/documents/crud/:id',
            status_code: String(code),
          }) ?? 0),
        0,
      );
    expect(served(after) - served(before)).toBe(answers.length - refused.length);
    expect(rejected(after) - rejected(before)).toBe(refused.length);

    // The load is gone: the limit climbs back to its ceiling.
    const recovered = Date.now() + 10_000;
    let limit = seriesValue(after, 'admission_limit');
    while (limit !== CEILING && Date.now() < recovered) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      limit = seriesValue(await scrape(service), 'admission_limit');
    }
    expect(limit).toBe(CEILING);
    expect((await call(service, 'GET', '/api/v1/documents/crud/t-1', token)).status).toBe(200);
    await service.stop();
  });
});
