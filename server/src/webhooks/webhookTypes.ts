/**
 * The webhook event types Huizhen sends, and the audit event each one is
 * derived from. Webhooks are a view of the audit trail: a feature that wants a
 * webhook appends its audit event and adds one line here.
 */
import type { AuditEvent } from '../audit/AuditLog.js';

export const WEBHOOK_TYPES = [
  'room.created',
  'room.started',
  'room.ended',
  'participant.joined',
  'participant.left',
  'lobby.waiting',
  'lobby.admitted',
  'lobby.denied',
  'recording.started',
  'recording.paused',
  'recording.ready',
  'opinion.written',
  'evaluation.submitted',
] as const;
export type WebhookType = (typeof WEBHOOK_TYPES)[number];

/**
 * room.created is the booking (POST /api/rooms); room.started is the moment the
 * consult becomes active — a clinician and someone else admitted — which is
 * what billing and the HIS count as "the consult happened" (a room opened by a
 * lone doctor who then leaves never starts).
 */
export const WEBHOOK_TYPE_OF: Partial<Record<AuditEvent, WebhookType>> = {
  room_created: 'room.created',
  consult_started: 'room.started',
  end: 'room.ended',
  join: 'participant.joined',
  leave: 'participant.left',
  waiting: 'lobby.waiting',
  admit: 'lobby.admitted',
  deny: 'lobby.denied',
  recording_started: 'recording.started',
  recording_paused: 'recording.paused',
  recording_ready: 'recording.ready',
  opinion_written: 'opinion.written',
  evaluation_submitted: 'evaluation.submitted',
};
