/**
 * The audit sink the rest of the server writes to when webhooks are on: the
 * entry goes to the hash-chained log first, then its webhook is queued.
 * Webhooks thereby see every audited action, in the audit trail's order, and
 * a feature gets a webhook simply by appending its audit event.
 */
import type { AuditEntry, AuditInput, AuditSink } from '../audit/AuditLog.js';
import type { Logger } from '../observability/logger.js';

export class AuditTap implements AuditSink {
  readonly #log: { append(input: AuditInput): AuditEntry };
  readonly #onEntry: (entry: AuditEntry) => void;
  readonly #logger: Logger;

  constructor(log: { append(input: AuditInput): AuditEntry }, onEntry: (entry: AuditEntry) => void, logger: Logger) {
    this.#log = log;
    this.#onEntry = onEntry;
    this.#logger = logger;
  }

  append(input: AuditInput): void {
    const entry = this.#log.append(input);
    try {
      this.#onEntry(entry);
    } catch (err) {
      // A webhook problem never fails the action being audited.
      this.#logger.error('audit tap failed', { event: input.event, room: input.room, error: err as Error });
    }
  }
}
