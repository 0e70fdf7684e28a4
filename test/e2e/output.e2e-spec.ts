import {
  RunningService,
  runCreateAdmin,
  runServiceToExit,
  startService,
  processSuite,
} from '../support/service-process';
import { one } from '../support/one';
import { StoreTarget, storeTargets } from '../support/store-targets';

const ESC = '\x1b[';
const LEVELS = ['error', 'warn', 'info', 'debug'];
const ADMIN = { username: 'root', password: 'root-password-1' };

/** Every non-empty line of a stream's text. */
const linesOf = (text: string) => text.split('\n').filter((line) => line.length > 0);

/** A log line as the service writes it: one JSON object, a level of LOG_LEVEL's, a string message. */
function expectLogLine(line: Record<string, unknown>): void {
  expect(line).not.toHaveProperty('unparsed'); // every line of stdout is JSON
  expect(LEVELS).toContain(line.level);
  expect(typeof line.message).toBe('string');
  expect(line).toMatchObject({ pid: expect.any(Number), timestamp: expect.any(Number) });
  expect(JSON.stringify(line)).not.toContain(ESC);
}

describe.each(storeTargets())(
  'what the built service and create-admin print on $name',
  (target: StoreTarget) => {
    const suite = processSuite(target, {
      OMS_ADMIN_USERNAME: ADMIN.username,
      OMS_ADMIN_PASSWORD: ADMIN.password,
    });
    let service: RunningService | undefined;

    it('create-admin prints plain lines, never colour, and its warnings on stderr', () => {
      const result = runCreateAdmin(['--username', 'ops', '--password', 'first-password'], suite.env);
      expect(result.status).toBe(0);
      expect(result.stdout).not.toContain(ESC);
      expect(result.stderr).not.toContain(ESC);
      expect(linesOf(result.stdout)).toEqual([
        expect.stringMatching(/^Created admin 'ops' \((PostgreSQL|PGlite in .+)\)\.$/),
        expect.stringMatching(/^Access token \(expires in \d+ s\):$/),
        expect.stringMatching(/^[\w-]+\.[\w-]+\.[\w-]+$/),
      ]);
      // No JWT_SECRET here: the development key is announced, as a plain line, where it cannot mix with the token.
      expect(linesOf(result.stderr)).toEqual([
        'warning: JWT_SECRET is unset: using a generated development key kept in the store',
      ]);
    });

    it('create-admin --json prints exactly one JSON object on stdout, and its token works', async () => {
      const result = runCreateAdmin(
        ['--username', 'ops', '--password', 'second-password', '--json'],
        suite.env,
      );
      expect(result.status).toBe(0);
      expect(result.stdout).not.toContain(ESC);
      expect(result.stderr).not.toContain(ESC);
      expect(linesOf(result.stdout)).toHaveLength(1);
      const printed = JSON.parse(result.stdout) as Record<string, unknown>;
      expect(printed).toEqual({
        username: 'ops',
        created: false, // the test before created it: this is a reset
        store: target.name,
        accessToken: expect.stringMatching(/^[\w-]+\.[\w-]+\.[\w-]+$/),
        tokenType: 'Bearer',
        expiresIn: expect.any(Number),
      });

      service = await startService(suite.env);
      const me = await fetch(`${service.url}/api/v1/auth/me`, {
        headers: { authorization: `Bearer ${printed.accessToken as string}` },
      });
      expect(me.status).toBe(200);
      expect(await me.json()).toEqual({ username: 'ops', roles: ['admin'] });
    });

    it('create-admin --json says what is wrong on stderr, with nothing on stdout and exit code 1', () => {
      const result = runCreateAdmin(['--username', 'ops', '--json'], suite.env);
      expect(result.status).toBe(1);
      expect(result.stdout).toBe('');
      expect(result.stderr).toContain('usage: npm run create-admin');
    });

    it('the service logs one JSON line per event: level error, warn, info or debug, message a string', async () => {
      service = await startService(suite.env);
      const login = await fetch(`${service.url}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(ADMIN),
      });
      expect(login.status).toBe(200);
      const { accessToken } = (await login.json()) as { accessToken: string };
      const missing = await fetch(`${service.url}/api/v1/documents/crud/missing-doc?branch=main`, {
        headers: { authorization: `Bearer ${accessToken}`, 'x-request-id': 'output-check-1' },
      });
      expect(missing.status).toBe(404);
      expect(await service.stop('SIGTERM')).toBe(0);

      const { logs, port } = service;
      expect(logs.length).toBeGreaterThan(3);
      for (const line of logs) expectLogLine(line);
      expect(service.stderr.join('')).toBe(''); // nothing failed: no error lines
      // An object logged by the code gives its message as the message, its other keys beside it.
      expect(logs).toContainEqual(
        expect.objectContaining({
          level: 'info',
          context: 'Main',
          message: 'OMS listening',
          port,
          metricsPort: expect.any(Number),
        }),
      );
      expect(logs).toContainEqual(
        expect.objectContaining({
          level: 'info',
          context: 'HTTP',
          message: 'request',
          requestId: 'output-check-1',
          method: 'GET',
          route: '/api/v1/documents/crud/:id',
          status: 404,
          durationMs: expect.any(Number),
        }),
      );
      expect(logs).toContainEqual(
        expect.objectContaining({ level: 'info', context: 'Store', message: 'store closed' }),
      );
    });
  },
);

describe('a start that fails', () => {
  it('says why in one JSON error line on stderr', () => {
    const result = runServiceToExit({ PORT: 'eighty', DATA_DIR: 'memory://' });
    expect(result.status).toBe(1);
    const lines = linesOf(result.stderr);
    expect(lines).toHaveLength(1);
    const line = JSON.parse(one(lines, 'line on stderr')) as Record<string, unknown>;
    expectLogLine(line);
    expect(line).toMatchObject({
      level: 'error',
      context: 'Main',
      message: expect.stringContaining('PORT="eighty"'),
      problems: expect.any(Array),
    });
  });
});
