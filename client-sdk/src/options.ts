/** Options for `connect()` / `new Room()`. */
import type { DeviceOptions } from 'mediasoup-client/types';
import type { LogLevel, LogSink } from './logger.js';
import type { ReconnectPolicy } from './ReconnectPolicy.js';
import type { WebSocketFactory } from './SignalClient.js';
import type { TokenProvider } from './TokenRefresher.js';

/** Options of `connect()` and `new Room()`. */
export interface ConnectOptions {
  /**
   * Receive every remote track as soon as it is offered (the default). With
   * `false`, tracks are still set up and announced with `trackSubscribed`, but
   * no media flows until `track.setEnabled(true)`.
   */
  autoSubscribe?: boolean;
  /** How long each signaling request may wait for its answer; 10 000 ms by default. */
  requestTimeoutMs?: number;
  /** How long opening the WebSocket may take; 10 000 ms by default. */
  connectTimeoutMs?: number;
  /**
   * How often the SDK checks that the server still answers, in ms (default
   * 5 000; 0 turns it off). An unanswered check (4 s) counts as a lost
   * connection and starts reconnecting.
   */
  heartbeatIntervalMs?: number;
  /** Opens the signaling WebSocket; defaults to the browser's `WebSocket`. For tests and non-browser runtimes. */
  webSocketFactory?: WebSocketFactory;
  /** 'silent' by default. */
  logLevel?: LogLevel;
  /** Where log lines go; `console` by default. */
  logSink?: LogSink;
  /**
   * Your own TURN/STUN servers, used in addition to the TURN servers (with
   * time-limited credentials, refreshed before they expire) that the Huizhen
   * server hands out when it has TURN configured.
   */
  iceServers?: RTCIceServer[];
  // --- TURN
  /**
   * 'relay' sends all media through TURN: for networks that allow nothing
   * else, and to test the relay path. 'all' (the default) lets ICE pick the
   * best path: direct UDP, direct TCP, or a relay.
   */
  iceTransportPolicy?: 'all' | 'relay';
  /**
   * Passed to mediasoup-client's `Device` (e.g. `{ handlerName: 'Safari12' }`,
   * or a custom `handlerFactory`). Normally the browser is detected.
   */
  mediasoupDevice?: DeviceOptions;
  /** Quiet period before a changed video element size is sent to the server; 200 ms by default. */
  videoSizeDebounceMs?: number;
  /**
   * Returns a fresh join token for the same person and room. With it, the SDK
   * renews the token at ~80 % of its lifetime (`refreshToken`) and uses it
   * when reconnecting with a token about to expire. Without it, the session
   * ends with `tokenExpired` when the join token runs out.
   */
  tokenProvider?: TokenProvider;
  /**
   * When and how often to retry after the connection drops. Default:
   * `new DefaultReconnectPolicy()` (0.3 s, 1 s, 2 s, 4 s... with jitter, giving
   * up after 20 s, the server's grace period). `noReconnect` turns it off.
   */
  reconnectPolicy?: ReconnectPolicy;
  /** The `fetch` used for record uploads and downloads; the global one by default. */
  fetch?: typeof fetch;
}
