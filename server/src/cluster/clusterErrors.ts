/**
 * The typed errors of cluster mode. `clusterUnavailable` crosses the wire
 * (CLUSTER_UNAVAILABLE: the request needs Redis and Redis cannot be reached);
 * `StaleEpochError` stays inside the node: a write carried a fencing epoch
 * that is no longer the room's, so this node is not (or no longer) its home.
 */
import { ErrorCode, HuizhenError } from '@huizhen/protocol';

export const clusterUnavailable = (detail: string, cause?: unknown): HuizhenError =>
  new HuizhenError(
    ErrorCode.CLUSTER_UNAVAILABLE,
    `The cluster's shared state cannot be reached (${detail}); please try again in a moment.`,
    cause === undefined ? undefined : { cause },
  );

export const roomOnOtherNode = (room: string, node: string, url: string): HuizhenError =>
  new HuizhenError(
    ErrorCode.ROOM_ON_OTHER_NODE,
    `Room '${room}' is homed on node '${node}' (${url}); this node cannot relay to it yet, connect there.`,
  );

/** A fenced write refused: the epoch it carried is not the room's current one (or the lease is gone). */
export class StaleEpochError extends Error {
  readonly code = 'STALE_EPOCH' as const;
  constructor(
    readonly room: string,
    readonly epoch: number,
  ) {
    super(`write to room '${room}' with epoch ${epoch} refused: this node no longer holds the room's home lease`);
    this.name = 'StaleEpochError';
  }
}

/**
 * An entry of a room's durable state that does not pass its check (written by
 * another version, or damaged in Redis): the load skips it and reports it
 * with this error, so one bad entry never keeps the room from opening.
 */
export class DamagedRoomStateError extends Error {
  readonly code = 'ROOM_STATE_DAMAGED' as const;
  constructor(
    /** Which part of the state (sessions, share, opinions). */
    readonly part: string,
    /** Which entry of it (a hash field). */
    readonly entry: string,
    cause: unknown,
  ) {
    super(`room state entry ${part}/${entry} is damaged and was skipped`, { cause });
    this.name = 'DamagedRoomStateError';
  }
}

export function isClusterUnavailable(error: unknown): boolean {
  return error instanceof HuizhenError && error.code === ErrorCode.CLUSTER_UNAVAILABLE;
}
