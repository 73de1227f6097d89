/** A raw protocol client for server tests: requests, notifications, close info. */
import WebSocket from 'ws';
import type { Method, NotificationData, Notification, RequestData, ResponseData, WireError } from '@huizhen/protocol';

type Response = { id: number | null; ok: boolean; data?: unknown; error?: WireError };

export class SignalingTestClient {
  readonly ws: WebSocket;
  readonly notifications: { notification: Notification; data: unknown; seq?: number }[] = [];
  readonly responses: Response[] = [];
  closed: { code: number; reason: string } | undefined;
  #nextId = 1;
  #waiters: (() => void)[] = [];

  private constructor(ws: WebSocket) {
    this.ws = ws;
    ws.on('message', (raw) => {
      const msg = JSON.parse(raw.toString()) as Response & { notification?: Notification; seq?: number };
      if (msg.notification)
        this.notifications.push({
          notification: msg.notification,
          data: msg.data,
          ...(msg.seq !== undefined ? { seq: msg.seq } : {}),
        });
      else this.responses.push(msg);
      this.#wake();
    });
    ws.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      this.#wake();
    });
  }

  static async connect(url: string): Promise<SignalingTestClient> {
    const ws = new WebSocket(url);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return new SignalingTestClient(ws);
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

  /** Sends a request and resolves with the full response (ok or error). */
  async call<M extends Method>(
    method: M,
    data: RequestData<M> | Record<string, unknown>,
  ): Promise<{ ok: true; data: ResponseData[M] } | { ok: false; error: WireError }> {
    const id = this.#nextId++;
    this.ws.send(JSON.stringify({ id, method, data }));
    const res = await this.waitFor(() => this.responses.find((r) => r.id === id), 10_000, `response to ${method}`);
    return res.ok ? { ok: true, data: res.data as ResponseData[M] } : { ok: false, error: res.error! };
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
