/**
 * The Janus API over its HTTP transport: a session, plugin handles, requests
 * to a plugin answered by asynchronous events (matched by transaction),
 * one long poll per session for events, and keepalives. Every reply is
 * checked with zod; a Janus error becomes a typed LoadTestError.
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { LoadTestError } from '../errors.js';

const REQUEST_TIMEOUT_MS = 15_000;
const KEEPALIVE_MS = 20_000;

const Jsep = z.object({ type: z.enum(['offer', 'answer']), sdp: z.string() });
export type Jsep = z.infer<typeof Jsep>;

const Reply = z
  .object({
    janus: z.string(),
    transaction: z.string().optional(),
    session_id: z.number().optional(),
    sender: z.number().optional(),
    data: z.object({ id: z.number() }).passthrough().optional(),
    error: z.object({ code: z.number(), reason: z.string() }).optional(),
    plugindata: z.object({ plugin: z.string(), data: z.record(z.string(), z.unknown()) }).optional(),
    jsep: Jsep.optional(),
  })
  .passthrough();
type Reply = z.infer<typeof Reply>;

export interface PluginEvent {
  sender: number;
  data: Record<string, unknown>;
  jsep?: Jsep;
}

function tx(): string {
  return randomBytes(8).toString('hex');
}

async function post(url: string, body: Record<string, unknown>): Promise<Reply> {
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
  } catch (err) {
    throw new LoadTestError('SERVER_REFUSED', `janus at ${url} did not answer: ${(err as Error).message}`);
  }
  const parsed = Reply.safeParse(await res.json().catch(() => undefined));
  if (!parsed.success)
    throw new LoadTestError('SERVER_REFUSED', `janus sent a malformed reply to ${String(body.janus)}`);
  const r = parsed.data;
  if (r.janus === 'error')
    throw new LoadTestError('SERVER_REFUSED', `janus refused ${String(body.janus)}: ${r.error?.reason ?? 'no reason'}`);
  return r;
}

/** Plugin-level errors come inside the plugin data (`error_code` / `error`). */
function pluginError(data: Record<string, unknown>): string | undefined {
  return typeof data.error === 'string' ? data.error : undefined;
}

export class JanusSession {
  readonly id: number;
  readonly #url: string;
  /** Plugin events without a pending transaction (publishers joining, leaving, ...), per handle. */
  onEvent: ((e: PluginEvent) => void) | undefined;
  /** The server ended the session or the long poll failed. */
  onClosed: ((reason: string) => void) | undefined;
  readonly #pending = new Map<string, { resolve: (e: PluginEvent) => void; reject: (err: Error) => void }>();
  readonly #keepalive: NodeJS.Timeout;
  #closed = false;

  private constructor(url: string, id: number) {
    this.#url = url;
    this.id = id;
    this.#keepalive = setInterval(() => {
      post(`${this.#url}/${this.id}`, { janus: 'keepalive', transaction: tx() }).catch(() => undefined);
    }, KEEPALIVE_MS);
    void this.#poll();
  }

  static async create(url: string): Promise<JanusSession> {
    const r = await post(url, { janus: 'create', transaction: tx() });
    if (!r.data) throw new LoadTestError('SERVER_REFUSED', 'janus created no session');
    return new JanusSession(url, r.data.id);
  }

  async attach(plugin: string): Promise<number> {
    const r = await post(`${this.#url}/${this.id}`, { janus: 'attach', plugin, transaction: tx() });
    if (!r.data) throw new LoadTestError('SERVER_REFUSED', `janus attached no handle for ${plugin}`);
    return r.data.id;
  }

  /** A synchronous plugin request (create, exists, list, ...): the reply carries the plugin data. */
  async request(handle: number, body: Record<string, unknown>): Promise<Record<string, unknown>> {
    const r = await post(`${this.#url}/${this.id}/${handle}`, { janus: 'message', body, transaction: tx() });
    const data = r.plugindata?.data;
    if (!data) throw new LoadTestError('SERVER_REFUSED', `janus answered ${String(body.request)} without plugin data`);
    const err = pluginError(data);
    if (err) throw new LoadTestError('SERVER_REFUSED', `janus refused ${String(body.request)}: ${err}`);
    return data;
  }

  /** An asynchronous plugin request (join, publish, start, ...): resolves with the event that answers it. */
  async message(handle: number, body: Record<string, unknown>, jsep?: Jsep): Promise<PluginEvent> {
    const transaction = tx();
    const answered = new Promise<PluginEvent>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(transaction);
        reject(new LoadTestError('SERVER_REFUSED', `janus did not answer ${String(body.request)} within 15 s`));
      }, REQUEST_TIMEOUT_MS);
      this.#pending.set(transaction, {
        resolve: (e) => {
          clearTimeout(timer);
          resolve(e);
        },
        reject: (err) => {
          clearTimeout(timer);
          reject(err);
        },
      });
    });
    answered.catch(() => undefined);
    try {
      const r = await post(`${this.#url}/${this.id}/${handle}`, {
        janus: 'message',
        body,
        transaction,
        ...(jsep ? { jsep } : {}),
      });
      // Some requests are answered at once rather than acknowledged.
      if (r.janus === 'success' && r.plugindata) this.#settle(transaction, r);
    } catch (err) {
      this.#pending.delete(transaction);
      throw err;
    }
    return answered;
  }

  async trickleCompleted(handle: number): Promise<void> {
    await post(`${this.#url}/${this.id}/${handle}`, {
      janus: 'trickle',
      candidate: { completed: true },
      transaction: tx(),
    });
  }

  #settle(transaction: string, r: Reply): void {
    const p = this.#pending.get(transaction);
    if (!p) return;
    this.#pending.delete(transaction);
    const data = r.plugindata?.data ?? {};
    const err = pluginError(data);
    if (err) p.reject(new LoadTestError('SERVER_REFUSED', `janus refused the request: ${err}`));
    else p.resolve({ sender: r.sender ?? 0, data, ...(r.jsep ? { jsep: r.jsep } : {}) });
  }

  async #poll(): Promise<void> {
    while (!this.#closed) {
      let events: unknown;
      try {
        const res = await fetch(`${this.#url}/${this.id}?maxev=20&rid=${Date.now()}`, {
          signal: AbortSignal.timeout(60_000),
        });
        events = await res.json();
      } catch (err) {
        if (this.#closed) return;
        this.onClosed?.(`janus long poll failed: ${(err as Error).message}`);
        return;
      }
      for (const raw of Array.isArray(events) ? events : [events]) {
        const parsed = Reply.safeParse(raw);
        if (!parsed.success) continue;
        const r = parsed.data;
        if (r.janus === 'keepalive') continue;
        if (r.janus === 'event' && r.transaction && this.#pending.has(r.transaction)) this.#settle(r.transaction, r);
        else if (r.janus === 'event' && r.plugindata)
          this.onEvent?.({ sender: r.sender ?? 0, data: r.plugindata.data, ...(r.jsep ? { jsep: r.jsep } : {}) });
        else if (r.janus === 'hangup' || r.janus === 'detached') {
          if (!this.#closed) this.onEvent?.({ sender: r.sender ?? 0, data: { janus: r.janus } });
        } else if (r.janus === 'timeout') {
          this.onClosed?.('janus timed the session out');
          return;
        }
      }
    }
  }

  async destroy(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#keepalive);
    for (const p of this.#pending.values()) p.reject(new LoadTestError('INTERNAL', 'the janus session was closed'));
    this.#pending.clear();
    await post(`${this.#url}/${this.id}`, { janus: 'destroy', transaction: tx() }).catch(() => undefined);
  }
}
