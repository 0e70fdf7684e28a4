/**
 * npm run bench:login — what a flood of wrong logins costs the other users: the p50/p99 of a cached,
 * authenticated document GET at a fixed rate, idle and while 100 wrong logins arrive within 10 s, side by
 * side on two instances of the BUILT service (production configuration, PGlite): one with the login
 * throttle as configured, one with it lifted (so every login hashes; only the hashing bound protects the
 * readers). Alternating rounds; writes bench/results/login-flood-latest.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { LoadResult, loadAtRate } from './lib/load';
import { Service, startService } from './lib/service';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const READ_RATE = Number(process.env.BENCH_READ_RATE ?? 200);
const WRONG_LOGINS = 100;
const ATTACKERS = 10;

interface Row {
  instance: string;
  phase: 'idle' | 'flood';
  round: number;
  p50Ms: number;
  p99Ms: number;
  reqPerSec: number;
  non2xx: number;
  logins?: Record<string, number>;
}

/** 100 wrong logins within the load's seconds: ATTACKERS in parallel, each paced over the window. */
async function flood(s: Service, seconds: number): Promise<Record<string, number>> {
  const statuses: Record<string, number> = {};
  const perAttacker = WRONG_LOGINS / ATTACKERS;
  const gapMs = (seconds * 1000 * 0.9) / perAttacker;
  await Promise.all(
    Array.from({ length: ATTACKERS }, async (_, a) => {
      for (let i = 0; i < perAttacker; i++) {
        const started = Date.now();
        const res = await fetch(`${s.url}/api/v1/auth/login`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ username: a % 2 === 0 ? 'admin' : `nobody-${a}`, password: `guess-${i}` }),
        });
        await res.arrayBuffer();
        statuses[res.status] = (statuses[res.status] ?? 0) + 1;
        await sleep(Math.max(0, gapMs - (Date.now() - started)));
      }
    }),
  );
  return statuses;
}

async function reads(s: Service): Promise<LoadResult> {
  return loadAtRate({
    url: `${s.url}/api/v1/documents/crud/d-1`,
    headers: { authorization: `Bearer ${s.token}` },
    durationSeconds: SECONDS,
    overallRate: READ_RATE,
  });
}

async function seed(s: Service): Promise<void> {
  const post = (path: string, body: unknown) =>
    fetch(`${s.url}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${s.token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  await post('/api/v1/schemas/main/object-types', { name: 'Note', properties: [] });
  const res = await post('/api/v1/documents/crud', { objectType: 'Note', id: 'd-1', properties: {} });
  if (res.status !== 201) throw new Error(`seed: ${res.status}`);
}

async function main(): Promise<void> {
  const instances: [string, Service][] = [
    ['throttled', await startService({})],
    [
      'unthrottled',
      await startService({
        LOGIN_MAX_FAILURES_PER_USERNAME: '1000000',
        LOGIN_MAX_FAILURES_PER_ADDRESS: '1000000',
      }),
    ],
  ];
  for (const [, s] of instances) await seed(s);
  for (const [, s] of instances) await loadAtRate({ ...(await readsOptions(s)), durationSeconds: 2 }); // warm-up
  const rows: Row[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, s] of instances) {
      const idle = await reads(s);
      rows.push({ instance: name, phase: 'idle', round, ...summary(idle) });
      const [during, logins] = await Promise.all([reads(s), flood(s, SECONDS)]);
      rows.push({ instance: name, phase: 'flood', round, ...summary(during), logins });
      process.stderr.write(
        `  ${name} round ${round}: p99 idle ${idle.p99Ms} ms, flood ${during.p99Ms} ms, logins ${JSON.stringify(logins)}\n`,
      );
      await sleep(1000);
    }
  }
  for (const [, s] of instances) await s.stop();
  const median = (instance: string, phase: string, key: 'p50Ms' | 'p99Ms') => {
    const values = rows
      .filter((r) => r.instance === instance && r.phase === phase)
      .map((r) => r[key])
      .sort((a, b) => a - b);
    const value = values[Math.floor(values.length / 2)];
    if (value === undefined)
      throw new Error(`no ${key} was measured for ${instance} ${phase} (BENCH_ROUNDS=${ROUNDS})`);
    return value;
  };
  const ratios = Object.fromEntries(
    instances.map(([name]) => [
      name,
      {
        p50IdleMs: median(name, 'idle', 'p50Ms'),
        p99IdleMs: median(name, 'idle', 'p99Ms'),
        p50FloodMs: median(name, 'flood', 'p50Ms'),
        p99FloodMs: median(name, 'flood', 'p99Ms'),
        p99FloodVsIdle:
          Math.round((median(name, 'flood', 'p99Ms') / Math.max(0.01, median(name, 'idle', 'p99Ms'))) * 100) /
          100,
      },
    ]),
  );
  console.table(rows.map(({ logins, ...r }) => ({ ...r, logins: logins ? JSON.stringify(logins) : '' })));
  console.table(ratios);
  mkdirSync(join(__dirname, 'results'), { recursive: true });
  writeFileSync(
    join(__dirname, 'results', 'login-flood-latest.json'),
    `${JSON.stringify(
      {
        date: new Date().toISOString(),
        machine: { cpus: cpus().length, cpu: cpus()[0]?.model, node: process.version },
        readRate: READ_RATE,
        secondsPerPhase: SECONDS,
        wrongLogins: WRONG_LOGINS,
        rows,
        ratios,
      },
      null,
      2,
    )}\n`,
  );
}

const readsOptions = (s: Service) =>
  Promise.resolve({
    url: `${s.url}/api/v1/documents/crud/d-1`,
    headers: { authorization: `Bearer ${s.token}` },
    overallRate: READ_RATE,
  });

const summary = (r: LoadResult) => ({
  p50Ms: r.p50Ms,
  p99Ms: r.p99Ms,
  reqPerSec: r.reqPerSec,
  non2xx: r.non2xx,
});

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
