import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { plainToInstance } from 'class-transformer';
import { ValidationError, validateSync } from 'class-validator';
import { parse } from 'dotenv';
import { DEFAULTS, EnvironmentVariables, OMS_ENVS, OmsEnv } from './environment';
import { OmsConfig } from './oms-config';

/** Thrown when a variable fails its rule; the message names every bad variable and its value. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

const ENV_KEYS = [
  ...Object.keys(DEFAULTS.development),
  'DATABASE_URL',
  'REDIS_URL',
  'JWT_SECRET',
  'OMS_ADMIN_USERNAME',
  'OMS_ADMIN_PASSWORD',
  'ADMISSION_MAX_LIMIT',
];
const SECRET_VARIABLES = new Set(['JWT_SECRET', 'OMS_ADMIN_PASSWORD', 'DATABASE_URL', 'REDIS_URL']);

/** Reads `.env` at the project root (if any) under the real environment, which always wins. */
export function readEnvironment(
  env: NodeJS.ProcessEnv = process.env,
  dotenvPath = resolve(process.cwd(), '.env'),
): Record<string, string | undefined> {
  const fromFile = existsSync(dotenvPath) ? parse(readFileSync(dotenvPath)) : {};
  return { ...fromFile, ...env };
}

/** Validates the environment once, over the defaults of its OMS_ENV, and returns the typed configuration. */
export function loadConfig(raw: Record<string, string | undefined> = readEnvironment()): OmsConfig {
  const omsEnv = (raw.OMS_ENV ?? 'development') as OmsEnv;
  if (!OMS_ENVS.includes(omsEnv)) {
    throw new ConfigError([`OMS_ENV="${raw.OMS_ENV}" must be one of ${OMS_ENVS.join(', ')}`]);
  }
  const merged: Record<string, string | undefined> = { ...DEFAULTS[omsEnv] };
  for (const key of ENV_KEYS) {
    const value = raw[key];
    if (value !== undefined && value !== '') merged[key] = value;
  }
  const env = plainToInstance(EnvironmentVariables, merged);
  const errors = validateSync(env, { whitelist: true, forbidUnknownValues: true });
  if (errors.length > 0) throw new ConfigError(errors.map((e) => describe(e, merged)));
  const config = toConfig(env);
  if (config.admission.mode === 'adaptive' && config.admission.minLimit > config.admission.maxLimit) {
    throw new ConfigError([
      `ADMISSION_MIN_LIMIT="${env.ADMISSION_MIN_LIMIT}" must not exceed the ceiling ${config.admission.maxLimit} ` +
        `(ADMISSION_MAX_LIMIT, or BACKPRESSURE_MAX_CONCURRENT + BACKPRESSURE_MAX_QUEUE when unset)`,
    ]);
  }
  return config;
}

function describe(error: ValidationError, raw: Record<string, string | undefined>): string {
  const value = raw[error.property];
  const shown =
    value === undefined ? '(unset)' : SECRET_VARIABLES.has(error.property) ? '(hidden)' : `"${value}"`;
  const reasons = Object.values(error.constraints ?? {}).map((m) => m.replace(`${error.property} `, ''));
  return `${error.property}=${shown}: ${reasons.join('; ')}`;
}

function toConfig(env: EnvironmentVariables): OmsConfig {
  return {
    env: env.OMS_ENV,
    logLevel: env.LOG_LEVEL,
    http: {
      port: env.PORT,
      bodyLimit: env.BODY_LIMIT,
      bulkBodyLimit: env.BULK_BODY_LIMIT,
      bulkTimeoutMs: env.BULK_TIMEOUT_MS,
      shutdownTimeoutMs: env.SHUTDOWN_TIMEOUT_MS,
      jsonMaxDepth: env.JSON_MAX_DEPTH,
      trustProxy: trustProxy(env.TRUST_PROXY),
    },
    documents: { maxCascade: env.MAX_CASCADE },
    metrics: { port: env.METRICS_PORT, host: env.METRICS_HOST },
    store: { databaseUrl: env.DATABASE_URL, dataDir: env.DATA_DIR, timeoutMs: env.STORE_TIMEOUT_MS },
    redis: { url: env.REDIS_URL, keyPrefix: env.REDIS_CACHE_PREFIX, timeoutMs: env.REDIS_TIMEOUT_MS },
    auth: {
      jwtSecret: env.JWT_SECRET,
      jwtExpiresInSeconds: env.JWT_EXPIRES_IN_SECONDS,
      bootstrapAdmin:
        env.OMS_ADMIN_USERNAME && env.OMS_ADMIN_PASSWORD
          ? { username: env.OMS_ADMIN_USERNAME, password: env.OMS_ADMIN_PASSWORD }
          : undefined,
      userCacheTtlSeconds: env.USER_CACHE_TTL_SECONDS,
      login: {
        maxFailuresPerUsername: env.LOGIN_MAX_FAILURES_PER_USERNAME,
        maxFailuresPerAddress: env.LOGIN_MAX_FAILURES_PER_ADDRESS,
        windowSeconds: env.LOGIN_THROTTLE_WINDOW_SECONDS,
      },
    },
    etag: { enabled: env.ENABLE_ETAG_CACHING, requireIfMatch: env.REQUIRE_IF_MATCH },
    backpressure: {
      maxConcurrent: env.BACKPRESSURE_MAX_CONCURRENT,
      maxQueue: env.BACKPRESSURE_MAX_QUEUE,
      queueTimeoutMs: env.BACKPRESSURE_QUEUE_TIMEOUT_MS,
    },
    admission: {
      mode: env.ADMISSION_MODE,
      minLimit: env.ADMISSION_MIN_LIMIT,
      // Unset: what the bulkhead holds at most, so that at rest the edge is never stricter than it.
      maxLimit: env.ADMISSION_MAX_LIMIT ?? env.BACKPRESSURE_MAX_CONCURRENT + env.BACKPRESSURE_MAX_QUEUE,
      targetDelayMs: env.ADMISSION_TARGET_DELAY_MS,
    },
    breaker: {
      failureThreshold: env.CIRCUIT_BREAKER_FAILURE_THRESHOLD,
      errorRateThreshold: env.CIRCUIT_BREAKER_ERROR_RATE_THRESHOLD,
      windowSeconds: env.CIRCUIT_BREAKER_WINDOW_SECONDS,
      minCalls: env.CIRCUIT_BREAKER_MIN_CALLS,
      halfOpenAfterSeconds: env.CIRCUIT_BREAKER_HALF_OPEN_AFTER_SECONDS,
      halfOpenMaxCalls: env.CIRCUIT_BREAKER_HALF_OPEN_MAX_CALLS,
    },
    faultInjection: { enabled: env.FAULT_INJECTION_ENABLED },
    cache: {
      memoryTtlSeconds: env.MEMORY_CACHE_TTL_SECONDS,
      memoryMaxEntries: env.MEMORY_CACHE_MAX_ENTRIES,
      redisTtlSeconds: env.REDIS_CACHE_TTL_SECONDS,
    },
    feed: {
      retentionDays: env.EVENT_RETENTION_DAYS,
      heartbeatSeconds: env.SSE_HEARTBEAT_SECONDS,
      maxStreams: env.SSE_MAX_STREAMS,
      maxBufferBytes: env.SSE_MAX_BUFFER_BYTES,
    },
    webhooks: {
      retryBaseMs: env.WEBHOOK_RETRY_BASE_MS,
      retryMaxMs: env.WEBHOOK_RETRY_MAX_MS,
      maxAttempts: env.WEBHOOK_MAX_ATTEMPTS,
      timeoutMs: env.WEBHOOK_TIMEOUT_MS,
      maxInFlight: env.WEBHOOK_MAX_IN_FLIGHT,
      max: env.WEBHOOKS_MAX,
      allowPrivateTargets: env.WEBHOOK_ALLOW_PRIVATE_TARGETS,
    },
  };
}

function trustProxy(value: string): boolean | number | string {
  if (value === 'true' || value === 'false') return value === 'true';
  return /^\d+$/.test(value) ? Number(value) : value;
}
