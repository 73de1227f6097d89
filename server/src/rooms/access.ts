/**
 * The one authorization point for actions inside a room: every signaling
 * handler and HTTP route asks here whether a session is admitted (not
 * waiting, not gone) and, where an action needs it, holds the permission.
 */
import { ErrorCode } from '@huizhen/protocol';
import type { Permission } from '../auth/permissions.js';
import { HuizhenError, invalidState, permissionDenied } from '../errors.js';
import type { Participant } from './Participant.js';

export interface Membership {
  readonly closed: boolean;
  /** This very session is admitted (a replaced session of the same person is not). */
  isAdmitted(p: Participant): boolean;
}

export function authorize(room: Membership, p: Participant, permission?: Permission, action?: string): void {
  if (p.admission === 'waiting') {
    throw new HuizhenError(ErrorCode.NOT_ADMITTED, 'You are in the waiting room; a clinician will admit you.');
  }
  if (room.closed || p.closed || !room.isAdmitted(p)) throw invalidState('You are not in this room.');
  if (permission && !p.can(permission)) throw permissionDenied(action ?? permission);
}
