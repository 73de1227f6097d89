/**
 * Data channels in real Chromium: a doctor, a patient and an interpreter in
 * one consult (three browser contexts on the demo, each using `room.data` of
 * the SDK bundle). Messages on reliable and unreliable channels arrive with
 * the sender the server names; a reserved topic and an oversized message are
 * refused with typed errors; a flood from the interpreter is rate-limited
 * (the interpreter is told, the others get only what the limit lets through)
 * while the doctor and the patient keep decoding each other's video and the
 * signaling stays responsive.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  demoState,
  describePage,
  joinViaUi,
  launchChromium,
  openDemo,
  reportFailure,
  submitJoinForm,
  waitInCall,
  type Chromium,
  type DemoPage,
} from './helpers/browser.js';
import { untilDecoding } from './helpers/probes.js';
import { startServer, type HuizhenServer } from './helpers/server.js';
import { sleep, waitFor } from './helpers/wait.js';

/**
 * Frames `viewer` decoded of `identity`'s camera during `ms`, counted by the
 * decoder (getVideoPlaybackQuality), which also counts in a background page.
 */
async function decodedDuring(viewer: DemoPage, identity: string, ms: number): Promise<number> {
  const read = () =>
    viewer.page.evaluate((id) => {
      const video = document.querySelector<HTMLVideoElement>(
        `[data-testid="tile"][data-identity="${CSS.escape(id)}"] video`,
      );
      return video ? video.getVideoPlaybackQuality().totalVideoFrames : -1;
    }, identity);
  const before = await read();
  await sleep(ms);
  const after = await read();
  if (before < 0 || after < 0) throw new Error(`${viewer.label}: no video tile for ${identity}`);
  return after - before;
}

const RATE_PER_SEC = 20;
const BURST = 40;
const MAX_BYTES = 4096;

/** What a page saw on room.data, collected in the page. */
interface Seen {
  topic: string;
  from: string;
  role: string;
  name: string;
  participant: string | null;
  reliable: boolean;
  payload: string | number[];
}

/** The parts of the SDK's Room the test drives inside the pages. */
interface PageRoom {
  data: {
    publish(topic: string, payload: unknown, options?: { reliable?: boolean }): Promise<void>;
    maxMessageBytes: number | undefined;
  };
  on(event: string, listener: (...args: never[]) => void): void;
  admit(identity: string): Promise<void>;
  sendChat(text: string): Promise<unknown>;
}

describe('data channels between three browsers', () => {
  let server: HuizhenServer | undefined;
  let chromium: Chromium | undefined;
  let doctor: DemoPage;
  let patient: DemoPage;
  let interpreter: DemoPage;
  const pages: DemoPage[] = [];
  const room = `e2e-data-${Date.now().toString(36)}`;

  beforeAll(async () => {
    server = await startServer({
      config: { data: { rateLimitPerSec: RATE_PER_SEC, rateLimitBurst: BURST, maxMessageBytes: MAX_BYTES } },
    });
    chromium = await launchChromium();
    doctor = await openDemo(chromium, server.url, 'doctor');
    patient = await openDemo(chromium, server.url, 'patient');
    interpreter = await openDemo(chromium, server.url, 'interpreter');
    pages.push(doctor, patient, interpreter);

    await joinViaUi(doctor, { name: 'Dr Zhang Wei', role: 'doctor', room, kind: 'consult', mic: false });
    // The patient waits in the consult's lobby until the doctor lets them in.
    await submitJoinForm(patient, { name: 'Li Na', role: 'patient', room, mic: false });
    const patientId = await waitInCall(patient, { admission: 'waiting', what: 'wait in the lobby' });
    await doctor.page.evaluate((id) => (window.huizhen!.room as PageRoom).admit(id).then(() => undefined), patientId);
    await waitInCall(patient, { camera: true, mic: false, what: 'be admitted' });
    await joinViaUi(interpreter, { name: 'Wang Fang', role: 'interpreter', room, camera: false, mic: false });

    for (const p of pages) {
      await p.page.evaluate(() => {
        const w = window as unknown as { __hzData: unknown[]; __hzRefused: unknown[] };
        w.__hzData = [];
        w.__hzRefused = [];
        const r = window.huizhen!.room as PageRoom;
        r.on('dataReceived', ((
          payload: string | Uint8Array,
          participant: { identity: string } | undefined,
          topic: string,
          m: { from: { identity: string; role: string; name: string }; reliable: boolean },
        ) => {
          w.__hzData.push({
            topic,
            from: m.from.identity,
            role: m.from.role,
            name: m.from.name,
            participant: participant?.identity ?? null,
            reliable: m.reliable,
            payload: typeof payload === 'string' ? payload : Array.from(payload),
          });
        }) as never);
        r.on('dataRefused', ((topic: string, error: { code: string }) =>
          w.__hzRefused.push({ topic, code: error.code })) as never);
      });
    }
    await untilDecoding(doctor, { label: 'patient', identity: patient.identity });
    await untilDecoding(patient, { label: 'doctor', identity: doctor.identity });
  });

  afterEach(async (ctx) => {
    if (ctx.task.result?.state === 'fail') await reportFailure(pages, server);
  });

  afterAll(async () => {
    await chromium?.close();
    await server?.stop();
  });

  const seen = (p: DemoPage) =>
    p.page.evaluate(() => (window as unknown as { __hzData: Seen[] }).__hzData) as Promise<Seen[]>;
  const refusedOn = (p: DemoPage) =>
    p.page.evaluate(() => (window as unknown as { __hzRefused: { topic: string; code: string }[] }).__hzRefused);
  /** Publishes from the page; resolves with 'ok' or the typed error's code. */
  const publish = (p: DemoPage, topic: string, payload: unknown, reliable = true, binary = false) =>
    p.page.evaluate(
      (topic, payload, reliable, binary) =>
        (window.huizhen!.room as PageRoom).data
          .publish(topic, binary ? new Uint8Array(payload as number[]) : payload, { reliable })
          .then(
            () => 'ok',
            (e: { code?: string; message?: string }) => e.code ?? String(e.message),
          ),
      topic,
      payload as never,
      reliable,
      binary,
    );

  it('delivers reliable and unreliable messages with the sender the server names', async () => {
    expect(await publish(doctor, 'app.notes', 'Please hold the cuff still.')).toBe('ok');
    expect(await publish(interpreter, 'app.captions', [72, 105], true, true)).toBe('ok');
    // Unreliable: a few tries, as an app streaming positions would send.
    for (let i = 0; i < 5; i++) expect(await publish(patient, 'app.cursor', { x: 0.25, y: 0.5, i }, false)).toBe('ok');

    const fromOthers = async (p: DemoPage, topics: string[]) =>
      waitFor(
        `${p.label} to receive ${topics.join(', ')}`,
        async () => {
          const got = await seen(p);
          return topics.every((t) => got.some((m) => m.topic === t)) ? got : undefined;
        },
        { timeoutMs: 20_000, describe: async () => JSON.stringify(await seen(p)) },
      );
    const atDoctor = await fromOthers(doctor, ['app.captions', 'app.cursor']);
    const atPatient = await fromOthers(patient, ['app.notes', 'app.captions']);
    const atInterpreter = await fromOthers(interpreter, ['app.notes', 'app.cursor']);

    const note = {
      topic: 'app.notes',
      from: doctor.identity,
      role: 'doctor',
      name: 'Dr Zhang Wei',
      participant: doctor.identity,
      reliable: true,
      payload: 'Please hold the cuff still.',
    };
    const caption = {
      topic: 'app.captions',
      from: interpreter.identity,
      role: 'interpreter',
      name: 'Wang Fang',
      participant: interpreter.identity,
      reliable: true,
      payload: [72, 105],
    };
    const cursor = (m: Seen | undefined) => m && { ...m, payload: JSON.parse(m.payload as string) as unknown };
    expect(atPatient.find((m) => m.topic === 'app.notes')).toEqual(note);
    expect(atInterpreter.find((m) => m.topic === 'app.notes')).toEqual(note);
    expect(atDoctor.find((m) => m.topic === 'app.captions')).toEqual(caption);
    expect(atPatient.find((m) => m.topic === 'app.captions')).toEqual(caption);
    expect(cursor(atDoctor.find((m) => m.topic === 'app.cursor'))).toMatchObject({
      from: patient.identity,
      role: 'patient',
      name: 'Li Na',
      participant: patient.identity,
      reliable: false,
      payload: { x: 0.25, y: 0.5 },
    });
    // Nobody receives their own messages.
    expect(atDoctor.some((m) => m.from === doctor.identity)).toBe(false);
    expect(atPatient.some((m) => m.from === patient.identity)).toBe(false);
  });

  it('refuses a reserved topic and an oversized message with typed errors', async () => {
    // `vitals` is no longer a bare reserved name: rooms register its policy (patients publish, clinicians
    // receive; e2e/vitals.e2e.test.ts covers who gets what). The `huizhen.` namespace stays closed to apps.
    expect(await publish(patient, 'huizhen.internal', 'x')).toBe('PERMISSION_DENIED');
    expect(await publish(patient, 'Not A Topic', 'x')).toBe('INVALID_REQUEST');
    expect(await patient.page.evaluate(() => (window.huizhen!.room as PageRoom).data.maxMessageBytes)).toBe(MAX_BYTES);
    expect(await publish(patient, 'app.notes', 'x'.repeat(MAX_BYTES + 1))).toBe('MESSAGE_TOO_LARGE');
    expect(await publish(patient, 'app.notes', 'x'.repeat(MAX_BYTES))).toBe('ok');
    await waitFor('the largest allowed message to arrive', async () =>
      (await seen(doctor)).some((m) => m.payload === 'x'.repeat(MAX_BYTES)) ? true : undefined,
    );
  });

  it("rate-limits a flood from one page while the others' video keeps decoding", async () => {
    const floodMessages = 3000;
    // How fast each side decodes the other on this (shared, loaded) machine without a flood.
    const [doctorBaseline, patientBaseline] = await Promise.all([
      decodedDuring(doctor, patient.identity, 3000),
      decodedDuring(patient, doctor.identity, 3000),
    ]);
    const before = (await seen(doctor)).length;
    // The flood runs inside the interpreter's page, as fast as the SDK lets it.
    const flood = interpreter.page.evaluate(async (n) => {
      const r = window.huizhen!.room as PageRoom;
      const codes: Record<string, number> = {};
      const started = performance.now();
      for (let i = 0; i < n; i++) {
        const code = await r.data.publish('app.flood', `flood ${i}`, { reliable: false }).then(
          () => 'ok',
          (e: { code?: string }) => e.code ?? 'error',
        );
        codes[code] = (codes[code] ?? 0) + 1;
      }
      return { codes, ms: performance.now() - started };
    }, floodMessages);
    // Meanwhile: video on both other pages, and a signaling round trip.
    const [doctorFrames, patientFrames, chatAnswered] = await Promise.all([
      decodedDuring(doctor, patient.identity, 3000),
      decodedDuring(patient, doctor.identity, 3000),
      (async () => {
        const t0 = Date.now();
        await doctor.page.evaluate(() => (window.huizhen!.room as PageRoom).sendChat('BP looks fine.'));
        return Date.now() - t0;
      })(),
    ]);
    const result = await flood;

    // The SDK handed the whole flood to the data channel; the server refused most of it.
    expect(result.codes.ok).toBeGreaterThan(floodMessages / 2);
    const floodAt = async (p: DemoPage) =>
      (await seen(p)).slice(p === doctor ? before : 0).filter((m) => m.topic === 'app.flood');
    await waitFor('the interpreter to be told it is rate-limited', async () =>
      (await refusedOn(interpreter)).some((r) => r.code === 'RATE_LIMITED') ? true : undefined,
    );
    const floodSeconds = result.ms / 1000 + 2;
    const allowed = BURST + RATE_PER_SEC * floodSeconds;
    const atDoctor = await floodAt(doctor);
    expect(atDoctor.length).toBeGreaterThan(0);
    expect(atDoctor.length).toBeLessThanOrEqual(allowed);
    expect(atDoctor.every((m) => m.from === interpreter.identity && m.role === 'interpreter')).toBe(true);
    // Told once per second at most, not once per refused message.
    const notices = (await refusedOn(interpreter)).filter((r) => r.topic === 'app.flood');
    expect(notices.length).toBeLessThanOrEqual(Math.ceil(floodSeconds) + 2);

    // Media and signaling were not held up: video keeps decoding at a good part of its usual rate
    // (the flooding page itself takes CPU from the same browser, so not all of it).
    const decoded = { doctorBaseline, doctorFrames, patientBaseline, patientFrames };
    expect(doctorBaseline, JSON.stringify(decoded)).toBeGreaterThan(5);
    expect(patientBaseline, JSON.stringify(decoded)).toBeGreaterThan(5);
    expect(doctorFrames, JSON.stringify(decoded)).toBeGreaterThanOrEqual(Math.max(3, doctorBaseline * 0.3));
    expect(patientFrames, JSON.stringify(decoded)).toBeGreaterThanOrEqual(Math.max(3, patientBaseline * 0.3));
    expect(chatAnswered).toBeLessThan(5000);
    await waitFor('the chat to reach the patient', async () =>
      (await demoState(patient))?.chat.some((c) => c.text === 'BP looks fine.') ? true : undefined,
    );

    // Counted on the server.
    const metrics = await (await fetch(`${server!.url}/metrics`)).text();
    const limited = /huizhen_data_messages_total\{outcome="RATE_LIMITED"\} (\d+)/.exec(metrics);
    // Every refused message is counted, those dropped in the media worker during the flood too.
    expect(Number(limited?.[1] ?? 0)).toBeGreaterThan((result.codes.ok ?? 0) / 2 - allowed);

    // Once the flood stops, the interpreter is heard again.
    await waitFor(
      "the interpreter's next message to get through",
      async () => {
        await publish(interpreter, 'app.captions', 'after the flood');
        return (await seen(doctor)).some((m) => m.payload === 'after the flood') ? true : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 1000, describe: () => describePage(interpreter) },
    );
  });
});
