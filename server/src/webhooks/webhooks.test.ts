/**
 * The chain inside one real Huizhen node: signaling actions → audit entries →
 * webhook bodies at a real HTTP receiver, signed, in order, with nothing in
 * them that the audit trail may not hold, and counted on /metrics.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../testing/testServer.js';
import { verifyWebhook } from './signature.js';
import type { WebhookEvent } from './webhookEvent.js';

const SECRET = 'in-process-webhook-secret-42';
let receiver: Server;
const received: { event: WebhookEvent; raw: string; signature: string }[] = [];
let t: TestServer;

beforeAll(async () => {
  receiver = createServer((req, res) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (raw += c));
    req.on('end', () => {
      received.push({
        event: JSON.parse(raw) as WebhookEvent,
        raw,
        signature: String(req.headers['huizhen-signature']),
      });
      res.statusCode = 200;
      res.end('ok');
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const port = (receiver.address() as AddressInfo).port;
  const secretFile = join(mkdtempSync(join(tmpdir(), 'huizhen-wh-secret-')), 'webhook.secret');
  writeFileSync(secretFile, SECRET + '\n', { mode: 0o600 });
  t = await startTestServer({
    webhooks: [
      { id: 'his', url: `http://127.0.0.1:${port}/hook`, secretFile },
      // A filtered endpoint that is never reachable: it must not hold up the other one or the room.
      {
        id: 'billing',
        url: 'http://127.0.0.1:9/dead',
        secretFile,
        events: ['room.started', 'room.ended'],
      },
    ],
  });
});

afterAll(async () => {
  await t?.close();
  await new Promise<void>((r) => receiver.close(() => r()));
});

async function until(check: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('webhooks from a consult', () => {
  it('sends each audited step of the consult, signed and in order, without clinical contents', async () => {
    const room = 'wh-consult-1';
    const doctorToken = t.token('dr-wh', 'doctor', room);
    const patientToken = t.token('pt-wh', 'patient', room);
    const doctor = await t.connect();
    await doctor.join(doctorToken);
    const patient = await t.connect();
    await patient.join(patientToken);
    await doctor.request('admit', { identity: 'pt-wh' });
    await patient.notification('admitted');
    await patient.request('sendChat', { text: 'my chest hurts since tuesday' });
    await doctor.request('setOpinion', { text: 'suspected angina; refer to cardiology' });
    await doctor.request('endRoom', {});

    const expected = [
      ['participant.joined', 'dr-wh'],
      ['lobby.waiting', 'pt-wh'],
      ['lobby.admitted', 'dr-wh'],
      ['participant.joined', 'pt-wh'],
      ['room.started', undefined],
      ['opinion.written', 'dr-wh'],
      ['room.ended', 'dr-wh'],
    ];
    await until(() => received.some((r) => r.event.type === 'room.ended'), 'room.ended');
    const mine = received.filter((r) => r.event.room === room);
    expect(mine.map((r) => [r.event.type, r.event.actor?.identity])).toEqual(expected);
    expect(new Set(mine.map((r) => r.event.id)).size).toBe(mine.length);
    for (const r of mine) {
      expect(() => verifyWebhook({ body: r.raw, header: r.signature, secret: SECRET })).not.toThrow();
      expect(r.event.time).toMatch(/^\d{4}-\d\d-\d\dT/);
      for (const secretText of [doctorToken, patientToken, 'chest hurts', 'angina', SECRET])
        expect(r.raw).not.toContain(secretText);
    }
    expect(mine[2]!.event).toMatchObject({ target: 'pt-wh', actor: { role: 'doctor', issuer: 'huizhen-test' } });
    expect(mine[5]!.event.data).toMatchObject({ version: 1 });

    const metrics = await (await fetch(`${t.url}/metrics`)).text();
    expect(metrics).toMatch(/huizhen_webhook_delivered_total\{endpoint="his"\} [1-9]/);
    // The unreachable endpoint still holds its two filtered events.
    expect(metrics).toMatch(/huizhen_webhook_pending\{endpoint="billing"\} 2/);
    expect(metrics).not.toContain(SECRET);
  });
});
