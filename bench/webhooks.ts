/**
 * npm run bench:webhooks — does a receiver that is down slow commits? Four services side by side, on the
 * store DATABASE_URL names (PGlite without it): one without webhooks, and three with a webhook on `main`
 * whose receiver answers 204 at once (healthy), refuses connections (down), or accepts and never answers
 * (hanging: each delivery waits out WEBHOOK_TIMEOUT_MS). The same document creates (50 clients, one branch)
 * run on each in rotating order (BENCH_ROUNDS, default 6, of BENCH_SECONDS, default 5); each side reports its
 * median req/s, p99 and server CPU per request, and the ratios to the healthy side and to the side without
 * webhooks. Goal: p99 with a receiver down within 1.2× of without.
 */
import { Server, createServer } from 'node:http';
import { Server as NetServer, Socket, createServer as createNetServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { freePort } from '../test/support/free-port';
import { LoadOptions, LoadResult, load } from './lib/load';
import { PERSON_TYPE } from './lib/fixtures';
import { Service, startService } from './lib/service';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 6);
const SIDES = ['none', 'healthy', 'down', 'hanging'] as const;
type Side = (typeof SIDES)[number];

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const ratio = (a: number, b: number) => Math.round((a / b) * 1000) / 1000;

/** A receiver that answers 204 at once, counting what it got. */
async function healthyReceiver(): Promise<{ url: string; received: () => number; close: () => void }> {
  let received = 0;
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      received++;
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    received: () => received,
    close: () => server.close(),
  };
}

/** A receiver that accepts connections and never answers. */
async function hangingReceiver(): Promise<{ url: string; close: () => void }> {
  const sockets = new Set<Socket>();
  const server: NetServer = createNetServer((socket) => {
    sockets.add(socket);
    socket.on('data', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    close: () => {
      for (const socket of sockets) socket.destroy();
      server.close();
    },
  };
}

/** The type the creates need, and (unless url is null) a webhook on main. */
async function subscribe(s: Service, url: string | null): Promise<void> {
  const headers = { authorization: `Bearer ${s.token}`, 'content-type': 'application/json' };
  const type = await fetch(`${s.url}/api/v1/schemas/main/object-types`, {
    method: 'POST',
    headers,
    body: JSON.stringify(PERSON_TYPE),
  });
  if (type.status !== 201) throw new Error(`type: ${type.status}`);
  if (url === null) return;
  const hook = await fetch(`${s.url}/api/v1/webhooks`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ url, branches: ['main'] }),
  });
  if (hook.status !== 201) throw new Error(`webhook: ${hook.status} ${await hook.text()}`);
}

async function main(): Promise<void> {
  const healthy = await healthyReceiver();
  const hanging = await hangingReceiver();
  const down = `http://127.0.0.1:${await freePort()}/hook`; // nothing listens there
  const env = { ADMISSION_MODE: 'off', WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true' };
  const sides: Record<Side, Service> = {
    none: await startService(env),
    healthy: await startService(env),
    down: await startService(env),
    hanging: await startService(env),
  };
  await subscribe(sides.none, null);
  await subscribe(sides.healthy, healthy.url);
  await subscribe(sides.down, down);
  await subscribe(sides.hanging, hanging.url);

  let created = 0;
  const creates = (s: Service): Omit<LoadOptions, 'durationSeconds'> => ({
    url: `${s.url}/api/v1/documents/crud`,
    connections: 50,
    requests: [
      {
        method: 'POST',
        headers: { authorization: `Bearer ${s.token}`, 'content-type': 'application/json' },
        setupRequest: (req) => ({
          ...req,
          body: JSON.stringify({ objectType: 'Person', id: `wh-${created++}`, properties: { name: 'n' } }),
        }),
      },
    ],
  });
  for (const side of SIDES) await load({ ...creates(sides[side]), durationSeconds: 1 }); // warm-up
  const runs: Record<Side, LoadResult[]> = { none: [], healthy: [], down: [], hanging: [] };
  for (let round = 0; round < ROUNDS; round++) {
    // Each side goes first, second and third in turn.
    const order = SIDES.map((_, i) => SIDES[(i + round) % SIDES.length]!);
    for (const side of order) {
      runs[side].push(
        await load({ ...creates(sides[side]), durationSeconds: SECONDS, pid: sides[side].pid }),
      );
    }
  }
  const figure = (side: Side) => ({
    reqPerSec: median(runs[side].map((r) => r.reqPerSec)),
    p99Ms: median(runs[side].map((r) => r.p99Ms)),
    cpuMsPerRequest: median(runs[side].map((r) => r.cpuMsPerRequest ?? NaN)),
    errors: runs[side].reduce((n, r) => n + r.errors + r.non2xx, 0),
  });
  const [without, healthySide] = [figure('none'), figure('healthy')];
  const rows = SIDES.map((side) => {
    const f = figure(side);
    return {
      receiver: side,
      reqPerSec: f.reqPerSec,
      p99Ms: f.p99Ms,
      cpuMsPerRequest: f.cpuMsPerRequest,
      errors: f.errors,
      p99VsNone: ratio(f.p99Ms, without.p99Ms),
      p99VsHealthy: ratio(f.p99Ms, healthySide.p99Ms),
      reqPerSecVsNone: ratio(f.reqPerSec, without.reqPerSec),
      cpuVsNone: ratio(f.cpuMsPerRequest, without.cpuMsPerRequest),
    };
  });
  const backlog = await Promise.all(
    SIDES.map(async (side) => {
      const text = await (await fetch(sides[side].metricsUrl)).text();
      const value = (name: string) => Number(new RegExp(`^${name} (\\S+)`, 'm').exec(text)?.[1] ?? NaN);
      return {
        receiver: side,
        pending: value('webhook_pending'),
        deadLetters: value('webhook_dead_letters'),
      };
    }),
  );
  for (const side of SIDES) await sides[side].stop();
  healthy.close();
  hanging.close();
  console.table(rows);
  console.table(backlog);
  console.log(`healthy receiver got ${healthy.received()} deliveries`);
  const worst = Math.max(
    ...rows.filter((r) => r.receiver === 'down' || r.receiver === 'hanging').map((r) => r.p99VsNone),
  );
  console.log(
    `goal: create p99 with a receiver down or hanging within 1.2x of without: ${worst <= 1.2 ? 'met' : 'MISSED'} (${worst})`,
  );
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
