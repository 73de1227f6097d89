/**
 * Stable error codes shared by the Huizhen server and SDK. A code never changes
 * meaning once released; new situations get new codes.
 */
export const ErrorCode = {
  /** The message or its fields are malformed (wrong type, missing, too long). */
  INVALID_REQUEST: 'INVALID_REQUEST',
  /** The message is not JSON, or not a JSON object. */
  MALFORMED_MESSAGE: 'MALFORMED_MESSAGE',
  /** The method name is not part of the protocol. */
  UNKNOWN_METHOD: 'UNKNOWN_METHOD',
  /** The client speaks a protocol version this server does not. */
  UNSUPPORTED_PROTOCOL: 'UNSUPPORTED_PROTOCOL',
  /** The message is larger than the server accepts. */
  MESSAGE_TOO_LARGE: 'MESSAGE_TOO_LARGE',
  /** Too many requests from one connection in a short time. */
  RATE_LIMITED: 'RATE_LIMITED',
  /** No token, or a token that cannot be verified. */
  TOKEN_INVALID: 'TOKEN_INVALID',
  /** The token's `exp` is in the past. */
  TOKEN_EXPIRED: 'TOKEN_EXPIRED',
  /** The token names a room other than the one being joined. */
  TOKEN_ROOM_MISMATCH: 'TOKEN_ROOM_MISMATCH',
  /** The token's issuer is not configured as trusted. */
  ISSUER_UNKNOWN: 'ISSUER_UNKNOWN',
  /** The participant's role does not allow this action. */
  PERMISSION_DENIED: 'PERMISSION_DENIED',
  /** The room does not exist (or is closed). */
  ROOM_NOT_FOUND: 'ROOM_NOT_FOUND',
  /** The room has as many participants as it may hold. */
  ROOM_FULL: 'ROOM_FULL',
  /** The action needs a joined session (call `join` first). */
  NOT_JOINED: 'NOT_JOINED',
  /** `join` was sent twice on one connection. */
  ALREADY_JOINED: 'ALREADY_JOINED',
  /** The transport, producer or consumer id is not one of this participant's. */
  NOT_FOUND: 'NOT_FOUND',
  /** The action is not valid in the current state. */
  INVALID_STATE: 'INVALID_STATE',
  /** The media server failed or is overloaded. */
  MEDIA_ERROR: 'MEDIA_ERROR',
  /** The connection was replaced by a newer one for the same identity. */
  DUPLICATE_IDENTITY: 'DUPLICATE_IDENTITY',
  /** Waiting in the lobby: the action needs a clinician to admit you first. */
  NOT_ADMITTED: 'NOT_ADMITTED',
  /** A clinician declined to admit you. */
  ADMISSION_DENIED: 'ADMISSION_DENIED',
  /** A host removed you from the room; you cannot rejoin it. */
  REMOVED: 'REMOVED',
  /** The consult has ended. */
  ROOM_ENDED: 'ROOM_ENDED',
  /** The room is locked against new entries. */
  ROOM_LOCKED: 'ROOM_LOCKED',
  /** A reconnect came too late: the previous session is gone (join afresh). */
  SESSION_EXPIRED: 'SESSION_EXPIRED',
  /** An upload's content is not an accepted record type (checked by its bytes). */
  UNSUPPORTED_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  /** An upload is damaged or truncated. */
  CORRUPT_FILE: 'CORRUPT_FILE',
  /** An upload carries active content (e.g. JavaScript in a PDF). */
  UNSAFE_CONTENT: 'UNSAFE_CONTENT',
  /** A download URL is expired, tampered with, or someone else's. */
  URL_INVALID: 'URL_INVALID',
  /** The endpoint is going away (a server shutting down, a page being closed). */
  SERVER_SHUTTING_DOWN: 'SERVER_SHUTTING_DOWN',
  /** A request took too long to be answered. */
  TIMEOUT: 'TIMEOUT',
  /** The connection to the server could not be made or was lost. */
  CONNECTION_FAILED: 'CONNECTION_FAILED',
  // --- TURN
  /** A STUN/TURN server refused the credentials (wrong secret, expired) or could not be reached. */
  ICE_SERVER_FAILED: 'ICE_SERVER_FAILED',
  /** A message from the other side did not match the protocol (e.g. a malformed response). */
  PROTOCOL_ERROR: 'PROTOCOL_ERROR',
  /** An unexpected server-side failure; details are in the server log. */
  INTERNAL: 'INTERNAL',
  // --- origins
  /** The page's origin is not in the server's `server.allowedOrigins`. */
  ORIGIN_NOT_ALLOWED: 'ORIGIN_NOT_ALLOWED',
  // --- vitals
  /** A vitals sample is malformed, in the wrong unit, implausible, future-dated or too old. */
  VITALS_INVALID: 'VITALS_INVALID',
  /** A vitals device could not be used (no Web Bluetooth, chooser cancelled, device lost). */
  VITALS_DEVICE_FAILED: 'VITALS_DEVICE_FAILED',
  /** A participant's samples name more vitals devices at once than the server tracks per person. */
  VITALS_DEVICE_LIMIT: 'VITALS_DEVICE_LIMIT',
  // --- recording
  /** This server records nothing (no capture configured). */
  RECORDING_UNAVAILABLE: 'RECORDING_UNAVAILABLE',
  /** A recording was already requested in this room; stop it before asking again. */
  RECORDING_ALREADY_ACTIVE: 'RECORDING_ALREADY_ACTIVE',
  /** No recording has been requested in this room (nothing to consent to or stop). */
  RECORDING_NOT_ACTIVE: 'RECORDING_NOT_ACTIVE',
  // --- evaluation
  /** This person has already evaluated this consult (one evaluation per person). */
  ALREADY_EVALUATED: 'ALREADY_EVALUATED',
  /** The time to evaluate this consult is over (`evaluation.windowSec` after its end). */
  EVALUATION_CLOSED: 'EVALUATION_CLOSED',
  // --- cluster
  /** The cluster's shared state (Redis) cannot be reached and the request needs it; try again shortly. */
  CLUSTER_UNAVAILABLE: 'CLUSTER_UNAVAILABLE',
  /** The room is homed on another node of the cluster, which this node cannot serve it from yet. */
  ROOM_ON_OTHER_NODE: 'ROOM_ON_OTHER_NODE',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export const ERROR_CODES: ReadonlySet<string> = new Set(Object.values(ErrorCode));

/** The error object carried by a failed response. */
export interface WireError {
  code: ErrorCode;
  message: string;
}

/** WebSocket close codes the server uses (4000–4999 is the application range). */
export const CloseCode = {
  /** A normal close (the client left, the session ended). */
  NORMAL: 1000,
  /** The endpoint is going away (a server shutting down, a page being closed). */
  GOING_AWAY: 1001,
  /** The peer broke the WebSocket protocol. */
  PROTOCOL_ERROR: 1002,
  /** A frame was larger than allowed. */
  MESSAGE_TOO_BIG: 1009,
  /** The client sent non-text or unparsable frames repeatedly. */
  BAD_MESSAGES: 4000,
  /** Join did not complete in time. */
  JOIN_TIMEOUT: 4001,
  /** Too many requests; the connection is closed to protect others. */
  RATE_LIMITED: 4002,
  /** The same identity joined from elsewhere. */
  DUPLICATE_IDENTITY: 4003,
  /** The room was closed (ended, or its media worker died). */
  ROOM_CLOSED: 4004,
  /** The endpoint is going away (a server shutting down, a page being closed). */
  SERVER_SHUTTING_DOWN: 4005,
  /** The token expired during the session. */
  TOKEN_EXPIRED: 4006,
  /** Not admitted from the waiting room. */
  ADMISSION_DENIED: 4007,
  /** Removed by a host. */
  REMOVED: 4008,
  /** The consult ended. */
  ROOM_ENDED: 4009,
  /** The page's origin is not allowed to connect (server.allowedOrigins). */
  ORIGIN_NOT_ALLOWED: 4010,
} as const;

export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];
