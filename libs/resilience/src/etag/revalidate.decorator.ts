import { SetMetadata, Type, applyDecorators } from '@nestjs/common';
import { ApiRevalidates } from '@oms/http';
import type { Request } from 'express';

export const REVALIDATE = 'oms:revalidate';

/** How a GET route finds its current entity tag without loading the resource. */
export interface RevalidateOptions<S = unknown> {
  /** Label of the resource in metrics (`etag_cache_hits_total{resource}`). */
  resource: string;
  /** The provider that knows the version. */
  service: Type<S>;
  /** The current tag (opaque part), or null when the resource does not exist. */
  tag: (service: S, request: Request) => Promise<string | null>;
}

/** Lets If-None-Match be answered with 304 before the handler runs (and documents it). */
export const Revalidate = <S>(options: RevalidateOptions<S>) =>
  applyDecorators(SetMetadata(REVALIDATE, options), ApiRevalidates());
