import { Logger, LoggerService } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { PasswordHasher, TokenService, passwordViolations, resolveJwtSecret, signingKey } from '@oms/auth';
import { USERNAME_PATTERN as USERNAME } from '@oms/common';
import { ConfigError, loadConfig } from '@oms/config';
import { DataDirectoryInUse, openStore } from '@oms/store';
import { parseArgs } from 'node:util';
import { toLogEntry } from '../logger';

const USAGE =
  'usage: npm run create-admin -- --username <name> --password <password: 8+ characters, at most 72 bytes, not the username> [--json]';

function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(1);
}

/**
 * What the libraries log through Nest's Logger (the store, the development signing key): warnings and errors
 * as plain lines on stderr, never coloured, the rest dropped — stdout carries the result alone.
 */
function plainLine(label: string) {
  return (message: unknown) => {
    const { message: text, fields } = toLogEntry(message);
    const extra = Object.keys(fields).length > 0 ? ` ${JSON.stringify(fields)}` : '';
    process.stderr.write(`${label}: ${text}${extra}\n`);
  };
}
const quiet = () => undefined;
const CLI_LOGGER: LoggerService = {
  log: quiet,
  debug: quiet,
  verbose: quiet,
  warn: plainLine('warning'),
  error: plainLine('error'),
  fatal: plainLine('error'),
};

/**
 * Creates or resets an admin in the configured store (idempotent) and prints an access token on its
 * last line — or, with --json, one JSON object on stdout:
 * `{"username","created","store","accessToken","tokenType","expiresIn"}` (`created` false: a reset).
 * Output is plain text, never coloured; errors go to stderr with exit code 1. On the embedded store it must
 * run while the service is stopped (PGlite is single-process).
 */
async function main(): Promise<void> {
  Logger.overrideLogger(CLI_LOGGER);
  const { values } = parseArgs({
    options: { username: { type: 'string' }, password: { type: 'string' }, json: { type: 'boolean' } },
    strict: true,
  });
  const username = values.username ?? fail(USAGE);
  const password = values.password ?? fail(USAGE);
  if (!USERNAME.test(username)) fail(`--username must match ${USERNAME.source}`);
  const broken = passwordViolations(password, username);
  if (broken.length > 0) fail(`--password does not meet the password policy: it ${broken.join('; it ')}.`);

  const config = loadConfig();
  const store = await openStore(config.store);
  try {
    const passwordHash = await new PasswordHasher().hash(password);
    // A reset moves the token version on: the admin's earlier tokens stop working (running instances
    // notice within USER_CACHE_TTL_SECONDS; this process cannot reach their memory).
    const { created } = await store.users.upsert({ username, passwordHash, roles: ['admin'] });
    const { tokenVersion } = (await store.users.find(username))!;
    const secret = await resolveJwtSecret(config, store.settings);
    const jwt = new JwtService({ secret: signingKey(secret) });
    const token = await new TokenService(jwt, config).issue(username, ['admin'], tokenVersion);
    if (values.json) {
      const kind = config.store.databaseUrl ? 'postgres' : 'pglite';
      process.stdout.write(`${JSON.stringify({ username, created, store: kind, ...token })}\n`);
      return;
    }
    const where = config.store.databaseUrl ? 'PostgreSQL' : `PGlite in ${config.store.dataDir}`;
    process.stdout.write(`${created ? 'Created' : 'Reset'} admin '${username}' (${where}).\n`);
    process.stdout.write(`Access token (expires in ${token.expiresIn} s):\n${token.accessToken}\n`);
  } finally {
    await store.client.close();
  }
}

main().catch((error: unknown) => {
  if (error instanceof DataDirectoryInUse) {
    fail(`${error.message}\nStop the service, run create-admin, then start the service again.`);
  }
  if (error instanceof ConfigError) fail(error.message);
  fail(`create-admin failed: ${error instanceof Error ? error.message : String(error)}`);
});
