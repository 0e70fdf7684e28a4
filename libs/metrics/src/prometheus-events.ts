import { Injectable } from '@nestjs/common';
import { InjectMetric } from '@willsoto/nestjs-prometheus';
import {
  ADMISSION_REJECT_REASONS,
  AdmissionReport,
  BREAKER_STATE_VALUE,
  BreakerState,
  ResilienceEvents,
  ShedReason,
} from '@oms/resilience';
import { StoreObserver } from '@oms/store';
import { CacheEvents, CacheResult, CacheTierName } from '@oms/caching';
import { Counter, Gauge, Histogram } from 'prom-client';
import { METRICS } from './metric-names';

const REVALIDATED_RESOURCES = [
  'document',
  'object-type',
  'object-type-list',
  'json-schema',
  'object-type-json-schema',
];

/** Turns what the resilience layer and the store report into the contract's metrics. */
@Injectable()
export class PrometheusEvents implements ResilienceEvents, StoreObserver, CacheEvents {
  constructor(
    @InjectMetric(METRICS.breakerState) private readonly breakerState: Gauge,
    @InjectMetric(METRICS.breakerTransitions) private readonly transitions: Counter,
    @InjectMetric(METRICS.breakerRejections) private readonly rejections: Counter,
    @InjectMetric(METRICS.etagHits) private readonly etagHits: Counter,
    @InjectMetric(METRICS.etagMisses) private readonly etagMisses: Counter,
    @InjectMetric(METRICS.queueSize) private readonly queueSize: Gauge,
    @InjectMetric(METRICS.activeRequests) private readonly activeRequests: Gauge,
    @InjectMetric(METRICS.shed) private readonly shedTotal: Counter,
    @InjectMetric(METRICS.storeReads) private readonly storeReads: Counter,
    @InjectMetric(METRICS.storeWriteGroups) private readonly writeGroups: Histogram,
    @InjectMetric(METRICS.cacheRequests) private readonly cacheRequests: Counter,
    @InjectMetric(METRICS.cacheInvalidations) private readonly cacheInvalidations: Counter,
    @InjectMetric(METRICS.admissionLimit) private readonly admissionLimit: Gauge,
    @InjectMetric(METRICS.admissionInflight) private readonly admissionInflight: Gauge,
    @InjectMetric(METRICS.admissionRejected) private readonly admissionRejected: Counter,
    @InjectMetric(METRICS.eventLoopDelay) private readonly eventLoopDelay: Gauge,
  ) {
    // Series that exist before anything happens, so dashboards and alerts see zeros rather than gaps.
    for (const reason of ['queue_full', 'queue_timeout']) shedTotal.labels(reason).inc(0);
    for (const resource of REVALIDATED_RESOURCES) {
      etagHits.labels(resource).inc(0);
      etagMisses.labels(resource).inc(0);
    }
    for (const tier of ['memory', 'redis']) {
      for (const result of ['hit', 'miss', 'error']) cacheRequests.labels(tier, result).inc(0);
    }
    for (const source of ['local', 'remote']) cacheInvalidations.labels(source).inc(0);
    for (const kind of ['entity', 'version', 'list']) storeReads.labels(kind).inc(0);
    queueSize.set(0);
    activeRequests.set(0);
    for (const reason of ADMISSION_REJECT_REASONS) admissionRejected.labels(reason).inc(0);
    for (const gauge of [admissionLimit, admissionInflight, eventLoopDelay]) gauge.set(0);
  }

  breakerCreated(breaker: string): void {
    this.breakerState.labels(breaker).set(BREAKER_STATE_VALUE.closed);
    this.rejections.labels(breaker).inc(0);
    for (const to of ['open', 'half-open', 'closed']) this.transitions.labels(breaker, to).inc(0);
  }

  breakerRemoved(breaker: string): void {
    this.breakerState.remove(breaker);
    this.rejections.remove(breaker);
    for (const to of ['open', 'half-open', 'closed']) this.transitions.remove(breaker, to);
  }

  breakerTransition(breaker: string, to: BreakerState): void {
    this.breakerState.labels(breaker).set(BREAKER_STATE_VALUE[to]);
    this.transitions.labels(breaker, to).inc();
  }

  breakerRejected(breaker: string): void {
    this.rejections.labels(breaker).inc();
  }

  shed(reason: ShedReason): void {
    this.shedTotal.labels(reason).inc();
  }

  occupancy(active: number, queued: number): void {
    this.activeRequests.set(active);
    this.queueSize.set(queued);
  }

  revalidated(resource: string, notModified: boolean): void {
    (notModified ? this.etagHits : this.etagMisses).labels(resource).inc();
  }

  admission({ limit, inflight, delayMs, rejected }: AdmissionReport): void {
    this.admissionLimit.set(limit);
    this.admissionInflight.set(inflight);
    this.eventLoopDelay.set((delayMs ?? 0) / 1000);
    if (rejected > 0) this.admissionRejected.labels('limit').inc(rejected);
  }

  lookup(tier: CacheTierName, result: CacheResult): void {
    this.cacheRequests.labels(tier, result).inc();
  }

  invalidated(source: 'local' | 'remote'): void {
    this.cacheInvalidations.labels(source).inc();
  }

  read(kind: 'entity' | 'version' | 'list'): void {
    this.storeReads.labels(kind).inc();
  }

  writeGroup(size: number): void {
    this.writeGroups.observe(size);
  }
}
