/**
 * A participant's session as the durable state keeps it, and back: what a new
 * home needs to let the person resume (identity, issuer, role, name,
 * permissions, when they joined, when their token ends, admitted or waiting),
 * never the token itself.
 */
import { Participant } from './Participant.js';
import type { DurableSession } from './RoomStateWriter.js';

/** `since`: when a waiter's wait began (their place in the lobby), if not already marked on them. */
export function sessionOf(p: Participant, admission: 'admitted' | 'waiting', since?: number): DurableSession {
  return {
    sessionId: p.sessionId,
    identity: p.identity,
    issuer: p.issuer,
    role: p.role,
    name: p.name,
    permissions: [...p.permissions],
    joinedAt: p.joinedAt,
    tokenExpiresAt: p.tokenExpiresAt,
    admission,
    ...(admission === 'waiting' ? { waitingSince: since ?? (p.waitingSince || Date.now()) } : {}),
  };
}

/** The participant of a restored session: no connection yet (Room.restore starts its grace). */
export function participantOf(s: DurableSession): Participant {
  const p = new Participant({
    identity: s.identity,
    name: s.name,
    role: s.role,
    permissions: new Set(s.permissions),
    issuer: s.issuer,
    sessionId: s.sessionId,
    tokenExpiresAt: s.tokenExpiresAt,
    joinedAt: s.joinedAt,
  });
  if (s.admission === 'waiting') p.markWaiting(s.waitingSince ?? Date.now());
  p.markRestored();
  return p;
}
