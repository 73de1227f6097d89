/**
 * Rules that depend on the kind of room: who waits in the lobby, who may
 * publish, and how many fit by default.
 */
import { CLINICIAN_ROLES, type Role, type RoomKind } from '@huizhen/protocol';
import type { Permission } from '../auth/permissions.js';

const WAITING_ROLES: Record<RoomKind, readonly Role[]> = {
  consult: ['patient', 'family'],
  clinic: ['patient', 'family', 'interpreter', 'observer'],
  // Grand rounds: viewers come straight in, but only presenters publish.
  rounds: [],
};

const ROUNDS_PRESENTERS: readonly Role[] = ['doctor', 'specialist'];
// --- data channels: in rounds viewers only watch, so they publish no app data either ('data').
const PUBLISH: readonly Permission[] = ['publishAudio', 'publishVideo', 'publishScreen', 'data'];

export const DEFAULT_CAPACITY: Record<RoomKind, number> = { consult: 6, clinic: 16, rounds: 200 };

export function isClinician(role: Role): boolean {
  return CLINICIAN_ROLES.includes(role);
}

export function waitsInLobby(kind: RoomKind, role: Role): boolean {
  return WAITING_ROLES[kind].includes(role);
}

/** Narrows role permissions by room kind (never widens them). */
export function permissionsInRoom(kind: RoomKind, role: Role, base: ReadonlySet<Permission>): ReadonlySet<Permission> {
  if (kind !== 'rounds' || ROUNDS_PRESENTERS.includes(role)) return base;
  return new Set([...base].filter((p) => !PUBLISH.includes(p)));
}
