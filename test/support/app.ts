import { INestApplication } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { loadConfig } from '@oms/config';
import type { Server } from 'node:http';
import request from 'supertest';
import TestAgent from 'supertest/lib/agent';
import { createApps } from '../../apps/oms/src/create-app';
import { StoreLocation } from '@oms/store';
import { StoreTarget } from './store-targets';

export const ADMIN = { username: 'admin', password: 'admin-password-1' };
export const TEST_JWT_SECRET = 'test-secret-that-is-at-least-32-characters-long';

export interface TestApp {
  app: INestApplication;
  http: TestAgent;
  server: Server;
  /** Bearer tokens for one user per role. */
  tokens: { admin: string; editor: string; viewer: string };
  /** The metrics application (GET /metrics). */
  metrics: TestAgent;
  /** Headers with a role's token. */
  as(role: 'admin' | 'editor' | 'viewer'): Record<string, string>;
  close(): Promise<void>;
}

/**
 * Boots the real application on a fresh store of the target (PGlite or PostgreSQL), with an admin from
 * OMS_ADMIN_* and an editor and a viewer created through the API.
 */
export async function startTestApp(target: StoreTarget, env: Record<string, string> = {}): Promise<TestApp> {
  const { location, cleanup } = await target.provision();
  const redis: Record<string, string> = target.redisUrl
    ? // Each app its own key space, so files running in parallel on one Redis never see each other's keys.
      { REDIS_URL: target.redisUrl, REDIS_CACHE_PREFIX: `oms-test-${randomUUID()}:` }
    : {};
  return bootTestApp(location, { ...redis, ...env }, cleanup);
}

/**
 * Boots an application on an existing store location (several may share one PostgreSQL, as instances of
 * one deployment do); `cleanup` runs when it closes.
 */
export async function bootTestApp(
  location: StoreLocation,
  env: Record<string, string>,
  cleanup: () => Promise<void> = () => Promise.resolve(),
): Promise<TestApp> {
  const config = loadConfig({
    OMS_ENV: 'test',
    JWT_SECRET: TEST_JWT_SECRET,
    OMS_ADMIN_USERNAME: ADMIN.username,
    OMS_ADMIN_PASSWORD: ADMIN.password,
    DATA_DIR: location.dataDir,
    ...(location.databaseUrl ? { DATABASE_URL: location.databaseUrl } : {}),
    ...env,
  });
  const { api: app, metrics } = await createApps(config);
  await app.init();
  await metrics.init();
  const server = app.getHttpServer() as Server;
  const http = request(server);
  const login = async (username: string, password: string) =>
    (await http.post('/api/v1/auth/login').send({ username, password }).expect(200)).body
      .accessToken as string;
  const admin = await login(ADMIN.username, ADMIN.password);
  for (const role of ['editor', 'viewer']) {
    const res = await http
      .post('/api/v1/users')
      .set('Authorization', `Bearer ${admin}`)
      .send({ username: role, password: `${role}-password`, roles: [role] });
    if (res.status !== 201 && res.status !== 409) throw new Error(`creating ${role}: ${res.status}`);
  }
  const tokens = {
    admin,
    editor: await login('editor', 'editor-password'),
    viewer: await login('viewer', 'viewer-password'),
  };
  return {
    app,
    http,
    server,
    tokens,
    as: (role) => ({ Authorization: `Bearer ${tokens[role]}` }),
    metrics: request(metrics.getHttpServer() as Server),
    close: async () => {
      await Promise.all([app.close(), metrics.close()]);
      await cleanup();
    },
  };
}
