import { INestApplication, LoggerService, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { PrometheusModule } from '@willsoto/nestjs-prometheus';
import { register } from 'prom-client';

// prom-client's default metrics (process, heap, event-loop lag) are registered once per process.
const defaultMetricsEnabled = () => register.getSingleMetric('process_cpu_user_seconds_total') === undefined;

/** The internal metrics application: GET /metrics in Prometheus text, on its own port. */
export async function createMetricsApp(logger: LoggerService): Promise<INestApplication> {
  @Module({
    imports: [
      PrometheusModule.register({ path: '/metrics', defaultMetrics: { enabled: defaultMetricsEnabled() } }),
    ],
  })
  class MetricsServerModule {}
  return NestFactory.create(MetricsServerModule, { logger });
}
