/**
 * A room spanning two nodes of a cluster (real redis-server, two real Huizhen
 * processes with their own mediasoup workers, real Chromium): the doctor
 * connects to node a (the room's home), the specialist to node b. Each one's
 * media terminates at their own node, the tracks cross between the nodes'
 * routers over pipe transports, and each decodes the other's video and hears
 * the other's audio. Workflow requests made on b (chat) run at the home and
 * reach a, and the other way round.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { TestRedis } from '../server/src/testing/redisServer.js';
import {
  answerDialog,
  clickInTile,
  demoEvents,
  demoState,
  describePage,
  openTab,
  type DemoPage,
} from './helpers/browser.js';
import { ErrorCode, PROTOCOL_VERSION } from '@huizhen/protocol';
import { ProtocolClient } from '../server/src/client/ProtocolClient.js';
import { MIN_LIVE_FRAMES, SILENCE_RMS, decodesAnew, seesAndHears } from './helpers/mediaFlow.js';
import { audioDuring, framesDuring, untilDecoding } from './helpers/probes.js';
import { gauge, startTwoNodeCall, type TwoNodeCall } from './helpers/cluster.js';
import { devToken, type HuizhenServer } from './helpers/server.js';
import { waitFor } from './helpers/wait.js';

/** Sends a chat message through the demo's chat tab. */
async function sendChat(demo: DemoPage, text: string): Promise<void> {
  await openTab(demo, 'chat');
  await demo.page.type('[data-testid="chat-input"]', text);
  await demo.page.click('[data-testid="chat-send"]');
}

async function hasChat(demo: DemoPage, text: string): Promise<true | undefined> {
  return (await demoState(demo))?.chat.some((m) => m.text === text) || undefined;
}

describe('a consult spanning two nodes', () => {
  let call: TwoNodeCall;
  let redis: TestRedis;
  let a: HuizhenServer;
  let b: HuizhenServer;
  let doctor: DemoPage;
  let specialist: DemoPage;
  const room = `e2e-cluster-${Date.now().toString(36)}`;

  beforeAll(async () => {
    call = await startTwoNodeCall(room);
    ({ redis, a, b, doctor, specialist } = call);
  }, 90_000);

  afterEach(async (ctx) => {
    if (ctx.task.result?.state === 'fail') await call?.report();
  });

  afterAll(async () => {
    await call?.close();
  });

  it('each decodes the other across the nodes', async () => {
    await seesAndHears(specialist, doctor, 'doctor on a, specialist on b');
    await seesAndHears(doctor, specialist, 'specialist on b, doctor on a');
  });

  it("terminates each one's media at their own node, with pipes between the routers", async () => {
    expect(await gauge(a!, 'huizhen_cluster_remote_participants')).toBe(1);
    expect(await gauge(b!, 'huizhen_cluster_edge_participants')).toBe(1);
    expect(await gauge(a!, 'huizhen_cluster_edge_participants')).toBe(0);
    // One pipe transport pair per direction: a → b carries the doctor's tracks, b → a the specialist's.
    expect(await gauge(a!, 'huizhen_cluster_pipe_transports')).toBe(2);
    expect(await gauge(b!, 'huizhen_cluster_pipe_transports')).toBe(2);
    // Node b's router has the specialist's WebRTC transports; the home (a) has only the doctor's.
    expect(await gauge(b!, 'huizhen_cluster_edge_rooms')).toBe(1);
  });

  it("shows the doctor the specialist's connection quality, measured at b where the specialist's media is", async () => {
    const seen = await waitFor("the specialist's quality on the doctor's page", async () => {
      const s = await demoState(doctor);
      return s?.quality[specialist.identity];
    });
    expect(['excellent', 'good']).toContain(seen.quality);
  });

  it('runs workflow requests made on b at the home, and tells b what happens there', async () => {
    await sendChat(specialist, 'Seen the CT: no embolism.');
    await waitFor('the doctor on a to get the chat from b', () => hasChat(doctor, 'Seen the CT: no embolism.'));
    await sendChat(doctor, 'Thank you, professor.');
    await waitFor('the specialist on b to get the chat from a', () => hasChat(specialist, 'Thank you, professor.'));
  });

  it("lets the host on a mute the specialist's microphone on b", async () => {
    await clickInTile(doctor, specialist.identity, '[data-testid="tile-mute"]');
    await answerDialog(doctor, 'mute-dialog', { allowUnmute: false });
    await waitFor(
      "the specialist's audio to fall silent on the doctor's page",
      async () => {
        const sample = await audioDuring(doctor, specialist.identity, 1_000);
        return sample.peakRms < SILENCE_RMS ? sample : undefined;
      },
      { timeoutMs: 10_000, intervalMs: 0, describe: () => audioDuring(doctor, specialist.identity, 1_000) },
    );
    const told = await waitFor(
      'the specialist on b to be told',
      async () => {
        const s = await demoState(specialist);
        return s?.mutedByHost ? s : undefined;
      },
      { describe: () => describePage(specialist) },
    );
    expect(told).toMatchObject({ mic: false, mutedByHost: { allowUnmute: false } });
  });

  it('keeps the call going while Redis is away for 10 s; a new room waits for it, and opens once it is back', async () => {
    await redis!.stop();
    const stoppedAt = Date.now();
    // A new room needs the directory: refused at once, typed.
    const client = await ProtocolClient.connect(`ws://127.0.0.1:${b!.port}/ws`);
    try {
      const token = await devToken(b!, { identity: 'dr-new', name: 'Dr New', role: 'doctor', room: `${room}-new` });
      const refused = await client.call('join', { protocolVersion: PROTOCOL_VERSION, token });
      expect(refused.ok ? null : refused.error.code).toBe(ErrorCode.CLUSTER_UNAVAILABLE);
      // The media between the nodes does not need Redis: both keep decoding all along.
      while (Date.now() - stoppedAt < 10_000) {
        for (const [viewer, other] of [
          [doctor, specialist],
          [specialist, doctor],
        ] as const)
          expect((await framesDuring(viewer, other.identity, 1_000)).probe).toBeGreaterThanOrEqual(MIN_LIVE_FRAMES / 2);
      }
      await redis!.start();
      // Back: the nodes register again and a new participant joins normally.
      await waitFor('a join of a new room after Redis returned', async () => {
        const again = await client.call('join', { protocolVersion: PROTOCOL_VERSION, token });
        return again.ok || undefined;
      });
    } finally {
      client.close();
    }
    // (The specialist's microphone is still muted by the host: the picture says the call goes on.)
    await untilDecoding(doctor, specialist, 30_000);
    await untilDecoding(specialist, doctor, 30_000);
  });

  it('brings the specialist back through a when b dies, as the same session', async () => {
    const before = (await demoEvents(doctor)).length;
    const killedAt = Date.now();
    await b!.kill();
    // The specialist's SDK resumes through the other node its join response named; their media starts over on a.
    await decodesAnew(doctor, specialist, before);
    const backAfterMs = Date.now() - killedAt;
    console.log(`the specialist's video decoded again on the doctor's page ${backAfterMs} ms after kill -9 of node b`);
    await waitFor('the specialist to be in the call again', async () => {
      const s = await demoState(specialist);
      return s?.phase === 'in-call' && s.connectionState === 'connected' ? s : undefined;
    });
    const seen = (await demoEvents(doctor)).slice(before).filter((e) => e.identity === specialist.identity);
    expect(seen.map((e) => e.type)).toContain('participantReconnecting');
    expect(seen.map((e) => e.type)).not.toContain('participantLeft');
    expect(await gauge(a!, 'huizhen_cluster_remote_participants')).toBe(0);
    expect(backAfterMs).toBeLessThan(5_000);
  });
});
