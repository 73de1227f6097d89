/**
 * Typed errors of the load tester. Each carries a stable code and the exit
 * status the CLI uses, so scripts can tell a typo from a server that is down.
 */
export const ExitCode = {
  OK: 0,
  FAILED: 1,
  USAGE: 2,
  UNREACHABLE: 3,
  AUTH: 4,
  /** The run finished but the load did not meet the pass criteria (only with --fail-on-knee). */
  CRITERIA: 5,
} as const;

export type LoadTestErrorCode =
  'USAGE' | 'UNREACHABLE' | 'AUTH' | 'SERVER_REFUSED' | 'UNSAFE_TARGET' | 'SETUP_FAILED' | 'SHARD_FAILED' | 'INTERNAL';

export class LoadTestError extends Error {
  readonly code: LoadTestErrorCode;
  readonly exitCode: number;
  constructor(code: LoadTestErrorCode, message: string, exitCode: number = ExitCode.FAILED) {
    super(message);
    this.name = 'LoadTestError';
    this.code = code;
    this.exitCode = exitCode;
  }
}

export class UsageError extends LoadTestError {
  constructor(message: string) {
    super('USAGE', message, ExitCode.USAGE);
    this.name = 'UsageError';
  }
}

export class UnreachableError extends LoadTestError {
  constructor(message: string) {
    super('UNREACHABLE', message, ExitCode.UNREACHABLE);
    this.name = 'UnreachableError';
  }
}

export class AuthError extends LoadTestError {
  constructor(message: string) {
    super('AUTH', message, ExitCode.AUTH);
    this.name = 'AuthError';
  }
}

/** A generator child process died, stopped answering, or answered outside the shard protocol. */
export class ShardError extends LoadTestError {
  readonly shard: number;
  readonly pid: number | undefined;
  constructor(shard: number, pid: number | undefined, message: string) {
    super('SHARD_FAILED', `generator process ${shard}${pid !== undefined ? ` (pid ${pid})` : ''}: ${message}`);
    this.name = 'ShardError';
    this.shard = shard;
    this.pid = pid;
  }
}

/** An error a child process reported, as the typed error it was there (its code keeps its exit status). */
export function errorFromWire(code: string, message: string): LoadTestError {
  if (code === 'AUTH') return new AuthError(message);
  if (code === 'UNREACHABLE') return new UnreachableError(message);
  if (code === 'USAGE') return new UsageError(message);
  const known: readonly string[] = ['SERVER_REFUSED', 'UNSAFE_TARGET', 'SETUP_FAILED', 'SHARD_FAILED'];
  return new LoadTestError(known.includes(code) ? (code as LoadTestErrorCode) : 'INTERNAL', message);
}
