/**
 * How a verified token becomes a place in a room: what kind of room an
 * unbooked join opens, when a doctor's token settles a room a patient opened
 * first, and which permissions the person holds there. Pure decisions; the
 * signaling layer only hands over the claims.
 */
import type { RoomKind } from '@huizhen/protocol';
import type { TokenClaims } from '../auth/tokens.js';
import { permissionsFor, type Permission } from '../auth/permissions.js';
import type { ConsultSettings } from './Consult.js';
import { DEFAULT_CAPACITY, permissionsInRoom } from './policy.js';
import type { Room } from './Room.js';

export interface RoomOpening {
  /** Settings for a room this join opens, when no booking exists. */
  fallback: ConsultSettings;
  /** Whether this person's token may settle how the room runs. */
  decides: boolean;
}

/**
 * Kind and capacity come from a booking, else from the token of a clinician
 * opening the room. Only doctors vouched for by an issuer that may grant
 * `doctor` choose how a room runs.
 */
export function roomOpening(claims: TokenClaims, issuerRoles: readonly string[], maxParticipants: number): RoomOpening {
  const decides = claims.role === 'doctor' && issuerRoles.includes('doctor');
  const kind: RoomKind = (decides && claims.roomKind) || 'consult';
  const capacity = Math.min((decides && claims.capacity) || DEFAULT_CAPACITY[kind], maxParticipants);
  return { fallback: { kind, capacity, host: null, provisional: !decides }, decides };
}

/**
 * A patient who arrived first opened the room with defaults; the doctor's
 * token settles it, unless that would change the rules for people already
 * waiting.
 */
export function settleIfProvisional(room: Room, opening: RoomOpening): void {
  const { kind, capacity } = opening.fallback;
  if (!opening.decides || !room.consult.provisional || room.participants.size > 0) return;
  if (room.lobby.size > 0 && kind === 'rounds') return;
  room.consult.settle(kind, capacity);
}

/** The role's permissions, narrowed by the token's grants and by the kind of room. */
export function permissionsIn(room: Room, claims: TokenClaims): ReadonlySet<Permission> {
  return permissionsInRoom(room.consult.kind, claims.role, permissionsFor(claims.role, claims.grants));
}
