import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { InjectMetric } from '@willsoto/nestjs-prometheus';
import { VERSIONED_STORE, VersionedStore } from '@oms/store';
import { Gauge } from 'prom-client';
import { METRICS } from './metric-names';

const EVERY_MS = 5000;

/** Pings the store every few seconds so `store_up` tells Prometheus whether this instance can reach it. */
@Injectable()
export class StoreProbe implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer?: NodeJS.Timeout;

  constructor(
    @Inject(VERSIONED_STORE) private readonly store: VersionedStore,
    @InjectMetric(METRICS.storeUp) private readonly up: Gauge,
  ) {}

  onApplicationBootstrap(): void {
    void this.probe();
    this.timer = setInterval(() => void this.probe(), EVERY_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  private async probe(): Promise<void> {
    try {
      await this.store.ping();
      this.up.set(1);
    } catch {
      this.up.set(0);
    }
  }
}
