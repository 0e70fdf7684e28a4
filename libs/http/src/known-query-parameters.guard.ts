import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { ROUTE_ARGS_METADATA } from '@nestjs/common/constants';
import { RouteParamtypes } from '@nestjs/common/enums/route-paramtypes.enum';
import { ValidationFailed, queryPointer } from '@oms/common';
import type { Request } from 'express';

/** The query parameters a handler names (`@Query('branch')`), or null when it takes the whole query. */
type Known = Set<string> | null;

/**
 * Unknown query parameters are a 400 on every route, as a mistyped `?limt=` or a `?version=3` that reads
 * as if it selected something must not be silently ignored. A handler that takes the whole query
 * (`@Query() query`) validates it itself (whitelisting DTOs, the list parser); for the others the names
 * come from their `@Query('name')` parameters. A guard rather than an interceptor: it only checks, and a
 * guard costs a cached GET less than one more interceptor layer.
 */
@Injectable()
export class KnownQueryParameters implements CanActivate {
  private readonly known = new WeakMap<object, Known>();

  canActivate(context: ExecutionContext): boolean {
    const handler = context.getHandler();
    let known = this.known.get(handler);
    if (known === undefined) {
      known = namesOf(context);
      this.known.set(handler, known);
    }
    if (!known) return true;
    const query = context.switchToHttp().getRequest<Request>().query as Record<string, unknown>;
    const unknown = Object.keys(query).filter((name) => !known.has(name));
    if (unknown.length > 0) {
      throw new ValidationFailed(
        unknown.map((name) => ({ path: queryPointer(name), message: 'is not a parameter of this route' })),
      );
    }
    return true;
  }
}

function namesOf(context: ExecutionContext): Known {
  const args = (Reflect.getMetadata(ROUTE_ARGS_METADATA, context.getClass(), context.getHandler().name) ??
    {}) as Record<string, { data?: unknown }>;
  const names = new Set<string>();
  for (const [key, arg] of Object.entries(args)) {
    // Keys are `<paramtype>:<index>`.
    if (key.split(':')[0] !== String(RouteParamtypes.QUERY)) continue;
    if (typeof arg.data !== 'string') return null;
    names.add(arg.data);
  }
  return names;
}
