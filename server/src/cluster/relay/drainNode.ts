/**
 * A node leaving the cluster without ending anyone's consult (SIGTERM):
 *   1. it is marked `draining` (no new rooms or participants come here);
 *   2. every session connected here is told to move (`moveNode`, the least
 *      loaded active node's URL); the SDK resumes through it, so the person
 *      keeps their place and their media starts over on that node;
 *   3. once nobody is connected here (or at half the deadline), each room
 *      homed here is handed over: its relayed sessions are let go, the room
 *      closes here, its home lease is released, and the edges reconnect their
 *      clients, whose resume opens the room on a new home rebuilt from Redis;
 *   4. it then shuts down as usual, at the latest at cluster.drainTimeoutSec.
 * Without another active node there is nowhere to go: the sessions end here
 * as on a single node.
 */
import { ErrorCode } from '@huizhen/protocol';
import type { Logger } from '../../observability/logger.js';
import type { RoomManager } from '../../rooms/RoomManager.js';
import type { SignalingServer } from '../../signaling/SignalingServer.js';
import type { ClusterNode } from '../ClusterNode.js';
import type { EdgeRooms } from './EdgeRooms.js';
import type { HomeRelay } from './HomeRelay.js';

export interface DrainParts {
  cluster: ClusterNode;
  signaling: SignalingServer;
  rooms: RoomManager;
  relay: HomeRelay;
  edge: EdgeRooms;
  timeoutMs: number;
  logger: Logger;
}

const POLL_MS = 100;
/** How long resumed sessions get to set their media up elsewhere before the homes are handed over. */
const SETTLE_MS = 2_000;

async function until(done: () => boolean, deadline: number): Promise<boolean> {
  while (!done()) {
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  return true;
}

export async function drainNode(p: DrainParts): Promise<void> {
  const started = Date.now();
  const deadline = started + p.timeoutMs;
  await p.cluster.drain();
  const target = await p.cluster.drainTarget().catch(() => undefined);
  if (!target) {
    p.logger.warn('draining without another active node: the sessions here end with this node', {});
    return;
  }
  const told = p.signaling.moveAll(
    target.url,
    'This server is going down for maintenance; your call moves to another one.',
  );
  p.logger.info('drain: sessions told to move', { sessions: told, to: target.id });
  // Moved means resumed elsewhere: a dropped socket alone is not there yet (the room keeps their place meanwhile).
  const settled = (): boolean => {
    if (p.signaling.sessions > 0) return false;
    for (const room of p.rooms.rooms.values())
      for (const person of [...room.participants.values(), ...room.lobby.values()])
        if (!person.connected && !person.closed) return false;
    return true;
  };
  const moved = await until(settled, started + p.timeoutMs / 2);
  if (!moved) p.logger.warn('drain: sessions still here at half the deadline', { sessions: p.signaling.sessions });
  // A resumed session still sets its media up on its new node; a hand-over in the middle of that costs it a second
  // reconnect, so give it a moment.
  if (moved) await new Promise((r) => setTimeout(r, Math.min(SETTLE_MS, Math.max(0, deadline - Date.now()))));

  for (const room of [...p.rooms.rooms.values()]) {
    const tellEdges = p.relay.handOver(room);
    room.close('This consult moved to another node of the cluster; reconnecting.', ErrorCode.SERVER_SHUTTING_DOWN);
    // The new home must find the room free and its last writes in place before anyone is sent to it.
    await p.rooms.idle();
    await p.cluster.released();
    tellEdges();
  }
  await until(() => p.edge.size === 0 && p.signaling.sessions === 0, deadline);
  p.logger.info('drain: done', { ms: Date.now() - started, rooms: p.rooms.rooms.size, edgeRooms: p.edge.size });
}
