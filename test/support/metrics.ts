/** Every metric name of the contract (CONTRACT.md, Metrics), as the service must export them. */
export const CONTRACT_METRICS = [
  'circuit_breaker_state',
  'circuit_breaker_transitions_total',
  'circuit_breaker_rejections_total',
  'etag_cache_hits_total',
  'etag_cache_misses_total',
  'cache_requests_total',
  'cache_invalidations_total',
  'backpressure_queue_size',
  'backpressure_active_requests',
  'backpressure_rejected_total',
  'http_request_duration_seconds',
];

import TestAgent from 'supertest/lib/agent';

/** The value of one series in Prometheus text, or undefined when absent. Labels must match exactly. */
export function seriesValue(
  text: string,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  const wanted = Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .sort()
    .join(',');
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)/.exec(line);
    if (!match || match[1] !== name) continue;
    const got = (match[2] ?? '')
      .split(/,(?=[a-zA-Z_]+=")/)
      .filter((p) => p.length > 0)
      .sort()
      .join(',');
    if (got === wanted) return Number(match[3]);
  }
  return undefined;
}

/** Reads /metrics from the metrics application. */
export async function scrape(metrics: TestAgent): Promise<string> {
  const res = await metrics.get('/metrics').expect(200);
  return res.text;
}
