export * from './webhooks.module';
export * from './webhook-events';
export * from './receiver-address';
export * from './signing';
