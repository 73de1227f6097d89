/**
 * What the media layer knows of a participant: an identity, permissions to
 * publish and receive, a way to tell them about their consumers, and their
 * media objects. Nothing of the lobby, host controls, chat or records: those
 * live with the room's workflow, which may one day sit on another node.
 */
import type { Notification, NotificationData } from '@huizhen/protocol';
import type { Permission } from '../../auth/permissions.js';
import type { PeerMedia } from './PeerMedia.js';

export interface MediaPeer {
  readonly identity: string;
  readonly closed: boolean;
  readonly media: PeerMedia;
  /** May use plain-RTP transports (load generator). */
  readonly loadTest: boolean;
  /** The signaling peer's IP address. */
  readonly remoteIp: string | undefined;
  can(permission: Permission): boolean;
  notify<N extends Notification>(name: N, data: NotificationData[N]): void;
}
