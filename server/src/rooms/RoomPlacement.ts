/**
 * Where a room may open. The embedded default has none (every room opens
 * here); cluster mode's ClusterNode decides with the room directory, and
 * the rooms layer knows nothing more of the cluster than this.
 */
import type { RoomStateWriter } from './RoomStateWriter.js';

export interface RoomPlacement {
  /**
   * Called before a room opens on this node; throws a HuizhenError when it
   * may not (CLUSTER_UNAVAILABLE, ROOM_ON_OTHER_NODE, SERVER_SHUTTING_DOWN).
   */
  beforeOpen(room: string): Promise<void>;
  /**
   * Called once the room is created, just before it is made available (the
   * creation takes a while after `beforeOpen`); throws a HuizhenError
   * (ROOM_ON_OTHER_NODE) when its home is no longer here.
   */
  confirm(room: string): void;
  /**
   * Where the room (homed here after `beforeOpen`) writes its durable state;
   * undefined: nowhere (the room's parts are its only store).
   */
  durableState(room: string): RoomStateWriter | undefined;
  /** The room closed on this node (or failed to open after `beforeOpen`). */
  closed(room: string): void;
}
