import { SetMetadata, Type, applyDecorators } from '@nestjs/common';
import { ApiRevalidates, RouteIdentifiers } from '@oms/http';

export const REVALIDATE = 'oms:revalidate';

/** What a revalidating GET learns of its resource before the handler runs. */
export interface Current<T = unknown> {
  /** The entity tag (opaque part), or null when the resource does not exist. */
  tag: string | null;
  /** The representation the handler would answer with, when the look-up found it (a cache hit). */
  body?: T;
}

/** The Current of an entity looked up in full (null: it does not exist). */
export const currentOf = <T extends { version: number }>(found: T | null): Current<T> =>
  found ? { tag: String(found.version), body: found } : { tag: null };

/** The Current of a version read alone (null: the entity does not exist). */
export const currentVersion = (version: number | null): Current<never> => ({
  tag: version === null ? null : String(version),
});

/** How a GET route finds its current entity tag without running the handler. */
export interface RevalidateOptions<S = unknown> {
  /** Label of the resource in metrics (`etag_cache_hits_total{resource}`). */
  resource: string;
  /** The provider that knows the version. */
  service: Type<S>;
  /**
   * The resource now, from the request's validated identifiers (with `at`: as of that commit): its tag, with
   * the body when the look-up found it. `cachedOnly`: a GET without If-None-Match asks, which needs no tag,
   * only a body the service can give without reading the store itself (its cache, read through): answer
   * undefined rather than read a version alone.
   */
  current: (service: S, ids: RouteIdentifiers, cachedOnly: boolean) => Promise<Current | undefined>;
}

/**
 * Lets If-None-Match be answered with 304 before the handler runs (and documents it); a GET whose resource
 * the look-up found (a cache hit) is answered with it, without running the handler.
 */
export const Revalidate = <S>(options: RevalidateOptions<S>) =>
  applyDecorators(SetMetadata(REVALIDATE, options), ApiRevalidates());
