/**
 * npm run bench:edge — what a refusal costs the server, by where it is made: OMS's edge admission on the
 * server's request listener (every request refused), the same 503 from Express's first middleware, and a
 * plain 200 from bare node:http for scale. Each server runs in its own process; autocannon (50 connections)
 * loads it closed-loop; the figure is the server's CPU time (process.cpuUsage) per request.
 */
import { fork } from 'node:child_process';
import { createServer, IncomingMessage, ServerResponse } from 'node:http';
import autocannon from 'autocannon';
import express from 'express';
import { AdmissionController, FixedLimit, admitAtTheEdge } from '@oms/resilience';

const SERVERS = ['edge-listener', 'express-first-middleware', 'bare-200'] as const;
type Kind = (typeof SERVERS)[number];
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const BODY = JSON.stringify({
  type: 'urn:oms:problem:unavailable',
  title: 'Service unavailable',
  status: 503,
});

function serve(kind: Kind): void {
  const never = (_req: IncomingMessage, res: ServerResponse) => res.end('served');
  const server =
    kind === 'express-first-middleware'
      ? createServer(
          express().use((_req, res) => {
            res
              .status(503)
              .set({ 'retry-after': '1', 'cache-control': 'no-store' })
              .type('application/problem+json');
            res.send(BODY);
          }),
        )
      : createServer(kind === 'bare-200' ? (_req, res) => res.end('ok') : never);
  if (kind === 'edge-listener') admitAtTheEdge(server, new AdmissionController(new FixedLimit(0)));
  let since = process.cpuUsage();
  let requests = 0;
  server.on('request', () => requests++);
  server.listen(0, '127.0.0.1', () => process.send!({ port: (server.address() as { port: number }).port }));
  process.on('message', (message) => {
    if (message === 'start') {
      since = process.cpuUsage();
      requests = 0;
    } else {
      const used = process.cpuUsage(since);
      process.send!({ requests, cpuUsPerRequest: (used.user + used.system) / requests });
    }
  });
}

async function measure(kind: Kind) {
  const child = fork(__filename, [kind], { execArgv: process.execArgv });
  const next = () =>
    new Promise<Record<string, number>>((resolve) => child.once('message', resolve as never));
  const { port } = await next();
  const options = { url: `http://127.0.0.1:${port}/api/v1/documents/crud/p-1`, connections: 50 };
  await autocannon({ ...options, duration: 1 });
  child.send('start');
  const result = await autocannon({ ...options, duration: SECONDS });
  child.send('stop');
  const { cpuUsPerRequest } = await next();
  child.kill();
  return {
    server: kind,
    reqPerSec: Math.round(result.requests.average),
    status: Object.keys(result.statusCodeStats ?? {}).join(','),
    serverCpuUsPerRequest: Math.round(cpuUsPerRequest! * 10) / 10,
  };
}

const kind = process.argv[2] as Kind | undefined;
if (kind) serve(kind);
else
  (async () => {
    const rows = [];
    for (const k of SERVERS) rows.push(await measure(k));
    console.table(rows);
  })().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
