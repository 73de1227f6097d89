/**
 * A tiny structured logger. It is silent unless the application asks for a
 * level, because an SDK embedded in someone else's page should not write to
 * their console uninvited. Fields never include tokens or media content.
 */

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

export type LogFields = Record<string, unknown>;

/** The SDK's structured logger (see `createLogger`). */
export interface Logger {
  /** Entries below this level are dropped. */
  readonly level: LogLevel;
  /** Logs a debug entry. */
  debug(message: string, fields?: LogFields): void;
  /** Logs an info entry. */
  info(message: string, fields?: LogFields): void;
  /** Logs a warning. */
  warn(message: string, fields?: LogFields): void;
  /** Logs an error. */
  error(message: string, fields?: LogFields): void;
  /** A logger that adds `fields` (e.g. room and participant ids) to every entry. */
  child(fields: LogFields): Logger;
}

/** Where log entries go; `console` by default. */
export interface LogSink {
  /** Receives debug entries. */
  debug(...data: unknown[]): void;
  /** Receives info entries. */
  info(...data: unknown[]): void;
  /** Receives warnings. */
  warn(...data: unknown[]): void;
  /** Receives errors. */
  error(...data: unknown[]): void;
}

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

export function isLogLevel(value: unknown): value is LogLevel {
  // hasOwnProperty rather than Object.hasOwn: older mobile Safari lacks the latter.
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(RANK, value);
}

/** A logger writing entries at `level` and above to `sink` (`console` by default), each with `context` added. */
export function createLogger(level: LogLevel = 'silent', context: LogFields = {}, sink: LogSink = console): Logger {
  const write = (entryLevel: Exclude<LogLevel, 'silent'>, message: string, fields?: LogFields): void => {
    if (RANK[entryLevel] < RANK[level]) return;
    sink[entryLevel]('[huizhen]', message, { ...context, ...fields });
  };
  return {
    level,
    debug: (message, fields) => write('debug', message, fields),
    info: (message, fields) => write('info', message, fields),
    warn: (message, fields) => write('warn', message, fields),
    error: (message, fields) => write('error', message, fields),
    child: (fields) => createLogger(level, { ...context, ...fields }, sink),
  };
}

/** Turns an unknown thrown value into loggable fields. */
export function errorFields(error: unknown): LogFields {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return code === undefined ? { error: error.message } : { error: error.message, code };
  }
  return { error: String(error) };
}
