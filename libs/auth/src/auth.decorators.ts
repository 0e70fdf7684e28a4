import { ExecutionContext, SetMetadata, createParamDecorator } from '@nestjs/common';
import type { Request } from 'express';
import { Actor, Role } from './roles';

export const PUBLIC_ROUTE = 'oms:public';
export const REQUIRED_ROLE = 'oms:role';
export const ACTOR = Symbol('actor');

/** No token needed (login, health). */
export const Public = () => SetMetadata(PUBLIC_ROUTE, true);

/** The least role a route needs; on a handler it overrides the controller's. */
export const RequireRole = (role: Role) => SetMetadata(REQUIRED_ROLE, role);

export function actorOf(request: Request): Actor | undefined {
  return (request as Request & { [ACTOR]?: Actor })[ACTOR];
}

/** The authenticated caller. */
export const CurrentActor = createParamDecorator((_: unknown, context: ExecutionContext): Actor => {
  const actor = actorOf(context.switchToHttp().getRequest<Request>());
  if (!actor) throw new Error('CurrentActor used on a public route');
  return actor;
});
