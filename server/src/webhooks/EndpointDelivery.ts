/**
 * Delivers one endpoint's queue: in order per room (one request in flight per
 * room), rooms in parallel up to maxConcurrent, round-robin so a busy room
 * cannot starve the others; at least once (an event leaves the journal only
 * after a 2xx); retries with capped exponential backoff and full jitter until
 * retryForSec after it was queued, then gives it up as failed. Redirects are
 * not followed (a 3xx is a failure: the configured URL is the one that was
 * vetted). Nothing here is awaited by the room path: enqueue() writes the
 * journal line and returns.
 */
import type { Logger } from '../observability/logger.js';
import { backoffDelayMs } from './backoff.js';
import { EVENT_ID_HEADER, SIGNATURE_HEADER, signWebhook } from './signature.js';
import type { WebhookEndpoint } from './webhookConfig.js';
import type { QueuedEvent, WebhookJournal } from './WebhookJournal.js';

export type AttemptOutcome = 'ok' | 'http_error' | 'redirect' | 'timeout' | 'network';

export interface DeliveryCounters {
  attempt(outcome: AttemptOutcome): void;
  delivered(): void;
  failed(): void;
}

export interface EndpointDeliveryOptions {
  endpoint: WebhookEndpoint;
  secret: Buffer;
  journal: WebhookJournal;
  logger: Logger;
  counters: DeliveryCounters;
  now?: () => number;
  random?: () => number;
}

interface RoomLane {
  events: QueuedEvent[];
  /** Failed attempts of the head event since it became the head (or since this process started). */
  attempts: number;
  nextAt: number;
  busy: boolean;
}

export class EndpointDelivery {
  readonly #o: EndpointDeliveryOptions;
  readonly #now: () => number;
  readonly #lanes = new Map<string, RoomLane>();
  readonly #inFlight = new Set<AbortController>();
  #timer: NodeJS.Timeout | undefined;
  #timerAt = Infinity;
  #pumpQueued = false;
  #closed = false;

  constructor(options: EndpointDeliveryOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
    for (const e of options.journal.pending()) this.#lane(e.room).events.push(e);
    this.#schedulePump();
  }

  get id(): string {
    return this.#o.endpoint.id;
  }

  get pending(): number {
    return this.#o.journal.size;
  }

  wants(type: string): boolean {
    const filter = this.#o.endpoint.events;
    return filter === null || (filter as ReadonlySet<string>).has(type);
  }

  /** Durably queues the event and returns; delivery happens later, off this call's path. */
  enqueue(event: QueuedEvent): void {
    if (this.#closed) throw new Error(`webhook endpoint ${this.id} is closed`);
    this.#o.journal.add(event);
    this.#lane(event.room).events.push(event);
    this.#schedulePump();
  }

  /** Stops delivering (requests in flight are aborted and will be retried after the next start). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#timer);
    for (const c of this.#inFlight) c.abort();
    this.#o.journal.close();
  }

  #lane(room: string): RoomLane {
    let lane = this.#lanes.get(room);
    if (!lane) {
      lane = { events: [], attempts: 0, nextAt: 0, busy: false };
      this.#lanes.set(room, lane);
    }
    return lane;
  }

  /** Coalesces many enqueues in one tick into one pass over the lanes. */
  #schedulePump(): void {
    if (this.#pumpQueued || this.#closed) return;
    this.#pumpQueued = true;
    setImmediate(() => {
      this.#pumpQueued = false;
      this.#pump();
    });
  }

  #pump(): void {
    if (this.#closed) return;
    const now = this.#now();
    let soonest = Infinity;
    for (const [room, lane] of this.#lanes) {
      if (lane.busy || lane.events.length === 0) continue;
      if (lane.nextAt > now) {
        soonest = Math.min(soonest, lane.nextAt);
        continue;
      }
      if (this.#inFlight.size >= this.#o.endpoint.maxConcurrent) break;
      void this.#deliver(room, lane);
    }
    if (soonest < Infinity && soonest < this.#timerAt) {
      clearTimeout(this.#timer);
      this.#timerAt = soonest;
      this.#timer = setTimeout(
        () => {
          this.#timerAt = Infinity;
          this.#pump();
        },
        Math.max(0, soonest - now),
      );
    }
  }

  async #deliver(room: string, lane: RoomLane): Promise<void> {
    const event = lane.events[0]!;
    lane.busy = true;
    const outcome = await this.#post(event);
    lane.busy = false;
    if (this.#closed) return;
    this.#o.counters.attempt(outcome);
    const { endpoint, journal, logger } = this.#o;
    const now = this.#now();
    if (outcome === 'ok') {
      journal.settle(event.id, 'done');
      this.#o.counters.delivered();
      this.#advance(lane);
    } else {
      lane.attempts++;
      const deadline = event.queuedAt + endpoint.retryForSec * 1000;
      if (now >= deadline) {
        journal.settle(event.id, 'failed');
        this.#o.counters.failed();
        logger.error('webhook given up', {
          endpoint: endpoint.id,
          event: event.id,
          type: event.type,
          room,
          attempts: lane.attempts,
          outcome,
        });
        this.#advance(lane);
      } else {
        const wait = backoffDelayMs(
          lane.attempts,
          { initialMs: endpoint.initialBackoffMs, maxMs: endpoint.maxBackoffMs },
          this.#o.random,
        );
        // The last try happens at the deadline, not a whole backoff after it.
        lane.nextAt = Math.min(now + wait, deadline);
        (lane.attempts === 1 ? logger.warn : logger.debug).call(logger, 'webhook delivery failed; will retry', {
          endpoint: endpoint.id,
          event: event.id,
          room,
          attempts: lane.attempts,
          outcome,
          retryInMs: lane.nextAt - now,
        });
      }
    }
    if (lane.events.length === 0) this.#lanes.delete(room);
    else {
      // Round-robin: this room goes to the back of the line.
      this.#lanes.delete(room);
      this.#lanes.set(room, lane);
    }
    this.#pump();
  }

  #advance(lane: RoomLane): void {
    lane.events.shift();
    lane.attempts = 0;
    lane.nextAt = 0;
  }

  async #post(event: QueuedEvent): Promise<AttemptOutcome> {
    const { endpoint, secret, logger } = this.#o;
    const controller = new AbortController();
    this.#inFlight.add(controller);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, endpoint.timeoutMs);
    try {
      const t = Math.floor(this.#now() / 1000);
      const res = await fetch(endpoint.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'Huizhen-Webhooks/1',
          [SIGNATURE_HEADER]: signWebhook(secret, event.body, t),
          [EVENT_ID_HEADER]: event.id,
        },
        body: event.body,
        redirect: 'manual',
        signal: controller.signal,
      });
      // The answer's body is not needed; drop it so the connection can be reused.
      await res.body?.cancel().catch(() => undefined);
      if (res.status >= 200 && res.status < 300) return 'ok';
      logger.debug('webhook endpoint answered', { endpoint: endpoint.id, event: event.id, status: res.status });
      return res.status >= 300 && res.status < 400 ? 'redirect' : 'http_error';
    } catch {
      return timedOut ? 'timeout' : 'network';
    } finally {
      clearTimeout(timer);
      this.#inFlight.delete(controller);
    }
  }
}
