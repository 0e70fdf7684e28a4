import autocannon from 'autocannon';
import { readFileSync } from 'node:fs';

/** Clock ticks per second of /proc's CPU times (`getconf CLK_TCK`: 100 on Linux). */
const CLOCK_TICKS = 100;

/** CPU time (user + system) a process has used so far, in ms, from /proc/<pid>/stat. */
export function processCpuMs(pid: number): number {
  // The command name (field 2) is in parentheses and may hold spaces: count fields after its ')'.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS; // utime, stime (fields 14, 15)
}

export interface LoadOptions {
  url: string;
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH';
  headers?: Record<string, string>;
  body?: string;
  /** Per-request customisation (e.g. a fresh id); see autocannon's `requests`. */
  requests?: autocannon.Request[];
  connections?: number;
  durationSeconds: number;
  /** Fixed-rate mode: this many requests per second in all (open loop). */
  overallRate?: number;
  /** The server's process: its CPU time per request is reported (cpuMsPerRequest). */
  pid?: number;
}

export interface LoadResult {
  reqPerSec: number;
  /** Accepted (2xx/3xx) requests only. */
  p50Ms: number;
  p99Ms: number;
  errors: number;
  non2xx: number;
  /** Latency of rejected (5xx) requests, apart from the accepted ones. */
  rejectedP99Ms: number | null;
  statuses: Record<string, number>;
  /** Accepted responses within the given latency target, per second. */
  goodputRps: (targetMs: number) => number;
  /** The server's CPU time per answered request (ms), when its pid was given. */
  cpuMsPerRequest: number | null;
}

/** The p-th percentile of values sorted ascending (0 when there are none). */
export const percentile = (sorted: number[], p: number): number => {
  if (sorted.length === 0) return 0;
  const value = sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
  if (value === undefined) throw new Error(`no p${p} among ${sorted.length} latencies`);
  return value;
};
export const round = (n: number) => Math.round(n * 100) / 100;

/**
 * Fixed-rate load without synchronised bursts: autocannon paces each connection per second, and all its
 * connections start together, so one instance sends its whole second's quota at once. Here `instances`
 * autocannon runs share the rate and start staggered across a second, so arrivals are spread out.
 */
export async function loadAtRate(
  options: LoadOptions & { overallRate: number },
  instances = 10,
): Promise<LoadResult> {
  const connections = Math.max(instances, options.connections ?? 200);
  const cpuBefore = options.pid === undefined ? 0 : processCpuMs(options.pid);
  const runs = await Promise.all(
    Array.from({ length: instances }, async (_, i) => {
      await new Promise((resolve) => setTimeout(resolve, (i * 1000) / instances));
      return collect({
        ...options,
        connections: Math.floor(connections / instances),
        overallRate: Math.max(1, Math.round(options.overallRate / instances)),
      });
    }),
  );
  return summarise(
    options.durationSeconds,
    runs.flatMap((r) => r.accepted),
    runs.flatMap((r) => r.rejected),
    runs.reduce<Record<string, number>>((all, r) => {
      for (const [k, v] of Object.entries(r.statuses)) all[k] = (all[k] ?? 0) + v;
      return all;
    }, {}),
    runs.reduce((n, r) => n + r.errors, 0),
    options.pid === undefined ? null : processCpuMs(options.pid) - cpuBefore,
  );
}

/** One autocannon run; latencies are recorded per response so accepted and rejected are reported apart. */
export async function load(options: LoadOptions): Promise<LoadResult> {
  const cpuBefore = options.pid === undefined ? 0 : processCpuMs(options.pid);
  const run = await collect(options);
  const cpuMs = options.pid === undefined ? null : processCpuMs(options.pid) - cpuBefore;
  return summarise(options.durationSeconds, run.accepted, run.rejected, run.statuses, run.errors, cpuMs);
}

interface Collected {
  accepted: number[];
  rejected: number[];
  statuses: Record<string, number>;
  errors: number;
}

function summarise(
  seconds: number,
  accepted: number[],
  rejected: number[],
  statuses: Record<string, number>,
  errors: number,
  cpuMs: number | null,
): LoadResult {
  accepted.sort((a, b) => a - b);
  rejected.sort((a, b) => a - b);
  const total = Object.values(statuses).reduce((a, b) => a + b, 0);
  const ok = Object.entries(statuses)
    .filter(([code]) => code.startsWith('2'))
    .reduce((n, [, v]) => n + v, 0);
  return {
    reqPerSec: Math.round(total / seconds),
    p50Ms: round(percentile(accepted, 50)),
    p99Ms: round(percentile(accepted, 99)),
    errors,
    non2xx: total - ok,
    rejectedP99Ms: rejected.length > 0 ? round(percentile(rejected, 99)) : null,
    statuses,
    goodputRps: (targetMs) => Math.round(accepted.filter((l) => l <= targetMs).length / seconds),
    cpuMsPerRequest: cpuMs === null || total === 0 ? null : Math.round((cpuMs / total) * 10_000) / 10_000,
  };
}

function collect(options: LoadOptions): Promise<Collected> {
  const accepted: number[] = [];
  const rejected: number[] = [];
  const statuses: Record<string, number> = {};
  return new Promise<Collected>((resolve, reject) => {
    const instance = autocannon(
      {
        url: options.url,
        method: options.method ?? 'GET',
        headers: options.headers,
        body: options.body,
        requests: options.requests,
        connections: options.connections ?? 50,
        duration: options.durationSeconds,
        overallRate: options.overallRate,
        timeout: 10,
      },
      (error, result) => {
        if (error) return reject(error instanceof Error ? error : new Error(String(error)));
        resolve({ accepted, rejected, statuses, errors: result.errors + result.timeouts });
      },
    );
    instance.on('response', (_client: unknown, statusCode: number, _bytes: number, responseTime: number) => {
      statuses[statusCode] = (statuses[statusCode] ?? 0) + 1;
      if (statusCode < 400) accepted.push(responseTime);
      else if (statusCode >= 500) rejected.push(responseTime);
    });
  });
}
