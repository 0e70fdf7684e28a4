export * from './domain-errors';
export * from './version-check';
export * from './identifiers';
export * from './request-pointers';
export * from './collections';
