export * from './etag/conditional-requests.decorator';
export * from './etag/etag.interceptor';
export * from './etag/not-modified';
export * from './etag/revalidate.decorator';
