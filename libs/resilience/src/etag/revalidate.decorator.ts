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

/**
 * The Current of a versioned entity: its representation when the caller looked it up (null: it does not
 * exist), else the version alone, read by `version` (null: it does not exist).
 */
export async function versionedCurrent<T extends { version: number }>(
  found: T | null | undefined,
  version: () => Promise<number | null>,
): Promise<Current<T>> {
  if (found !== undefined) return found ? { tag: String(found.version), body: found } : { tag: null };
  const stored = await version();
  return { tag: stored === null ? null : String(stored) };
}

/** How a GET route finds its current entity tag without running the handler. */
export interface RevalidateOptions<S = unknown> {
  /** Label of the resource in metrics (`etag_cache_hits_total{resource}`). */
  resource: string;
  /** The provider that knows the version. */
  service: Type<S>;
  /**
   * The current tag, from the request's validated identifiers (with `at`: the tag as of that commit); with
   * the body when it was at hand.
   */
  current: (service: S, ids: RouteIdentifiers) => Promise<Current>;
}

/** Lets If-None-Match be answered with 304 before the handler runs (and documents it). */
export const Revalidate = <S>(options: RevalidateOptions<S>) =>
  applyDecorators(SetMetadata(REVALIDATE, options), ApiRevalidates());
