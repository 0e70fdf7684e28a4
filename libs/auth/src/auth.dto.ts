import { ApiProperty } from '@nestjs/swagger';
import {
  ArrayNotEmpty,
  ArrayUnique,
  IsArray,
  IsIn,
  IsString,
  Matches,
  MaxLength,
  MinLength,
} from 'class-validator';
import { ROLES, Role } from './roles';

export const USERNAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

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

  @ApiProperty({ minLength: 8, maxLength: 256 })
  @IsString()
  @MinLength(8)
  @MaxLength(256)
  password: string;

  @ApiProperty({ enum: ROLES, isArray: true, example: ['editor'] })
  @IsArray()
  @ArrayNotEmpty()
  @ArrayUnique()
  @IsIn(ROLES, { each: true, message: `each value must be one of ${ROLES.join(', ')}` })
  roles: Role[];
}

export class UserResponseDto {
  @ApiProperty() username: string;
  @ApiProperty({ enum: ROLES, isArray: true }) roles: Role[];
  @ApiProperty() createdAt: string;
  @ApiProperty() updatedAt: string;
}
