/**
 * Recording with everyone's consent, end to end: a doctor (one Chromium) and
 * a patient (another Chromium) in a consult through the demo UI, against a
 * real server recording with Debian's ffmpeg. Nothing is written until both
 * consent; the patient withdraws for a few seconds; a specialist joining
 * without answering pauses it; after the stop the composed file exists, has
 * video and audio, lasts the consented time (the gaps absent), and its frames
 * are not blank. Its URL is refused to the patient, to another room's doctor
 * and after expiry.
 */
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { get } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ffprobe } from '../server/src/recording/compose/ffprobe.js';
import { frameStats, hasPicture, maxVolume } from '../server/src/testing/recordingMedia.js';
import {
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
import { devToken, startServer, type HuizhenServer } from './helpers/server.js';
import { sleep, waitFor } from './helpers/wait.js';

const URL_TTL_SEC = 15;

interface AuditLine {
  event: string;
  room?: string;
  time: string;
}

interface Listed {
  recordings: {
    id: string;
    state: string;
    url: string | null;
    durationSec: number;
    tracks: number;
    consent: { event: string; identity: string }[];
  }[];
}

function httpGet(url: string, token: string, file?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = get(url, { agent: false, headers: { authorization: `Bearer ${token}` } }, (res) => {
      if (file && res.statusCode === 200) {
        pipeline(res, createWriteStream(file)).then(() => resolve({ status: 200, body: '' }), reject);
        return;
      }
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
  });
}

describe('recording a consult with everyone’s consent', () => {
  let server: HuizhenServer | undefined;
  let doctorBrowser: Chromium | undefined;
  let patientBrowser: Chromium | undefined;
  let doctor: DemoPage;
  let patient: DemoPage;
  let specialist: DemoPage | undefined;
  let files: string;
  const pages: DemoPage[] = [];
  const room = `e2e-rec-${Date.now().toString(36)}`;

  const audit = async (): Promise<AuditLine[]> =>
    (await readFile(path.join(server!.scratch, 'audit', 'audit.jsonl'), 'utf8'))
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as AuditLine)
      .filter((e) => e.room === room);
  const indicator = (demo: DemoPage) =>
    demo.page.evaluate(() => {
      const el = document.querySelector<HTMLElement>('[data-testid="rec-indicator"]');
      return el && !el.hidden ? el.dataset.state : 'off';
    });
  const untilState = (demo: DemoPage, state: string) =>
    waitFor(`${demo.label} to show the recording ${state}`, async () => (await indicator(demo)) === state, {
      timeoutMs: 30_000,
      describe: () => describePage(demo),
    });
  const click = async (demo: DemoPage, testid: string) => {
    await waitFor(`${demo.label}'s ${testid} button`, () =>
      demo.page.evaluate((id) => {
        const b = document.querySelector<HTMLElement>(`[data-testid="${id}"]`);
        return !!b && !b.hidden && b.offsetParent !== null;
      }, testid),
    );
    await demo.page.click(`[data-testid="${testid}"]`);
  };
  /** Agrees, opening the consent prompt from the indicator if it is not open already. */
  const agree = async (demo: DemoPage) => {
    const open = await demo.page.evaluate(() => !!document.querySelector('[data-testid="rec-agree"]'));
    if (!open) await click(demo, 'rec-answer');
    await click(demo, 'rec-agree');
  };
  const segmentFiles = async () =>
    (
      await readdir(path.join(server!.scratch, 'data', 'recordings'), { recursive: true }).catch(() => [] as string[])
    ).filter((f) => String(f).endsWith('.seg'));

  beforeAll(async () => {
    files = await mkdtemp(path.join(os.tmpdir(), 'huizhen-e2e-rec-'));
    server = await startServer({
      config: { recording: { enabled: true, urlTtlSec: URL_TTL_SEC }, rooms: { reconnectGraceMs: 2000 } },
    });
    doctorBrowser = await launchChromium();
    patientBrowser = await launchChromium();
    doctor = await openDemo(doctorBrowser, server.url, 'doctor');
    patient = await openDemo(patientBrowser, server.url, 'patient');
    pages.push(doctor, patient);
    await joinViaUi(doctor, { name: 'Dr Zhang Wei', role: 'doctor', room, kind: 'consult' });
    await submitJoinForm(patient, { name: 'Wang Fang', role: 'patient', room });
    await waitInCall(patient, { admission: 'waiting', what: 'wait in the waiting room' });
    await doctor.page.click(
      `[data-testid="waiting-entry"][data-identity="${patient.identity}"] [data-testid="admit-button"]`,
    );
    await waitInCall(patient, { what: 'be admitted' });
  }, 120_000);

  afterEach(async (ctx) => {
    if (ctx.task.result?.state === 'fail') await reportFailure(pages, server);
  });

  afterAll(async () => {
    await doctorBrowser?.close();
    await patientBrowser?.close();
    await server?.stop();
    if (files) await rm(files, { recursive: true, force: true });
  });

  it('records only consented time, and composes it into one playable file', async () => {
    await click(doctor, 'rec-request');
    await untilState(doctor, 'awaiting-consent');
    // The patient is asked; until they answer nothing is captured or written.
    await waitFor('the patient to be asked', () =>
      patient.page.evaluate(() => !!document.querySelector('[data-testid="rec-agree"]')),
    );
    await sleep(3000);
    expect(await segmentFiles()).toEqual([]);
    expect((await audit()).map((e) => e.event)).not.toContain('recording_started');

    await agree(patient);
    await untilState(doctor, 'recording');
    await sleep(6000);

    // The patient withdraws for a few seconds.
    await click(patient, 'rec-withdraw');
    await untilState(doctor, 'paused');
    await sleep(4000);
    await agree(patient);
    await untilState(doctor, 'recording');
    await sleep(5000);

    // A specialist joins and does not answer: paused until they leave.
    specialist = await openDemo(doctorBrowser!, server!.url, 'specialist');
    pages.push(specialist);
    await joinViaUi(specialist, { name: 'Prof Li Na', role: 'specialist', room, camera: false, mic: false });
    await untilState(doctor, 'paused');
    await sleep(3000);
    // Leaves without answering (the consent prompt is still open over the page).
    await specialist.page.evaluate(() => document.querySelector<HTMLElement>('[data-testid="leave-button"]')!.click());
    await untilState(doctor, 'recording');
    await sleep(5000);
    await click(doctor, 'rec-stop');
    await waitFor('the indicator to go', async () => (await indicator(doctor)) === 'off');

    // Consented time, as the audit trail tells it: each start/resume until the next pause/stop.
    const trail = await audit();
    let consentedMs = 0;
    let since: number | undefined;
    for (const e of trail) {
      if (e.event === 'recording_started' || e.event === 'recording_resumed') since = Date.parse(e.time);
      if ((e.event === 'recording_paused' || e.event === 'recording_stopped') && since !== undefined) {
        consentedMs += Date.parse(e.time) - since;
        since = undefined;
      }
    }
    const events = trail.map((e) => e.event);
    expect(events.filter((e) => e === 'recording_paused')).toHaveLength(2);
    const wallMs =
      Date.parse(trail.find((e) => e.event === 'recording_stopped')!.time) -
      Date.parse(trail.find((e) => e.event === 'recording_started')!.time);

    const doctorToken = await devToken(server!, {
      identity: doctor.identity,
      name: 'Dr Zhang Wei',
      role: 'doctor',
      room,
    });
    const listUrl = `${server!.url}/api/rooms/${room}/recordings`;
    const ready = await waitFor(
      'the recording to be composed',
      async () => {
        const { status, body } = await httpGet(listUrl, doctorToken);
        if (status !== 200) return undefined;
        const r = (JSON.parse(body) as Listed).recordings[0];
        if (r?.state === 'failed') throw new Error('composition failed');
        return r?.state === 'ready' ? r : undefined;
      },
      { timeoutMs: 400_000, intervalMs: 2000, describe: () => server!.tail(20) },
    );
    expect(ready.tracks).toBe(4);
    expect(ready.consent.filter((c) => c.event === 'withdrawn').map((c) => c.identity)).toEqual([patient.identity]);
    expect((await audit()).map((e) => e.event)).toEqual(
      expect.arrayContaining(['recording_segment', 'recording_ready', 'recording_url_issued']),
    );

    const out = path.join(files, 'consult.webm');
    expect((await httpGet(`${server!.url}${ready.url!}`, doctorToken, out)).status).toBe(200);
    const probe = await ffprobe('ffprobe', out);
    expect(probe.streams.map((s) => s.kind).sort()).toEqual(['audio', 'video']);
    expect(Math.abs(probe.durationSec - consentedMs / 1000)).toBeLessThan(1.5);
    // The withdrawn and the unanswered time are absent (about 4 s + 3 s, plus the transitions).
    expect(wallMs / 1000 - probe.durationSec).toBeGreaterThan(6);
    // Frames show the fake cameras (a moving picture), not black padding or a frozen frame.
    const frames = await frameStats(out);
    const shown = frames.filter(hasPicture);
    expect(shown.length / frames.length).toBeGreaterThan(0.6);
    expect(shown.filter((f) => f.ydif > 0.5).length / shown.length).toBeGreaterThan(0.5);
    expect(await maxVolume(out)).toBeGreaterThan(-40);

    // The URL is refused to the patient, to another room's doctor, and after it expired.
    const patientToken = await devToken(server!, {
      identity: patient.identity,
      name: 'Wang Fang',
      role: 'patient',
      room,
    });
    expect((await httpGet(`${server!.url}${ready.url!}`, patientToken)).status).toBe(403);
    expect((await httpGet(listUrl, patientToken)).status).toBe(403);
    const otherDoctor = await devToken(server!, {
      identity: doctor.identity,
      name: 'Dr Zhang Wei',
      role: 'doctor',
      room: `${room}-other`,
    });
    expect((await httpGet(`${server!.url}${ready.url!}`, otherDoctor)).status).toBe(403);
    expect((await httpGet(listUrl, otherDoctor)).status).toBe(403);
    const exp = Number(new URL(ready.url!, server!.url).searchParams.get('exp'));
    await sleep(Math.max(0, exp * 1000 - Date.now()) + 1500);
    const late = await httpGet(`${server!.url}${ready.url!}`, doctorToken);
    expect(late.status).toBe(400);
    expect(JSON.parse(late.body)).toMatchObject({ error: { code: 'URL_INVALID' } });
  }, 600_000);
});
