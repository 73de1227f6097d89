/**
 * One person in a room: who they are, what they may do, and the media
 * objects they own. Notifications go through a sink that the signaling
 * connection sets, so the session can outlive one WebSocket later on.
 */
import type { types } from 'mediasoup';
import type { NotificationData, Notification, ParticipantInfo, Role, TrackInfo, TrackSource } from '@huizhen/client-sdk/protocol';
import type { Permission } from '../auth/permissions.js';

export type NotificationSink = <N extends Notification>(name: N, data: NotificationData[N]) => void;

export interface PublishedTrack {
  producer: types.Producer;
  source: TrackSource;
  /** Set when a host muted the track; whether its owner may unmute it. */
  hostMuted?: { allowUnmute: boolean };
}

/** Notifications kept for a participant whose connection dropped. */
const MAX_BUFFERED_NOTIFICATIONS = 2000;

export interface ParticipantOptions {
  identity: string;
  name: string;
  role: Role;
  permissions: ReadonlySet<Permission>;
  issuer: string;
  sessionId: string;
  tokenExpiresAt: number;
  /** May use plain-RTP transports (load generator). */
  loadTest?: boolean;
  /** The signaling peer's IP address. */
  remoteIp?: string;
}

export class Participant {
  readonly identity: string;
  readonly name: string;
  readonly role: Role;
  permissions: ReadonlySet<Permission>;
  readonly issuer: string;
  readonly sessionId: string;
  readonly joinedAt = Date.now();
  readonly loadTest: boolean;
  readonly remoteIp: string | undefined;
  tokenExpiresAt: number;

  /** WebRTC transports, or plain RTP ones for the load generator. */
  readonly transports = new Map<string, types.WebRtcTransport | types.PlainTransport>();
  /** Keyed by producer id (the track id on the wire). */
  readonly tracks = new Map<string, PublishedTrack>();
  /** Keyed by consumer id. */
  readonly consumers = new Map<string, types.Consumer>();
  /** The device capabilities; consuming starts once they are known. */
  rtpCapabilities: types.RtpCapabilities | undefined;

  /** In the lobby until admitted. */
  admission: 'waiting' | 'admitted' = 'admitted';
  waitingSince = 0;
  /** False between a dropped connection and its resumption. */
  connected = true;
  graceTimer: NodeJS.Timeout | undefined;
  tokenTimer: NodeJS.Timeout | undefined;

  #sink: NotificationSink | undefined;
  #buffer: { name: Notification; data: unknown }[] = [];
  #bufferOverflowed = false;
  #closed = false;

  constructor(options: ParticipantOptions) {
    this.identity = options.identity;
    this.name = options.name;
    this.role = options.role;
    this.permissions = options.permissions;
    this.issuer = options.issuer;
    this.sessionId = options.sessionId;
    this.tokenExpiresAt = options.tokenExpiresAt;
    this.loadTest = options.loadTest ?? false;
    this.remoteIp = options.remoteIp;
  }

  get closed(): boolean {
    return this.#closed;
  }

  can(permission: Permission): boolean {
    return this.permissions.has(permission);
  }

  setSink(sink: NotificationSink | undefined): void {
    this.#sink = sink;
  }

  notify<N extends Notification>(name: N, data: NotificationData[N]): void {
    if (this.#closed) return;
    if (this.connected) {
      this.#sink?.(name, data);
      return;
    }
    // Kept for the reconnect, so the client misses nothing that happened meanwhile.
    if (this.#buffer.length >= MAX_BUFFERED_NOTIFICATIONS) this.#bufferOverflowed = true;
    else this.#buffer.push({ name, data });
  }

  /** The connection dropped: buffer notifications until it resumes. */
  disconnect(): void {
    this.connected = false;
    this.#sink = undefined;
  }

  /** False when too much happened while away to replay it faithfully. */
  get canResume(): boolean {
    return !this.#closed && !this.#bufferOverflowed;
  }

  /** Attaches a new connection and replays what it missed, in order. */
  resume(sink: NotificationSink): void {
    this.#sink = sink;
    this.connected = true;
    const missed = this.#buffer;
    this.#buffer = [];
    for (const n of missed) sink(n.name, n.data as NotificationData[typeof n.name]);
  }

  ref(): { identity: string; name: string; role: Role } {
    return { identity: this.identity, name: this.name, role: this.role };
  }

  transport(direction: 'send' | 'recv'): types.WebRtcTransport | types.PlainTransport | undefined {
    for (const t of this.transports.values()) if (t.appData.direction === direction && !t.closed) return t;
    return undefined;
  }

  trackBySource(source: TrackSource): PublishedTrack | undefined {
    for (const t of this.tracks.values()) if (t.source === source) return t;
    return undefined;
  }

  info(): ParticipantInfo {
    return {
      identity: this.identity,
      name: this.name,
      role: this.role,
      joinedAt: this.joinedAt,
      tracks: [...this.tracks.values()].map((t) => trackInfo(t)),
    };
  }

  /** Closes every transport, which closes its producers and consumers with it. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#sink = undefined;
    this.#buffer = [];
    if (this.graceTimer) clearTimeout(this.graceTimer);
    if (this.tokenTimer) clearTimeout(this.tokenTimer);
    for (const t of this.transports.values()) t.close();
    this.transports.clear();
    this.tracks.clear();
    this.consumers.clear();
  }
}

export function trackInfo(t: PublishedTrack): TrackInfo {
  return { trackId: t.producer.id, kind: t.producer.kind, source: t.source, muted: t.producer.paused };
}
