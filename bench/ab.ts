/**
 * npm run bench:ab -- OTHER_ROOT — this build against another checkout's build (OTHER_ROOT/dist, e.g. a
 * worktree of the previous commit), side by side: both services up at once, the same requests in
 * alternating rounds (A B, A B, …; BENCH_ROUNDS, default 6, of BENCH_SECONDS, default 5), reporting each
 * side's median req/s, p99 and server CPU per request, and their ratio. Scenarios: a cache-hit object type
 * GET, its 304, and document creates by 50 clients on one branch.
 */
import { join, resolve } from 'node:path';
import { LoadOptions, LoadResult, load } from './lib/load';
import { Service, startService } from './lib/service';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 6);

async function seed(s: Service): Promise<string> {
  const type = { name: 'Person', properties: [{ name: 'name', dataType: 'string', required: true }] };
  const headers = { authorization: `Bearer ${s.token}`, 'content-type': 'application/json' };
  const res = await fetch(`${s.url}/api/v1/schemas/main/object-types`, {
    method: 'POST',
    headers,
    body: JSON.stringify(type),
  });
  if (res.status !== 201) throw new Error(`seed: ${res.status}`);
  return res.headers.get('etag')!;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function main(): Promise<void> {
  const other = process.argv[2];
  if (!other) throw new Error('usage: npm run bench:ab -- OTHER_ROOT (a checkout with a build in dist/)');
  const env = { ADMISSION_MODE: 'off' };
  const sides = {
    this: await startService(env),
    other: await startService(env, undefined, [], join(resolve(other), 'dist/apps/oms/src/main.js')),
  };
  const tags = { this: await seed(sides.this), other: await seed(sides.other) };
  const type = '/api/v1/schemas/main/object-types/Person';
  let created = 0;
  const scenarios: Record<string, (s: Service, tag: string) => Omit<LoadOptions, 'durationSeconds'>> = {
    'type-get-hit': (s) => ({ url: `${s.url}${type}`, headers: { authorization: `Bearer ${s.token}` } }),
    'type-304': (s, tag) => ({
      url: `${s.url}${type}`,
      headers: { authorization: `Bearer ${s.token}`, 'if-none-match': tag },
    }),
    // Creates by 50 clients on one branch: where group commit shows.
    'doc-create-1-branch': (s) => ({
      url: `${s.url}/api/v1/documents/crud`,
      connections: 50,
      requests: [
        {
          method: 'POST',
          headers: { authorization: `Bearer ${s.token}`, 'content-type': 'application/json' },
          setupRequest: (req) => ({
            ...req,
            body: JSON.stringify({ objectType: 'Person', id: `ab-${created++}`, properties: { name: 'n' } }),
          }),
        },
      ],
    }),
  };
  const rows = [];
  for (const [name, scenario] of Object.entries(scenarios)) {
    const runs: Record<'this' | 'other', LoadResult[]> = { this: [], other: [] };
    for (const side of ['this', 'other'] as const) {
      await load({ ...scenario(sides[side], tags[side]), durationSeconds: 1 });
    }
    const orders: ('this' | 'other')[][] = [
      ['this', 'other'],
      ['other', 'this'],
    ];
    for (let round = 0; round < ROUNDS; round++) {
      for (const side of orders[round % 2]!) {
        const s = sides[side];
        runs[side].push(
          await load({
            ...scenario(s, tags[side]),
            durationSeconds: SECONDS,
            pid: s.pid,
          }),
        );
      }
    }
    const figure = (side: 'this' | 'other') => ({
      reqPerSec: median(runs[side].map((r) => r.reqPerSec)),
      cpuMsPerRequest: median(runs[side].map((r) => r.cpuMsPerRequest ?? NaN)),
      p99Ms: median(runs[side].map((r) => r.p99Ms)),
    });
    const a = figure('this');
    const b = figure('other');
    rows.push({
      scenario: name,
      thisReqPerSec: a.reqPerSec,
      otherReqPerSec: b.reqPerSec,
      reqPerSecRatio: Math.round((a.reqPerSec / b.reqPerSec) * 1000) / 1000,
      thisCpuMs: a.cpuMsPerRequest,
      otherCpuMs: b.cpuMsPerRequest,
      cpuRatio: Math.round((a.cpuMsPerRequest / b.cpuMsPerRequest) * 1000) / 1000,
      thisP99Ms: a.p99Ms,
      otherP99Ms: b.p99Ms,
    });
  }
  await sides.this.stop();
  await sides.other.stop();
  console.table(rows);
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
