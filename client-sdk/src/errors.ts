/**
 * Errors raised by the SDK. Every error carries a stable `code` from the shared
 * protocol (the same code the server sends) and a sentence a developer can act
 * on; failures to connect also say *why* in `ConnectionError.reason`.
 */
import { CloseCode, ERROR_CODES, ErrorCode, HuizhenError } from '@huizhen/protocol';

/** The base class of every error the SDK throws or emits (shared with the server). */
export { CloseCode, ErrorCode, HuizhenError };

/** Why connecting failed, or why an established connection was lost. */
export const ConnectionErrorReason = {
  /** The WebSocket to the server could not be opened. */
  ServerUnreachable: 'serverUnreachable',
  /** The server refused to join (bad or expired token, unknown room, room full, ...). See `code`. */
  Rejected: 'rejected',
  /** The server did not answer in time. */
  Timeout: 'timeout',
  /** `disconnect()` was called before connecting finished. */
  Cancelled: 'cancelled',
  /** The connection dropped. */
  ConnectionLost: 'connectionLost',
  /** This browser cannot do WebRTC with mediasoup. */
  UnsupportedBrowser: 'unsupportedBrowser',
  /** Media setup (device capabilities, transports) failed. */
  MediaSetupFailed: 'mediaSetupFailed',
} as const;

export type ConnectionErrorReason = (typeof ConnectionErrorReason)[keyof typeof ConnectionErrorReason];

/** A failure to connect to a room (what `connect()` rejects with), or of the connection itself. */
export class ConnectionError extends HuizhenError {
  /** Where it failed: serverUnreachable, rejected, timeout, cancelled, connectionLost, ... */
  readonly reason: ConnectionErrorReason;

  constructor(
    reason: ConnectionErrorReason,
    message: string,
    code: ErrorCode = ErrorCode.CONNECTION_FAILED,
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
    this.name = 'ConnectionError';
    this.reason = reason;
  }
}

/** Why a room ended up `disconnected`; passed to the `disconnected` event. */
export const DisconnectReason = {
  /** The application called `room.disconnect()`. */
  ClientInitiated: 'clientInitiated',
  /** The same identity joined the room from another window or device. */
  DuplicateIdentity: 'duplicateIdentity',
  /** The consult room was closed on the server (e.g. its media server failed). */
  RoomClosed: 'roomClosed',
  /** The consult was ended by a host. */
  RoomEnded: 'roomEnded',
  /** A host removed this participant from the room. */
  Removed: 'removed',
  /** A clinician declined to admit this participant from the waiting room. */
  AdmissionDenied: 'admissionDenied',
  /** The token used to join expired during the session. */
  TokenExpired: 'tokenExpired',
  /** The server is shutting down. */
  ServerShutdown: 'serverShutdown',
  /** The server ended the session for another reason (see the error's code). */
  ServerClosed: 'serverClosed',
  /** The connection to the server was lost. */
  ConnectionLost: 'connectionLost',
  /** Media could not be set up in this browser after being admitted from the lobby (see the error). */
  MediaSetupFailed: 'mediaSetupFailed',
} as const;

export type DisconnectReason = (typeof DisconnectReason)[keyof typeof DisconnectReason];

/** Whether `value` is one of the protocol's error codes. */
export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && ERROR_CODES.has(value);
}

/** Whether `value` is a `HuizhenError` (with `code`, when given). */
export function isHuizhenError(value: unknown, code?: ErrorCode): value is HuizhenError {
  return value instanceof HuizhenError && (code === undefined || value.code === code);
}

/**
 * Maps the `error` of a failed response to a HuizhenError with the same code.
 * A code this SDK version does not know (a newer server) becomes INTERNAL,
 * keeping the server's code in the message.
 */
export function fromWireError(error: unknown): HuizhenError {
  const wire = typeof error === 'object' && error !== null ? (error as { code?: unknown; message?: unknown }) : {};
  const message = typeof wire.message === 'string' && wire.message ? wire.message : 'The server reported an error.';
  if (isErrorCode(wire.code)) return new HuizhenError(wire.code, message);
  const raw = typeof wire.code === 'string' ? wire.code : 'unknown';
  return new HuizhenError(ErrorCode.INTERNAL, `${message} (server error code ${raw})`);
}

/** Picks the disconnect reason for an error code sent in `sessionClosed`. */
export function disconnectReasonForCode(code: ErrorCode): DisconnectReason {
  switch (code) {
    case ErrorCode.DUPLICATE_IDENTITY:
      return DisconnectReason.DuplicateIdentity;
    case ErrorCode.TOKEN_EXPIRED:
      return DisconnectReason.TokenExpired;
    case ErrorCode.SERVER_SHUTTING_DOWN:
      return DisconnectReason.ServerShutdown;
    case ErrorCode.ROOM_NOT_FOUND:
      return DisconnectReason.RoomClosed;
    case ErrorCode.ROOM_ENDED:
      return DisconnectReason.RoomEnded;
    case ErrorCode.REMOVED:
      return DisconnectReason.Removed;
    case ErrorCode.ADMISSION_DENIED:
      return DisconnectReason.AdmissionDenied;
    case ErrorCode.CONNECTION_FAILED:
      return DisconnectReason.ConnectionLost;
    default:
      return DisconnectReason.ServerClosed;
  }
}

/**
 * The reason and error for a socket that closed without a `sessionClosed`
 * notification first, judged from the WebSocket close code. The reason follows
 * from the error's code, exactly as for `sessionClosed`.
 */
export function disconnectFromCloseCode(
  closeCode: number,
  closeReason: string,
): { reason: DisconnectReason; error: HuizhenError } {
  const error = closeCodeError(closeCode, closeReason ? `: ${closeReason}` : '');
  return { reason: disconnectReasonForCode(error.code), error };
}

function closeCodeError(closeCode: number, detail: string): HuizhenError {
  switch (closeCode) {
    case CloseCode.DUPLICATE_IDENTITY:
      return new HuizhenError(
        ErrorCode.DUPLICATE_IDENTITY,
        `This identity joined the room from another connection${detail}`,
      );
    case CloseCode.ROOM_CLOSED:
      return new HuizhenError(ErrorCode.ROOM_NOT_FOUND, `The consult room was closed${detail}`);
    case CloseCode.SERVER_SHUTTING_DOWN:
    case CloseCode.GOING_AWAY:
      return new HuizhenError(ErrorCode.SERVER_SHUTTING_DOWN, `The server is shutting down${detail}`);
    case CloseCode.TOKEN_EXPIRED:
      return new HuizhenError(ErrorCode.TOKEN_EXPIRED, `The join token expired${detail}`);
    case CloseCode.ROOM_ENDED:
      return new HuizhenError(ErrorCode.ROOM_ENDED, `The consult has ended${detail}`);
    case CloseCode.REMOVED:
      return new HuizhenError(ErrorCode.REMOVED, `A host removed you from the consult${detail}`);
    case CloseCode.ADMISSION_DENIED:
      return new HuizhenError(ErrorCode.ADMISSION_DENIED, `You were not admitted to the consult${detail}`);
    case CloseCode.ORIGIN_NOT_ALLOWED:
      return new HuizhenError(
        ErrorCode.ORIGIN_NOT_ALLOWED,
        `The server does not accept connections from this page's origin; add it to server.allowedOrigins${detail}`,
      );
    case CloseCode.RATE_LIMITED:
      return new HuizhenError(ErrorCode.RATE_LIMITED, `The server closed the connection: too many requests${detail}`);
    case CloseCode.JOIN_TIMEOUT:
    case CloseCode.BAD_MESSAGES:
    case CloseCode.PROTOCOL_ERROR:
    case CloseCode.MESSAGE_TOO_BIG:
      return new HuizhenError(
        ErrorCode.INVALID_REQUEST,
        `The server closed the connection (code ${closeCode})${detail}`,
      );
    default:
      return new ConnectionError(
        ConnectionErrorReason.ConnectionLost,
        `The connection to the server was lost (code ${closeCode})${detail}`,
      );
  }
}
