import { Logger, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { JwtModule } from '@nestjs/jwt';
import { OmsConfig } from '@oms/config';
import { SETTINGS_STORE, SettingsStore } from '@oms/store';
import { createSecretKey, randomBytes } from 'node:crypto';
import { AuthController } from './auth.controller';
import { AuthGuard } from './auth.guard';
import { LoginThrottle } from './login-throttle.service';
import { LoginService } from './login.service';
import { PasswordHasher } from './password-hasher';
import { TokenService } from './token.service';
import { UserAccessService } from './user-access.service';
import { UsersController } from './users.controller';
import { UsersService } from './users.service';

/**
 * The signing key: JWT_SECRET, required in production. Elsewhere, when unset, a random key is made once
 * and kept in the store, so tokens printed by `npm run create-admin` work against the running service.
 */
export async function resolveJwtSecret(config: OmsConfig, settings: SettingsStore): Promise<string> {
  if (config.auth.jwtSecret) return config.auth.jwtSecret;
  if (config.env === 'production') throw new Error('JWT_SECRET is required in production');
  new Logger('Auth').warn('JWT_SECRET is unset: using a generated development key kept in the store');
  return settings.getOrCreate('development-jwt-secret', () => randomBytes(32).toString('base64url'));
}

/**
 * The signing key as a KeyObject, made once: given a string, jsonwebtoken first tries it as a public key on
 * every verification (an exception thrown each time) — measured at a fifth of a cached GET's CPU.
 */
export function signingKey(secret: string): Buffer {
  return createSecretKey(Buffer.from(secret)) as unknown as Buffer; // @nestjs/jwt's type predates KeyObject
}

@Module({
  imports: [
    JwtModule.registerAsync({
      inject: [OmsConfig, SETTINGS_STORE],
      useFactory: async (config: OmsConfig, settings: SettingsStore) => ({
        secret: signingKey(await resolveJwtSecret(config, settings)),
        signOptions: { algorithm: 'HS256' },
      }),
    }),
  ],
  controllers: [AuthController, UsersController],
  providers: [
    PasswordHasher,
    TokenService,
    UserAccessService,
    UsersService,
    LoginThrottle,
    LoginService,
    { provide: APP_GUARD, useClass: AuthGuard },
  ],
  exports: [TokenService, PasswordHasher],
})
export class AuthModule {}
