import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { Forbidden, Unauthenticated } from '@oms/common';
import type { Request } from 'express';
import { ACTOR, PUBLIC_ROUTE, REQUIRED_ROLE } from './auth.decorators';
import { Role, satisfies } from './roles';
import { TokenService } from './token.service';

/** Global guard: every route needs a valid bearer token (401) and its role (403), unless @Public. */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly tokens: TokenService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_ROUTE, targets)) return true;
    const request = context.switchToHttp().getRequest<Request>();
    const [scheme, token] = (request.header('authorization') ?? '').split(' ');
    if (scheme?.toLowerCase() !== 'bearer' || !token) throw new Unauthenticated();
    const actor = await this.tokens.verify(token);
    (request as Request & { [ACTOR]: unknown })[ACTOR] = actor;
    const required = this.reflector.getAllAndOverride<Role>(REQUIRED_ROLE, targets) ?? 'admin';
    if (!satisfies(actor.roles, required)) {
      throw new Forbidden(`This operation needs the '${required}' role.`);
    }
    return true;
  }
}
