/**
 * The one Node client of the Huizhen wire protocol outside the SDK: server
 * tests (as SignalingTestClient), the load generator's sessions (via the
 * @huizhen/server/client export) and the browser tests' hostile socket all
 * speak through it. It keeps what tests assert on (every response,
 * notification and raw frame, and how the socket closed) unless told not to,
 * so a long load run does not hold every message it ever saw.
 */
import WebSocket from 'ws';
import type { Method, NotificationData, Notification, RequestData, ResponseData, WireError } from '@huizhen/protocol';

export type WireResponse = { id: number | null; ok: boolean; data?: unknown; error?: WireError };
export type CallResult<M extends Method> = { ok: true; data: ResponseData[M] } | { ok: false; error: WireError };

export interface ProtocolClientOptions {
  /** Keep every response, notification and raw frame for tests to inspect (default true). */
  keepLog?: boolean;
  perMessageDeflate?: boolean;
  handshakeTimeoutMs?: number;
}

type Pending = { resolve: (r: WireResponse) => void; reject: (e: Error) => void; timer: NodeJS.Timeout };

export class ProtocolClient {
  readonly ws: WebSocket;
  readonly notifications: { notification: Notification; data: unknown; seq?: number }[] = [];
  readonly responses: WireResponse[] = [];
  /** Every frame as text, parsed or not. */
  readonly raw: string[] = [];
  closed: { code: number; reason: string } | undefined;
  /** Called for every notification, logged or not. */
  onNotification: ((name: Notification, data: unknown, seq: number | undefined) => void) | undefined;
  /** Called once when the socket closes. */
  onClose: ((code: number, reason: string) => void) | undefined;
  readonly #keepLog: boolean;
  #nextId = 1;
  #waiters: (() => void)[] = [];
  readonly #pending = new Map<number, Pending>();

  private constructor(ws: WebSocket, keepLog: boolean) {
    this.ws = ws;
    this.#keepLog = keepLog;
    ws.on('message', (raw) => this.#onMessage(raw.toString()));
    ws.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      const why = `signaling closed (${code}${reason.length ? ` ${reason.toString()}` : ''})`;
      for (const p of this.#pending.values()) {
        clearTimeout(p.timer);
        p.reject(new Error(why));
      }
      this.#pending.clear();
      this.onClose?.(code, reason.toString());
      this.#wake();
    });
    // Errors before 'open' reject connect(); later ones end in 'close'.
    ws.on('error', () => undefined);
  }

  static async connect(url: string, options: ProtocolClientOptions = {}): Promise<ProtocolClient> {
    const ws = new WebSocket(url, {
      ...(options.perMessageDeflate !== undefined ? { perMessageDeflate: options.perMessageDeflate } : {}),
      ...(options.handshakeTimeoutMs !== undefined ? { handshakeTimeout: options.handshakeTimeoutMs } : {}),
    });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return new ProtocolClient(ws, options.keepLog ?? true);
  }

  #onMessage(text: string): void {
    if (this.#keepLog) this.raw.push(text);
    let msg: WireResponse & { notification?: Notification; seq?: number };
    try {
      msg = JSON.parse(text) as typeof msg;
    } catch {
      this.#wake();
      return;
    }
    if (msg.notification) {
      if (this.#keepLog)
        this.notifications.push({
          notification: msg.notification,
          data: msg.data,
          ...(msg.seq !== undefined ? { seq: msg.seq } : {}),
        });
      this.onNotification?.(msg.notification, msg.data, msg.seq);
    } else {
      if (this.#keepLog) this.responses.push(msg);
      const p = typeof msg.id === 'number' ? this.#pending.get(msg.id) : undefined;
      if (p) {
        this.#pending.delete(msg.id!);
        clearTimeout(p.timer);
        p.resolve(msg);
      }
    }
    this.#wake();
  }

  #wake(): void {
    const w = this.#waiters;
    this.#waiters = [];
    for (const fn of w) fn();
  }

  /** Waits until `check` returns a value (re-checked on every message), or fails after timeoutMs. */
  async waitFor<T>(check: () => T | undefined, timeoutMs = 5000, what = 'condition'): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = check();
      if (value !== undefined) return value;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  sendRaw(data: string | Buffer): void {
    this.ws.send(data);
  }

  /** Sends a request and resolves with the full response (ok or error); rejects on timeout or close. */
  call<M extends Method>(
    method: M,
    data: RequestData<M> | Record<string, unknown>,
    timeoutMs = 10_000,
  ): Promise<CallResult<M>> {
    const id = this.#nextId++;
    return new Promise<CallResult<M>>((resolve, reject) => {
      if (this.closed) {
        reject(new Error(`signaling closed (${this.closed.code})`));
        return;
      }
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`no answer to '${method}' within ${timeoutMs / 1000} s`));
      }, timeoutMs);
      this.#pending.set(id, {
        resolve: (res) =>
          resolve(res.ok ? { ok: true, data: res.data as ResponseData[M] } : { ok: false, error: res.error! }),
        reject,
        timer,
      });
      this.ws.send(JSON.stringify({ id, method, data }));
    });
  }

  /** Like call, but throws on an error response. */
  async request<M extends Method>(method: M, data: RequestData<M> | Record<string, unknown>): Promise<ResponseData[M]> {
    const res = await this.call(method, data);
    if (!res.ok) throw new Error(`${method} failed: ${res.error.code} ${res.error.message}`);
    return res.data;
  }

  async notification<N extends Notification>(
    name: N,
    match: (d: NotificationData[N]) => boolean = () => true,
    timeoutMs = 5000,
  ): Promise<NotificationData[N]> {
    const found = await this.waitFor(
      () => this.notifications.find((n) => n.notification === name && match(n.data as NotificationData[N])),
      timeoutMs,
      `notification ${name}`,
    );
    return found.data as NotificationData[N];
  }

  async join(token: string, extra: Record<string, unknown> = {}) {
    return this.request('join', { protocolVersion: 1, token, ...extra });
  }

  async waitClosed(timeoutMs = 5000): Promise<{ code: number; reason: string }> {
    return this.waitFor(() => this.closed, timeoutMs, 'socket close');
  }

  close(): void {
    this.ws.close();
  }
}
