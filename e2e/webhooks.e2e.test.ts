/**
 * Nothing lost: a hospital system's endpoint receives every webhook of two
 * consults exactly once after de-duplication by id, in order per room, with
 * every signature verified — although it is down for 20 s, refuses some
 * deliveries, and the Huizhen process is stopped (SIGTERM) and killed
 * (SIGKILL right after an event was queued) and restarted in between.
 * The truth it is checked against is the server's own audit trail.
 */
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ProtocolClient } from '../server/src/client/ProtocolClient.js';
import type { AuditEntry } from '../server/src/audit/AuditLog.js';
import { WEBHOOK_TYPE_OF } from '../server/src/webhooks/webhookTypes.js';
import { devToken, freePort, startServer, type HuizhenServer } from './helpers/server.js';
import { WebhookReceiver } from './helpers/webhookReceiver.js';

const SECRET = 'e2e-webhook-secret-0123456789';
const DOWN_FOR_MS = 20_000;

let scratch: string | undefined;
let current: HuizhenServer | undefined;
const clients: ProtocolClient[] = [];
let receiver: WebhookReceiver | undefined;

afterAll(async () => {
  for (const c of clients) c.close();
  await current?.stop();
  await receiver?.stop();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${current?.tail(20) ?? ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function pendingOnServer(server: HuizhenServer): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const match = /^huizhen_webhook_pending\{endpoint="his"\} (\d+)$/m.exec(text);
  if (!match) throw new Error(`no pending gauge on /metrics`);
  return Number(match[1]);
}

/** One participant over signaling, as a browser's SDK would speak it. */
async function joinAs(
  server: HuizhenServer,
  who: { identity: string; role: string; room: string },
): Promise<{ client: ProtocolClient; admission: string }> {
  const token = await devToken(server, { ...who, name: who.identity });
  const client = await ProtocolClient.connect(`${server.url.replace(/^http/, 'ws')}/ws`, { keepLog: true });
  clients.push(client);
  const joined = (await client.join(token)) as { admission: string };
  return { client, admission: joined.admission };
}

/** The webhooks the audit trail says must exist, per room, as (type, actor, target). */
async function expectedFromAudit(dir: string): Promise<Map<string, string[]>> {
  const files = (await readdir(dir))
    .filter((f) => f.endsWith('.jsonl'))
    .sort((a, b) => (a === 'audit.jsonl' ? 1 : b === 'audit.jsonl' ? -1 : a.localeCompare(b)));
  const perRoom = new Map<string, string[]>();
  for (const file of files) {
    for (const line of (await readFile(path.join(dir, file), 'utf8')).split('\n')) {
      if (!line) continue;
      const entry = JSON.parse(line) as AuditEntry;
      const type = WEBHOOK_TYPE_OF[entry.event];
      if (!type || entry.room === undefined) continue;
      const list = perRoom.get(entry.room) ?? [];
      list.push(`${type} ${entry.actor?.identity ?? '-'} ${entry.target ?? '-'}`);
      perRoom.set(entry.room, list);
    }
  }
  return perRoom;
}

describe('webhooks survive a dead endpoint and restarts of Huizhen', () => {
  it('delivers every event exactly once after de-duplication, in order per room', async () => {
    scratch = await mkdtemp(path.join(os.tmpdir(), 'huizhen-e2e-webhooks-'));
    receiver = new WebhookReceiver({ port: await freePort(), secret: SECRET, failFirstOfEvery: 5 });
    await receiver.start();
    const start = () =>
      startServer({
        scratch,
        env: { HUIZHEN_E2E_WEBHOOK_SECRET: SECRET },
        config: {
          webhooks: [
            {
              id: 'his',
              url: receiver!.url,
              secretEnv: 'HUIZHEN_E2E_WEBHOOK_SECRET',
              // Small backoff caps keep the suite fast; the schedule itself is unit-tested.
              initialBackoffMs: 200,
              maxBackoffMs: 2000,
              timeoutMs: 3000,
            },
          ],
        },
      });
    const got = (type: string, room: string) => () =>
      receiver!.unique().some((r) => r.type === type && r.room === room);

    // 1. Room A starts while the endpoint is up.
    current = await start();
    const drA = await joinAs(current, { identity: 'dr-a', role: 'doctor', room: 'wh-a' });
    expect((await joinAs(current, { identity: 'pt-a', role: 'patient', room: 'wh-a' })).admission).toBe('waiting');
    await drA.client.request('admit', { identity: 'pt-a' });
    await until(got('room.started', 'wh-a'), 'room.started of wh-a');

    // 2. The endpoint goes down; room B starts and room A gets an opinion meanwhile.
    await receiver.stop();
    const downSince = Date.now();
    const drB = await joinAs(current, { identity: 'dr-b', role: 'doctor', room: 'wh-b' });
    const ptB = await joinAs(current, { identity: 'pt-b', role: 'patient', room: 'wh-b' });
    await drB.client.request('admit', { identity: 'pt-b' });
    await drA.client.request('setOpinion', { text: 'first impression: stable' });
    await ptB.client.request('leave', {});
    const queuedBeforeStop = await pendingOnServer(current);
    expect(queuedBeforeStop).toBeGreaterThanOrEqual(5);

    // 3. SIGTERM, and a new process on the same data: the queue is read back from disk.
    await current.stop();
    current = await start();
    expect(await pendingOnServer(current)).toBeGreaterThanOrEqual(queuedBeforeStop);
    const drB2 = await joinAs(current, { identity: 'dr-b', role: 'doctor', room: 'wh-b' });
    expect((await joinAs(current, { identity: 'fam-b', role: 'family', room: 'wh-b' })).admission).toBe('waiting');
    await drB2.client.request('deny', { identity: 'fam-b' });
    await joinAs(current, { identity: 'dr-a', role: 'doctor', room: 'wh-a' });
    const spA = await joinAs(current, { identity: 'sp-a', role: 'specialist', room: 'wh-a' });
    await spA.client.request('setOpinion', { text: 'second look: refer to cardiology' });
    // 4. kill -9 right after that opinion's entry was written: no shutdown, no flush.
    await current.kill();

    // 5. A third process; the endpoint comes back after its 20 s outage; both consults end.
    current = await start();
    const drA3 = await joinAs(current, { identity: 'dr-a', role: 'doctor', room: 'wh-a' });
    const drB3 = await joinAs(current, { identity: 'dr-b', role: 'doctor', room: 'wh-b' });
    await until(() => Date.now() - downSince >= DOWN_FOR_MS, 'the 20 s outage', DOWN_FOR_MS + 5000);
    expect(receiver.unique().filter((r) => r.room === 'wh-b')).toEqual([]);
    await receiver.start();
    await drA3.client.request('endRoom', {});
    await drB3.client.request('endRoom', {});

    await until(got('room.ended', 'wh-a'), 'room.ended of wh-a', 90_000);
    await until(got('room.ended', 'wh-b'), 'room.ended of wh-b', 90_000);
    const server = current;
    await until(async () => (await pendingOnServer(server)) === 0, 'an empty queue', 90_000);

    // Every signature verified, every audited event arrived once (after de-duplication), in order per room.
    expect(receiver.refused).toEqual([]);
    expect(receiver.failedOnPurpose).toBeGreaterThan(0);
    const expected = await expectedFromAudit(path.join(scratch, 'audit'));
    expect([...expected.keys()].sort()).toEqual(['wh-a', 'wh-b']);
    const unique = receiver.unique();
    for (const [room, list] of expected) {
      const arrived = unique
        .filter((r) => r.room === room)
        .map((r) => `${r.type} ${r.actor?.identity ?? '-'} ${r.target ?? '-'}`);
      expect(arrived).toEqual(list);
    }
    expect(unique).toHaveLength([...expected.values()].reduce((n, l) => n + l.length, 0));
    for (const type of [
      'room.started',
      'participant.joined',
      'participant.left',
      'lobby.waiting',
      'lobby.admitted',
      'lobby.denied',
      'opinion.written',
      'room.ended',
    ])
      expect(unique.some((r) => r.type === type)).toBe(true);
    for (const r of receiver.received) {
      expect(r.raw).not.toContain('cardiology');
      expect(r.raw).not.toContain('stable');
    }
  });
});
