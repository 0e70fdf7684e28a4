import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { Forbidden, Unauthenticated } from '@oms/common';
import type { Request } from 'express';
import { ACTOR, PUBLIC_ROUTE, REQUIRED_ROLE } from './auth.decorators';
import { Actor, Role, satisfies } from './roles';
import { TokenService, VerifiedToken } from './token.service';
import { UserAccessService } from './user-access.service';

/**
 * Global guard: every route needs a valid bearer token of a user who still exists at the token's version
 * (401), and its role as the user has it now (403), unless @Public.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly tokens: TokenService,
    private readonly access: UserAccessService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_ROUTE, targets)) return true;
    const request = context.switchToHttp().getRequest<Request>();
    const [scheme, token] = (request.header('authorization') ?? '').split(' ');
    if (scheme?.toLowerCase() !== 'bearer' || !token) throw new Unauthenticated();
    const actor = await this.currentActor(await this.tokens.verify(token));
    (request as Request & { [ACTOR]: unknown })[ACTOR] = actor;
    const required = this.reflector.getAllAndOverride<Role>(REQUIRED_ROLE, targets) ?? 'admin';
    if (!satisfies(actor.roles, required)) {
      throw new Forbidden(`This operation needs the '${required}' role.`);
    }
    return true;
  }

  /**
   * The token's user as the store has it now: deleted, or changed since the token was issued (its version
   * moved on), means revoked. While the store cannot answer, the last record this instance read stands in
   * (stale-if-error: a revoked token stays refused through an outage); with none, the token cannot be
   * checked and the request gets 503 — never the token's own word.
   */
  private async currentActor(token: VerifiedToken): Promise<Actor> {
    const access = await this.access.lookup(token.username);
    if (!access || access.tokenVersion !== token.tokenVersion) {
      throw new Unauthenticated('The token has been revoked.');
    }
    return { username: token.username, roles: access.roles };
  }
}
