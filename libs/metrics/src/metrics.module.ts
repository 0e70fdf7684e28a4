import { Global, Module } from '@nestjs/common';
import { RESILIENCE_EVENTS } from '@oms/resilience';
import { STORE_OBSERVER } from '@oms/store';
import { CACHE_EVENTS } from '@oms/caching';
import { FEED_EVENTS } from '@oms/feed';
import { WEBHOOK_EVENTS } from '@oms/webhooks';
import { FeedMetrics } from './feed-metrics';
import { HttpMetricsMiddleware } from './http-metrics.middleware';
import { METRIC_PROVIDERS } from './metrics.providers';
import { PrometheusEvents } from './prometheus-events';
import { StoreProbe } from './store-probe';

/**
 * The contract's metrics, fed by the resilience layer, the store and an HTTP middleware (mounted first in
 * createApp, so requests that fail in body parsing or match no route are timed too). They are served by a
 * separate application on METRICS_PORT (see createMetricsApp), never on the API port.
 */
@Global()
@Module({
  providers: [
    ...METRIC_PROVIDERS,
    PrometheusEvents,
    { provide: RESILIENCE_EVENTS, useExisting: PrometheusEvents },
    { provide: STORE_OBSERVER, useExisting: PrometheusEvents },
    { provide: CACHE_EVENTS, useExisting: PrometheusEvents },
    FeedMetrics,
    { provide: FEED_EVENTS, useExisting: FeedMetrics },
    { provide: WEBHOOK_EVENTS, useExisting: FeedMetrics },
    HttpMetricsMiddleware,
    StoreProbe,
  ],
  exports: [
    ...METRIC_PROVIDERS,
    RESILIENCE_EVENTS,
    STORE_OBSERVER,
    CACHE_EVENTS,
    FEED_EVENTS,
    WEBHOOK_EVENTS,
    HttpMetricsMiddleware,
  ],
})
export class MetricsModule {}
