import { makeCounterProvider, makeGaugeProvider, makeHistogramProvider } from '@willsoto/nestjs-prometheus';
import { METRICS } from './metric-names';

/** Every OMS metric, registered once per process in prom-client's default registry. */
export const METRIC_PROVIDERS = [
  makeGaugeProvider({
    name: METRICS.breakerState,
    help: 'Circuit breaker state: 0 closed, 1 open, 2 half-open',
    labelNames: ['breaker'],
  }),
  makeCounterProvider({
    name: METRICS.breakerTransitions,
    help: 'Circuit breaker state transitions',
    labelNames: ['breaker', 'to'],
  }),
  makeCounterProvider({
    name: METRICS.breakerRejections,
    help: 'Calls refused by an open (or saturated half-open) breaker',
    labelNames: ['breaker'],
  }),
  makeCounterProvider({
    name: METRICS.etagHits,
    help: 'Revalidations answered 304',
    labelNames: ['resource'],
  }),
  makeCounterProvider({
    name: METRICS.etagMisses,
    help: 'Revalidations whose tag did not match (full response sent)',
    labelNames: ['resource'],
  }),
  makeCounterProvider({
    name: METRICS.cacheRequests,
    help: 'Cache look-ups per tier and result',
    labelNames: ['tier', 'result'],
  }),
  makeCounterProvider({
    name: METRICS.cacheInvalidations,
    help: 'Cache invalidations applied, from this instance (local) or another (remote)',
    labelNames: ['source'],
  }),
  makeGaugeProvider({ name: METRICS.queueSize, help: 'Requests waiting in the bulkhead queue' }),
  makeGaugeProvider({ name: METRICS.activeRequests, help: 'Requests running inside the bulkhead' }),
  makeCounterProvider({
    name: METRICS.shed,
    help: 'Requests shed by the bulkhead',
    labelNames: ['reason'],
  }),
  makeHistogramProvider({
    name: METRICS.httpDuration,
    help: 'HTTP request duration by route template',
    labelNames: ['method', 'route', 'status_code'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  }),
  makeGaugeProvider({
    name: METRICS.admissionLimit,
    help: 'Edge admission: requests the event loop may start in one turn (0 when ADMISSION_MODE=off)',
  }),
  makeGaugeProvider({
    name: METRICS.admissionInflight,
    help: 'Edge admission: admitted requests whose responses are not done',
  }),
  makeCounterProvider({
    name: METRICS.admissionRejected,
    help: 'Requests refused at the edge, before body parsing, auth and routing',
    labelNames: ['reason'],
  }),
  makeGaugeProvider({
    name: METRICS.eventLoopDelay,
    help: 'Mean event-loop delay met by the requests of the last admission window (0 when none arrived)',
  }),
  makeGaugeProvider({
    name: METRICS.storeUp,
    help: 'Whether the store answered the last probe (1) or not (0)',
  }),
  makeCounterProvider({
    name: METRICS.storeReads,
    help: 'Reads from the store by kind (entity = a full read, version = the version alone)',
    labelNames: ['operation'],
  }),
  makeHistogramProvider({
    name: METRICS.storeWriteGroups,
    help: 'Writes per committed store transaction on a branch: 1 at rest, more when writes queued and were committed together (group commit)',
    buckets: [1, 2, 4, 8, 16, 32, 64],
  }),
  makeCounterProvider({
    name: METRICS.webhookDeliveries,
    help: 'Webhook delivery tries by outcome (breaker_open: not tried, no attempt counted)',
    labelNames: ['outcome'],
  }),
  makeHistogramProvider({
    name: METRICS.webhookLag,
    help: "From a commit to its webhook receiver's 2xx",
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 7200, 21600],
  }),
  makeGaugeProvider({
    name: METRICS.webhookPending,
    help: 'Webhook deliveries not yet delivered nor dead-lettered (every webhook, from the database)',
  }),
  makeGaugeProvider({
    name: METRICS.webhookDeadLetters,
    help: 'Webhook deliveries dead-lettered after WEBHOOK_MAX_ATTEMPTS (every webhook, from the database)',
  }),
  makeGaugeProvider({ name: METRICS.sseStreams, help: 'Server-sent event streams open on this instance' }),
];
