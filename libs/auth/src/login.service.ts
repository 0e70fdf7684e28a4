import { Inject, Injectable } from '@nestjs/common';
import { Unauthenticated } from '@oms/common';
import { USER_STORE, UserRecord, UserStore } from '@oms/store';
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
    // First, so a throttled guess costs neither a store read nor a hash; it counts as a failure until
    // the password proves right.
    await this.throttle.attempt(username, address);
    let user: UserRecord | null;
    let matches: boolean;
    try {
      user = await this.users.find(username);
      // Hashes also for an unknown user, so a miss takes as long as a wrong password.
      matches = await this.hasher.verify(password, user?.passwordHash);
    } catch (error) {
      // The store or the hasher could not answer: no guess was judged, so none is counted.
      await this.throttle.refund(username, address);
      throw error;
    }
    if (!matches || !user) throw new Unauthenticated('Unknown username or wrong password.');
    await this.throttle.succeeded(username, address);
    return this.tokens.issue(user.username, knownRoles(user.roles), user.tokenVersion);
  }
}
