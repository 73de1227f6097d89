/**
 * Signed, durable webhooks: turns audit entries into webhook events and hands
 * each to the endpoints that want its type. One journal and one delivery loop
 * per endpoint, under <storage.dir>/webhooks/<endpoint id>/.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AuditEntry } from '../audit/AuditLog.js';
import { ConfigError } from '../config.js';
import type { Logger } from '../observability/logger.js';
import { auditEntriesAfter } from './auditCatchUp.js';
import { EndpointDelivery } from './EndpointDelivery.js';
import { resolveEndpoint, type WebhookEndpoint, type WebhookEndpointConfig } from './webhookConfig.js';
import { webhookEventOf } from './webhookEvent.js';
import { createWebhookMetrics, type WebhookMetrics } from './webhookMetrics.js';
import { WebhookJournal } from './WebhookJournal.js';

const MIN_SECRET_BYTES = 16;

export interface WebhookServiceOptions {
  endpoints: readonly WebhookEndpointConfig[];
  /** <storage.dir>/webhooks */
  dir: string;
  env: Record<string, string | undefined>;
  logger: Logger;
  /** The audit trail the events come from: caught up from at start, its position recorded on close. */
  audit?: { dir: string; seq: () => number };
  now?: () => number;
  random?: () => number;
}

export class WebhookService {
  readonly #deliveries: EndpointDelivery[];
  readonly #journals: WebhookJournal[];
  readonly #auditSeq: (() => number) | undefined;
  readonly #logger: Logger;
  readonly #now: () => number;
  readonly metrics: WebhookMetrics;
  #closed = false;

  private constructor(
    deliveries: EndpointDelivery[],
    journals: WebhookJournal[],
    auditSeq: (() => number) | undefined,
    metrics: WebhookMetrics,
    logger: Logger,
    now: () => number,
  ) {
    this.#deliveries = deliveries;
    this.#journals = journals;
    this.#auditSeq = auditSeq;
    this.metrics = metrics;
    this.#logger = logger;
    this.#now = now;
  }

  /** Reads every endpoint's secret and journal; throws ConfigError for a missing or short secret. */
  static open(options: WebhookServiceOptions): WebhookService {
    const logger = options.logger.child({ component: 'webhooks' });
    const endpoints = options.endpoints.map(resolveEndpoint);
    const secrets = endpoints.map((e) => loadSecret(e, options.env));
    const deliveries: EndpointDelivery[] = [];
    const metrics = createWebhookMetrics(() => new Map(deliveries.map((d) => [d.id, d.pending])));
    const journals = endpoints.map((endpoint) => {
      const journal = WebhookJournal.open(join(options.dir, endpoint.id));
      if (journal.damagedLines > 0)
        logger.warn('webhook queue had unreadable lines; they were skipped', {
          endpoint: endpoint.id,
          lines: journal.damagedLines,
        });
      return journal;
    });
    if (options.audit) catchUp(endpoints, journals, options.audit.dir, options.audit.seq(), logger);
    for (const [i, endpoint] of endpoints.entries()) {
      const journal = journals[i]!;
      deliveries.push(
        new EndpointDelivery({
          endpoint,
          secret: secrets[i]!,
          journal,
          logger,
          counters: metrics.countersFor(endpoint.id),
          ...(options.now ? { now: options.now } : {}),
          ...(options.random ? { random: options.random } : {}),
        }),
      );
      logger.info('webhook endpoint ready', {
        endpoint: endpoint.id,
        origin: new URL(endpoint.url).origin,
        pending: journal.size,
      });
    }
    return new WebhookService(deliveries, journals, options.audit?.seq, metrics, logger, options.now ?? Date.now);
  }

  get endpointCount(): number {
    return this.#deliveries.length;
  }

  /** Queues the webhook derived from this audit entry (if any) for each endpoint that wants it. Never throws. */
  enqueue(entry: AuditEntry): void {
    if (this.#closed) return;
    const event = webhookEventOf(entry, randomUUID());
    if (!event) return;
    const body = JSON.stringify(event);
    for (const d of this.#deliveries) {
      if (!d.wants(event.type)) continue;
      try {
        d.enqueue({
          id: event.id,
          room: event.room,
          type: event.type,
          queuedAt: this.#now(),
          body,
          auditSeq: entry.seq,
        });
      } catch (err) {
        // The audit entry is on disk either way; a full disk must not fail the consult.
        this.#logger.error('webhook could not be queued', {
          endpoint: d.id,
          type: event.type,
          room: event.room,
          error: err as Error,
        });
      }
    }
  }

  /** Stops delivery; what is pending stays on disk for the next start. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    // Every audit entry so far was considered: the next start need not look back past it.
    const seq = this.#auditSeq?.();
    for (const [i, d] of this.#deliveries.entries()) {
      try {
        if (seq !== undefined) this.#journals[i]!.markSeen(seq);
        d.close();
      } catch (err) {
        this.#logger.error('webhook queue did not close cleanly', { endpoint: d.id, error: err as Error });
      }
    }
  }
}

/**
 * Queues what the audit trail holds beyond each journal's knowledge: entries a
 * crash cut off between the audit write and the queue write. A journal that is
 * new (a new endpoint) starts from the trail's current end instead of its history.
 */
function catchUp(
  endpoints: readonly WebhookEndpoint[],
  journals: readonly WebhookJournal[],
  auditDir: string,
  auditSeq: number,
  logger: Logger,
): void {
  const from = journals.map((j) => j.seenUpTo ?? auditSeq);
  for (const j of journals) if (j.seenUpTo === undefined) j.markSeen(auditSeq);
  const earliest = Math.min(...from, auditSeq);
  if (earliest >= auditSeq) return;
  const entries = auditEntriesAfter(auditDir, earliest);
  for (const [i, journal] of journals.entries()) {
    const endpoint = endpoints[i]!;
    let queued = 0;
    for (const entry of entries) {
      if (entry.seq <= from[i]! || journal.knows(entry.seq)) continue;
      const event = webhookEventOf(entry, randomUUID());
      if (!event || (endpoint.events && !endpoint.events.has(event.type))) continue;
      const queuedAt = Date.parse(entry.time);
      journal.add({
        id: event.id,
        room: event.room,
        type: event.type,
        queuedAt: Number.isFinite(queuedAt) ? queuedAt : Date.now(),
        body: JSON.stringify(event),
        auditSeq: entry.seq,
      });
      queued++;
    }
    if (queued > 0)
      logger.warn('webhooks queued from the audit trail after an interrupted stop', { endpoint: endpoint.id, queued });
  }
}

function loadSecret(endpoint: WebhookEndpoint, env: Record<string, string | undefined>): Buffer {
  const where = `webhooks (${endpoint.id})`;
  let secret: string;
  if (endpoint.secretFile !== undefined) {
    try {
      secret = readFileSync(endpoint.secretFile, 'utf8');
    } catch (err) {
      throw new ConfigError(
        `${where}: cannot read secretFile '${endpoint.secretFile}': ${(err as NodeJS.ErrnoException).code ?? 'error'}`,
      );
    }
  } else {
    const value = env[endpoint.secretEnv!];
    if (value === undefined) throw new ConfigError(`${where}: environment variable ${endpoint.secretEnv} is not set`);
    secret = value;
  }
  // A trailing newline from `echo secret > file` is not part of the secret.
  const bytes = Buffer.from(secret.replace(/\r?\n$/, ''), 'utf8');
  if (bytes.length < MIN_SECRET_BYTES)
    throw new ConfigError(`${where}: the secret must be at least ${MIN_SECRET_BYTES} bytes`);
  return bytes;
}
