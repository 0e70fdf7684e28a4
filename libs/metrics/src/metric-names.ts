/** The metric names of the contract (fixed: dashboards and alerts use them), plus OMS's own. */
export const METRICS = {
  breakerState: 'circuit_breaker_state',
  breakerTransitions: 'circuit_breaker_transitions_total',
  breakerRejections: 'circuit_breaker_rejections_total',
  etagHits: 'etag_cache_hits_total',
  etagMisses: 'etag_cache_misses_total',
  cacheRequests: 'cache_requests_total',
  cacheInvalidations: 'cache_invalidations_total',
  queueSize: 'backpressure_queue_size',
  activeRequests: 'backpressure_active_requests',
  shed: 'backpressure_rejected_total',
  httpDuration: 'http_request_duration_seconds',
  storeReads: 'store_reads_total',
  storeUp: 'store_up',
} as const;
