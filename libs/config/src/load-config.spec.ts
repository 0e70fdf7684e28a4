import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'dotenv';
import { DEFAULTS } from './environment';
import { ConfigError, loadConfig } from './load-config';

const envFile = (name: string) => parse(readFileSync(join(__dirname, '../../../config', name)));
const SECRET = 'a-signing-key-of-32-bytes-or-more!';

describe('loadConfig', () => {
  it('picks the development defaults when nothing is set', () => {
    const config = loadConfig({});
    expect(config.env).toBe('development');
    expect(config.http.port).toBe(8090);
    expect(config.metrics.port).toBe(8091);
    expect(config.store).toMatchObject({ dataDir: './data', databaseUrl: undefined, timeoutMs: 5000 });
    expect(config.redis.timeoutMs).toBe(250);
  });

  it('carries the seed values per environment', () => {
    const dev = loadConfig({ OMS_ENV: 'development' });
    const prod = loadConfig({ OMS_ENV: 'production', JWT_SECRET: SECRET });
    expect([dev.breaker.failureThreshold, prod.breaker.failureThreshold]).toEqual([10, 3]);
    expect([dev.breaker.errorRateThreshold, prod.breaker.errorRateThreshold]).toEqual([0.5, 0.2]);
    expect([dev.backpressure.maxConcurrent, prod.backpressure.maxConcurrent]).toEqual([200, 50]);
    expect([dev.backpressure.maxQueue, prod.backpressure.maxQueue]).toEqual([2000, 1000]);
    expect([dev.cache.memoryTtlSeconds, dev.cache.redisTtlSeconds]).toEqual([60, 300]);
    expect([dev.faultInjection.enabled, prod.faultInjection.enabled]).toEqual([true, false]);
  });

  it.each(['development', 'production'] as const)(
    'has config/.env.%s equal to the built-in defaults',
    (env) => {
      const file = envFile(`.env.${env}`);
      for (const [key, value] of Object.entries(DEFAULTS[env]))
        expect([key, file[key]]).toEqual([key, value]);
      expect(Object.keys(file).filter((k) => !(k in DEFAULTS[env]) && file[k] !== '')).toEqual([]);
    },
  );

  it('admits at the edge adaptively by default, under a ceiling of what the bulkhead holds', () => {
    const dev = loadConfig({});
    const prod = loadConfig({ OMS_ENV: 'production', JWT_SECRET: SECRET });
    expect(dev.admission).toEqual({ mode: 'adaptive', minLimit: 2, maxLimit: 2200, targetDelayMs: 2 });
    expect(prod.admission).toMatchObject({ mode: 'adaptive', maxLimit: 1050 });
    expect(loadConfig({ OMS_ENV: 'test' }).admission.mode).toBe('off');
    expect(
      loadConfig({ BACKPRESSURE_MAX_CONCURRENT: '10', BACKPRESSURE_MAX_QUEUE: '5' }).admission.maxLimit,
    ).toBe(15);
    expect(loadConfig({ ADMISSION_MODE: 'fixed', ADMISSION_MAX_LIMIT: '40' }).admission).toMatchObject({
      mode: 'fixed',
      maxLimit: 40,
    });
  });

  it('refuses an admission floor above its ceiling, and an unknown mode', () => {
    expect(() => loadConfig({ ADMISSION_MIN_LIMIT: '50', ADMISSION_MAX_LIMIT: '20' })).toThrow(
      /ADMISSION_MIN_LIMIT="50" must not exceed the ceiling 20/,
    );
    expect(() => loadConfig({ ADMISSION_MODE: 'auto' })).toThrow(/ADMISSION_MODE="auto"/);
    expect(() => loadConfig({ ADMISSION_MAX_LIMIT: '0' })).toThrow(/ADMISSION_MAX_LIMIT="0"/);
  });

  it('lets the environment override a default, converting types', () => {
    const config = loadConfig({
      PORT: '9000',
      ENABLE_ETAG_CACHING: 'false',
      CIRCUIT_BREAKER_ERROR_RATE_THRESHOLD: '0.3',
    });
    expect(config.http.port).toBe(9000);
    expect(config.etag.enabled).toBe(false);
    expect(config.breaker.errorRateThreshold).toBe(0.3);
  });

  it('stops with a message naming every bad variable and its value', () => {
    let error: unknown;
    try {
      loadConfig({ PORT: 'eighty', ENABLE_ETAG_CACHING: 'maybe', CIRCUIT_BREAKER_ERROR_RATE_THRESHOLD: '2' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as ConfigError).message;
    expect(message).toContain('PORT="eighty"');
    expect(message).toContain('ENABLE_ETAG_CACHING="maybe"');
    expect(message).toContain('CIRCUIT_BREAKER_ERROR_RATE_THRESHOLD="2"');
    expect((error as ConfigError).problems).toHaveLength(3);
  });

  it('refuses an unknown OMS_ENV', () => {
    expect(() => loadConfig({ OMS_ENV: 'staging' })).toThrow('OMS_ENV="staging"');
  });

  it('requires JWT_SECRET in production, without printing secrets', () => {
    expect(() => loadConfig({ OMS_ENV: 'production' })).toThrow(/JWT_SECRET=\(unset\)/);
    expect(() => loadConfig({ OMS_ENV: 'production', JWT_SECRET: 'short' })).toThrow(/JWT_SECRET=\(hidden\)/);
    expect(loadConfig({ OMS_ENV: 'production', JWT_SECRET: SECRET }).auth.jwtSecret).toBe(SECRET);
  });

  it.each([
    ['31 bytes', 'k'.repeat(15) + 'e'.repeat(16)],
    ['one repeated character', 'a'.repeat(40)],
  ])('refuses a JWT_SECRET of %s, in any environment', (_, secret) => {
    for (const OMS_ENV of ['production', 'development'])
      expect(() => loadConfig({ OMS_ENV, JWT_SECRET: secret })).toThrow(
        /JWT_SECRET=\(hidden\): must be at least 32 bytes/,
      );
  });

  it('counts the secret in bytes, not characters', () => {
    expect(() => loadConfig({ JWT_SECRET: 'ü'.repeat(15) + 'x' })).toThrow('JWT_SECRET');
    expect(loadConfig({ JWT_SECRET: 'üß'.repeat(8) }).auth.jwtSecret).toBe('üß'.repeat(8));
  });

  it('refuses fault injection in production unless ALLOW_FAULT_INJECTION_IN_PRODUCTION=true', () => {
    const prod = { OMS_ENV: 'production', JWT_SECRET: SECRET, FAULT_INJECTION_ENABLED: 'true' };
    expect(() => loadConfig(prod)).toThrow(/FAULT_INJECTION_ENABLED="true": must be false in production/);
    expect(loadConfig({ ...prod, ALLOW_FAULT_INJECTION_IN_PRODUCTION: 'true' }).faultInjection.enabled).toBe(
      true,
    );
    expect(loadConfig({ FAULT_INJECTION_ENABLED: 'true' }).faultInjection.enabled).toBe(true);
  });

  it('reads TRUST_PROXY as Express takes it, and refuses anything else', () => {
    expect(loadConfig({}).http.trustProxy).toBe(false);
    expect(loadConfig({ TRUST_PROXY: 'true' }).http.trustProxy).toBe(true);
    expect(loadConfig({ TRUST_PROXY: '2' }).http.trustProxy).toBe(2);
    expect(loadConfig({ TRUST_PROXY: 'loopback, 10.0.0.0/8' }).http.trustProxy).toBe('loopback, 10.0.0.0/8');
    expect(() => loadConfig({ TRUST_PROXY: 'all the things!' })).toThrow('TRUST_PROXY');
  });

  it('bounds USER_CACHE_TTL_SECONDS, the revocation bound, to a minute', () => {
    expect(loadConfig({ USER_CACHE_TTL_SECONDS: '60' }).auth.userCacheTtlSeconds).toBe(60);
    expect(() => loadConfig({ USER_CACHE_TTL_SECONDS: '3600' })).toThrow('USER_CACHE_TTL_SECONDS');
  });

  it('binds metrics to loopback unless told otherwise', () => {
    expect(loadConfig({}).metrics.host).toBe('127.0.0.1');
    expect(loadConfig({ OMS_ENV: 'production', JWT_SECRET: SECRET }).metrics.host).toBe('127.0.0.1');
    expect(loadConfig({ METRICS_HOST: '0.0.0.0' }).metrics.host).toBe('0.0.0.0');
  });

  it('rejects a DATABASE_URL that is not postgres and a REDIS_URL that is not redis', () => {
    expect(() => loadConfig({ DATABASE_URL: 'mysql://x' })).toThrow('DATABASE_URL');
    expect(() => loadConfig({ REDIS_URL: 'http://x' })).toThrow('REDIS_URL');
  });

  it('takes the bootstrap admin only with a password of 8+ characters', () => {
    expect(
      loadConfig({ OMS_ADMIN_USERNAME: 'root', OMS_ADMIN_PASSWORD: 'long-enough' }).auth.bootstrapAdmin,
    ).toEqual({
      username: 'root',
      password: 'long-enough',
    });
    expect(() => loadConfig({ OMS_ADMIN_USERNAME: 'root' })).toThrow('OMS_ADMIN_PASSWORD');
  });
});
