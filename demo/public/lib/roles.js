/** Labels for the roles a Huizhen token may carry (see the server's role list). */
export const ROLE_LABELS = Object.freeze({
  doctor: 'Doctor',
  specialist: 'Specialist',
  nurse: 'Nurse',
  patient: 'Patient',
  family: 'Family member',
  interpreter: 'Interpreter',
  observer: 'Observer',
});

export const ROLES = Object.freeze(Object.keys(ROLE_LABELS));

/** @param {string} role */
export function roleLabel(role) {
  return Object.hasOwn(ROLE_LABELS, role) ? ROLE_LABELS[role] : role;
}

/** Roles that run the clinical side of a consult (the server's list; they see clinician-only chat and opinions). */
export const CLINICIAN_ROLES = Object.freeze(['doctor', 'specialist', 'nurse']);

/** @param {string} role */
export function isClinician(role) {
  return CLINICIAN_ROLES.includes(role);
}
