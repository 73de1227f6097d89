/**
 * A hospital system's webhook endpoint, for tests: a real HTTP server on a
 * fixed loopback port that can go down and come back on the same port, checks
 * every signature with the shipped verifyWebhook(), and keeps what arrived.
 */
import { createServer, type Server } from 'node:http';
import { verifyWebhook, WebhookVerificationError } from '../../server/src/webhooks/signature.js';

export interface ReceivedWebhook {
  id: string;
  type: string;
  room: string;
  actor?: { identity: string; role?: string; issuer?: string };
  target?: string;
  raw: string;
  at: number;
}

export interface WebhookReceiverOptions {
  port: number;
  secret: string;
  /** Answers 500 to the first delivery of every n-th distinct event id (exercises retries); 0 = never. */
  failFirstOfEvery?: number;
}

export class WebhookReceiver {
  readonly received: ReceivedWebhook[] = [];
  /** Requests whose signature did not verify, by error code. */
  readonly refused: string[] = [];
  readonly #options: WebhookReceiverOptions;
  /** Deliveries answered 500 on purpose. */
  failedOnPurpose = 0;
  readonly #attempted = new Set<string>();
  #server: Server | undefined;

  constructor(options: WebhookReceiverOptions) {
    this.#options = options;
  }

  get url(): string {
    return `http://127.0.0.1:${this.#options.port}/hook`;
  }

  /** Every distinct event, in the order of its first arrival. */
  unique(): ReceivedWebhook[] {
    const seen = new Set<string>();
    return this.received.filter((r) => !seen.has(r.id) && seen.add(r.id));
  }

  async start(): Promise<void> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        try {
          verifyWebhook({ body: raw, header: req.headers['huizhen-signature'], secret: this.#options.secret });
        } catch (err) {
          this.refused.push(err instanceof WebhookVerificationError ? err.code : String(err));
          res.statusCode = 401;
          res.end();
          return;
        }
        const event = JSON.parse(raw) as Omit<ReceivedWebhook, 'raw' | 'at'>;
        if (req.headers['huizhen-event-id'] !== event.id) {
          this.refused.push('EVENT_ID_HEADER_MISMATCH');
          res.statusCode = 400;
          res.end();
          return;
        }
        if (!this.#attempted.has(event.id)) {
          this.#attempted.add(event.id);
          const n = this.#options.failFirstOfEvery ?? 0;
          if (n > 0 && this.#attempted.size % n === 0) {
            this.failedOnPurpose++;
            res.statusCode = 500;
            res.end();
            return;
          }
        }
        this.received.push({ ...event, raw, at: Date.now() });
        res.statusCode = 204;
        res.end();
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.#options.port, '127.0.0.1', () => resolve());
    });
    this.#server = server;
  }

  /** Goes away entirely: the port refuses connections until start() again. */
  async stop(): Promise<void> {
    const server = this.#server;
    if (!server) return;
    this.#server = undefined;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }
}
