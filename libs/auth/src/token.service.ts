import { Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { Unauthenticated } from '@oms/common';
import { OmsConfig } from '@oms/config';
import { LRUCache } from 'lru-cache';
import { Actor, ROLES, Role } from './roles';

interface Claims {
  sub: string;
  roles: Role[];
  exp: number;
}

const VERIFIED_TOKENS = 10_000;

export interface IssuedToken {
  accessToken: string;
  tokenType: 'Bearer';
  expiresIn: number;
}

/**
 * Signs and verifies access tokens (HS256 JWT). Verification never touches the store. A token already
 * verified is remembered until it expires (a token is immutable: the same string always carries the same
 * claims), which spares the signature check on every request of a session.
 */
@Injectable()
export class TokenService {
  private readonly verified = new LRUCache<string, { actor: Actor; expiresAtMs: number }>({
    max: VERIFIED_TOKENS,
  });

  constructor(
    private readonly jwt: JwtService,
    private readonly config: OmsConfig,
  ) {}

  async issue(username: string, roles: Role[]): Promise<IssuedToken> {
    const claims = { sub: username, roles };
    const expiresIn = this.config.auth.jwtExpiresInSeconds;
    return { accessToken: await this.jwt.signAsync(claims, { expiresIn }), tokenType: 'Bearer', expiresIn };
  }

  async verify(token: string): Promise<Actor> {
    const known = this.verified.get(token);
    if (known && known.expiresAtMs > Date.now()) return known.actor;
    let claims: Claims;
    try {
      claims = await this.jwt.verifyAsync<Claims>(token, { algorithms: ['HS256'] });
    } catch {
      throw new Unauthenticated('The bearer token is invalid or expired.');
    }
    if (typeof claims.sub !== 'string' || !Array.isArray(claims.roles)) {
      throw new Unauthenticated('The bearer token is malformed.');
    }
    const actor = { username: claims.sub, roles: claims.roles.filter((r): r is Role => ROLES.includes(r)) };
    this.verified.set(token, { actor, expiresAtMs: claims.exp * 1000 });
    return actor;
  }
}
