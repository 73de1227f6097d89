/**
 * Display labels for roles. The role lists themselves (ROLES, CLINICIAN_ROLES)
 * come from the SDK, which takes them from the wire protocol.
 */
import { CLINICIAN_ROLES } from '/sdk/huizhen-client.js';

export const ROLE_LABELS = Object.freeze({
  doctor: 'Doctor',
  specialist: 'Specialist',
  nurse: 'Nurse',
  patient: 'Patient',
  family: 'Family member',
  interpreter: 'Interpreter',
  observer: 'Observer',
});

/** @param {string} role */
export function roleLabel(role) {
  return Object.hasOwn(ROLE_LABELS, role) ? ROLE_LABELS[role] : role;
}

/** @param {string} role */
export function isClinician(role) {
  return CLINICIAN_ROLES.includes(role);
}
