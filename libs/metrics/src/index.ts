export * from './metric-names';
export * from './metrics-app';
export * from './metrics.module';
export * from './prometheus-events';
export * from './http-metrics.middleware';
