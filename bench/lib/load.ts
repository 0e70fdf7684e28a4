import autocannon from 'autocannon';

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
}

const percentile = (sorted: number[], p: number) =>
  sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
const round = (n: number) => Math.round(n * 100) / 100;

/** One autocannon run; latencies are recorded per response so accepted and rejected are reported apart. */
export function load(options: LoadOptions): Promise<LoadResult> {
  const accepted: number[] = [];
  const rejected: number[] = [];
  const statuses: Record<string, number> = {};
  return new Promise((resolve, reject) => {
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
        accepted.sort((a, b) => a - b);
        rejected.sort((a, b) => a - b);
        const seconds = options.durationSeconds;
        const total = Object.values(statuses).reduce((a, b) => a + b, 0);
        resolve({
          reqPerSec: Math.round(total / seconds),
          p50Ms: round(percentile(accepted, 50)),
          p99Ms: round(percentile(accepted, 99)),
          errors: result.errors + result.timeouts,
          non2xx: result.non2xx,
          rejectedP99Ms: rejected.length > 0 ? round(percentile(rejected, 99)) : null,
          statuses,
          goodputRps: (targetMs) => Math.round(accepted.filter((l) => l <= targetMs).length / seconds),
        });
      },
    );
    instance.on('response', (_client: unknown, statusCode: number, _bytes: number, responseTime: number) => {
      statuses[statusCode] = (statuses[statusCode] ?? 0) + 1;
      if (statusCode < 400) accepted.push(responseTime);
      else if (statusCode >= 500) rejected.push(responseTime);
    });
  });
}
