/**
 * The JSON body of one webhook: built from an audit entry, so it carries only
 * what the audit trail may hold — who did what to whom and when, plus the
 * entry's small non-sensitive details — never tokens, chat text or record contents.
 */
import type { AuditEntry } from '../audit/AuditLog.js';
import { WEBHOOK_TYPE_OF, type WebhookType } from './webhookTypes.js';

export interface WebhookEvent {
  /** Stable across every retry and restart: receivers de-duplicate on it. */
  id: string;
  type: WebhookType;
  /** ISO 8601, when the audited action happened. */
  time: string;
  room: string;
  actor?: { identity: string; role?: string; issuer?: string };
  target?: string;
  data?: Record<string, string | number | boolean | null>;
}

/** The webhook for an audit entry, or undefined when no webhook type derives from it. */
export function webhookEventOf(entry: AuditEntry, id: string): WebhookEvent | undefined {
  const type = WEBHOOK_TYPE_OF[entry.event];
  if (!type || entry.room === undefined) return undefined;
  return {
    id,
    type,
    time: entry.time,
    room: entry.room,
    ...(entry.actor
      ? {
          actor: {
            identity: entry.actor.identity,
            ...(entry.actor.role !== undefined ? { role: entry.actor.role } : {}),
            ...(entry.actor.issuer !== undefined ? { issuer: entry.actor.issuer } : {}),
          },
        }
      : {}),
    ...(entry.target !== undefined ? { target: entry.target } : {}),
    ...(entry.details && Object.keys(entry.details).length > 0 ? { data: { ...entry.details } } : {}),
  };
}
