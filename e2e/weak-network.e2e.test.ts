/**
 * A patient on a weak mobile link, for real: the patient's Chromium runs in a
 * network namespace of its own behind a veth whose both directions are rate
 * limited with `tc … tbf` (96, then 64 kbit/s), the doctor's Chromium on the
 * host's good line. The patient must get in and publish without being dropped,
 * the two must hear each other, both must see the link as poor and the call
 * as audio only; when the limit is lifted video comes back by itself; a 5 s
 * outage of the link ends in "reconnecting", never in a leave.
 *
 * Numbers (seconds of audio heard, concealment, frame rates, time to video
 * recovery) are printed with the results.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  demoEvents,
  demoState,
  describePage,
  joinViaUi,
  openDemo,
  reportFailure,
  submitJoinForm,
  waitInCall,
  type Chromium,
  type DemoPage,
} from './helpers/browser.js';
import { createNetNs, launchHostChromium, type NetNs } from './helpers/netns.js';
import { audioDuring, framesDuring, sampleVideo } from './helpers/probes.js';
import { startServer, type HuizhenServer } from './helpers/server.js';
import { sleep, waitFor } from './helpers/wait.js';
import { TRIAL_CLIMB_MAX_MS } from '../server/src/rooms/media/VideoGate.js';

/** RMS below this is silence (about -46 dBFS); Chromium's fake microphone beeps far above it. */
const SILENCE_RMS = 0.005;
/** How long video may take to come back once the limit is lifted: the longest wait between trials (30 s), a trial (up to 12 s) and a key frame. */
const VIDEO_RECOVERY_MS = 60_000;
/** Joining and publishing behind the limit: several round trips of signaling and DTLS through a queued link. */
const WEAK_JOIN_MS = 90_000;

const results: Record<string, unknown> = {};

describe('a patient behind a weak or broken mobile link', () => {
  let net: NetNs | undefined;
  let server: HuizhenServer | undefined;
  let doctorBrowser: Chromium | undefined;
  let patientBrowser: Chromium | undefined;
  let doctor: DemoPage;
  let patient: DemoPage;
  let base = '';
  const room = `e2e-weak-${Date.now().toString(36)}`;

  beforeAll(async () => {
    net = await createNetNs();
    // Signaling and RTC on the veth's host side only: the patient reaches nothing else.
    server = await startServer({
      config: { server: { host: net.hostIp, allowedOrigins: [] }, media: { rtcListenIp: net.hostIp } },
    });
    base = `http://${net.hostIp}:${server.port}`;
    doctorBrowser = await launchHostChromium(base);
    patientBrowser = await net.launchChromium(base);
    doctor = await openDemo(doctorBrowser, base, 'doctor');
    patient = await openDemo(patientBrowser, base, 'patient', '/', {
      viewport: { width: 412, height: 800, isMobile: true, hasTouch: true },
    });
    await joinViaUi(doctor, { name: 'Dr Zhang Wei', role: 'doctor', room });
  });

  afterEach(async (ctx) => {
    if (ctx.task.result?.state === 'fail') await reportFailure([doctor, patient], server);
  });

  afterAll(async () => {
    // What the server decided, in order (the link monitor logs each change).
    results.serverDecisions = (server?.logs ?? [])
      .map((l) => {
        try {
          return JSON.parse(l) as Record<string, unknown>;
        } catch {
          return undefined;
        }
      })
      .filter(
        (e) =>
          e &&
          ['downlink video', 'uplink video', 'request refused', 'peer stopped answering pings'].includes(String(e.msg)),
      )
      .map((e) =>
        `${String(e!.time ?? '').slice(11, 19)} ${String(e!.msg)} ${String(e!.state ?? e!.method ?? '')} ${String(e!.code ?? e!.reason ?? '')}`.trim(),
      );
    console.info(`weak-network results: ${JSON.stringify(results, null, 2)}`);
    await patientBrowser?.close();
    await doctorBrowser?.close();
    await server?.stop();
    await net?.destroy();
  });

  /** Joins the patient (the doctor admits them when they wait) and waits until camera and mic are published. */
  async function joinPatient(what: string): Promise<number> {
    const started = Date.now();
    await submitJoinForm(patient, { name: 'Wang Fang', role: 'patient', room });
    await waitFor(
      `the patient to reach the room or its waiting room (${what})`,
      async () => {
        const s = await demoState(patient);
        return s?.phase === 'in-call' && s.identity ? s : undefined;
      },
      { timeoutMs: WEAK_JOIN_MS, describe: () => describePage(patient) },
    );
    const identity = (await demoState(patient))!.identity;
    patient.identity = identity;
    const admitted = await waitFor(
      'the doctor to see the patient waiting, or in the room',
      () =>
        doctor.page.evaluate((id) => {
          const s = window.huizhen?.state;
          if (s?.waiting.some((w) => w.identity === id)) return 'waiting';
          return document.querySelector(`[data-testid="tile"][data-identity="${CSS.escape(id)}"]`) ? 'in' : undefined;
        }, identity),
      { timeoutMs: WEAK_JOIN_MS, describe: () => describePage(doctor) },
    );
    if (admitted === 'waiting')
      await doctor.page.evaluate(
        (id) => (window.huizhen!.room as { admit(i: string): Promise<void> }).admit(id),
        identity,
      );
    await waitInCall(patient, {
      camera: true,
      mic: true,
      what: `publish camera and microphone (${what})`,
      timeoutMs: WEAK_JOIN_MS,
    });
    return Date.now() - started;
  }

  /** Seconds out of `seconds` in which `viewer` heard `other`'s microphone. */
  async function secondsHeard(viewer: DemoPage, other: string, seconds: number): Promise<number> {
    let heard = 0;
    for (let i = 0; i < seconds; i++) {
      const sample = await audioDuring(viewer, other, 1_000);
      if (sample.peakRms > SILENCE_RMS) heard++;
    }
    return heard;
  }

  /** Concealed audio (filled in by the decoder for lost packets), as a share of what was played, over `ms`. */
  async function concealment(viewer: DemoPage, ms: number): Promise<number> {
    const read = () =>
      viewer.page.evaluate(async () => {
        const pcs = (window as unknown as { __hzPeerConnections?: RTCPeerConnection[] }).__hzPeerConnections ?? [];
        let concealed = 0;
        let total = 0;
        for (const pc of pcs) {
          if (pc.connectionState === 'closed') continue;
          (await pc.getStats()).forEach((s: Record<string, unknown>) => {
            if (s.type !== 'inbound-rtp' || s.kind !== 'audio') return;
            concealed += Number(s.concealedSamples ?? 0);
            total += Number(s.totalSamplesReceived ?? 0);
          });
        }
        return { concealed, total };
      });
    const before = await read();
    await sleep(ms);
    const after = await read();
    const total = after.total - before.total;
    return total > 0 ? (after.concealed - before.concealed) / total : 1;
  }

  /** Waits until `viewer` shows `identity` as `quality` (and audio only, when asked) on the tile. */
  async function untilShown(
    viewer: DemoPage,
    identity: string,
    want: { quality?: string; audioOnly?: boolean; directions?: string[] },
    timeoutMs: number,
  ) {
    return waitFor(
      `${viewer.label} to show ${identity} as ${JSON.stringify(want)}`,
      () =>
        viewer.page.evaluate(
          (id, want) => {
            const state = window.huizhen?.state as unknown as
              { quality?: Record<string, { quality: string; audioOnly: boolean; directions: string[] }> } | undefined;
            const q = state?.quality?.[id];
            const tile = document.querySelector<HTMLElement>(`[data-testid="tile"][data-identity="${CSS.escape(id)}"]`);
            const badge = tile?.querySelector<HTMLElement>('[data-testid="tile-audio-only"]');
            const word = tile?.querySelector('[data-testid="tile-quality-word"]')?.textContent;
            if (!q || !tile) return undefined;
            if (want.quality && q.quality !== want.quality) return undefined;
            if (want.directions && !want.directions.every((d) => q.directions.includes(d))) return undefined;
            if (want.audioOnly !== undefined && (q.audioOnly !== want.audioOnly || badge?.hidden === want.audioOnly))
              return undefined;
            return { ...q, word, badge: badge && !badge.hidden ? badge.textContent : null };
          },
          identity,
          want,
        ),
      { timeoutMs, intervalMs: 500, describe: () => describePage(viewer) },
    );
  }

  async function droppedOrLeft(): Promise<{ patientReconnects: number; leaves: number }> {
    const pe = await demoEvents(patient);
    const de = await demoEvents(doctor);
    return {
      patientReconnects: pe.filter((e) => e.type === 'reconnecting' || e.type === 'disconnected').length,
      leaves: de.filter((e) => e.type === 'participantLeft' && e.identity === patient.identity).length,
    };
  }

  it('at 96 kbit/s the patient gets in, both hear each other, and both see poor and audio only', async () => {
    await net!.limit(96);
    const joinMs = await joinPatient('96 kbit/s');
    results.join96Ms = joinMs;

    const doctorSees = await untilShown(doctor, patient.identity, { quality: 'poor', audioOnly: true }, 60_000);
    const patientSees = await untilShown(patient, patient.identity, { quality: 'poor', audioOnly: true }, 30_000);
    expect(doctorSees.badge).toMatch(/audio only/i);
    expect(patientSees.word).toBe('Poor');
    results.audioOnly96 = { doctorSees, patientSees };

    const [doctorHeard, patientHeard, patientConcealed] = await Promise.all([
      secondsHeard(doctor, patient.identity, 10),
      secondsHeard(patient, doctor.identity, 10),
      concealment(patient, 10_000),
    ]);
    results.heard96 = {
      doctorHearsPatient: `${doctorHeard}/10 s`,
      patientHearsDoctor: `${patientHeard}/10 s`,
      patientConcealed,
    };
    expect(doctorHeard, 'seconds the doctor heard the patient').toBeGreaterThanOrEqual(7);
    expect(patientHeard, 'seconds the patient heard the doctor').toBeGreaterThanOrEqual(7);
    expect(patientConcealed, 'share of the patient audio concealed').toBeLessThan(0.3);
    expect(await droppedOrLeft()).toEqual({ patientReconnects: 0, leaves: 0 });
    // The WebSocket was never given up for a late pong.
    expect(server!.logs.some((l) => l.includes('peer stopped answering pings'))).toBe(false);
  });

  it('brings video back by itself once the limit is lifted', async () => {
    await net!.unlimit();
    const lifted = Date.now();
    const [toDoctor, toPatient] = await Promise.all(
      [
        [doctor, patient],
        [patient, doctor],
      ].map(([viewer, other]) =>
        waitFor(
          `${viewer!.label} to decode ${other!.label}'s video again`,
          async () => {
            const s = await sampleVideo(viewer!, other!.identity);
            if (!s || s.videoWidth === 0) return undefined;
            const { probe } = await framesDuring(viewer!, other!.identity, 2_000);
            return probe >= 10 ? { ms: Date.now() - lifted, fps: probe / 2, width: s.videoWidth } : undefined;
          },
          { timeoutMs: VIDEO_RECOVERY_MS, intervalMs: 500, describe: () => describePage(viewer!) },
        ),
      ),
    );
    results.recovery = { toDoctor, toPatient };
    // Video flows from the trial's start; it is announced once the trial passed, which may take
    // as long as the patient's estimate needs to climb back to a video layer (TRIAL_CLIMB_MAX_MS).
    await untilShown(doctor, patient.identity, { audioOnly: false }, TRIAL_CLIMB_MAX_MS);
    results.announcedMs = Date.now() - lifted;
    expect(await droppedOrLeft()).toEqual({ patientReconnects: 0, leaves: 0 });
  });

  it('at 64 kbit/s a fresh join still gets in and both still hear each other', async () => {
    await patient.page.evaluate(() => (window.huizhen!.room as { disconnect(): Promise<void> }).disconnect());
    await waitFor('the patient to leave', async () => (await demoState(patient))?.phase === 'ended' || undefined);
    await net!.limit(64);
    results.join64At = new Date().toISOString().slice(11, 19);
    const joinMs = await joinPatient('64 kbit/s');
    results.join64Ms = joinMs;
    // Both directions audio only: the patient's camera no longer fills the 64 kbit/s uplink.
    const settle = Date.now();
    await untilShown(doctor, patient.identity, { quality: 'poor', directions: ['downlink', 'uplink'] }, 60_000);
    results.audioOnly64AfterJoinMs = Date.now() - settle;
    const [doctorHeard, patientHeard] = await Promise.all([
      secondsHeard(doctor, patient.identity, 8),
      secondsHeard(patient, doctor.identity, 8),
    ]);
    results.heard64 = { doctorHearsPatient: `${doctorHeard}/8 s`, patientHearsDoctor: `${patientHeard}/8 s` };
    expect(doctorHeard).toBeGreaterThanOrEqual(5);
    expect(patientHeard).toBeGreaterThanOrEqual(5);
    const events = await demoEvents(patient);
    const since = events.map((e) => e.type).lastIndexOf('disconnected');
    expect(events.slice(since + 1).filter((e) => e.type === 'reconnecting')).toEqual([]);
  });

  it('survives a 5 s outage: the doctor sees reconnecting, not a leave, and the call comes back', async () => {
    await net!.unlimit();
    const leavesBefore = (await droppedOrLeft()).leaves;
    await sleep(3_000);
    await net!.setDown(true);
    await sleep(5_000);
    await net!.setDown(false);
    const back = Date.now();
    await waitFor(
      'the doctor to see the patient reconnecting',
      async () =>
        (await demoEvents(doctor)).some(
          (e) => e.type === 'participantReconnecting' && e.identity === patient.identity,
        ) || undefined,
      { timeoutMs: 20_000, describe: () => describePage(doctor) },
    );
    const heardAgain = await waitFor(
      'the doctor to hear the patient again',
      async () => {
        const s = await audioDuring(doctor, patient.identity, 1_000);
        return s.peakRms > SILENCE_RMS ? Date.now() - back : undefined;
      },
      { timeoutMs: 45_000, describe: () => describePage(doctor) },
    );
    const patientHears = await secondsHeard(patient, doctor.identity, 4);
    results.outage = { audioBackAfterMs: heardAgain, patientHearsDoctor: `${patientHears}/4 s` };
    expect(patientHears).toBeGreaterThanOrEqual(2);
    expect((await droppedOrLeft()).leaves).toBe(leavesBefore);
    const state = await demoState(patient);
    expect(state?.connectionState).toBe('connected');
  });
});
