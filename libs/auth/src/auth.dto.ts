import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayNotEmpty,
  ArrayUnique,
  IsArray,
  IsIn,
  IsString,
  Matches,
  MaxLength,
  ValidateIf,
} from 'class-validator';
import { PASSWORD_MAX_BYTES, PASSWORD_MIN_CHARACTERS } from './password-policy';
import { MeetsPasswordPolicy } from './password-policy.decorator';
import type { UserRecord } from '@oms/store';
import { ROLES, Role, knownRoles } from './roles';

export { USERNAME_PATTERN } from '@oms/common';
import { USERNAME_PATTERN } from '@oms/common';

const PASSWORD_DOCS = {
  minLength: PASSWORD_MIN_CHARACTERS,
  description:
    `At least ${PASSWORD_MIN_CHARACTERS} characters, at most ${PASSWORD_MAX_BYTES} bytes in UTF-8, ` +
    'not the username (ignoring case)',
};

const ROLES_DOCS = { enum: ROLES, isArray: true, example: ['editor'] };

/** A non-empty list of distinct known roles. */
const IsRoles = () =>
  applyDecorators(
    IsArray(),
    ArrayNotEmpty(),
    ArrayUnique(),
    IsIn(ROLES, { each: true, message: `each value must be one of ${ROLES.join(', ')}` }),
  );

export class LoginDto {
  @ApiProperty({ example: 'admin' })
  @IsString()
  @MaxLength(64)
  username: string;

  @ApiProperty({ example: 'correct horse battery staple' })
  @IsString()
  @MaxLength(256)
  password: string;
}

export class TokenResponseDto {
  @ApiProperty({ description: 'Signed JWT (HS256)' }) accessToken: string;
  @ApiProperty({ enum: ['Bearer'] }) tokenType: 'Bearer';
  @ApiProperty({ description: 'Lifetime in seconds', example: 3600 }) expiresIn: number;
}

export class MeResponseDto {
  @ApiProperty() username: string;
  @ApiProperty({ enum: ROLES, isArray: true }) roles: Role[];
}

export class CreateUserDto {
  @ApiProperty({ pattern: USERNAME_PATTERN.source, example: 'ada' })
  @Matches(USERNAME_PATTERN, { message: `must match ${USERNAME_PATTERN.source}` })
  username: string;

  @ApiProperty(PASSWORD_DOCS)
  @IsString()
  @MeetsPasswordPolicy('username')
  password: string;

  @ApiProperty(ROLES_DOCS)
  @IsRoles()
  roles: Role[];
}

/** Absent is "unchanged"; null would ask to remove the member (RFC 7396), which these members cannot be. */
const UnlessAbsent = () => ValidateIf((_: object, value: unknown) => value !== undefined);

/**
 * PATCH /users/{username}, a JSON merge patch: what to change; `{}` changes nothing. The password policy
 * is checked by the service, which has the username from the path.
 */
export class UpdateUserDto {
  @ApiPropertyOptional(PASSWORD_DOCS)
  @UnlessAbsent()
  @IsString()
  password?: string;

  @ApiPropertyOptional(ROLES_DOCS)
  @UnlessAbsent()
  @IsRoles()
  roles?: Role[];
}

export class UserResponseDto {
  @ApiProperty() username: string;
  @ApiProperty({ enum: ROLES, isArray: true }) roles: Role[];
  @ApiProperty() createdAt: string;
  @ApiProperty() updatedAt: string;
}

export function toUserResponse(user: UserRecord): UserResponseDto {
  return {
    username: user.username,
    roles: knownRoles(user.roles),
    createdAt: user.createdAt.toISOString(),
    updatedAt: user.updatedAt.toISOString(),
  };
}
