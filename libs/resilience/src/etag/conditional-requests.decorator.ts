import { UseFilters, UseInterceptors, applyDecorators } from '@nestjs/common';
import { EtagInterceptor } from './etag.interceptor';
import { NotModifiedFilter } from './not-modified';

/** ETags, 304 revalidation and If-Match rules for every route of a controller. */
export const ConditionalRequests = () =>
  applyDecorators(UseInterceptors(EtagInterceptor), UseFilters(NotModifiedFilter));
