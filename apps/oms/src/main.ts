import { Logger } from '@nestjs/common';
import { ConfigError, OmsConfig, loadConfig } from '@oms/config';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApps } from './create-app';
import { JsonLineLogger } from './logger';

/** Before the configuration is known (and after a failed start): error lines only, as the service's are. */
const startupLogger = () => new JsonLineLogger('Main', { json: true, colors: false, logLevels: ['error'] });

function configOrExit(): OmsConfig {
  try {
    return loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    startupLogger().error({ message: error.message, problems: error.problems });
    process.exit(1);
  }
}

async function main(): Promise<void> {
  const config = configOrExit();
  const { api: app, metrics } = await createApps(config);
  const logger = new Logger('Main');
  await metrics.listen(config.metrics.port, config.metrics.host);
  await app.listen(config.http.port);
  const server = app.getHttpServer() as Server;
  const { port } = server.address() as AddressInfo;
  const { port: metricsPort, address: metricsHost } = (
    metrics.getHttpServer() as Server
  ).address() as AddressInfo;
  logger.log({
    message: 'OMS listening',
    port,
    metricsPort,
    metricsHost,
    env: config.env,
    store: config.store.databaseUrl ? 'postgres' : 'pglite',
  });

  // SIGTERM/SIGINT: stop accepting, let in-flight requests finish (bounded), close store and Redis, exit 0.
  const shutdown = (signal: string) => {
    logger.log({ message: 'shutting down', signal, timeoutMs: config.http.shutdownTimeoutMs });
    const force = setTimeout(() => server.closeAllConnections(), config.http.shutdownTimeoutMs);
    force.unref();
    // Keep-alive connections become idle as their last response finishes: close them then, rather
    // than waiting for their keep-alive timeout.
    setInterval(() => server.closeIdleConnections(), 50).unref();
    Promise.all([app.close(), metrics.close()])
      .then(() => process.exit(0))
      .catch((error: unknown) => {
        logger.error({ message: 'shutdown failed', error: String(error) });
        process.exit(1);
      });
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

main().catch((error: unknown) => {
  startupLogger().error({ message: 'start failed', error: String(error) });
  process.exit(1);
});
