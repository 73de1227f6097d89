/** Options for `connect()` / `new Room()`. */
import type { DeviceOptions } from 'mediasoup-client/types';
import type { LogLevel, LogSink } from './logger.js';
import type { WebSocketFactory } from './SignalClient.js';

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
  /** Opens the signaling WebSocket; defaults to the browser's `WebSocket`. For tests and non-browser runtimes. */
  webSocketFactory?: WebSocketFactory;
  /** 'silent' by default. */
  logLevel?: LogLevel;
  /** Where log lines go; `console` by default. */
  logSink?: LogSink;
  /** TURN/STUN servers for networks that block direct media to the server. */
  iceServers?: RTCIceServer[];
  /**
   * Passed to mediasoup-client's `Device` (e.g. `{ handlerName: 'Safari12' }`,
   * or a custom `handlerFactory`). Normally the browser is detected.
   */
  mediasoupDevice?: DeviceOptions;
  /** Quiet period before a changed video element size is sent to the server; 200 ms by default. */
  videoSizeDebounceMs?: number;
}
