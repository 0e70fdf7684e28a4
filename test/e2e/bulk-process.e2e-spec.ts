import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RunningService, callService as call, processSuite, startService } from '../support/service-process';
import { StoreTarget, storeTargets } from '../support/store-targets';

/** Cursor control (CSI): a bar redrawn in place writes it; plain lines never do. */
const ESCAPE = new RegExp(String.fromCharCode(27) + '\\[');
const ADMIN = { username: 'root', password: 'root-password-1' };
const ROOT = join(__dirname, '../..');
const CLI = (name: string) => join(ROOT, 'dist/apps/oms/src/cli', `${name}.js`);

async function login(service: RunningService): Promise<string> {
  const res = await call(service, 'POST', '/api/v1/auth/login', undefined, ADMIN);
  expect(res.status).toBe(200);
  return res.body!.accessToken as string;
}

/** Runs a built CLI to its end (bounded), with pipes (not a terminal) for its output. */
function runCli(name: string, args: string[], env: Record<string, string>) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(process.execPath, [CLI(name), ...args], {
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 60_000,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

async function count(service: RunningService, token: string, objectType: string): Promise<number> {
  const res = await fetch(`${service.url}/api/v1/documents/export?objectType=${objectType}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  expect(res.status).toBe(200);
  await res.arrayBuffer();
  return Number(res.headers.get('x-total-count'));
}

describe.each(storeTargets())(
  'bulk import and export through the CLI and across kill -9 on $name',
  (target: StoreTarget) => {
    const suite = processSuite(target, {
      OMS_ADMIN_USERNAME: ADMIN.username,
      OMS_ADMIN_PASSWORD: ADMIN.password,
    });
    let dir: string;
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'oms-bulk-'));
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('npm run import / export: progress lines on stderr, the answer on stdout, a file that round-trips', async () => {
      const service = await startService(suite.env);
      const token = await login(service);
      const type = {
        name: 'Item',
        properties: [
          { name: 'n', dataType: 'integer' },
          { name: 's', dataType: 'string' },
        ],
      };
      expect((await call(service, 'POST', '/api/v1/schemas/main/object-types', token, type)).status).toBe(
        201,
      );
      const file = join(dir, 'items.ndjson');
      const rows = 3_000;
      writeFileSync(
        file,
        Array.from({ length: rows }, (_, i) =>
          JSON.stringify({
            op: 'create',
            objectType: 'Item',
            id: `i-${i}`,
            properties: { n: i, s: `ü ${i}` },
          }),
        ).join('\n') + '\n',
      );
      const cliEnv = { OMS_TOKEN: token };
      const imported = await runCli(
        'import',
        [file, '--url', service.url, '--progress-interval', '20', '--message', 'Items à la carte'],
        cliEnv,
      );
      expect(imported.code).toBe(0);
      const answer = JSON.parse(imported.stdout) as Record<string, unknown>;
      expect(answer).toMatchObject({ created: rows, updated: 0, deleted: 0 });
      // Not a terminal: plain lines (no cursor control), the last one complete.
      expect(imported.stderr).not.toMatch(ESCAPE);
      const progressLines = imported.stderr.split('\n').filter((l) => l.includes('rows'));
      expect(progressLines[progressLines.length - 1]).toMatch(
        new RegExp(`100% \\| ${rows} rows \\| \\d+ rows/s`),
      );
      const commits = await call(service, 'GET', '/api/v1/branches/main/commits?limit=1', token);
      expect((commits.body as unknown as { message: string }[])[0]!.message).toBe('Items à la carte');

      const out = join(dir, 'export.ndjson');
      const exported = await runCli(
        'export',
        ['--url', service.url, '--type', 'Item', '--output', out],
        cliEnv,
      );
      expect(exported.code).toBe(0);
      const lines = readFileSync(out, 'utf8').trim().split('\n');
      expect(lines.length).toBe(rows);
      expect(exported.stderr).toMatch(new RegExp(`100% \\| ${rows} rows`));
      const byId = new Map(
        lines.map((l) => [(JSON.parse(l) as { id: string }).id, JSON.parse(l) as { properties: unknown }]),
      );
      expect(byId.get('i-42')!.properties).toEqual({ n: 42, s: 'ü 42' });

      // A refused import: exit 1, the errors with their lines on stderr, nothing written.
      const bad = join(dir, 'bad.ndjson');
      writeFileSync(bad, `${JSON.stringify({ objectType: 'Item', id: 'x-1', properties: { n: 'one' } })}\n`);
      const refused = await runCli('import', [bad, '--url', service.url], cliEnv);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/400 Validation failed/);
      expect(refused.stderr).toMatch(/line 1: \/properties\/n /);
      expect(await count(service, token, 'Item')).toBe(rows);
      await service.stop();
    });

    it('kill -9 in the middle of an import leaves nothing of it', async () => {
      let service = await startService(suite.env);
      let token = await login(service);
      const type = { name: 'Half', properties: [{ name: 'n', dataType: 'integer' }] };
      expect((await call(service, 'POST', '/api/v1/schemas/main/object-types', token, type)).status).toBe(
        201,
      );
      const head = (await call(service, 'GET', '/api/v1/branches/main', token)).body!.head;

      // The body arrives in batches, slowly: several batches are written (inside the open transaction) before
      // the process dies.
      let sent = 0;
      let killed = false;
      const body = new ReadableStream<Uint8Array>({
        async pull(controller) {
          if (killed || sent >= 20) return controller.close(); // the service dies first
          const lines = Array.from({ length: 1_000 }, (_, i) =>
            JSON.stringify({ objectType: 'Half', id: `h-${sent}-${i}`, properties: { n: i } }),
          );
          controller.enqueue(Buffer.from(lines.join('\n') + '\n'));
          sent += 1;
          await new Promise((resolve) => setTimeout(resolve, 100));
        },
      });
      const request = fetch(`${service.url}/api/v1/documents/bulk`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-ndjson' },
        body,
        duplex: 'half',
      }).catch((error: unknown) => error);
      for (const until = Date.now() + 10_000; sent < 6 && Date.now() < until;)
        await new Promise((resolve) => setTimeout(resolve, 20));
      expect(sent).toBeGreaterThanOrEqual(6);
      expect(await service.stop('SIGKILL')).toBe('SIGKILL');
      // The client saw the connection die: no answer at all.
      expect((await request) as { status?: number }).not.toHaveProperty('status');
      killed = true;

      service = await startService(suite.env);
      token = await login(service);
      expect((await call(service, 'GET', '/api/v1/branches/main', token)).body!.head).toBe(head);
      expect(await count(service, token, 'Half')).toBe(0);
      await service.stop();
    });
  },
);
