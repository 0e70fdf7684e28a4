import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { StoreLocation } from '@oms/store';

const ROOT = join(__dirname, '../..');

/** The variables that point the built service at a provisioned store. */
export function storeEnv(location: StoreLocation): Record<string, string> {
  return {
    DATA_DIR: location.dataDir,
    ...(location.databaseUrl ? { DATABASE_URL: location.databaseUrl } : {}),
  };
}

/**
 * For a suite of process tests on one store target: provisions a store once, and hands out the variables
 * that point a service at it (`extra` beside them); a service a test leaves running is killed after it.
 */
export function processSuite(
  target: { provision(): Promise<{ location: StoreLocation; cleanup: () => Promise<void> }> },
  extra: Record<string, string>,
): { readonly env: Record<string, string> } {
  const suite = { env: {} as Record<string, string> };
  let cleanup: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    const provisioned = await target.provision();
    cleanup = provisioned.cleanup;
    suite.env = { ...storeEnv(provisioned.location), ...extra };
  });
  afterEach(stopStartedServices);
  afterAll(() => cleanup?.());
  return suite;
}

/** Every service started and not yet seen to exit, so that a suite can stop what a test left running. */
const running = new Set<ChildProcess>();

/** For `afterEach`: kills (SIGKILL) every service a test started and left running. */
export async function stopStartedServices(): Promise<void> {
  const left = [...running].filter((child) => child.exitCode === null && child.signalCode === null);
  running.clear();
  await Promise.all(
    left.map((child) => new Promise<void>((resolve) => child.once('exit', () => resolve()).kill('SIGKILL'))),
  );
}
export const MAIN = join(ROOT, 'dist/apps/oms/src/main.js');
export const CREATE_ADMIN = join(ROOT, 'dist/apps/oms/src/cli/create-admin.js');

/** The process suites run the built service, as users do; `npm test` builds first. */
export function requireBuild(): void {
  if (!existsSync(MAIN) || !existsSync(CREATE_ADMIN)) {
    throw new Error(`${MAIN} is missing: run \`npm run build\` (npm test does it) before the process suites`);
  }
}

export interface RunningService {
  port: number;
  url: string;
  /** GET /metrics on METRICS_PORT, as the service logged it when it started listening. */
  metricsUrl: string;
  process: ChildProcess;
  /** Every JSON log line on stdout so far: `{ level, pid, timestamp, context?, message, ...fields }`. */
  logs: Record<string, unknown>[];
  stderr: string[];
  /** Sends a signal and resolves with the exit code (or the signal name). */
  stop(signal?: NodeJS.Signals): Promise<number | string>;
}

const BASE_ENV = {
  OMS_ENV: 'test',
  LOG_LEVEL: 'info',
  PORT: '0',
  METRICS_PORT: '0',
  PATH: process.env.PATH ?? '',
};

/**
 * Starts the built service with env and waits (bounded) until it logs that it listens: `node dist/.../main.js`,
 * or as `npm start` runs it after its build (`npm run serve`), when `via` is 'npm'.
 */
export function startService(
  env: Record<string, string>,
  timeoutMs = 30_000,
  via: 'node' | 'npm' = 'node',
): Promise<RunningService> {
  requireBuild();
  const child =
    via === 'node'
      ? spawn(process.execPath, [MAIN], { env: { ...BASE_ENV, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn('npm', ['run', '-s', 'serve'], {
          cwd: ROOT,
          env: { ...BASE_ENV, HOME: process.env.HOME ?? ROOT, ...env },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
  running.add(child);
  child.once('exit', () => running.delete(child));
  const logs: Record<string, unknown>[] = [];
  const stderr: string[] = [];
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')),
  );
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`service did not start within ${timeoutMs} ms: ${stderr.join('')}`));
    }, timeoutMs);
    let buffer = '';
    child.stdout.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      let newline: number;
      while ((newline = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        try {
          const entry = JSON.parse(line) as Record<string, unknown>;
          logs.push(entry);
          if (entry.message === 'OMS listening' && typeof entry.port === 'number') {
            clearTimeout(timer);
            const port = entry.port;
            resolve({
              port,
              url: `http://127.0.0.1:${port}`,
              metricsUrl: `http://127.0.0.1:${String(entry.metricsPort)}/metrics`,
              process: child,
              logs,
              stderr,
              stop: (signal = 'SIGTERM') => {
                child.kill(signal);
                return exited;
              },
            });
          }
        } catch {
          logs.push({ unparsed: line });
        }
      }
    });
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`service exited (${code}) before listening: ${stderr.join('')}`));
    });
  });
}

/** Runs the built create-admin CLI to completion. */
export function runCreateAdmin(args: string[], env: Record<string, string>) {
  requireBuild();
  return spawnSync(process.execPath, [CREATE_ADMIN, ...args], {
    env: { ...BASE_ENV, ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
}

/** Runs the built service expecting it to refuse to start. */
export function runServiceToExit(env: Record<string, string>) {
  requireBuild();
  return spawnSync(process.execPath, [MAIN], {
    env: { ...BASE_ENV, ...env },
    encoding: 'utf8',
    timeout: 30_000,
  });
}

/** One HTTP request to a running service, its body parsed as JSON (undefined when empty). */
export async function callService(
  service: RunningService,
  method: string,
  path: string,
  token?: string,
  body?: unknown,
) {
  const res = await fetch(`${service.url}${path}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return {
    status: res.status,
    headers: res.headers,
    body: text
      ? (JSON.parse(text) as Record<string, unknown> & { items?: { id: string }[]; accessToken?: string })
      : undefined,
  };
}
