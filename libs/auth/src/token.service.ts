import { Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { Unauthenticated } from '@oms/common';
import { OmsConfig } from '@oms/config';
import { LRUCache } from 'lru-cache';
import { Role, knownRoles } from './roles';

/** What a token says, unchecked until verified. */
interface Claims {
  sub?: unknown;
  roles?: unknown;
  tv?: unknown;
  exp?: unknown;
}

/** A token whose signature and expiry hold: its user, the roles it was issued with and its token version. */
export interface VerifiedToken {
  username: string;
  roles: Role[];
  tokenVersion: number;
}

const VERIFIED_TOKENS = 10_000;

export interface IssuedToken {
  accessToken: string;
  tokenType: 'Bearer';
  expiresIn: number;
}

/**
 * Signs and verifies access tokens (HS256 JWT) with claims `sub`, `roles`, `tv` (the user's token version
 * when issued) and `exp`. Verification never touches the store; whether the user still holds that version
 * is the guard's question. A token already verified is remembered until it expires (the same string always
 * carries the same claims), which spares the signature check on every request of a session.
 */
@Injectable()
export class TokenService {
  private readonly verified = new LRUCache<string, { token: VerifiedToken; expiresAtMs: number }>({
    max: VERIFIED_TOKENS,
  });

  constructor(
    private readonly jwt: JwtService,
    private readonly config: OmsConfig,
  ) {}

  async issue(username: string, roles: Role[], tokenVersion: number): Promise<IssuedToken> {
    const claims = { sub: username, roles, tv: tokenVersion };
    const expiresIn = this.config.auth.jwtExpiresInSeconds;
    return { accessToken: await this.jwt.signAsync(claims, { expiresIn }), tokenType: 'Bearer', expiresIn };
  }

  async verify(token: string): Promise<VerifiedToken> {
    const known = this.verified.get(token);
    if (known && known.expiresAtMs > Date.now()) return known.token;
    let claims: Claims;
    try {
      claims = await this.jwt.verifyAsync<Claims>(token, { algorithms: ['HS256'] });
    } catch {
      throw new Unauthenticated('The bearer token is invalid or expired.');
    }
    const { sub, roles, tv, exp } = claims;
    // jsonwebtoken accepts a token without `exp` as never expiring, and one without `tv` could not be
    // revoked: both are refused.
    if (
      typeof sub !== 'string' ||
      !Array.isArray(roles) ||
      typeof tv !== 'number' ||
      !Number.isInteger(tv) ||
      typeof exp !== 'number'
    ) {
      throw new Unauthenticated('The bearer token is malformed.');
    }
    const verified = { username: sub, roles: knownRoles(roles), tokenVersion: tv };
    this.verified.set(token, { token: verified, expiresAtMs: exp * 1000 });
    return verified;
  }
}
