/**
 * The interface between the RoomEngine (connection) and the Room (model):
 * everything the engine tells the room, in the order it happens.
 */
import type { DisconnectReason, HuizhenError } from '../errors.js';
import type { ConnectionState } from '../events.js';
import type { NotificationData, ResponseData } from '@huizhen/protocol';
import type { AnyNotification } from '../SignalClient.js';

export type JoinResponse = ResponseData['join'];

/**
 * What the engine tells the Room. A delegate rather than emitter events: the
 * engine waits on the async ones (connect() resolves, and `reconnected`
 * follows, only once the Room has set up what the join brought; the next
 * notification waits for the one before), and there is only ever one Room.
 */
export interface EngineEvents {
  /** While connecting, before the socket opens: load what media needs (the Device). A throw fails connect(). */
  prepare(): Promise<void>;
  /** The first join was answered. A throw fails connect(). */
  joined(response: JoinResponse): Promise<void>;
  /** After a drop, the server resumed the same session; catch up. A throw fails this reconnect attempt. */
  resumed(response: JoinResponse): Promise<void>;
  /** After a drop, the server no longer has the old session: what belonged to it there is gone (before the fresh join). */
  sessionReplaced(): void;
  /** The fresh session that follows `sessionReplaced` was joined; rebuild. A throw fails this reconnect attempt. */
  rejoined(response: JoinResponse): Promise<void>;
  /** One server notification, in order; the engine waits for it before the next one. */
  notification(message: AnyNotification): Promise<void>;
  /** The server says it is ending the session (the socket closes right after). */
  sessionClosed(data: NotificationData['sessionClosed']): void;
  stateChanged(state: ConnectionState): void;
  reconnecting(error: HuizhenError): void;
  /** Connected again; `resumed` is false after a fresh rejoin. */
  reconnected(resumed: boolean): void;
  /** The session is over (or connect failed): drop tracks, participants and media. The socket closes next. */
  teardown(connectFailed: boolean): void;
  // --- TURN
  /** A token refresh was answered with fresh ICE servers. */
  iceServersRefreshed(response: ResponseData['refreshToken']): void;
  /** Whether media is still connected (ICE), so a slow socket is not taken for a dead one. */
  mediaAlive(): boolean;
  /** Last of all, once per engine. */
  disconnected(reason: DisconnectReason, error?: HuizhenError): void;
}
