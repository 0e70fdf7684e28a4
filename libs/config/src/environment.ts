import { USERNAME_PATTERN } from '@oms/common';
import { Transform } from 'class-transformer';
import {
  IsBoolean,
  ValidationArguments,
  ValidationOptions,
  registerDecorator,
  IsIn,
  IsInt,
  IsNumber,
  IsOptional,
  IsString,
  Matches,
  Max,
  Min,
  MinLength,
  ValidateIf,
} from 'class-validator';

export const OMS_ENVS = ['development', 'production', 'test'] as const;
export type OmsEnv = (typeof OMS_ENVS)[number];
/** Edge admission: an adaptive limit, the ceiling as a fixed limit, or none. */
export const ADMISSION_MODES = ['adaptive', 'fixed', 'off'] as const;
export type AdmissionMode = (typeof ADMISSION_MODES)[number];
export const LOG_LEVELS = ['error', 'warn', 'info', 'debug'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const toBoolean = ({ value }: { value: unknown }) => {
  if (typeof value !== 'string') return value;
  const v = value.trim().toLowerCase();
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  return value; // left as a string so IsBoolean reports it
};
const toNumber = ({ value }: { value: unknown }) =>
  typeof value === 'string' && value.trim() !== '' && !Number.isNaN(Number(value)) ? Number(value) : value;

/** A signing key an attacker cannot guess cheaply: 32 bytes or more, not one character repeated. */
function IsStrongSecret() {
  return (object: object, propertyName: string) =>
    registerDecorator({
      name: 'isStrongSecret',
      target: object.constructor,
      propertyName,
      validator: {
        validate: (value: unknown) =>
          typeof value === 'string' && Buffer.byteLength(value) >= 32 && !/^(.)\1*$/su.test(value),
        defaultMessage: () =>
          'must be at least 32 bytes and not one repeated character, e.g. `openssl rand -base64 48`',
      },
    });
}

/** A switch that may be on in production only when another variable says so explicitly. */
function IsNotTrueInProductionUnless(allow: keyof EnvironmentVariables, options: ValidationOptions) {
  return (object: object, propertyName: string) =>
    registerDecorator({
      name: 'isNotTrueUnless',
      target: object.constructor,
      propertyName,
      options,
      validator: {
        validate: (value: unknown, args: ValidationArguments) =>
          value !== true ||
          (args.object as EnvironmentVariables).OMS_ENV !== 'production' ||
          (args.object as EnvironmentVariables)[allow] === true,
      },
    });
}

/**
 * Every environment variable OMS reads, with its rules. Values arrive as strings and are converted here;
 * anything that fails a rule stops the start (see loadConfig).
 */
export class EnvironmentVariables {
  @IsIn(OMS_ENVS) OMS_ENV: OmsEnv;
  @IsIn(LOG_LEVELS) LOG_LEVEL: LogLevel;

  @Transform(toNumber) @IsInt() @Min(0) @Max(65535) PORT: number;
  @Transform(toNumber) @IsInt() @Min(0) @Max(65535) METRICS_PORT: number;
  @IsString() @Matches(/^\d+(b|kb|mb)$/i, { message: 'must look like 512kb or 1mb' }) BODY_LIMIT: string;
  @IsString()
  @Matches(/^\d+(b|kb|mb|gb)$/i, { message: 'must look like 64mb or 1gb' })
  BULK_BODY_LIMIT: string;
  @Transform(toNumber) @IsInt() @Min(1) BULK_TIMEOUT_MS: number;
  @Transform(toNumber) @IsInt() @Min(0) @Max(1_000_000) MAX_CASCADE: number;
  @Transform(toNumber) @IsInt() @Min(0) SHUTDOWN_TIMEOUT_MS: number;
  @Matches(/^(false|true|\d+|[0-9A-Za-z.:/]+(\s*,\s*[0-9A-Za-z.:/]+)*)$/, {
    message:
      'must be false, true, a number of hops, or a comma list of addresses, subnets or loopback/linklocal/uniquelocal',
  })
  TRUST_PROXY: string;
  @Transform(toNumber) @IsInt() @Min(2) @Max(1000) JSON_MAX_DEPTH: number;
  @IsString() @MinLength(1) METRICS_HOST: string;

  @IsOptional()
  @Matches(/^postgres(ql)?:\/\//, { message: 'must be a postgres:// URL' })
  DATABASE_URL?: string;
  @IsString() @MinLength(1) DATA_DIR: string;

  @IsOptional() @Matches(/^rediss?:\/\//, { message: 'must be a redis:// URL' }) REDIS_URL?: string;
  @IsString() REDIS_CACHE_PREFIX: string;

  @ValidateIf((env: EnvironmentVariables) => env.OMS_ENV === 'production' || env.JWT_SECRET !== undefined)
  @IsString({ message: 'must be set (required in production)' })
  @IsStrongSecret()
  JWT_SECRET?: string;
  @Transform(toNumber) @IsInt() @Min(60) JWT_EXPIRES_IN_SECONDS: number;
  @IsOptional() @Matches(USERNAME_PATTERN) OMS_ADMIN_USERNAME?: string;
  @ValidateIf((env: EnvironmentVariables) => env.OMS_ADMIN_USERNAME !== undefined)
  @IsString()
  @MinLength(8, { message: 'must be set to at least 8 characters when OMS_ADMIN_USERNAME is set' })
  OMS_ADMIN_PASSWORD?: string;

  @Transform(toBoolean) @IsBoolean() ENABLE_ETAG_CACHING: boolean;
  @Transform(toBoolean) @IsBoolean() REQUIRE_IF_MATCH: boolean;

  @Transform(toNumber) @IsInt() @Min(1) BACKPRESSURE_MAX_CONCURRENT: number;
  @Transform(toNumber) @IsInt() @Min(0) BACKPRESSURE_MAX_QUEUE: number;
  @Transform(toNumber) @IsInt() @Min(1) BACKPRESSURE_QUEUE_TIMEOUT_MS: number;

  @IsIn(ADMISSION_MODES) ADMISSION_MODE: AdmissionMode;
  @Transform(toNumber) @IsInt() @Min(1) ADMISSION_MIN_LIMIT: number;
  @IsOptional() @Transform(toNumber) @IsInt() @Min(1) ADMISSION_MAX_LIMIT?: number;
  @Transform(toNumber) @IsNumber() @Min(0.1) @Max(10_000) ADMISSION_TARGET_DELAY_MS: number;

  @Transform(toNumber) @IsInt() @Min(1) CIRCUIT_BREAKER_FAILURE_THRESHOLD: number;
  @Transform(toNumber) @IsNumber() @Min(0.01) @Max(1) CIRCUIT_BREAKER_ERROR_RATE_THRESHOLD: number;
  @Transform(toNumber) @IsNumber() @Min(1) CIRCUIT_BREAKER_WINDOW_SECONDS: number;
  @Transform(toNumber) @IsInt() @Min(1) CIRCUIT_BREAKER_MIN_CALLS: number;
  @Transform(toNumber) @IsNumber() @Min(0.1) CIRCUIT_BREAKER_HALF_OPEN_AFTER_SECONDS: number;
  @Transform(toNumber) @IsInt() @Min(1) CIRCUIT_BREAKER_HALF_OPEN_MAX_CALLS: number;
  @Transform(toNumber) @IsInt() @Min(1) STORE_TIMEOUT_MS: number;
  @Transform(toNumber) @IsInt() @Min(1) REDIS_TIMEOUT_MS: number;

  // The revocation bound a missed invalidation leaves: kept short by rule, not by hope.
  @Transform(toNumber) @IsInt() @Min(1) @Max(60) USER_CACHE_TTL_SECONDS: number;
  @Transform(toNumber) @IsInt() @Min(1) LOGIN_MAX_FAILURES_PER_USERNAME: number;
  @Transform(toNumber) @IsInt() @Min(1) LOGIN_MAX_FAILURES_PER_ADDRESS: number;
  @Transform(toNumber) @IsInt() @Min(1) LOGIN_THROTTLE_WINDOW_SECONDS: number;

  @Transform(toBoolean)
  @IsBoolean()
  @IsNotTrueInProductionUnless('ALLOW_FAULT_INJECTION_IN_PRODUCTION', {
    message: 'must be false in production (set ALLOW_FAULT_INJECTION_IN_PRODUCTION=true to override)',
  })
  FAULT_INJECTION_ENABLED: boolean;
  @Transform(toBoolean) @IsBoolean() ALLOW_FAULT_INJECTION_IN_PRODUCTION: boolean;

  @Transform(toNumber) @IsNumber() @Min(0) MEMORY_CACHE_TTL_SECONDS: number;
  @Transform(toNumber) @IsInt() @Min(0) MEMORY_CACHE_MAX_ENTRIES: number;
  @Transform(toNumber) @IsNumber() @Min(0) REDIS_CACHE_TTL_SECONDS: number;

  @Transform(toNumber) @IsNumber() @Min(0.00001) EVENT_RETENTION_DAYS: number;
  @Transform(toNumber) @IsNumber() @Min(0.05) @Max(3600) SSE_HEARTBEAT_SECONDS: number;
  @Transform(toNumber) @IsInt() @Min(0) SSE_MAX_STREAMS: number;
  @Transform(toNumber) @IsInt() @Min(1024) SSE_MAX_BUFFER_BYTES: number;
  @Transform(toNumber) @IsInt() @Min(1) WEBHOOK_RETRY_BASE_MS: number;
  @Transform(toNumber) @IsInt() @Min(1) WEBHOOK_RETRY_MAX_MS: number;
  @Transform(toNumber) @IsInt() @Min(1) @Max(100) WEBHOOK_MAX_ATTEMPTS: number;
  @Transform(toNumber) @IsInt() @Min(1) WEBHOOK_TIMEOUT_MS: number;
  @Transform(toNumber) @IsInt() @Min(1) @Max(1000) WEBHOOK_MAX_IN_FLIGHT: number;
  @Transform(toNumber) @IsInt() @Min(0) @Max(10_000) WEBHOOKS_MAX: number;
  @Transform(toBoolean) @IsBoolean() WEBHOOK_ALLOW_PRIVATE_TARGETS: boolean;
}

type Defaults = Omit<
  Record<keyof EnvironmentVariables, string>,
  | 'DATABASE_URL'
  | 'REDIS_URL'
  | 'JWT_SECRET'
  | 'OMS_ADMIN_USERNAME'
  | 'OMS_ADMIN_PASSWORD'
  | 'ADMISSION_MAX_LIMIT'
>;

const development: Defaults = {
  OMS_ENV: 'development',
  LOG_LEVEL: 'info',
  PORT: '8090',
  METRICS_PORT: '8091',
  BODY_LIMIT: '1mb',
  BULK_BODY_LIMIT: '256mb',
  BULK_TIMEOUT_MS: '600000',
  MAX_CASCADE: '10000',
  SHUTDOWN_TIMEOUT_MS: '10000',
  TRUST_PROXY: 'false',
  JSON_MAX_DEPTH: '64',
  METRICS_HOST: '127.0.0.1',
  DATA_DIR: './data',
  REDIS_CACHE_PREFIX: 'oms:',
  JWT_EXPIRES_IN_SECONDS: '3600',
  USER_CACHE_TTL_SECONDS: '5',
  LOGIN_MAX_FAILURES_PER_USERNAME: '10',
  LOGIN_MAX_FAILURES_PER_ADDRESS: '50',
  LOGIN_THROTTLE_WINDOW_SECONDS: '300',
  ENABLE_ETAG_CACHING: 'true',
  REQUIRE_IF_MATCH: 'false',
  BACKPRESSURE_MAX_CONCURRENT: '200',
  BACKPRESSURE_MAX_QUEUE: '2000',
  BACKPRESSURE_QUEUE_TIMEOUT_MS: '5000',
  ADMISSION_MODE: 'adaptive',
  ADMISSION_MIN_LIMIT: '2',
  ADMISSION_TARGET_DELAY_MS: '2',
  CIRCUIT_BREAKER_FAILURE_THRESHOLD: '10',
  CIRCUIT_BREAKER_ERROR_RATE_THRESHOLD: '0.5',
  CIRCUIT_BREAKER_WINDOW_SECONDS: '60',
  CIRCUIT_BREAKER_MIN_CALLS: '20',
  CIRCUIT_BREAKER_HALF_OPEN_AFTER_SECONDS: '30',
  CIRCUIT_BREAKER_HALF_OPEN_MAX_CALLS: '1',
  STORE_TIMEOUT_MS: '5000',
  REDIS_TIMEOUT_MS: '250',
  FAULT_INJECTION_ENABLED: 'true',
  ALLOW_FAULT_INJECTION_IN_PRODUCTION: 'false',
  MEMORY_CACHE_TTL_SECONDS: '60',
  MEMORY_CACHE_MAX_ENTRIES: '10000',
  REDIS_CACHE_TTL_SECONDS: '300',
  EVENT_RETENTION_DAYS: '30',
  SSE_HEARTBEAT_SECONDS: '15',
  SSE_MAX_STREAMS: '1000',
  SSE_MAX_BUFFER_BYTES: '1048576',
  WEBHOOK_RETRY_BASE_MS: '5000',
  WEBHOOK_RETRY_MAX_MS: '7200000',
  WEBHOOK_MAX_ATTEMPTS: '12',
  WEBHOOK_TIMEOUT_MS: '5000',
  WEBHOOK_MAX_IN_FLIGHT: '16',
  WEBHOOKS_MAX: '100',
  WEBHOOK_ALLOW_PRIVATE_TARGETS: 'false',
};

/** Built-in defaults per OMS_ENV; config/.env.<env> carries the same values for people to copy and edit. */
export const DEFAULTS: Record<OmsEnv, Defaults> = {
  development,
  production: {
    ...development,
    OMS_ENV: 'production',
    CIRCUIT_BREAKER_FAILURE_THRESHOLD: '3',
    CIRCUIT_BREAKER_ERROR_RATE_THRESHOLD: '0.2',
    CIRCUIT_BREAKER_HALF_OPEN_AFTER_SECONDS: '30',
    BACKPRESSURE_MAX_CONCURRENT: '50',
    BACKPRESSURE_MAX_QUEUE: '1000',
    FAULT_INJECTION_ENABLED: 'false',
  },
  test: {
    ...development,
    OMS_ENV: 'test',
    LOG_LEVEL: 'error',
    PORT: '0',
    METRICS_PORT: '0',
    DATA_DIR: 'memory://',
    SHUTDOWN_TIMEOUT_MS: '2000',
    // Suites share a busy machine: edge admission is on only where a suite asks for it.
    ADMISSION_MODE: 'off',
  },
};
