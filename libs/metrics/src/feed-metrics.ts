import { Injectable } from '@nestjs/common';
import { InjectMetric } from '@willsoto/nestjs-prometheus';
import { FeedEvents } from '@oms/feed';
import { DELIVERY_OUTCOMES, DeliveryOutcome, WebhookEvents } from '@oms/webhooks';
import { Counter, Gauge, Histogram } from 'prom-client';
import { METRICS } from './metric-names';

/** Turns what the change feed and webhook delivery report into their metrics. */
@Injectable()
export class FeedMetrics implements FeedEvents, WebhookEvents {
  constructor(
    @InjectMetric(METRICS.webhookDeliveries) private readonly deliveries: Counter,
    @InjectMetric(METRICS.webhookLag) private readonly lag: Histogram,
    @InjectMetric(METRICS.webhookPending) private readonly pending: Gauge,
    @InjectMetric(METRICS.webhookDeadLetters) private readonly dead: Gauge,
    @InjectMetric(METRICS.sseStreams) private readonly sse: Gauge,
  ) {
    for (const outcome of DELIVERY_OUTCOMES) deliveries.labels(outcome).inc(0);
    for (const gauge of [pending, dead, sse]) gauge.set(0);
  }

  streams(open: number): void {
    this.sse.set(open);
  }

  attempted(outcome: DeliveryOutcome): void {
    this.deliveries.labels(outcome).inc();
  }

  delivered(lagSeconds: number): void {
    this.lag.observe(Math.max(0, lagSeconds));
  }

  backlog(pending: number, dead: number): void {
    this.pending.set(pending);
    this.dead.set(dead);
  }
}
