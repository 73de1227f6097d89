/**
 * One node link: a WebSocket between two nodes of a cluster carrying
 * request/response and notes (linkMessages.ts) to pipe rooms' media.
 *
 * Why a direct node-to-node channel rather than Redis pub/sub: pipe set-up is
 * request/response between exactly two nodes, it must keep working while
 * Redis is away (running calls keep their media), and it should not put every
 * pipe's signaling through the cluster's one shared Redis. Redis only tells a
 * node where the other nodes are (NodeRegistry).
 */
import { ErrorCode, ProtocolValidationError, TypedEmitter, parseWith, type Schema } from '@huizhen/protocol';
import type { WebSocket } from 'ws';
import type { Logger } from '../../observability/logger.js';
import {
  linkFrame,
  linkNotes,
  linkRequests,
  type LinkFrame,
  type LinkNoteData,
  type LinkNoteMethod,
  type LinkRequestData,
  type LinkRequestMethod,
  type LinkRequestResult,
} from './linkMessages.js';

export const LINK_REQUEST_TIMEOUT_MS = 5_000;
/** Node frames are small (RTP parameters at most); anything bigger is refused by ws (close 1009). */
export const LINK_MAX_FRAME_BYTES = 256 * 1024;

export type NodeLinkErrorCode = 'LINK_CLOSED' | 'LINK_TIMEOUT' | 'LINK_BAD_FRAME' | 'LINK_NO_HANDLER' | 'LINK_REMOTE';

/** A request over a link that failed: the link closed, timed out, or the other node answered with an error. */
export class NodeLinkError extends Error {
  constructor(
    readonly code: NodeLinkErrorCode,
    message: string,
    /** With LINK_REMOTE: the code the other node's handler failed with. */
    readonly remoteCode?: string,
  ) {
    super(message);
    this.name = 'NodeLinkError';
  }
}

type RequestHandler<M extends LinkRequestMethod> = (data: LinkRequestData<M>) => Promise<LinkRequestResult<M>>;
type NoteHandler<M extends LinkNoteMethod> = (data: LinkNoteData<M>) => void;

export interface NodeLinkEvents {
  closed: () => void;
}

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
  result: Schema;
}

export class NodeLink extends TypedEmitter<NodeLinkEvents> {
  readonly #ws: WebSocket;
  readonly #logger: Logger;
  readonly #pending = new Map<number, Pending>();
  readonly #requestHandlers = new Map<string, (data: never) => Promise<unknown>>();
  readonly #noteHandlers = new Map<string, (data: never) => void>();
  #nextId = 1;
  #closed = false;

  /** `ws` must be open; `peer` is the other node's id (checked by linkAuth before the link exists). */
  constructor(
    ws: WebSocket,
    readonly peer: string,
    logger: Logger,
  ) {
    super({
      onListenerError: (error, event) => logger.error('node link listener failed', { event, error: error as Error }),
    });
    this.#ws = ws;
    this.#logger = logger.child({ peer });
    ws.on('message', (raw, isBinary) => this.#onMessage(raw as Buffer, isBinary));
    ws.once('close', () => this.#onClose());
    ws.on('error', (error) => this.#logger.warn('node link error', { error }));
  }

  get closed(): boolean {
    return this.#closed;
  }

  handle<M extends LinkRequestMethod>(method: M, handler: RequestHandler<M>): void {
    this.#requestHandlers.set(method, handler as (data: never) => Promise<unknown>);
  }

  onNote<M extends LinkNoteMethod>(method: M, handler: NoteHandler<M>): void {
    this.#noteHandlers.set(method, handler as (data: never) => void);
  }

  request<M extends LinkRequestMethod>(method: M, data: LinkRequestData<M>): Promise<LinkRequestResult<M>> {
    if (this.#closed)
      return Promise.reject(new NodeLinkError('LINK_CLOSED', `the link to node '${this.peer}' is closed`));
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(
          new NodeLinkError(
            'LINK_TIMEOUT',
            `node '${this.peer}' did not answer ${method} within ${LINK_REQUEST_TIMEOUT_MS} ms`,
          ),
        );
      }, LINK_REQUEST_TIMEOUT_MS);
      this.#pending.set(id, {
        resolve: resolve as (value: unknown) => void,
        reject,
        timer,
        result: linkRequests[method].result,
      });
      this.#send({ t: 'req', id, m: method, d: data });
    });
  }

  note<M extends LinkNoteMethod>(method: M, data: LinkNoteData<M>): void {
    if (!this.#closed) this.#send({ t: 'note', m: method, d: data });
  }

  close(): void {
    if (this.#closed) return;
    this.#ws.close(1000, 'node link closed');
    this.#onClose();
  }

  #send(frame: LinkFrame): void {
    this.#ws.send(JSON.stringify(frame), (error) => {
      if (error) this.#logger.warn('node link send failed', { error });
    });
  }

  #onMessage(raw: Buffer, isBinary: boolean): void {
    let frame: LinkFrame;
    try {
      if (isBinary) throw new Error('binary frame');
      frame = parseWith(linkFrame, JSON.parse(raw.toString('utf8')));
    } catch (error) {
      // A node that sends garbage is broken or not ours: drop the link, the pipes re-open on a new one.
      this.#logger.warn('node link frame refused; closing the link', { error: error as Error });
      this.close();
      return;
    }
    if (frame.t === 'res') this.#onResponse(frame);
    else if (frame.t === 'req') void this.#onRequest(frame.id, frame.m, frame.d);
    else this.#onNote(frame.m, frame.d);
  }

  #onResponse(frame: Extract<LinkFrame, { t: 'res' }>): void {
    const pending = this.#pending.get(frame.id);
    if (!pending) return; // timed out already
    this.#pending.delete(frame.id);
    clearTimeout(pending.timer);
    if (!frame.ok) {
      pending.reject(new NodeLinkError('LINK_REMOTE', frame.message, frame.code));
      return;
    }
    try {
      pending.resolve(parseWith(pending.result, frame.d));
    } catch (error) {
      pending.reject(
        new NodeLinkError('LINK_BAD_FRAME', `node '${this.peer}' answered malformed: ${(error as Error).message}`),
      );
    }
  }

  async #onRequest(id: number, method: string, data: unknown): Promise<void> {
    const handler = this.#requestHandlers.get(method);
    const spec = (linkRequests as Record<string, { data: Schema } | undefined>)[method];
    if (!handler || !spec) {
      this.#send({
        t: 'res',
        id,
        ok: false,
        code: 'LINK_NO_HANDLER',
        message: `no handler for ${method.slice(0, 64)}`,
      });
      return;
    }
    try {
      const result = await handler(parseWith(spec.data, data) as never);
      this.#send({ t: 'res', id, ok: true, d: result });
    } catch (error) {
      const code =
        error instanceof ProtocolValidationError
          ? ErrorCode.INVALID_REQUEST
          : typeof (error as { code?: unknown }).code === 'string'
            ? (error as { code: string }).code
            : ErrorCode.INTERNAL;
      this.#logger.warn('node link request failed', { method, code, error: error as Error });
      this.#send({
        t: 'res',
        id,
        ok: false,
        code: code.slice(0, 64),
        message: (error as Error).message.slice(0, 1000),
      });
    }
  }

  #onNote(method: string, data: unknown): void {
    const handler = this.#noteHandlers.get(method);
    const schema = (linkNotes as Record<string, Schema | undefined>)[method];
    if (!handler || !schema) {
      this.#logger.warn('node link note without handler', { method: method.slice(0, 64) });
      return;
    }
    try {
      handler(parseWith(schema, data) as never);
    } catch (error) {
      this.#logger.warn('node link note refused', { method, error: error as Error });
    }
  }

  #onClose(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const [, pending] of this.#pending) {
      clearTimeout(pending.timer);
      pending.reject(new NodeLinkError('LINK_CLOSED', `the link to node '${this.peer}' closed`));
    }
    this.#pending.clear();
    this.emit('closed');
  }
}
