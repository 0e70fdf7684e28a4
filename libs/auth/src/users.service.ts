import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { NotFound, StateConflict, Unauthenticated } from '@oms/common';
import { OmsConfig } from '@oms/config';
import { USER_STORE, UserRecord, UserStore } from '@oms/store';
import { CreateUserDto, UserResponseDto } from './auth.dto';
import { PasswordHasher } from './password-hasher';
import { ROLES, Role } from './roles';
import { IssuedToken, TokenService } from './token.service';

export function toUserResponse(user: UserRecord): UserResponseDto {
  return {
    username: user.username,
    roles: user.roles as Role[],
    createdAt: user.createdAt.toISOString(),
    updatedAt: user.updatedAt.toISOString(),
  };
}

/** Accounts and login. */
@Injectable()
export class UsersService implements OnApplicationBootstrap {
  private readonly logger = new Logger('Users');

  constructor(
    @Inject(USER_STORE) private readonly users: UserStore,
    private readonly hasher: PasswordHasher,
    private readonly tokens: TokenService,
    private readonly config: OmsConfig,
  ) {}

  /** OMS_ADMIN_USERNAME + OMS_ADMIN_PASSWORD: create that admin if missing; never reset an existing one. */
  async onApplicationBootstrap(): Promise<void> {
    const admin = this.config.auth.bootstrapAdmin;
    if (!admin) return;
    const created = await this.users.createIfMissing({
      username: admin.username,
      passwordHash: await this.hasher.hash(admin.password),
      roles: ['admin'],
    });
    this.logger.log({
      message: created ? 'bootstrap admin created' : 'bootstrap admin exists',
      username: admin.username,
    });
  }

  async login(username: string, password: string): Promise<IssuedToken> {
    const user = await this.users.find(username);
    if (!(await this.hasher.verify(password, user?.passwordHash)) || !user) {
      throw new Unauthenticated('Unknown username or wrong password.');
    }
    return this.tokens.issue(
      user.username,
      user.roles.filter((r): r is Role => ROLES.includes(r as Role)),
    );
  }

  async create(input: CreateUserDto): Promise<UserResponseDto> {
    const user = await this.users.create({
      username: input.username,
      passwordHash: await this.hasher.hash(input.password),
      roles: input.roles,
    });
    return toUserResponse(user);
  }

  async list(): Promise<UserResponseDto[]> {
    return (await this.users.list()).map(toUserResponse);
  }

  async delete(username: string): Promise<void> {
    const user = await this.users.find(username);
    if (!user) throw new NotFound('User', username);
    if (user.roles.includes('admin')) {
      const admins = (await this.users.list()).filter((u) => u.roles.includes('admin'));
      if (admins.length <= 1) {
        throw new StateConflict('Last admin', `'${username}' is the last admin and cannot be deleted.`);
      }
    }
    if (!(await this.users.delete(username))) throw new NotFound('User', username);
  }
}
