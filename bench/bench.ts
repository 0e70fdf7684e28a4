/**
 * npm run bench — the hot paths against a bare-NestJS baseline, the overload sweep, all in one run so the
 * ratios hold on a noisy machine. Starts the BUILT service in production mode (PGlite by default; PostgreSQL
 * and Redis when DATABASE_URL / REDIS_URL are set), prints a table, writes bench/results/latest.json.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { LoadOptions, LoadResult, load, loadAtRate } from './lib/load';
import { sweepPlot } from './lib/plot';
import { PERSON_TYPE } from './lib/fixtures';
import { Service, startBaseline, startService } from './lib/service';
import { overloadSweep, sweepGoals } from './overload';
import { bulkRows } from './bulk';
import { Client } from 'pg';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
/** Scenarios compared as ratios run in alternating rounds; each reports its median round. */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const DOCS = 200;
const P99_TARGET_MS = Number(process.env.BENCH_P99_TARGET_MS ?? 50);
// The service runs its production configuration; the bulkhead can be overridden with BACKPRESSURE_*. The
// closed-loop scenarios measure the request path with edge admission off: 50 clients that resend at once
// keep the loop saturated, which the adaptive limit answers with 503s. Admission is measured by the
// overload sweep (bench/overload.ts), off and adaptive side by side.
const BULKHEAD = Object.fromEntries(
  ['BACKPRESSURE_MAX_CONCURRENT', 'BACKPRESSURE_MAX_QUEUE', 'BACKPRESSURE_QUEUE_TIMEOUT_MS']
    .filter((k) => process.env[k] !== undefined)
    .map((k) => [k, process.env[k]!]),
);

interface Scenario {
  name: string;
  reqPerSec: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  non2xx: number;
  rejectedP99Ms?: number | null;
  offeredRps?: number;
  goodputRps?: number;
  shedRatio?: number;
  p99AcceptedMs?: number;
  /** From the service's own histogram: the bucket bound under which 99 % of these answers were served. */
  serverP99Ms?: number | null;
  /** The server's CPU time per request (ms), from /proc: the steadier figure on a shared machine. */
  cpuMsPerRequest?: number | null;
  /** req/s of each round, for scenarios measured in alternating rounds. */
  rounds?: number[];
  /** Bulk rows: documents per second, the step's seconds, and the service's peak RSS growth (MB). */
  docsPerSec?: number;
  seconds?: number;
  peakRssMb?: number;
  note?: string;
}

const scenarios: Scenario[] = [];
const auth = (s: Service) => ({ authorization: `Bearer ${s.token}` });

async function measure(
  name: string,
  options: LoadOptions,
  extra: Partial<Scenario> = {},
): Promise<LoadResult> {
  await load({ ...options, durationSeconds: 1 }); // warm-up, discarded
  const result = await load(options);
  record(name, result, extra);
  process.stderr.write(`  ${name}: ${result.reqPerSec} req/s, p99 ${result.p99Ms} ms\n`);
  return result;
}

const record = (name: string, result: LoadResult, extra: Partial<Scenario> = {}) =>
  scenarios.push({
    name,
    reqPerSec: result.reqPerSec,
    p50Ms: result.p50Ms,
    p99Ms: result.p99Ms,
    errors: result.errors,
    non2xx: result.non2xx,
    ...(result.rejectedP99Ms !== null ? { rejectedP99Ms: result.rejectedP99Ms } : {}),
    cpuMsPerRequest: result.cpuMsPerRequest,
    ...extra,
  });

/**
 * Scenarios to be compared with each other, measured in ROUNDS alternating rounds (A B C, A B C, ...) so
 * drift on a noisy machine hits them alike; each reports its median round.
 */
async function compare(group: { name: string; options: LoadOptions }[]): Promise<void> {
  for (const { options } of group) await load({ ...options, durationSeconds: 1 }); // warm-up
  const results = new Map<string, LoadResult[]>(group.map((g) => [g.name, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const { name, options } of group) results.get(name)!.push(await load(options));
  }
  for (const { name } of group) {
    const runs = results.get(name)!;
    const median = [...runs].sort((a, b) => a.reqPerSec - b.reqPerSec)[Math.floor(runs.length / 2)];
    if (median === undefined) throw new Error(`${name}: no round was measured (BENCH_ROUNDS=${ROUNDS})`);
    record(name, median, { rounds: runs.map((r) => r.reqPerSec) });
    process.stderr.write(`  ${name}: ${runs.map((r) => r.reqPerSec).join(' / ')} req/s\n`);
  }
}

async function api(
  s: Service,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
) {
  const res = await fetch(`${s.url}${path}`, {
    method,
    headers: { ...auth(s), ...(body ? { 'content-type': 'application/json' } : {}), ...headers },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, etag: res.headers.get('etag'), text: await res.text() };
}

/** The data every scenario reads: one object type and DOCS documents. */
async function seed(s: Service): Promise<string> {
  if ((await api(s, 'POST', '/api/v1/schemas/main/object-types', PERSON_TYPE)).status !== 201)
    throw new Error('seed type');
  for (let i = 0; i < DOCS; i += 10) {
    await Promise.all(
      Array.from({ length: 10 }, (_, j) =>
        api(s, 'POST', '/api/v1/documents/crud', {
          objectType: 'Person',
          id: `p-${i + j}`,
          properties: { name: `person ${i + j}`, age: (i + j) % 90, email: `p${i + j}@example.org` },
        }),
      ),
    );
  }
  return (await api(s, 'GET', '/api/v1/schemas/main/object-types/Person')).text;
}

/** Creates from 50 clients: all on main, or spread over BRANCHES branches (each its own write queue). */
const BRANCHES = 10;

async function creates(s: Service, name: string, branches: string[]): Promise<void> {
  let created = 0;
  await measure(name, {
    url: `${s.url}/api/v1/documents/crud`,
    durationSeconds: SECONDS,
    pid: s.pid,
    requests: [
      {
        method: 'POST',
        headers: { ...auth(s), 'content-type': 'application/json' },
        setupRequest: (req) => {
          const n = created++;
          return {
            ...req,
            path: `/api/v1/documents/crud?branch=${branches[n % branches.length]}`,
            body: JSON.stringify({
              objectType: 'Person',
              id: `${name}-${n}`,
              properties: { name: 'new', age: 1 },
            }),
          };
        },
      },
    ],
  });
}

async function writes(s: Service): Promise<void> {
  const spread = Array.from({ length: BRANCHES }, (_, i) => `spread-${i}`);
  for (const branch of spread) await api(s, 'POST', '/api/v1/branches', { name: branch, from: 'main' });
  await creates(s, 'doc-create-1-branch', ['main']);
  await creates(s, 'doc-create-10-branches', spread);
  let patched = 0;
  await measure('doc-patch-1-branch', {
    url: s.url,
    durationSeconds: SECONDS,
    pid: s.pid,
    requests: [
      {
        method: 'PATCH',
        setupRequest: (req) => {
          const n = patched++;
          return {
            ...req,
            path: `/api/v1/documents/crud/p-${n % DOCS}`,
            headers: { ...auth(s), 'content-type': 'application/merge-patch+json' },
            body: JSON.stringify({ properties: { age: n % 90 } }),
          };
        },
      },
    ],
  });
  const etags = new Map<string, string>();
  for (let i = 0; i < DOCS; i++)
    etags.set(`p-${i}`, (await api(s, 'GET', `/api/v1/documents/crud/p-${i}`)).etag!);
  // Each PUT sends the ETag the last answer for its document gave. Updates cut off when a run ends leave
  // their tag unknown: the 412 carries the current version, and the next PUT of that document uses it, so
  // the run measures successful updates (its non2xx count is those few 412s).
  let turn = 0;
  await measure('doc-put-if-match', {
    url: s.url,
    durationSeconds: SECONDS,
    pid: s.pid,
    requests: [
      {
        method: 'PUT',
        setupRequest: (req, context: { id?: string }) => {
          const id = `p-${turn++ % DOCS}`;
          context.id = id;
          return {
            ...req,
            path: `/api/v1/documents/crud/${id}`,
            headers: { ...auth(s), 'content-type': 'application/json', 'if-match': etags.get(id)! },
            body: JSON.stringify({ properties: { name: `renamed ${turn}`, age: turn % 90 } }),
          };
        },
        onResponse: (status, body, context: { id?: string }, headers) => {
          // autocannon keeps the header names' case as sent ("ETag").
          const etag = Object.entries(headers ?? {}).find(([name]) => name.toLowerCase() === 'etag')?.[1];
          if (status === 200 && typeof etag === 'string') etags.set(context.id!, etag);
          if (status === 412) {
            const { currentVersion } = JSON.parse(body) as { currentVersion?: number };
            if (currentVersion !== undefined) etags.set(context.id!, `"${currentVersion}"`);
          }
        },
      },
    ],
  });
  await measure('doc-list-page', {
    url: `${s.url}/api/v1/documents/crud?objectType=Person&limit=50`,
    headers: auth(s),
    durationSeconds: SECONDS,
    pid: s.pid,
  });
}

/** Server-side: the smallest histogram bucket holding 99 % of a route's answers with a status. */
async function serverP99Ms(
  s: Service,
  method: string,
  route: string,
  status: string,
): Promise<number | null> {
  const text = await (await fetch(s.metricsUrl)).text();
  const buckets = text
    .split('\n')
    .filter(
      (l) =>
        l.startsWith('http_request_duration_seconds_bucket{') &&
        l.includes(`method="${method}"`) &&
        l.includes(`route="${route}"`) &&
        l.includes(`status_code="${status}"`),
    )
    .map((l) => ({ le: l.match(/le="([^"]+)"/)![1], count: Number(l.split(' ').pop()) }));
  const total = buckets.find((b) => b.le === '+Inf')?.count ?? 0;
  const bucket = buckets.find((b) => b.le !== '+Inf' && b.count >= 0.99 * total);
  return total > 0 && bucket ? Number(bucket.le) * 1000 : null;
}

/** An open breaker's rejections, at half the measured capacity (latency of the rejection, not of a full queue). */
async function breakerOpen(s: Service, capacity: number): Promise<void> {
  await api(s, 'PUT', '/api/v1/admin/faults/store', { errorRate: 1, latencyMs: 0 });
  for (let i = 0; i < 10; i++) await api(s, 'GET', `/api/v1/documents/crud/never-${i}`);
  const state = await api(s, 'GET', '/api/v1/admin/resilience');
  if (!state.text.includes('"name":"documents","state":"open"'))
    throw new Error(`breaker did not open: ${state.text}`);
  let n = 0;
  const options = {
    url: s.url,
    durationSeconds: SECONDS,
    overallRate: Math.round(capacity / 2),
    pid: s.pid,
    requests: [
      {
        method: 'GET' as const,
        headers: auth(s),
        setupRequest: (req: object) => ({ ...req, path: `/api/v1/documents/crud/x-${n++}` }),
      },
    ],
  };
  await loadAtRate({ ...options, durationSeconds: 1 });
  const result = await loadAtRate(options);
  const server = await serverP99Ms(s, 'GET', '/api/v1/documents/crud/:id', '503');
  record('breaker-open-reject', result, {
    offeredRps: options.overallRate,
    serverP99Ms: server,
    note: 'every answer a 503 from the open documents breaker',
  });
  process.stderr.write(
    `  breaker-open-reject: client p99 ${result.rejectedP99Ms} ms, server p99 <= ${server} ms\n`,
  );
}

/** Bulk import/export sizes in `npm run bench` (BENCH_BULK_SIZES; `npm run bench:bulk` alone runs others). */
const BULK_SIZES = (process.env.BENCH_BULK_SIZES ?? '100000').split(',').map(Number);

/**
 * The anchor for writes: pgbench's TPC-B (`-c 50 -j 2 -T SECONDS`) on a scratch database of the same
 * PostgreSQL server; reqPerSec is its tps.
 */
async function pgbench(server: string): Promise<Scenario> {
  const name = `oms_pgbench_${process.pid}`;
  const url = new URL(server);
  const admin = new Client({ connectionString: server });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  try {
    url.pathname = `/${name}`;
    const run = (args: string[]) => {
      const result = spawnSync('pgbench', [...args, url.toString()], { encoding: 'utf8', timeout: 120_000 });
      if (result.status !== 0) throw new Error(`pgbench ${args.join(' ')}: ${result.stderr}`);
      return result.stdout;
    };
    run(['-i', '-q', '-s', '1']);
    const out = run(['-c', '50', '-j', '2', '-T', String(SECONDS)]);
    const tps = Number(/tps = ([\d.]+)/.exec(out)?.[1] ?? NaN);
    const latency = Number(/latency average = ([\d.]+) ms/.exec(out)?.[1] ?? NaN);
    process.stderr.write(`  pgbench-tpcb: ${tps} tps, latency average ${latency} ms\n`);
    return {
      name: 'pgbench-tpcb',
      reqPerSec: Math.round(tps),
      p50Ms: latency,
      p99Ms: 0,
      errors: 0,
      non2xx: 0,
      note: 'pgbench -c 50 -j 2 (TPC-B); p50Ms is its latency average',
    };
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  }
}

const find = (name: string) => scenarios.find((s) => s.name === name);

/** a / b of one figure of two scenarios, to three places (null when either is missing or zero). */
const ratioOf = (figure: 'reqPerSec' | 'cpuMsPerRequest', a: string, b: string) => {
  const x = find(a)?.[figure];
  const y = find(b)?.[figure];
  return x && y ? Math.round((x / y) * 1000) / 1000 : null;
};
const ratio = (a: string, b: string) => ratioOf('reqPerSec', a, b);

async function main(): Promise<void> {
  const started = Date.now();
  process.stderr.write(
    `bench: ${SECONDS} s per scenario, ${ROUNDS} rounds for comparisons, store ${process.env.DATABASE_URL ? 'postgres' : 'pglite'}, redis ${process.env.REDIS_URL ? 'on' : 'off'}\n`,
  );
  const redisOn = Boolean(process.env.REDIS_URL);
  const redis = (prefix: string): Record<string, string> =>
    redisOn
      ? { REDIS_URL: process.env.REDIS_URL!, REDIS_CACHE_PREFIX: `oms-bench-${prefix}-${process.pid}:` }
      : {};

  // Every instance up at once, so the scenarios compared with each other run side by side.
  const off = { ADMISSION_MODE: 'off' };
  const main = await startService({
    ...redis('main'),
    ...BULKHEAD,
    ...off,
    CIRCUIT_BREAKER_HALF_OPEN_AFTER_SECONDS: '3600',
  });
  const bare = await startService(
    { ...redis('bare'), ...BULKHEAD, ...off },
    join(__dirname, 'no-interceptors.js'),
  );
  const viaRedis = redisOn
    ? await startService({ ...redis('redis'), ...off, MEMORY_CACHE_TTL_SECONDS: '0' })
    : undefined;
  const miss = await startService({ ...off, MEMORY_CACHE_TTL_SECONDS: '0' });
  const typeBody = await seed(main);
  for (const s of [bare, viaRedis, miss]) if (s) await seed(s);
  const baseline = await startBaseline(typeBody);
  const typePath = '/api/v1/schemas/main/object-types/Person';
  const typeTag = (await api(main, 'GET', typePath)).etag!;
  const docPath = '/api/v1/documents/crud/p-1';

  process.stderr.write('[object type GET against the bare-Nest ceiling, interceptors on and off]\n');
  await compare([
    {
      name: 'baseline-nest',
      options: { url: `${baseline.url}/types/Person`, durationSeconds: SECONDS, pid: baseline.pid },
    },
    {
      name: 'type-get-hit',
      options: {
        url: `${main.url}${typePath}`,
        headers: auth(main),
        durationSeconds: SECONDS,
        pid: main.pid,
      },
    },
    {
      name: 'type-get-hit-no-interceptors',
      options: {
        url: `${bare.url}${typePath}`,
        headers: auth(bare),
        durationSeconds: SECONDS,
        pid: bare.pid,
      },
    },
    {
      name: 'type-304',
      options: {
        url: `${main.url}${typePath}`,
        headers: { ...auth(main), 'if-none-match': typeTag },
        durationSeconds: SECONDS,
        pid: main.pid,
      },
    },
  ]);
  await baseline.stop();
  await bare.stop();

  process.stderr.write('[document GET per cache tier]\n');
  await compare([
    {
      name: 'doc-get-hit',
      options: { url: `${main.url}${docPath}`, headers: auth(main), durationSeconds: SECONDS, pid: main.pid },
    },
    ...(viaRedis
      ? [
          {
            name: 'doc-get-redis',
            options: {
              url: `${viaRedis.url}${docPath}`,
              headers: auth(viaRedis),
              durationSeconds: SECONDS,
              pid: viaRedis.pid,
            },
          },
        ]
      : []),
    {
      name: 'doc-get-miss',
      options: { url: `${miss.url}${docPath}`, headers: auth(miss), durationSeconds: SECONDS, pid: miss.pid },
    },
  ]);
  if (!viaRedis) {
    scenarios.push({
      name: 'doc-get-redis',
      reqPerSec: 0,
      p50Ms: 0,
      p99Ms: 0,
      errors: 0,
      non2xx: 0,
      note: 'not run: REDIS_URL unset',
    });
  }
  await viaRedis?.stop();
  await miss.stop();

  const capacity = find('doc-get-hit')!.reqPerSec;
  process.stderr.write('[writes and lists]\n');
  await writes(main);
  process.stderr.write('[open breaker]\n');
  await breakerOpen(main, capacity);
  await main.stop();

  if (process.env.DATABASE_URL) {
    process.stderr.write('[anchor: pgbench TPC-B, 50 clients, on the same PostgreSQL]\n');
    scenarios.push(await pgbench(process.env.DATABASE_URL));
  }
  process.stderr.write('[bulk import and export]\n');
  for (const row of await bulkRows(BULK_SIZES, (line) => process.stderr.write(`  ${line}\n`))) {
    scenarios.push({
      name: row.name,
      reqPerSec: 0,
      p50Ms: 0,
      p99Ms: 0,
      errors: 0,
      non2xx: 0,
      docsPerSec: row.docsPerSec,
      seconds: row.seconds,
      cpuMsPerRequest: row.cpuMsPerDoc ?? null,
      peakRssMb: row.peakRssMb,
      note: 'per document: docsPerSec, cpuMsPerRequest (ms of server CPU per document), peakRssMb',
    });
  }

  process.stderr.write('[overload sweep: ADMISSION_MODE off and adaptive side by side]\n');
  const sweep = await overloadSweep({
    seconds: SECONDS,
    targetMs: P99_TARGET_MS,
    env: redis,
    log: (line) => process.stderr.write(`${line}\n`),
  });
  const ratios = {
    typeGetHitVsBaseline: ratio('type-get-hit', 'baseline-nest'),
    type304VsBaseline: ratio('type-304', 'baseline-nest'),
    interceptorsOnVsOff: ratio('type-get-hit', 'type-get-hit-no-interceptors'),
    docRedisHitVsMemoryHit: process.env.REDIS_URL ? ratio('doc-get-redis', 'doc-get-hit') : null,
    docMissVsMemoryHit: ratio('doc-get-miss', 'doc-get-hit'),
  };
  const rejecting = find('breaker-open-reject');
  const cpuRatio = (a: string, b: string) => ratioOf('cpuMsPerRequest', a, b);
  const onPostgres = Boolean(process.env.DATABASE_URL);
  const creates = find('doc-create-1-branch');
  const goals = [
    {
      goal: 'type-get-hit >= 0.85 x baseline-nest',
      value: ratios.typeGetHitVsBaseline,
      met: (ratios.typeGetHitVsBaseline ?? 0) >= 0.85,
    },
    {
      goal: 'type-get-hit CPU per request <= 1.25 x baseline-nest',
      value: cpuRatio('type-get-hit', 'baseline-nest'),
      met: (cpuRatio('type-get-hit', 'baseline-nest') ?? Infinity) <= 1.25,
    },
    {
      goal: 'type-304 >= 0.95 x baseline-nest',
      value: ratios.type304VsBaseline,
      met: (ratios.type304VsBaseline ?? 0) >= 0.95,
    },
    {
      goal: 'interceptors on/off >= 0.9',
      value: ratios.interceptorsOnVsOff,
      met: (ratios.interceptorsOnVsOff ?? 0) >= 0.9,
    },
    ...(process.env.REDIS_URL
      ? [
          {
            goal: 'doc-get-hit >= 1.2 x doc-get-redis >= doc-get-miss (req/s)',
            value: `${ratio('doc-get-hit', 'doc-get-redis')} / ${ratio('doc-get-redis', 'doc-get-miss')}`,
            met:
              (ratio('doc-get-hit', 'doc-get-redis') ?? 0) >= 1.2 &&
              (ratio('doc-get-redis', 'doc-get-miss') ?? 0) >= 1,
          },
        ]
      : [
          {
            goal: 'doc-get-hit CPU per request <= 0.3 x doc-get-miss',
            value: cpuRatio('doc-get-hit', 'doc-get-miss'),
            met: (cpuRatio('doc-get-hit', 'doc-get-miss') ?? Infinity) <= 0.3,
          },
        ]),
    onPostgres
      ? {
          goal: 'doc-create-1-branch >= 0.5 x pgbench-tpcb, p99 <= 100 ms',
          value: `${ratio('doc-create-1-branch', 'pgbench-tpcb')}, p99 ${creates?.p99Ms} ms`,
          met:
            (ratio('doc-create-1-branch', 'pgbench-tpcb') ?? 0) >= 0.5 && (creates?.p99Ms ?? Infinity) <= 100,
        }
      : {
          goal: 'doc-create-1-branch >= 1,000/s (PGlite)',
          value: creates?.reqPerSec ?? null,
          met: (creates?.reqPerSec ?? 0) >= 1000,
        },
    ...sweepGoals(sweep.points, 'hits').map(({ workload, ...g }) => ({
      ...g,
      goal: `${workload}: ${g.goal}`,
    })),
    ...sweepGoals(sweep.points, 'mixed').map(({ workload, ...g }) => ({
      ...g,
      goal: `${workload}: ${g.goal}`,
    })),
    {
      goal: 'breaker-open-reject p99 <= 5 ms (server-side; client-side beside it)',
      value: `${rejecting?.serverP99Ms} / ${rejecting?.rejectedP99Ms}`,
      met: (rejecting?.serverP99Ms ?? Infinity) <= 5,
    },
  ];

  console.table(scenarios.map(({ note: _, ...s }) => s));
  console.table(sweep.points);
  console.table(goals);
  console.log(
    `capacity (doc-get-hit, closed loop): ${capacity} req/s; sweep capacities ${JSON.stringify(sweep.capacity)}`,
  );
  const results = {
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, cpu: cpus()[0]?.model, node: process.version },
    store: process.env.DATABASE_URL ? 'postgres' : 'pglite',
    redis: Boolean(process.env.REDIS_URL),
    secondsPerScenario: SECONDS,
    p99TargetMs: P99_TARGET_MS,
    bulkhead: BULKHEAD,
    capacityRps: capacity,
    scenarios,
    sweep,
    ratios,
    goals,
    durationSeconds: Math.round((Date.now() - started) / 1000),
  };
  mkdirSync(join(__dirname, 'results'), { recursive: true });
  writeFileSync(join(__dirname, 'results', 'latest.json'), `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(join(__dirname, 'results', 'overload-latest.svg'), sweepPlot(sweep.points, P99_TARGET_MS));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
