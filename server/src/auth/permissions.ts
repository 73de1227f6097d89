/**
 * What each role may do, enforced on the server for every request. A token may
 * narrow its role's permissions with a `grants` claim, never widen them.
 */
import { PERMISSIONS, type Permission, type Role } from '@huizhen/protocol';

export { PERMISSIONS, type Permission };

const ALL: readonly Permission[] = PERMISSIONS;

export const ROLE_PERMISSIONS: Readonly<Record<Role, readonly Permission[]>> = {
  // The treating doctor hosts the consult.
  doctor: ALL,
  // A visiting specialist takes full part clinically but does not run the room.
  specialist: [
    'publishAudio',
    'publishVideo',
    'publishScreen',
    'subscribe',
    'subscribeVideo',
    'viewRecords',
    'shareRecords',
    'annotate',
    'chat',
    'writeOpinion',
    'data',
  ],
  nurse: [
    'publishAudio',
    'publishVideo',
    'publishScreen',
    'subscribe',
    'subscribeVideo',
    'admit',
    'viewRecords',
    'shareRecords',
    'annotate',
    'chat',
    'data',
  ],
  // 'data' (publish app data; each topic's policy decides more, e.g. only patients and family publish vitals):
  // patients and family take part actively (their own devices' readings, app features such as "raise hand").
  patient: ['publishAudio', 'publishVideo', 'subscribe', 'subscribeVideo', 'viewRecords', 'chat', 'data'],
  family: ['publishAudio', 'publishVideo', 'subscribe', 'subscribeVideo', 'viewRecords', 'chat', 'data'],
  // Interpreters work by voice only and never see records. They may publish app data (e.g. live captions);
  // restricted topics such as vitals keep their own rules.
  interpreter: ['publishAudio', 'subscribe', 'chat', 'data'],
  // Trainees watch and listen: they publish nothing, app data included (free topics still reach them).
  observer: ['subscribe', 'subscribeVideo'],
};

export function permissionsFor(role: Role, grants?: readonly string[]): ReadonlySet<Permission> {
  const base = ROLE_PERMISSIONS[role];
  if (!grants) return new Set(base);
  const narrowed = new Set(grants);
  return new Set(base.filter((p) => narrowed.has(p)));
}

export function isPermission(value: string): value is Permission {
  return (PERMISSIONS as readonly string[]).includes(value);
}
