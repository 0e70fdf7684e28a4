import { Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { Unauthenticated } from '@oms/common';
import { OmsConfig } from '@oms/config';
import { Actor, ROLES, Role } from './roles';

interface Claims {
  sub: string;
  roles: Role[];
}

export interface IssuedToken {
  accessToken: string;
  tokenType: 'Bearer';
  expiresIn: number;
}

/** Signs and verifies access tokens (HS256 JWT). Verification never touches the store. */
@Injectable()
export class TokenService {
  constructor(
    private readonly jwt: JwtService,
    private readonly config: OmsConfig,
  ) {}

  async issue(username: string, roles: Role[]): Promise<IssuedToken> {
    const claims: Claims = { sub: username, roles };
    const expiresIn = this.config.auth.jwtExpiresInSeconds;
    return { accessToken: await this.jwt.signAsync(claims, { expiresIn }), tokenType: 'Bearer', expiresIn };
  }

  async verify(token: string): Promise<Actor> {
    let claims: Claims;
    try {
      claims = await this.jwt.verifyAsync<Claims>(token, { algorithms: ['HS256'] });
    } catch {
      throw new Unauthenticated('The bearer token is invalid or expired.');
    }
    if (typeof claims.sub !== 'string' || !Array.isArray(claims.roles)) {
      throw new Unauthenticated('The bearer token is malformed.');
    }
    return { username: claims.sub, roles: claims.roles.filter((r): r is Role => ROLES.includes(r)) };
  }
}
