/**
 * The overload sweep: fixed arrival rates from 0.5x to 5x of the measured capacity, for cache-hit document
 * GETs and for a mixed read/write load, against two instances side by side, ADMISSION_MODE=off and
 * adaptive (each rate runs on both before the next rate). Run alone with `npm run bench:overload`, or as
 * part of `npm run bench`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { load, percentile, round } from './lib/load';
import { OpenLoopResult, httpRequest, openLoop } from './lib/open-loop';
import { sweepPlot } from './lib/plot';
import { Service, metric, startService } from './lib/service';

export const FACTORS = (process.env.BENCH_FACTORS ?? '0.5,1,1.5,2,3,5').split(',').map(Number);
const WORKLOADS = (process.env.BENCH_WORKLOADS ?? 'hits,mixed').split(',') as ('hits' | 'mixed')[];
/** ADMISSION_* variables of the bench's environment go to the adaptive instance (to try other settings). */
const ADMISSION_ENV = Object.fromEntries(
  Object.entries(process.env).filter(
    (e): e is [string, string] =>
      e[0].startsWith('ADMISSION_') && e[0] !== 'ADMISSION_MODE' && e[1] !== undefined,
  ),
);
const MODES = ['off', 'adaptive'] as const;
type Mode = (typeof MODES)[number];
const DOCS = 200;
/** Each rate runs this long before its measured seconds (the onset; see limitTrace for the reaction). */
const WARMUP_SECONDS = 1;
/** Share of writes (PUT of a document) in the mixed load. */
const WRITE_SHARE = 0.2;

export interface SweepPoint {
  workload: 'hits' | 'mixed';
  mode: Mode;
  factor: number;
  offeredRps: number;
  /** 2xx answers within the latency target, per second. */
  goodputRps: number;
  okRps: number;
  shedRatio: number;
  p50Ms: number;
  p99AcceptedMs: number;
  rejectedP99Ms: number | null;
  /** Requests with no answer (connection error, or none within the drain time). */
  unanswered: number;
  clientBacklogPeak: number;
  /** The service's CPU time per answered request (µs), from process_cpu_seconds_total. */
  cpuUsPerRequest: number | null;
}

async function seed(s: Service): Promise<void> {
  const call = (method: string, path: string, body: unknown) =>
    fetch(`${s.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${s.token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  const type = await call('POST', '/api/v1/schemas/main/object-types', {
    name: 'Person',
    properties: [
      { name: 'name', dataType: 'string', required: true },
      { name: 'age', dataType: 'integer' },
    ],
  });
  if (type.status !== 201) throw new Error(`seed type: ${type.status}`);
  for (let i = 0; i < DOCS; i += 20) {
    const created = await Promise.all(
      Array.from({ length: 20 }, (_, j) =>
        call('POST', '/api/v1/documents/crud', {
          objectType: 'Person',
          id: `p-${i + j}`,
          properties: { name: `person ${i + j}`, age: (i + j) % 90 },
        }),
      ),
    );
    const failed = created.filter((r) => r.status !== 201);
    if (failed.length > 0)
      throw new Error(
        `seed documents: ${failed.map((r) => r.status).join(', ')}: ${await failed[0]!.text()}`,
      );
  }
}

interface Call {
  method: 'GET' | 'PUT';
  path: string;
  body?: string;
}

/** Request i of a workload: a GET of one of DOCS documents, or (mixed) every fifth a PUT of one. */
function call(workload: 'hits' | 'mixed', i: number): Call {
  const doc = (i * 7919) % DOCS;
  const path = `/api/v1/documents/crud/p-${doc}`;
  if (workload === 'hits' || i % Math.round(1 / WRITE_SHARE) !== 0) return { method: 'GET', path };
  return {
    method: 'PUT',
    path,
    body: JSON.stringify({ properties: { name: `person ${doc} v${i}`, age: i % 90 } }),
  };
}

/** The raw bytes of request i, for the open-loop generator (GETs built once). */
function requests(s: Service, workload: 'hits' | 'mixed'): (i: number) => Buffer {
  const host = new URL(s.url).host;
  const auth = { authorization: `Bearer ${s.token}` };
  const built = new Map<string, Buffer>();
  return (i) => {
    const { method, path, body } = call(workload, i);
    if (body !== undefined) return httpRequest(method, host, path, auth, body);
    let bytes = built.get(path);
    if (!bytes) built.set(path, (bytes = httpRequest(method, host, path, auth)));
    return bytes;
  };
}

/** Closed-loop capacity (50 connections) of a workload on one instance. */
async function capacity(s: Service, workload: 'hits' | 'mixed', seconds: number): Promise<number> {
  let n = 0;
  const headers = { authorization: `Bearer ${s.token}`, 'content-type': 'application/json' };
  const options = {
    url: s.url,
    durationSeconds: seconds,
    requests: [
      {
        // A fresh headers object each time: autocannon writes the body's Content-Length into it.
        setupRequest: (req: object) => ({ ...req, ...call(workload, n++), headers: { ...headers } }),
      },
    ],
  };
  await load({ ...options, durationSeconds: 1 });
  const result = await load(options);
  const failed = result.errors + result.non2xx;
  if (failed > result.reqPerSec * seconds * 0.01)
    throw new Error(`capacity run of ${workload}: ${failed} failed (${JSON.stringify(result.statuses)})`);
  return result.reqPerSec;
}

function summarise(
  workload: 'hits' | 'mixed',
  mode: Mode,
  factor: number,
  offered: number,
  r: OpenLoopResult,
  targetMs: number,
  cpuSeconds: number,
): SweepPoint {
  const accepted = [...r.accepted].sort((a, b) => a - b);
  const rejected = [...r.rejected].sort((a, b) => a - b);
  const total = Object.values(r.statuses).reduce((a, b) => a + b, 0);
  const ok = Object.entries(r.statuses)
    .filter(([code]) => code.startsWith('2'))
    .reduce((n, [, v]) => n + v, 0);
  return {
    workload,
    mode,
    factor,
    offeredRps: offered,
    goodputRps: Math.round(accepted.filter((l) => l <= targetMs).length / r.seconds),
    okRps: Math.round(ok / r.seconds),
    shedRatio: total === 0 ? 0 : Math.round(((r.statuses['503'] ?? 0) / total) * 1000) / 1000,
    p50Ms: round(percentile(accepted, 50)),
    p99AcceptedMs: round(percentile(accepted, 99)),
    rejectedP99Ms: rejected.length > 0 ? round(percentile(rejected, 99)) : null,
    unanswered: r.statuses['0'] ?? 0,
    clientBacklogPeak: r.clientBacklogPeak,
    cpuUsPerRequest:
      r.answersIncludingWarmup > 0 ? Math.round((cpuSeconds * 1e6) / r.answersIncludingWarmup) : null,
  };
}

export interface SweepResult {
  capacity: Record<'hits' | 'mixed', number>;
  points: SweepPoint[];
  /** Admission limit of the adaptive instance, sampled every 250 ms through the whole sweep. */
  limitTrace: { t: number; limit: number }[];
}

export async function overloadSweep(options: {
  seconds: number;
  targetMs: number;
  env: (name: string) => Record<string, string>;
  log: (line: string) => void;
}): Promise<SweepResult> {
  const services = {} as Record<Mode, Service>;
  for (const mode of MODES)
    services[mode] = await startService({
      ...options.env(`sweep-${mode}`),
      ...(mode === 'adaptive' ? ADMISSION_ENV : {}),
      ADMISSION_MODE: mode,
    });
  const points: SweepPoint[] = [];
  const limitTrace: { t: number; limit: number }[] = [];
  const started = Date.now();
  const tracer = setInterval(() => {
    void metric(services.adaptive, 'admission_limit')
      .then((limit) => limitTrace.push({ t: Date.now() - started, limit }))
      .catch(() => undefined);
  }, 250);
  try {
    for (const s of Object.values(services)) await seed(s);
    const caps = {} as Record<'hits' | 'mixed', number>;
    for (const workload of WORKLOADS) {
      // Capacity from the instance without admission: what the server does when nothing is refused.
      caps[workload] = await capacity(services.off, workload, options.seconds);
      options.log(`  capacity ${workload}: ${caps[workload]} req/s (closed loop, ADMISSION_MODE=off)`);
      for (const s of Object.values(services)) {
        await openLoop({
          url: s.url,
          rate: caps[workload] / 2,
          durationSeconds: 1,
          request: requests(s, workload),
        });
      }
      for (const [index, factor] of FACTORS.entries()) {
        const offered = Math.round(caps[workload] * factor);
        // Alternate which mode goes first, so that drift on the machine favours neither.
        const order = index % 2 === 0 ? MODES : [...MODES].reverse();
        for (const mode of order) {
          const s = services[mode];
          await sleep(1_500); // the adaptive limit is back at its ceiling after ~1 s idle
          const cpuBefore = await metric(s, 'process_cpu_seconds_total');
          const result = await openLoop({
            url: s.url,
            rate: offered,
            warmupSeconds: WARMUP_SECONDS,
            durationSeconds: options.seconds,
            request: requests(s, workload),
          });
          const cpu = (await metric(s, 'process_cpu_seconds_total')) - cpuBefore;
          const point = summarise(workload, mode, factor, offered, result, options.targetMs, cpu);
          points.push(point);
          options.log(
            `  ${workload} ${factor}x ${mode}: offered ${offered}, goodput ${point.goodputRps}, ` +
              `p99 ${point.p99AcceptedMs} ms, shed ${point.shedRatio}, rejected p99 ${point.rejectedP99Ms} ms, ` +
              `cpu ${point.cpuUsPerRequest} µs/req`,
          );
        }
      }
    }
    return { capacity: caps, points, limitTrace };
  } finally {
    clearInterval(tracer);
    for (const s of Object.values(services)) await s.stop();
  }
}

/** The goals of the admission issue, for one workload, from the sweep's points. */
export function sweepGoals(points: SweepPoint[], workload: 'hits' | 'mixed') {
  const of = (mode: Mode, factor: number) =>
    points.find((p) => p.workload === workload && p.mode === mode && p.factor === factor);
  const adaptive = points.filter((p) => p.workload === workload && p.mode === 'adaptive');
  const peak = Math.max(...adaptive.map((p) => p.goodputRps));
  const ratio = (a: number | undefined, b: number | undefined) =>
    a === undefined || !b ? null : Math.round((a / b) * 1000) / 1000;
  const at3 = ratio(of('adaptive', 3)?.goodputRps, peak);
  const at5 = ratio(of('adaptive', 5)?.goodputRps, peak);
  const p99 = ratio(of('adaptive', 3)?.p99AcceptedMs, of('adaptive', 0.5)?.p99AcceptedMs);
  const rejection = of('adaptive', 3)?.rejectedP99Ms ?? null;
  const noRegression = ratio(of('adaptive', 0.5)?.okRps, of('off', 0.5)?.okRps);
  return [
    { workload, goal: 'goodput at 3x >= 0.9 x peak', value: at3, met: (at3 ?? 0) >= 0.9 },
    { workload, goal: 'goodput at 5x >= 0.8 x peak', value: at5, met: (at5 ?? 0) >= 0.8 },
    { workload, goal: 'p99 accepted at 3x <= 2 x at 0.5x', value: p99, met: p99 !== null && p99 <= 2 },
    {
      workload,
      goal: 'rejection p99 at 3x <= 5 ms (client)',
      value: rejection,
      met: rejection !== null && rejection <= 5,
    },
    {
      workload,
      goal: '2xx/s at 0.5x, adaptive / off >= 0.97',
      value: noRegression,
      met: (noRegression ?? 0) >= 0.97,
    },
  ];
}

if (require.main === module) {
  const seconds = Number(process.env.BENCH_SECONDS ?? 5);
  const targetMs = Number(process.env.BENCH_P99_TARGET_MS ?? 50);
  const redis = (name: string): Record<string, string> =>
    process.env.REDIS_URL
      ? { REDIS_URL: process.env.REDIS_URL, REDIS_CACHE_PREFIX: `oms-bench-${name}-${process.pid}:` }
      : {};
  overloadSweep({ seconds, targetMs, env: redis, log: (l) => process.stderr.write(`${l}\n`) })
    .then((result) => {
      console.table(result.points);
      console.table([...sweepGoals(result.points, 'hits'), ...sweepGoals(result.points, 'mixed')]);
      mkdirSync(join(__dirname, 'results'), { recursive: true });
      writeFileSync(
        join(__dirname, 'results', 'overload-latest.json'),
        `${JSON.stringify(result, null, 2)}\n`,
      );
      writeFileSync(join(__dirname, 'results', 'overload-latest.svg'), sweepPlot(result.points, targetMs));
    })
    .catch((error: unknown) => {
      console.error(error);
      process.exit(1);
    });
}
