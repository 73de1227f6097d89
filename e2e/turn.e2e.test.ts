/**
 * TURN through a real coturn (loopback, `use-auth-secret`): Huizhen hands out
 * time-limited REST credentials, two browsers forced to relay
 * (`iceTransportPolicy: 'relay'`) see and hear each other through it, and
 * coturn refuses a credential made with the wrong secret or one that expired.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  demoState,
  joinViaUi,
  launchChromium,
  openDemo,
  reportFailure,
  submitJoinForm,
  waitInCall,
  type Chromium,
  type DemoPage,
} from './helpers/browser.js';
import { restCredential, startCoturn, type Coturn } from './helpers/coturn.js';
import { iceConfigs, icePaths, peerConnectionStates } from './helpers/icePath.js';
import { seesAndHears } from './helpers/mediaFlow.js';
import { startServer, type HuizhenServer } from './helpers/server.js';
import { sleep, waitFor } from './helpers/wait.js';

/**
 * coturn refusing a request that carried credentials. (Every first request is
 * answered 401 with an empty user: the challenge that hands out the nonce.)
 */
const REFUSED = /user <\d+:[^>]+>.*error 401/;
const refusedUser = (user: string) => new RegExp(`user <\\d+:${user}>.*error 401`);

describe('TURN relay through coturn', () => {
  let coturn: Coturn | undefined;
  let server: HuizhenServer | undefined;
  let chromium: Chromium | undefined;
  let scratch: string | undefined;
  const pages: DemoPage[] = [];
  const suffix = Date.now().toString(36);

  const turnConfig = async (
    secret: string,
    name: string,
    { urls = [coturn!.url('udp'), coturn!.url('tcp')], ttlSec = 600 }: { urls?: string[]; ttlSec?: number } = {},
  ) => {
    const secretFile = path.join(scratch!, name);
    await writeFile(secretFile, secret + '\n', { mode: 0o600 });
    return { turn: { urls, secretFile, ttlSec } };
  };

  beforeAll(async () => {
    coturn = await startCoturn();
    scratch = await mkdtemp(path.join(os.tmpdir(), 'huizhen-e2e-turn-'));
    server = await startServer({ config: await turnConfig(coturn.secret, 'turn.secret') });
    chromium = await launchChromium();
  });

  afterEach(async (ctx) => {
    if (ctx.task.result?.state === 'fail')
      await reportFailure(pages, server, { 'coturn log (tail)': coturn?.tail(40) ?? '(none)' });
  });

  afterAll(async () => {
    await chromium?.close();
    await server?.stop();
    await coturn?.stop();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it('two browsers forced to relay see and hear each other through coturn', async () => {
    const room = `e2e-turn-${suffix}`;
    const doctor = await openDemo(chromium!, server!.url, 'doctor', '/?relay=1');
    const specialist = await openDemo(chromium!, server!.url, 'specialist', '/?relay=1');
    pages.push(doctor, specialist);
    await joinViaUi(doctor, { name: 'Dr Zhou Min', role: 'doctor', room });
    await joinViaUi(specialist, { name: 'Prof Sun Hua', role: 'specialist', room });

    for (const [viewer, other] of [
      [doctor, specialist],
      [specialist, doctor],
    ] as const) {
      await seesAndHears(viewer, other, 'through the relay');
    }

    for (const page of [doctor, specialist]) {
      // The SDK configured the server's TURN servers, relay only, with REST credentials.
      const configs = await iceConfigs(page);
      expect(configs.length).toBeGreaterThanOrEqual(2);
      for (const config of configs) {
        expect(config.policy).toBe('relay');
        const turn = config.servers.find((s) => s.urls.includes(coturn!.url('udp')));
        expect(turn?.urls).toContain(coturn!.url('tcp'));
        const [expiry, user] = turn!.username!.split(':');
        expect(Number(expiry)).toBeGreaterThan(Date.now() / 1000);
        expect(Number(expiry)).toBeLessThanOrEqual(Date.now() / 1000 + 600);
        expect(user).toMatch(/^hz_[A-Za-z0-9_-]{22}$/);
        // Neither the credential nor the shared secret is in Huizhen's log.
        const log = server!.logs.join('\n');
        expect(log).not.toContain(turn!.credential!);
        expect(log).not.toContain(coturn!.secret);
      }
      const paths = await waitFor(
        `${page.label}'s send and receive transports to be connected`,
        async () => {
          const p = (await icePaths(page)).filter((x) => x.connectionState === 'connected');
          return p.length >= 2 ? p : undefined;
        },
        { timeoutMs: 20_000, describe: () => icePaths(page) },
      );
      for (const p of paths) expect(p.localType, `${page.label}'s selected candidate pair`).toBe('relay');
    }
    expect(coturn!.lines(/ALLOCATE processed, success/).length).toBeGreaterThanOrEqual(4);
    expect(coturn!.lines(/CREATE_PERMISSION processed, success/).length).toBeGreaterThanOrEqual(4);
  });

  it('a server with the wrong TURN secret gets its participants refused by coturn, and the SDK says so', async () => {
    const wrong = await startServer({ config: await turnConfig('not-the-secret-coturn-knows-0123', 'wrong.secret') });
    try {
      const refusalsBefore = coturn!.lines(REFUSED).length;
      const patient = await openDemo(chromium!, wrong.url, 'doctor (wrong secret)', '/?relay=1');
      pages.push(patient);
      await joinViaUi(patient, { name: 'Dr Guo Lei', role: 'doctor', room: `e2e-turn-wrong-${suffix}` });
      const error = await waitFor(
        'the SDK to report the refused TURN credentials',
        async () => (await demoState(patient))?.lastError ?? undefined,
        { timeoutMs: 30_000, describe: () => peerConnectionStates(patient) },
      );
      expect(error).toMatch(/refused the credentials/);
      expect(coturn!.lines(REFUSED).length).toBeGreaterThan(refusalsBefore);
      // Relay only, no usable relay: the media never connects.
      await sleep(2000);
      expect((await icePaths(patient)).filter((p) => p.connectionState === 'connected')).toEqual([]);
    } finally {
      await wrong.stop();
    }
  });

  it('coturn refuses an expired credential and accepts a fresh one made the same way', async () => {
    const page = await openDemo(chromium!, server!.url, 'raw peer connection');
    pages.push(page);
    const now = Math.floor(Date.now() / 1000);
    const gather = (credential: { username: string; credential: string }) =>
      page.page.evaluate(
        async (urls, credential) => {
          const pc = new RTCPeerConnection({
            iceServers: [{ urls, ...credential }],
            iceTransportPolicy: 'relay',
          });
          const relays: string[] = [];
          const errors: number[] = [];
          pc.addEventListener('icecandidate', (e) => {
            if (e.candidate?.type === 'relay') relays.push(e.candidate.candidate);
          });
          pc.addEventListener('icecandidateerror', (e) => errors.push((e as RTCPeerConnectionIceErrorEvent).errorCode));
          pc.createDataChannel('probe');
          await pc.setLocalDescription(await pc.createOffer());
          const deadline = Date.now() + 15_000;
          while (pc.iceGatheringState !== 'complete' && Date.now() < deadline)
            await new Promise((r) => setTimeout(r, 100));
          pc.close();
          return { relays: relays.length, errors };
        },
        [coturn!.url('udp'), coturn!.url('tcp')],
        credential,
      );

    const fresh = await gather(restCredential(coturn!.secret, now + 300, 'hz_fresh'));
    expect(fresh.relays, 'a valid credential gets a relay candidate').toBeGreaterThan(0);

    const before = coturn!.lines(refusedUser('hz_expired')).length;
    const expired = await gather(restCredential(coturn!.secret, now - 60, 'hz_expired'));
    expect(expired.relays, 'an expired credential gets no relay candidate').toBe(0);
    expect(expired.errors).toContain(401);
    expect(coturn!.lines(refusedUser('hz_expired')).length).toBeGreaterThan(before);
    expect(coturn!.lines(refusedUser('hz_fresh'))).toEqual([]);
  });

  it('relays over TCP only (UDP blocked) and renews credentials before they expire, without dropping media', async () => {
    // A hospital network that lets only TCP out: the only TURN URL is TCP. Credentials live 60 s.
    const tcp = await startServer({
      config: await turnConfig(coturn!.secret, 'tcp.secret', { urls: [coturn!.url('tcp')], ttlSec: 60 }),
    });
    try {
      const room = `e2e-turn-tcp-${suffix}`;
      const doctor = await openDemo(chromium!, tcp.url, 'doctor (TCP relay)', '/?relay=1');
      const nurse = await openDemo(chromium!, tcp.url, 'nurse (TCP relay)', '/?relay=1');
      pages.push(doctor, nurse);
      // Generous: on a loaded machine a heartbeat may time out while joining, and the SDK reconnects first.
      for (const [page, name, role] of [
        [doctor, 'Dr Ma Jun', 'doctor'],
        [nurse, 'Nurse Liu Yan', 'nurse'],
      ] as const) {
        await submitJoinForm(page, { name, role, room });
        await waitInCall(page, { what: `join room ${room}`, timeoutMs: 90_000 });
      }
      const flowing = async (what: string) => {
        for (const [viewer, other] of [
          [doctor, nurse],
          [nurse, doctor],
        ] as const) {
          await seesAndHears(viewer, other, what);
        }
        for (const page of [doctor, nurse]) {
          const paths = await waitFor(
            `${page.label}'s transports to be connected (${what})`,
            async () => {
              const p = (await icePaths(page)).filter((x) => x.connectionState === 'connected');
              return p.length >= 2 ? p : undefined;
            },
            { timeoutMs: 30_000, describe: () => icePaths(page) },
          );
          for (const p of paths) {
            expect(p.localType, `${what}: ${page.label}`).toBe('relay');
            expect(p.relayProtocol, `${what}: ${page.label} reaches coturn over`).toBe('tcp');
          }
        }
      };
      await flowing('at the start');

      const username = async (page: DemoPage) => {
        const [config] = await iceConfigs(page);
        return config!.servers.find((s) => s.urls.includes(coturn!.url('tcp')))!.username!;
      };
      const first = await username(doctor);
      const [firstExpiry, pseudonym] = first.split(':');
      // At ~80 % of 60 s the SDK fetches fresh credentials and re-allocates with them.
      const renewed = await waitFor(
        'the doctor page to get fresh TURN credentials',
        async () => {
          const now = await username(doctor);
          return now !== first ? now : undefined;
        },
        { timeoutMs: 75_000, intervalMs: 1000, describe: () => username(doctor) },
      );
      const [renewedExpiry, renewedPseudonym] = renewed.split(':');
      expect(Number(renewedExpiry)).toBeGreaterThan(Number(firstExpiry));
      expect(renewedPseudonym).toBe(pseudonym);
      await waitFor(
        'coturn to allocate with the fresh credentials',
        () => coturn!.lines(new RegExp(`user <${renewed}>: incoming packet ALLOCATE processed, success`)).length > 0,
        { timeoutMs: 30_000, describe: () => coturn!.tail(10) },
      );
      // Past the first credentials' expiry, media still flows, relayed with the new ones.
      const wait = Number(firstExpiry) * 1000 - Date.now() + 2000;
      if (wait > 0) await sleep(wait);
      await flowing('after the first credentials expired');
    } finally {
      await tcp.stop();
    }
  }, 300_000);
});
