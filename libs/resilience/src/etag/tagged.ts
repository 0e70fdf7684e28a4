/** A response body with its entity tag (the opaque part, unquoted); the ETag interceptor sends the header. */
export class Tagged<T> {
  constructor(
    readonly tag: string,
    readonly body: T,
  ) {}
}
