import { ExecutionContext, Inject, Injectable, Optional } from '@nestjs/common';
import { ModuleRef, Reflector } from '@nestjs/core';
import { PreconditionRequired } from '@oms/common';
import { OmsConfig } from '@oms/config';
import { routeIdentifiers } from '@oms/http';
import { formatEtag, parseTagCondition, weakMatch } from './entity-tags';
import { Tagged } from './tagged';
import type { Request, Response } from 'express';
import { CACHE_CONTROL, IMMUTABLE_CACHE_CONTROL, NotModified, VARY } from './not-modified';
import { Current, REVALIDATE, RevalidateOptions } from './revalidate.decorator';
import { NO_EVENTS, RESILIENCE_EVENTS, ResilienceEvents } from '../resilience-events';

const READS = new Set(['GET', 'HEAD']);
const CONDITIONAL_WRITES = new Set(['PUT', 'PATCH', 'DELETE']);

/**
 * Conditional requests (RFC 9110 §13), run by the resilience interceptor around a handler:
 * - GET/HEAD with If-None-Match (weak comparison, lists, `*`): 304 before the handler runs, from the
 *   current version — also when the request says `Cache-Control: no-cache`, which asks us to revalidate.
 * - GET/HEAD whose look-up found the representation (a cache hit; with If-None-Match, one that does not
 *   match): that is the answer, and the handler does not run (nor look it up a second time).
 * - REQUIRE_IF_MATCH: PUT/PATCH/DELETE without If-Match get 428 (If-None-Match: * also counts for PUT).
 * - Responses get a strong ETag from the stored version, and Cache-Control + Vary; a state read at a
 *   commit (`?at=`) is immutable, so it is cached without revalidation.
 * If-Match itself is evaluated inside the write's transaction (see WriteContext.precondition).
 */
@Injectable()
export class ConditionalRequests {
  private readonly events: ResilienceEvents;
  private readonly services = new Map<unknown, unknown>();

  constructor(
    private readonly config: OmsConfig,
    private readonly reflector: Reflector,
    private readonly moduleRef: ModuleRef,
    @Optional() @Inject(RESILIENCE_EVENTS) events: ResilienceEvents | null,
  ) {
    this.events = events ?? NO_EVENTS;
  }

  /**
   * Before the handler: 428 for an unconditional write when required; 304 (NotModified) when fresh. Returns
   * the representation when a read's look-up found it (the handler then need not run).
   */
  async before(context: ExecutionContext): Promise<{ body: unknown } | undefined> {
    const request = context.switchToHttp().getRequest<Request>();
    if (CONDITIONAL_WRITES.has(request.method) && this.config.etag.requireIfMatch)
      this.requireIfMatch(request);
    if (!this.config.etag.enabled || !READS.has(request.method)) return undefined;
    const current = await this.revalidate(context, request);
    return current?.body === undefined ? undefined : { body: current.body };
  }

  /** After the handler: the ETag of what it returned, and the cache headers. */
  after(context: ExecutionContext, result: unknown): unknown {
    const http = context.switchToHttp();
    const response = http.getResponse<Response>();
    const tag = result instanceof Tagged ? result.tag : versionOf(result);
    if (this.config.etag.enabled && tag !== undefined) response.setHeader('ETag', formatEtag(tag));
    // What it returned was read at `at` (a handler refuses a malformed one before this runs).
    response.setHeader('Cache-Control', cacheControl(http.getRequest<Request>().query));
    response.setHeader('Vary', VARY);
    return result instanceof Tagged ? (result.body as unknown) : result;
  }

  private requireIfMatch(request: Request): void {
    const createOnly = request.method === 'PUT' && request.header('if-none-match')?.trim() === '*';
    if (request.header('if-match') === undefined && !createOnly) throw new PreconditionRequired();
  }

  private async revalidate(context: ExecutionContext, request: Request): Promise<Current | undefined> {
    const options = this.reflector.get<RevalidateOptions | undefined>(REVALIDATE, context.getHandler());
    if (!options) return undefined;
    const condition = parseTagCondition(request.header('if-none-match'), 'If-None-Match');
    // Malformed identifiers never reach the store: the handler's pipe answers them with 400.
    const ids = routeIdentifiers(request);
    if (!ids) return undefined;
    // Without a condition only a body the service holds is worth having: the handler would read the rest.
    const current = await options.current(this.serviceOf(options), ids, condition === undefined);
    if (condition === undefined || current === undefined) return current;
    const matched = weakMatch(condition, current.tag);
    this.events.revalidated(options.resource, matched);
    // A signal, not an error: no stack trace is worth capturing on the 304 path.
    // eslint-disable-next-line @typescript-eslint/only-throw-error
    if (matched) throw new NotModified(formatEtag(current.tag!), cacheControl(ids));
    return current;
  }

  /** The provider a route revalidates with, looked up once. */
  private serviceOf(options: RevalidateOptions): unknown {
    let service = this.services.get(options.service);
    if (service === undefined) {
      service = this.moduleRef.get(options.service, { strict: false });
      this.services.set(options.service, service);
    }
    return service;
  }
}

/** Head reads may change at any write; a read at a commit never does. */
const cacheControl = (ids: { at?: unknown } | undefined) =>
  ids?.at === undefined ? CACHE_CONTROL : IMMUTABLE_CACHE_CONTROL;

function versionOf(result: unknown): string | undefined {
  const version = (result as { version?: unknown } | null)?.version;
  return typeof version === 'number' ? String(version) : undefined;
}
