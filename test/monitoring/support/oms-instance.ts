import { RunningService, startService } from '../../support/service-process';

export interface ApiResponse {
  status: number;
  headers: Headers;
}

/** One built OMS process for the live monitoring suite: its ports, an admin token and a small client. */
export class OmsInstance {
  private token = '';

  private constructor(
    readonly service: RunningService,
    readonly metricsPort: number,
  ) {}

  /** Starts `node dist/.../main.js` with `env` and logs in as `admin` (created at start). */
  static async start(
    env: Record<string, string>,
    admin: { username: string; password: string },
  ): Promise<OmsInstance> {
    const service = await startService({
      ...env,
      OMS_ADMIN_USERNAME: admin.username,
      OMS_ADMIN_PASSWORD: admin.password,
    });
    const listening = service.logs.find((l) => l.message === 'OMS listening');
    const instance = new OmsInstance(service, listening!.metricsPort as number);
    const login = await fetch(`${service.url}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(admin),
      signal: AbortSignal.timeout(10_000),
    });
    if (login.status !== 200) throw new Error(`login failed: ${login.status}`);
    instance.token = ((await login.json()) as { accessToken: string }).accessToken;
    return instance;
  }

  /** The address Prometheus scrapes, which is also its `instance` label. */
  get metricsAddress(): string {
    return `127.0.0.1:${this.metricsPort}`;
  }

  async api(
    method: string,
    path: string,
    init: { body?: unknown; headers?: Record<string, string> } = {},
  ): Promise<ApiResponse> {
    const res = await fetch(`${this.service.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${this.token}`,
        ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...init.headers,
      },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
      signal: AbortSignal.timeout(15_000),
    });
    await res.arrayBuffer();
    return { status: res.status, headers: res.headers };
  }

  /** Injects (or with null removes) a store fault through the admin API. */
  async storeFault(spec: { errorRate: number; latencyMs: number } | null): Promise<number> {
    const res = spec
      ? await this.api('PUT', '/api/v1/admin/faults/store', { body: spec })
      : await this.api('DELETE', '/api/v1/admin/faults/store');
    return res.status;
  }

  /** SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
  async stop(graceMs = 10_000): Promise<void> {
    const child = this.service.process;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await this.service.stop('SIGTERM');
    clearTimeout(timer);
  }
}
