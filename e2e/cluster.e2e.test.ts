/**
 * A room spanning two nodes of a cluster (real redis-server, two real Huizhen
 * processes with their own mediasoup workers, real Chromium): the doctor
 * connects to node a (the room's home), the specialist to node b. Each one's
 * media terminates at their own node, the tracks cross between the nodes'
 * routers over pipe transports, and each decodes the other's video and hears
 * the other's audio. Workflow requests made on b (chat) run at the home and
 * reach a, and the other way round; data channels (app messages, a patient's
 * vitals) cross the pipes into the home's data relay and back out.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { TestRedis } from '../server/src/testing/redisServer.js';
import {
  answerDialog,
  clickInTile,
  demoEvents,
  demoState,
  describePage,
  openDemo,
  openTab,
  submitJoinForm,
  waitInCall,
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

/** What a clinician's page received on its data channels. */
interface Received {
  topic: string;
  from: string;
  text: string;
}
/** The parts of the SDK's Room the data test uses inside the pages. */
interface DataRoom {
  on(event: string, listener: (...args: never[]) => void): void;
  data: { publish(topic: string, payload: string, options: { reliable: boolean }): Promise<void> };
  vitals: { history(identity: string, type: string): readonly unknown[] };
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

  it("carries data channels across the nodes: app messages both ways, and a patient's vitals from b to clinicians on a and b", async () => {
    // Each clinician's page keeps what its data channels delivered.
    for (const demo of [doctor, specialist])
      await demo.page.evaluate(() => {
        const got: Received[] = [];
        (window as unknown as { __data: Received[] }).__data = got;
        (window.huizhen!.room as DataRoom).on('dataReceived', ((
          payload: unknown,
          _participant: unknown,
          topic: string,
          m: { from: { identity: string } },
        ) => got.push({ topic, from: m.from.identity, text: typeof payload === 'string' ? payload : '' })) as never);
      });
    const publish = (demo: DemoPage, text: string) =>
      demo.page.evaluate(
        (t) => (window.huizhen!.room as DataRoom).data.publish('app.notes', t, { reliable: true }),
        text,
      );
    const received = (demo: DemoPage, from: string, text: string) =>
      waitFor(
        `${demo.label} to receive "${text}" from ${from}`,
        async () =>
          (await demo.page.evaluate(() => (window as unknown as { __data: Received[] }).__data)).find(
            (m) => m.from === from && m.text === text,
          ),
        { timeoutMs: 15_000, describe: () => describePage(demo) },
      );
    // a → b: the doctor's message leaves a's relay down the pipe to b; b → a: up the pipe into a's relay.
    await publish(doctor, 'Vitals look stable on my side.');
    await received(specialist, doctor.identity, 'Vitals look stable on my side.');
    await publish(specialist, 'Agreed; continue monitoring.');
    await received(doctor, specialist.identity, 'Agreed; continue monitoring.');

    // A patient on b: their monitor's samples cross to the home's vitals policy and come back to b too.
    const patient = await openDemo(call.chromium, b.url, 'patient on b');
    try {
      await submitJoinForm(patient, { name: 'Wang Fang', role: 'patient', room, camera: false, mic: false });
      await waitInCall(patient, { admission: 'waiting', camera: false, mic: false, what: 'wait in the lobby on b' });
      const patientId = (await demoState(patient))!.identity;
      await doctor.page.evaluate(
        (id) => (window.huizhen!.room as { admit(i: string): Promise<void> }).admit(id),
        patientId,
      );
      await waitInCall(patient, { camera: false, mic: false, what: 'be admitted on b' });
      await (await patient.page.waitForSelector('[data-testid="tab-vitals"]', { visible: true }))!.click();
      await patient.page.click('[data-testid="vitals-connect-simulated"]');
      for (const clinician of [doctor, specialist]) {
        const seen = await waitFor(
          `${clinician.label} to receive the patient's heart rate`,
          async () => {
            const n = await clinician.page.evaluate(
              (id) => (window.huizhen!.room as DataRoom).vitals.history(id, 'heartRate').length,
              patientId,
            );
            return n >= 3 ? n : undefined;
          },
          { timeoutMs: 20_000, describe: () => describePage(clinician) },
        );
        expect(seen).toBeGreaterThanOrEqual(3);
      }
      // The home stored them (it is where the vitals policy runs), for the consult's record.
      const bundle = (await (
        await fetch(`${a.url}/api/rooms/${encodeURIComponent(room)}/vitals`, {
          headers: {
            authorization: `Bearer ${await devToken(a, { identity: doctor.identity, role: 'doctor', room, name: 'Dr Zhang Wei' })}`,
          },
        })
      ).json()) as { resourceType: string; entry?: unknown[] };
      expect(bundle.resourceType).toBe('Bundle');
      expect(bundle.entry?.length ?? 0).toBeGreaterThan(0);
    } finally {
      await patient.page
        .evaluate(() => (window.huizhen!.room as { disconnect(): Promise<void> }).disconnect())
        .catch(() => undefined);
      await patient.page.close();
    }
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
