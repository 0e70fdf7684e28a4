import { Inject, Injectable } from '@nestjs/common';
import { Unauthenticated } from '@oms/common';
import { USER_STORE, UserStore } from '@oms/store';
import { LoginThrottle } from './login-throttle.service';
import { PasswordHasher } from './password-hasher';
import { knownRoles } from './roles';
import { IssuedToken, TokenService } from './token.service';

/** Exchanges a username and password for a token, throttling wrong guesses. */
@Injectable()
export class LoginService {
  constructor(
    @Inject(USER_STORE) private readonly users: UserStore,
    private readonly hasher: PasswordHasher,
    private readonly tokens: TokenService,
    private readonly throttle: LoginThrottle,
  ) {}

  /** `address` is the client's, for the per-address limit. */
  async login(username: string, password: string, address: string): Promise<IssuedToken> {
    // First, so a throttled guess costs neither a store read nor a hash.
    await this.throttle.check(username, address);
    const user = await this.users.find(username);
    // Hashes also for an unknown user, so a miss takes as long as a wrong password.
    if (!(await this.hasher.verify(password, user?.passwordHash)) || !user) {
      await this.throttle.failed(username, address);
      throw new Unauthenticated('Unknown username or wrong password.');
    }
    await this.throttle.succeeded(username);
    return this.tokens.issue(user.username, knownRoles(user.roles), user.tokenVersion);
  }
}
