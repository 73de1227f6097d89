/**
 * One person in a room: who they are, what they may do, their session state
 * (waiting or admitted, connected or within the reconnect grace, token expiry)
 * and their media objects. Notifications go through a sink that the signaling
 * connection sets, so the session can outlive one WebSocket.
 */
import type { NotificationData, Notification, ParticipantInfo, Role, TrackSource } from '@huizhen/protocol';
import type { Permission } from '../auth/permissions.js';
import type { MediaPeer } from './media/MediaPeer.js';
import { PeerMedia, trackInfo } from './media/PeerMedia.js';

/** `seq` numbers the notifications a reconnecting client may need replayed; ephemeral ones have none. */
export type NotificationSink = <N extends Notification>(name: N, data: NotificationData[N], seq?: number) => void;

/** The connection a session's notifications go to. */
export interface SinkOwner {
  /** A newer connection resumed this session: stop acting for it. */
  superseded(): void;
}

/** A host's hold on media that terminates at another node of the cluster. */
export interface RemoteMediaControl {
  /** Pauses the participant's track of `source` there; undefined if they have none. */
  hostPause(source: TrackSource, allowUnmute: boolean): Promise<{ trackId: string; changed: boolean } | undefined>;
}

/** Recent notifications kept for replay after a reconnect. */
const REPLAY_HISTORY = 500;

/** Notifications that are stale the moment they are missed: never replayed, never numbered. */
const EPHEMERAL: ReadonlySet<Notification> = new Set([
  'pointer',
  'activeSpeakerChanged',
  'consumerLayersChanged',
  // --- data channels: a refusal is about a message already gone
  'dataRefused',
]);

/** Completes a replayed notification (e.g. fresh TURN credentials for `admitted`). */
export type ReplayRefresh = <N extends Notification>(name: N, data: NotificationData[N]) => NotificationData[N];

/**
 * What the replay history keeps of a notification: TURN credentials are not
 * kept (they would sit in memory for the whole session and be stale when
 * replayed); the replay asks for fresh ones.
 */
function forHistory<N extends Notification>(name: N, data: NotificationData[N]): NotificationData[N] {
  if (name !== 'admitted') return data;
  const { iceServers: _servers, iceServersExpireIn: _expires, ...rest } = data as NotificationData['admitted'];
  return rest as NotificationData[N];
}

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
  /** When the session began (a session restored on a new home keeps its own). */
  joinedAt?: number;
}

export class Participant implements MediaPeer {
  readonly identity: string;
  readonly name: string;
  readonly role: Role;
  permissions: ReadonlySet<Permission>;
  readonly issuer: string;
  readonly sessionId: string;
  readonly joinedAt: number;
  readonly loadTest: boolean;
  readonly remoteIp: string | undefined;
  tokenExpiresAt: number;

  /** Transports, published tracks and subscriptions on this node. */
  readonly media = new PeerMedia();
  // --- cluster
  /** Set while the participant's media is on another node (a relayed session): what the room may do to it there. */
  remoteMedia: RemoteMediaControl | undefined;

  #admission: 'waiting' | 'admitted' = 'admitted';
  #waitingSince = 0;
  /** False between a dropped connection and its resumption. */
  #connected = true;
  #graceTimer: NodeJS.Timeout | undefined;
  #tokenTimer: NodeJS.Timeout | undefined;

  #sink: NotificationSink | undefined;
  /** Which connection owns the sink; a stale connection's close must not disconnect a resumed session. */
  #sinkOwner: SinkOwner | undefined;
  /** The owner when the connection dropped. */
  #awayFrom: SinkOwner | undefined;
  #seq = 0;
  #history: { seq: number; name: Notification; data: unknown }[] = [];
  /** The last seq the connection had when it dropped (for clients that do not say what they got). */
  #seqAtDisconnect = 0;
  #closed = false;
  /** Rebuilt from the durable state on a new home: the old home's replay history died with it. */
  #restored = false;

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
    this.joinedAt = options.joinedAt ?? Date.now();
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** In the waiting room until a clinician admits them. */
  get admission(): 'waiting' | 'admitted' {
    return this.#admission;
  }

  get waitingSince(): number {
    return this.#waitingSince;
  }

  get connected(): boolean {
    return this.#connected;
  }

  markWaiting(since = Date.now()): void {
    this.#admission = 'waiting';
    this.#waitingSince = since;
  }

  /**
   * A session rebuilt on a new home (cluster failover): it starts away, within
   * its grace, and any resume of it is accepted (see `resume`).
   */
  markRestored(): void {
    this.#restored = true;
  }

  /** Restored on this node and not resumed yet: none of its media is here. */
  get restored(): boolean {
    return this.#restored;
  }

  markAdmitted(): void {
    this.#admission = 'admitted';
  }

  /**
   * (Re)arms the session's end at token expiry plus the clock tolerance.
   * setTimeout cannot wait longer than ~24.8 days; tokens never live that long.
   */
  armTokenExpiry(toleranceSec: number, onExpired: () => void): void {
    if (this.#tokenTimer) clearTimeout(this.#tokenTimer);
    const ms = (this.tokenExpiresAt + toleranceSec) * 1000 - Date.now();
    this.#tokenTimer = setTimeout(onExpired, Math.max(0, Math.min(ms, 2 ** 31 - 1)));
    this.#tokenTimer.unref();
  }

  can(permission: Permission): boolean {
    return this.permissions.has(permission);
  }

  setSink(sink: NotificationSink | undefined, owner?: SinkOwner): void {
    this.#sink = sink;
    this.#sinkOwner = sink ? owner : undefined;
  }

  ownedBy(owner: SinkOwner): boolean {
    return this.#sinkOwner === owner;
  }

  notify<N extends Notification>(name: N, data: NotificationData[N]): void {
    if (this.#closed) return;
    if (EPHEMERAL.has(name)) {
      if (this.connected) this.#sink?.(name, data);
      return;
    }
    const seq = ++this.#seq;
    this.#history.push({ seq, name, data: forHistory(name, data) });
    if (this.#history.length > REPLAY_HISTORY) this.#history.shift();
    if (this.connected) this.#sink?.(name, data, seq);
  }

  /** The connection dropped: keep numbering and recording until it resumes. */
  disconnect(graceMs: number, onGraceOver: () => void): void {
    this.#connected = false;
    this.#graceTimer = setTimeout(() => {
      this.#graceTimer = undefined;
      if (!this.#connected) onGraceOver();
    }, graceMs);
    this.#graceTimer.unref();
    this.#sink = undefined;
    // Told it is superseded when the session resumes elsewhere (a relaying node keeps state for it).
    this.#awayFrom = this.#sinkOwner;
    this.#sinkOwner = undefined;
    this.#seqAtDisconnect = this.#seq;
  }

  /** Whether everything after `fromSeq` can still be replayed. */
  canResume(fromSeq?: number): boolean {
    if (this.#closed) return false;
    // Whatever the client last saw was numbered by the old home: nothing here can be replayed from it.
    if (this.#restored) return true;
    const from = fromSeq ?? (this.connected ? this.#seq : this.#seqAtDisconnect);
    if (from > this.#seq) return false;
    const oldest = this.#history[0]?.seq ?? this.#seq + 1;
    return from >= oldest - 1;
  }

  /**
   * Attaches a new connection and replays, in order, what it has not seen.
   * `refresh` completes what the history keeps without (credentials).
   */
  resume(sink: NotificationSink, owner: SinkOwner, fromSeq?: number, refresh: ReplayRefresh = (_, d) => d): void {
    if (this.#graceTimer) clearTimeout(this.#graceTimer);
    this.#graceTimer = undefined;
    const from = fromSeq ?? (this.#connected ? this.#seq : this.#seqAtDisconnect);
    const previous = this.#sinkOwner ?? this.#awayFrom;
    this.#awayFrom = undefined;
    if (previous && previous !== owner) previous.superseded();
    this.#sink = sink;
    this.#sinkOwner = owner;
    this.#connected = true;
    if (this.#restored) {
      // Resumed on a new home: the old home's replay history is gone, and what this home queued for the
      // session since it was rebuilt is stale beside the full room view the join response carried.
      // Nothing is replayed; numbering goes on above the client's last seq, so its next resume (here)
      // asks for what this home numbered and never for less than it already has.
      this.#restored = false;
      this.#history = [];
      this.#seq = Math.max(this.#seq, fromSeq ?? 0);
      return;
    }
    for (const n of this.#history)
      if (n.seq > from) sink(n.name, refresh(n.name, n.data as NotificationData[typeof n.name]), n.seq);
  }

  ref(): { identity: string; name: string; role: Role } {
    return { identity: this.identity, name: this.name, role: this.role };
  }

  info(): ParticipantInfo {
    return {
      identity: this.identity,
      name: this.name,
      role: this.role,
      joinedAt: this.joinedAt,
      tracks: [...this.media.tracks()].map(trackInfo),
    };
  }

  /** Closes every transport, which closes its producers and consumers with it. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#sink = undefined;
    this.#history = [];
    if (this.#graceTimer) clearTimeout(this.#graceTimer);
    if (this.#tokenTimer) clearTimeout(this.#tokenTimer);
    this.media.close();
  }
}
