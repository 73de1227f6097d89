/**
 * How a failed connect, reconnect attempt or media setup becomes one typed
 * error, and which failures another reconnect attempt may get past.
 */
import { ConnectionError, ConnectionErrorReason, ErrorCode, HuizhenError, isErrorCode } from '../errors.js';
import type { NotificationData } from '@huizhen/protocol';

/** Join codes that another attempt may get past (the network, an overloaded or restarting server). */
const RETRYABLE_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  ErrorCode.CONNECTION_FAILED,
  ErrorCode.TIMEOUT,
  ErrorCode.RATE_LIMITED,
  ErrorCode.INTERNAL,
  ErrorCode.MEDIA_ERROR,
  ErrorCode.SERVER_SHUTTING_DOWN,
  ErrorCode.CLUSTER_UNAVAILABLE,
]);

export function isRetryable(error: unknown): boolean {
  // Anything that is not a server answer (a token provider that could not reach its backend, say) may work next time.
  return !(error instanceof HuizhenError) || RETRYABLE_CODES.has(error.code);
}

export function cancelledError(): ConnectionError {
  return new ConnectionError(ConnectionErrorReason.Cancelled, 'disconnect() was called while connecting');
}

/** One typed error for every way connecting can fail. */
export function connectFailure(
  error: unknown,
  context: { cancelled: boolean; sessionClosed: NotificationData['sessionClosed'] | undefined },
): ConnectionError {
  if (context.cancelled) return cancelledError();
  const closed = context.sessionClosed;
  if (closed && isErrorCode(closed.code)) {
    return new ConnectionError(
      ConnectionErrorReason.Rejected,
      closed.reason || 'The server closed the session',
      closed.code,
    );
  }
  if (error instanceof ConnectionError) return error;
  if (error instanceof HuizhenError) {
    const reason = error.code === ErrorCode.TIMEOUT ? ConnectionErrorReason.Timeout : ConnectionErrorReason.Rejected;
    return new ConnectionError(reason, error.message, error.code, { cause: error });
  }
  const message = error instanceof Error ? error.message : String(error);
  return new ConnectionError(
    ConnectionErrorReason.MediaSetupFailed,
    `Could not connect: ${message}`,
    ErrorCode.CONNECTION_FAILED,
    {
      cause: error,
    },
  );
}

/** A failure to load the Device or set up transports, as the ConnectionError connect() rejects with. */
export function mediaSetupError(error: unknown): ConnectionError {
  if (error instanceof ConnectionError) return error;
  if (error instanceof HuizhenError) {
    return new ConnectionError(ConnectionErrorReason.MediaSetupFailed, error.message, error.code, { cause: error });
  }
  if ((error as { name?: unknown })?.name === 'UnsupportedError') {
    return new ConnectionError(
      ConnectionErrorReason.UnsupportedBrowser,
      'This browser does not support the WebRTC features consults need',
      ErrorCode.CONNECTION_FAILED,
      { cause: error },
    );
  }
  const message = error instanceof Error ? error.message : String(error);
  return new ConnectionError(
    ConnectionErrorReason.MediaSetupFailed,
    `Media setup failed: ${message}`,
    ErrorCode.CONNECTION_FAILED,
    {
      cause: error,
    },
  );
}
