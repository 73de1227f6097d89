/**
 * Who may do what with vitals.
 *
 * - Publish: patients and family, about themselves (the Observation's
 *   subject is the publisher). Nurses do not: a nurse measuring a patient
 *   would publish readings that are not the nurse's own, and the wire sample
 *   has no subject field to say whose they are; attributing them to the
 *   nurse would put wrong data in the record. Until the protocol carries a
 *   subject (and a performer), the patient's own device path is the only one.
 * - Receive live, get alerts, read the stored Bundle: the clinical team
 *   (doctor, specialist, nurse) holding `viewRecords` — vitals are part of
 *   the clinical record, so a token narrowed to not see records does not see
 *   them either. Interpreters and observers never do.
 * - Patients and family see their own readings on their own device; the
 *   server does not echo them back, and does not send one patient's readings
 *   to another participant who is not on the clinical team.
 */
import type { Role } from '@huizhen/protocol';
import type { Permission } from '../auth/permissions.js';
import { isClinician } from '../rooms/policy.js';

const PUBLISHERS: readonly Role[] = ['patient', 'family'];

export function mayPublishVitals(role: Role): boolean {
  return PUBLISHERS.includes(role);
}

export function maySeeVitals(p: { role: Role; can(permission: Permission): boolean }): boolean {
  return isClinician(p.role) && p.can('viewRecords');
}
