import { ChildProcess, spawn } from 'node:child_process';
import { freePort } from '../../test/support/free-port';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'pg';

const ROOT = join(__dirname, '..', '..');
export const ADMIN = { username: 'bench', password: 'bench-password-1' };

export interface Service {
  /** The service's process id (for its memory, from /proc). */
  pid: number;
  url: string;
  metricsUrl: string;
  token: string;
  stop(): Promise<void>;
}

async function waitFor(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not yet
    }
    await sleep(100);
  }
  throw new Error(`${url} did not answer within ${timeoutMs} ms`);
}

/** A fresh store for one instance: a PGlite directory, or a database on DATABASE_URL's server. */
async function freshStore(): Promise<{ env: Record<string, string>; drop: () => Promise<void> }> {
  const server = process.env.DATABASE_URL;
  if (!server) {
    const dir = mkdtempSync(join(tmpdir(), 'oms-bench-'));
    return {
      env: { DATA_DIR: dir },
      drop: () => Promise.resolve(rmSync(dir, { recursive: true, force: true })),
    };
  }
  const name = `oms_bench_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  const admin = new Client({ connectionString: server });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(server);
  url.pathname = `/${name}`;
  return {
    env: { DATABASE_URL: url.toString() },
    drop: async () => {
      const c = new Client({ connectionString: server });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

/** Starts the built service in production mode on free loopback ports and logs in as admin. */
export async function startService(
  env: Record<string, string>,
  preload?: string,
  /** Node's own options (e.g. --cpu-prof, which NODE_OPTIONS does not take). */
  nodeArgs: string[] = [],
  /** The built service to run: this checkout's, or another's (bench/ab.ts compares two builds). */
  mainJs = join(ROOT, 'dist/apps/oms/src/main.js'),
): Promise<Service> {
  const [port, metricsPort] = [await freePort(), await freePort()];
  const store = await freshStore();
  const child: ChildProcess = spawn(
    process.execPath,
    [...nodeArgs, ...(preload ? ['-r', preload] : []), mainJs],
    {
      cwd: ROOT,
      stdio: ['ignore', 'ignore', 'inherit'],
      env: {
        PATH: process.env.PATH ?? '',
        OMS_ENV: 'production',
        LOG_LEVEL: 'warn',
        JWT_SECRET: 'bench-secret-bench-secret-bench-secret-0123',
        OMS_ADMIN_USERNAME: ADMIN.username,
        OMS_ADMIN_PASSWORD: ADMIN.password,
        FAULT_INJECTION_ENABLED: 'true',
        ALLOW_FAULT_INJECTION_IN_PRODUCTION: 'true',
        PORT: String(port),
        METRICS_PORT: String(metricsPort),
        ...store.env,
        ...env,
      },
    },
  );
  const url = `http://127.0.0.1:${port}`;
  await waitFor(`${url}/health/ready`, 60_000);
  const login = await fetch(`${url}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(ADMIN),
  });
  const token = ((await login.json()) as { accessToken: string }).accessToken;
  return {
    pid: child.pid!,
    url,
    metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`,
    token,
    stop: async () => {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(10_000)]);
      if (child.exitCode === null) child.kill('SIGKILL');
      await store.drop();
    },
  };
}

/** One unlabelled series of the service's /metrics (NaN when absent). */
export async function metric(s: Service, name: string): Promise<number> {
  const text = await (await fetch(s.metricsUrl)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.split(' ')[1]) : NaN;
}

/** The bare-Nest baseline process. */
export async function startBaseline(
  body: string,
): Promise<{ pid: number; url: string; stop: () => Promise<void> }> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    ['-r', 'ts-node/register/transpile-only', join(ROOT, 'bench/baseline-server.ts')],
    {
      cwd: ROOT,
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...process.env, BASELINE_PORT: String(port), BASELINE_BODY: body },
    },
  );
  const url = `http://127.0.0.1:${port}`;
  await waitFor(`${url}/types/Person`, 30_000);
  return {
    pid: child.pid!,
    url,
    stop: async () => {
      child.kill('SIGTERM');
      await sleep(100);
    },
  };
}
