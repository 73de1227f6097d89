/**
 * Delivery against a real HTTP receiver on loopback: order per room, rooms in
 * parallel, retries on non-2xx, redirects and timeouts, giving up after
 * retryForSec, and nothing delivered twice within one run.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../observability/logger.js';
import { EndpointDelivery, type AttemptOutcome } from './EndpointDelivery.js';
import { verifyWebhook } from './signature.js';
import type { WebhookEndpoint } from './webhookConfig.js';
import { WebhookJournal, type QueuedEvent } from './WebhookJournal.js';

const secret = Buffer.from('delivery-test-secret-0123');

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;
let server: Server;
let base: string;
let handler: Handler = (_req, res) => res.end();

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => handler(req, res, body));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

function endpoint(path: string, over: Partial<WebhookEndpoint> = {}): WebhookEndpoint {
  return {
    id: 'test',
    url: base + path,
    events: null,
    retryForSec: 3600,
    initialBackoffMs: 20,
    maxBackoffMs: 100,
    timeoutMs: 2000,
    maxConcurrent: 4,
    ...over,
  };
}

function makeDelivery(ep: WebhookEndpoint, dir = mkdtempSync(join(tmpdir(), 'huizhen-wh-delivery-'))) {
  const journal = WebhookJournal.open(dir);
  const counts = { delivered: 0, failed: 0, attempts: [] as AttemptOutcome[] };
  const logs: string[] = [];
  const delivery = new EndpointDelivery({
    endpoint: ep,
    secret,
    journal,
    logger: createLogger({ level: 'debug', write: (l) => logs.push(l) }),
    counters: {
      attempt: (o) => counts.attempts.push(o),
      delivered: () => counts.delivered++,
      failed: () => counts.failed++,
    },
  });
  return { delivery, journal, counts, logs, dir };
}

const event = (n: number, room: string): QueuedEvent => ({
  id: `${room}-${n}`,
  room,
  type: 'participant.joined',
  queuedAt: Date.now(),
  body: JSON.stringify({ id: `${room}-${n}`, room, n }),
});

async function until(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('webhook delivery', () => {
  it('delivers signed events in order per room, retrying failures, rooms in parallel', async () => {
    const seen: { id: string; room: string }[] = [];
    const inFlightPerRoom = new Map<string, number>();
    let maxPerRoom = 0;
    const failedOnce = new Set<string>();
    handler = (req, res, body) => {
      verifyWebhook({ body, header: req.headers['huizhen-signature'], secret });
      const { id, room } = JSON.parse(body) as { id: string; room: string };
      expect(req.headers['huizhen-event-id']).toBe(id);
      const now = (inFlightPerRoom.get(room) ?? 0) + 1;
      inFlightPerRoom.set(room, now);
      maxPerRoom = Math.max(maxPerRoom, now);
      setTimeout(() => {
        inFlightPerRoom.set(room, inFlightPerRoom.get(room)! - 1);
        // Every third event fails on its first try.
        if (Number(id.split('-')[1]) % 3 === 0 && !failedOnce.has(id)) {
          failedOnce.add(id);
          res.statusCode = 503;
          res.end();
          return;
        }
        seen.push({ id, room });
        res.statusCode = 204;
        res.end();
      }, 5);
    };
    const { delivery, journal, counts } = makeDelivery(endpoint('/ok'));
    for (let n = 1; n <= 10; n++) for (const room of ['a', 'b', 'c']) delivery.enqueue(event(n, room));
    await until(() => counts.delivered === 30, '30 deliveries');
    for (const room of ['a', 'b', 'c'])
      expect(seen.filter((s) => s.room === room).map((s) => s.id)).toEqual(
        Array.from({ length: 10 }, (_, i) => `${room}-${i + 1}`),
      );
    expect(new Set(seen.map((s) => s.id)).size).toBe(30);
    expect(maxPerRoom).toBe(1);
    expect(counts.attempts.filter((o) => o === 'http_error')).toHaveLength(9);
    expect(journal.size).toBe(0);
    delivery.close();
  });

  it('does not follow redirects, times out slow endpoints, and gives up after retryForSec', async () => {
    let redirectTargetHit = false;
    handler = (req, res) => {
      if (req.url === '/moved') {
        res.statusCode = 307;
        res.setHeader('location', '/elsewhere');
        res.end();
      } else if (req.url === '/elsewhere') {
        redirectTargetHit = true;
        res.end();
      } else if (req.url === '/slow') {
        setTimeout(() => res.end(), 3000);
      }
    };
    const moved = makeDelivery(endpoint('/moved', { retryForSec: 1 }));
    const slow = makeDelivery(endpoint('/slow', { retryForSec: 1, timeoutMs: 200 }));
    moved.delivery.enqueue(event(1, 'r'));
    moved.delivery.enqueue(event(2, 'r'));
    slow.delivery.enqueue(event(1, 's'));
    await until(() => moved.counts.failed === 2 && slow.counts.failed === 1, 'both endpoints to give up');
    expect(redirectTargetHit).toBe(false);
    expect(new Set(moved.counts.attempts)).toEqual(new Set(['redirect']));
    expect(new Set(slow.counts.attempts)).toEqual(new Set(['timeout']));
    expect(moved.counts.delivered + slow.counts.delivered).toBe(0);
    expect(moved.journal.size + slow.journal.size).toBe(0);
    expect(moved.logs.some((l) => l.includes('webhook given up'))).toBe(true);
    expect(moved.logs.join('\n')).not.toContain(secret.toString());
    moved.delivery.close();
    slow.delivery.close();
  });

  it('queues without waiting for a dead endpoint, and resumes from disk after a restart', async () => {
    const dead = makeDelivery(endpoint('/x', { url: 'http://127.0.0.1:9/dead' }));
    for (let n = 1; n <= 50; n++) dead.delivery.enqueue(event(n, n % 2 ? 'odd' : 'even'));
    // enqueue() returned 50 times without one network round trip: all of it is queued already.
    expect(dead.delivery.pending).toBe(50);
    await until(() => dead.counts.attempts.includes('network'), 'a refused connection');
    expect(dead.counts.delivered).toBe(0);
    dead.delivery.close();

    const seen: string[] = [];
    handler = (req, res, body) => {
      verifyWebhook({ body, header: req.headers['huizhen-signature'], secret });
      seen.push((JSON.parse(body) as { id: string }).id);
      res.end();
    };
    // The same queue folder, the endpoint now reachable: a restart.
    const live = makeDelivery(endpoint('/ok'), dead.dir);
    expect(live.delivery.pending).toBe(50);
    await until(() => live.counts.delivered === 50, '50 deliveries after the restart');
    for (const room of ['odd', 'even']) {
      const mine = seen.filter((id) => id.startsWith(`${room}-`)).map((id) => Number(id.split('-')[1]));
      expect(mine).toEqual([...mine].sort((a, b) => a - b));
      expect(mine).toHaveLength(25);
    }
    live.delivery.close();
    expect(WebhookJournal.open(dead.dir).size).toBe(0);
  });
});
