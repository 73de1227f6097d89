/**
 * Structured JSON logs, one object per line. Fields that could carry secrets
 * (tokens, keys, record contents) are redacted by name before anything is
 * written, so a careless call site cannot leak them.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

export type LogFields = Record<string, unknown>;

const SECRET_KEYS =
  /^(token|accessToken|authorization|secret|password|key|privateKey|content|contents|body|dtlsParameters|credential|iceServers)$/i;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger that adds these fields (e.g. room, participant) to every line. */
  child(fields: LogFields): Logger;
}

export interface LoggerOptions {
  level: LogLevel;
  /** Where lines go; stdout by default. Tests pass a collector. */
  write?: (line: string) => void;
}

export function createLogger(options: LoggerOptions, base: LogFields = {}): Logger {
  const threshold = LOG_LEVELS.indexOf(options.level);
  const write = options.write ?? ((line: string) => process.stdout.write(line + '\n'));
  // The fields a logger carries do not change: redact them once, not on every line.
  const safeBase = redact(base);
  const emit = (level: LogLevel, msg: string, fields?: LogFields): void => {
    if (LOG_LEVELS.indexOf(level) < threshold) return;
    const entry: LogFields = {
      time: new Date().toISOString(),
      level,
      msg,
      ...safeBase,
      ...(fields ? redact(fields) : {}),
    };
    write(safeStringify(entry));
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (fields) => createLogger(options, { ...base, ...fields }),
  };
}

function redact(fields: LogFields): LogFields {
  const out: LogFields = {};
  for (const [k, v] of Object.entries(fields)) {
    if (SECRET_KEYS.test(k)) out[k] = '[redacted]';
    else if (v instanceof Error)
      out[k] = { name: v.name, message: v.message, ...('code' in v ? { code: (v as { code: unknown }).code } : {}) };
    else out[k] = v;
  }
  return out;
}

function safeStringify(entry: LogFields): string {
  try {
    return JSON.stringify(entry);
  } catch {
    return JSON.stringify({
      time: entry.time,
      level: entry.level,
      msg: entry.msg,
      note: 'unserializable fields dropped',
    });
  }
}
