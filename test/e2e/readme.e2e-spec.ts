import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { defined } from '../support/one';
import { RunningService, startService, storeEnv } from '../support/service-process';
import { StoreTarget, storeTargets } from '../support/store-targets';

const README = readFileSync(join(__dirname, '../../README.md'), 'utf8');

/** The README's API examples: every bash block from "Getting a token" to "Errors" but the CLIs'. */
function exampleBlocks(): string[] {
  const section = README.slice(README.indexOf('## Getting a token'), README.indexOf('## Errors'));
  return [...section.matchAll(/```bash\n([\s\S]*?)```/g)]
    .map((m) => defined(m[1], 'the body of a bash block'))
    .filter((block) => !block.includes('create-admin') && !block.includes('npm run'));
}

/** Each curl's status, in order, as the README's comments give them. */
const EXPECTED = [
  200, // login
  ...[201, 200, 200, 204, 200], // users
  ...[200, 201, 200, 200, 204], // branches
  ...[201, 200, 200, 200, 200], // object types
  ...[201, 201, 200, 200, 200, 200, 200, 409, 204, 204, 204], // documents
  ...[201, 200, 200], // bulk import and export
  ...[201, 201, 201, 200, 201, 201, 200, 200, 200, 201, 200, 200], // version control
  ...[201, 200, 200, 200, 204], // webhooks
  ...[200, 200, 204, 200, 200], // fault injection
];

describe.each(storeTargets())('the README examples on $name', (target: StoreTarget) => {
  let service: RunningService;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    const provisioned = await target.provision();
    cleanup = provisioned.cleanup;
    service = await startService({
      ...storeEnv(provisioned.location),
      OMS_ADMIN_USERNAME: 'admin',
      OMS_ADMIN_PASSWORD: 'change-me-now',
      FAULT_INJECTION_ENABLED: 'true',
    });
  });
  afterAll(async () => {
    await service?.stop('SIGTERM');
    await cleanup?.();
  });

  it('run as written, in order, and answer what their comments say', () => {
    const blocks = exampleBlocks();
    expect(blocks.length).toBe(9);
    // Each curl reports its status and exit code on stderr, so its output flows on as the README pipes it.
    const script = [
      'set -u',
      `curl() { command curl -w '%{stderr}@@status %{http_code}\\n' "$@"; echo "@@exit $?" >&2; }`,
      ...blocks,
    ]
      .join('\n')
      .replaceAll('localhost:8090', `127.0.0.1:${service.port}`);
    const run = spawnSync('bash', ['-c', script], { encoding: 'utf8', timeout: 60_000 });
    const lines = run.stderr.split('\n');
    const statuses = lines.filter((l) => l.startsWith('@@status ')).map((l) => Number(l.slice(9)));
    const failures = lines.filter((l) => l.startsWith('@@exit ') && l !== '@@exit 0');
    const other = lines.filter((l) => l.length > 0 && !l.startsWith('@@'));
    expect({ failures, other, status: run.status }).toEqual({ failures: [], other: [], status: 0 });
    expect(statuses).toEqual(EXPECTED);
  });

  it('record the commit message as sent, in UTF-8', async () => {
    const login = await fetch(`${service.url}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: 'change-me-now' }),
    });
    const { accessToken } = (await login.json()) as { accessToken: string };
    const commits = await fetch(`${service.url}/api/v1/branches/main/commits?limit=100`, {
      headers: { authorization: `Bearer ${accessToken}` },
    });
    const messages = ((await commits.json()) as { message: string }[]).map((c) => c.message);
    expect(messages).toContain('Zoë adds Ada ✓');
  });
});
