import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { NotFound, ValidationFailed, inBody } from '@oms/common';
import { OmsConfig } from '@oms/config';
import { validateBody } from '@oms/http';
import { USER_STORE, UserChanges, UserStore } from '@oms/store';
import { CreateUserDto, UpdateUserDto, UserResponseDto, toUserResponse } from './auth.dto';
import { PasswordHasher } from './password-hasher';
import { passwordViolations } from './password-policy';
import { UserAccessService } from './user-access.service';

/**
 * Accounts. Every write drops the user from every instance's memory (UserAccessService) once it has
 * committed, so a changed or deleted user's tokens stop working at once. The store keeps at least one admin.
 */
@Injectable()
export class UsersService implements OnApplicationBootstrap {
  private readonly logger = new Logger('Users');

  constructor(
    @Inject(USER_STORE) private readonly users: UserStore,
    private readonly hasher: PasswordHasher,
    private readonly access: UserAccessService,
    private readonly config: OmsConfig,
  ) {}

  /** OMS_ADMIN_USERNAME + OMS_ADMIN_PASSWORD: create that admin if missing; never reset an existing one. */
  async onApplicationBootstrap(): Promise<void> {
    const admin = this.config.auth.bootstrapAdmin;
    if (!admin) return;
    const broken = passwordViolations(admin.password, admin.username);
    if (broken.length > 0) {
      throw new Error(`OMS_ADMIN_PASSWORD does not meet the password policy: it ${broken.join('; it ')}.`);
    }
    const created = await this.access.afterWrite(
      admin.username,
      this.users.createIfMissing({
        username: admin.username,
        passwordHash: await this.hasher.hash(admin.password),
        roles: ['admin'],
      }),
    );
    this.logger.log({
      message: created ? 'bootstrap admin created' : 'bootstrap admin exists',
      username: admin.username,
    });
  }

  /** The body is validated (password policy included) by the DTO. */
  async create(input: CreateUserDto): Promise<UserResponseDto> {
    const passwordHash = await this.hasher.hash(input.password);
    const user = await this.access.afterWrite(
      input.username,
      this.users.create({ username: input.username, passwordHash, roles: input.roles }),
    );
    return toUserResponse(user);
  }

  async list(): Promise<UserResponseDto[]> {
    return (await this.users.list()).map(toUserResponse);
  }

  /**
   * PATCH: new roles and/or password (each moves the user's token version on, revoking their tokens);
   * `{}` changes nothing. Throws ValidationFailed listing every violation, password policy included.
   */
  async update(username: string, body: unknown): Promise<UserResponseDto> {
    const { value, violations } = validateBody(UpdateUserDto, body);
    if (typeof value.password === 'string') {
      for (const message of passwordViolations(value.password, username)) {
        violations.push({ path: '/password', message });
      }
    }
    if (violations.length > 0) throw new ValidationFailed(inBody(violations));
    const changes: UserChanges = {};
    if (value.roles !== undefined) changes.roles = value.roles;
    if (value.password !== undefined) changes.passwordHash = await this.hasher.hash(value.password);
    const user =
      Object.keys(changes).length === 0
        ? await this.users.find(username)
        : await this.access.afterWrite(username, this.users.update(username, changes));
    if (!user) throw new NotFound('User', username);
    return toUserResponse(user);
  }

  /** The store refuses to delete the last admin (StateConflict). */
  async delete(username: string): Promise<void> {
    if (!(await this.access.afterWrite(username, this.users.delete(username)))) {
      throw new NotFound('User', username);
    }
  }
}
