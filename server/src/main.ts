/**
 * Process entry: load and validate the config, start the node, and shut down
 * cleanly on SIGTERM / SIGINT so participants are told and workers stop.
 */
import { ConfigError, loadConfig } from './config.js';
import { HuizhenServer } from './HuizhenServer.js';
import { createLogger } from './observability/logger.js';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`huizhen: ${err.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw err;
  }
  const logger = createLogger({ level: config.log.level });
  const server = await HuizhenServer.start(config, { logger });
  logger.info(`Huizhen is up: open ${server.url}/ for the demo`, { url: server.url });

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info('signal received', { signal });
    // A cluster node may first drain (sessions move, homes are handed over) for up to drainTimeoutSec.
    const drainMs = server.cluster ? config.cluster.drainTimeoutSec * 1000 : 0;
    const force = setTimeout(() => process.exit(1), drainMs + 10_000);
    force.unref();
    server.close().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error('shutdown failed', { error: err as Error });
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  // --- cluster: `huizhen node drain <id>` does what SIGTERM does
  server.cluster?.registry.on('drainRequested', () => stop('drain requested'));
  process.on('SIGINT', () => stop('SIGINT'));
  // A bug in one request must not take every consult down with it.
  process.on('unhandledRejection', (reason) => logger.error('unhandled rejection', { error: reason as Error }));
  process.on('uncaughtException', (err) => logger.error('uncaught exception', { error: err }));
}

main().catch((err: unknown) => {
  process.stderr.write(`huizhen: failed to start: ${(err as Error).message}\n`);
  process.exit(1);
});
