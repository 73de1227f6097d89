/** Shared set-up of the cluster tests: a connection with short timeouts and a log collector. */
import { createLogger, type Logger } from '../observability/logger.js';
import { ClusterConnection } from './ClusterConnection.js';

export function testLogger(lines: string[] = []): Logger {
  return createLogger({ level: 'debug', write: (line) => lines.push(line) });
}

export function testConnection(url: string, logger: Logger = testLogger()): ClusterConnection {
  return ClusterConnection.open({
    url,
    connectTimeoutMs: 500,
    commandTimeoutMs: 300,
    reconnectMaxDelayMs: 200,
    pingEveryMs: 200,
    logger,
  });
}

export async function until(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<number> {
  const start = Date.now();
  for (;;) {
    if (await check()) return Date.now() - start;
    if (Date.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
