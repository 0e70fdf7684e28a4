import { JwtService } from '@nestjs/jwt';
import { PasswordHasher, TokenService, passwordViolations, resolveJwtSecret, signingKey } from '@oms/auth';
import { USERNAME_PATTERN as USERNAME } from '@oms/common';
import { ConfigError, loadConfig } from '@oms/config';
import { DataDirectoryInUse, openStore } from '@oms/store';
import { parseArgs } from 'node:util';

const USAGE =
  'usage: npm run create-admin -- --username <name> --password <password: 8+ characters, at most 72 bytes, not the username>';

function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(1);
}

/**
 * Creates or resets an admin in the configured store (idempotent) and prints an access token on its
 * last line. On the embedded store it must run while the service is stopped (PGlite is single-process).
 */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { username: { type: 'string' }, password: { type: 'string' } },
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
