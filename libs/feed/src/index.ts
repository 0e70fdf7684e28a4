export * from './feed.module';
export * from './feed-events';
export * from './feed-hub';
