/**
 * The pre-call check in a real Chromium against a real server: on loopback it
 * reports a sane verdict from media that really went through the SFU and back;
 * with the media path blocked (an announced address nobody can reach, or relay
 * forced with no TURN server) it says `failed`, why, within a bounded time.
 * And the demo's join form offers the check to patients.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCoturn } from './helpers/coturn.js';
import { createNetNs } from './helpers/netns.js';
import { describePage, launchChromium, openDemo, type Chromium, type DemoPage } from './helpers/browser.js';
import { devToken, startServer, type HuizhenServer } from './helpers/server.js';
import { waitFor } from './helpers/wait.js';

let chromium: Chromium | undefined;
const servers: HuizhenServer[] = [];

beforeAll(async () => {
  chromium = await launchChromium();
});
afterAll(async () => {
  await chromium?.close();
  await Promise.all(servers.map((s) => s.stop()));
});

async function server(env?: Record<string, string>, config?: Record<string, unknown>): Promise<HuizhenServer> {
  const s = await startServer({ ...(env ? { env } : {}), ...(config ? { config } : {}) });
  servers.push(s);
  return s;
}

interface PageReport {
  verdict: string;
  advice: string[];
  failure?: { name: string; reason: string; code: string; message: string };
  camera: { status: string; frames?: number };
  microphone: { status: string; peakDb?: number | null };
  signaling: { status: string; rttMs?: number };
  media: Record<string, unknown> & { status: string };
  durationMs: number;
  progress: { step: string; status: string; fraction: number }[];
}

/** Runs `preflight()` from the SDK bundle inside the page and returns its report as plain data. */
async function runPreflight(demo: DemoPage, token: string, options: Record<string, unknown>): Promise<PageReport> {
  // The SDK bundle as a page loads it; a string, so the test runner does not rewrite the import.
  await demo.page.evaluate("import('/sdk/huizhen-client.js').then((sdk) => { window.__hzSdk = sdk; })");
  return demo.page.evaluate(
    async (token, options) => {
      type Sdk = { preflight: (url: string, token: string, options: object) => any }; // eslint-disable-line @typescript-eslint/no-explicit-any
      const sdk = (window as unknown as { __hzSdk: Sdk }).__hzSdk;
      const test = sdk.preflight(location.origin, token, options);
      const progress: { step: string; status: string; fraction: number }[] = [];
      test.on('progress', (p: { step: string; status: string; fraction: number }) =>
        progress.push({ step: p.step, status: p.status, fraction: p.fraction }),
      );
      const report = await test.result;
      const { failure, ...rest } = report;
      return {
        ...rest,
        ...(failure
          ? { failure: { name: failure.name, reason: failure.reason, code: failure.code, message: failure.message } }
          : {}),
        progress,
      };
    },
    token,
    options,
  ) as Promise<PageReport>;
}

const patientToken = (s: HuizhenServer, identity: string) =>
  devToken(s, { identity, name: 'Wang Fang', role: 'patient', room: `pf-${identity}` });

describe('preflight()', () => {
  it('reports a sane verdict on loopback, measured from media that went through the server and back', async () => {
    const s = await server();
    const demo = await openDemo(chromium!, s.url, 'patient');
    const report = await runPreflight(demo, await patientToken(s, 'pt-loop'), { durationMs: 5000 });
    const page = await describePage(demo);
    const context = () => `${JSON.stringify(report, null, 1)}\n${page}\n${s.tail(20)}`;

    expect(['excellent', 'good'], context()).toContain(report.verdict);
    expect(report.failure, context()).toBeUndefined();
    expect(report.camera.status).toBe('ok');
    expect(report.camera.frames).toBeGreaterThan(0);
    expect(report.microphone.status, context()).toBe('ok');
    expect(report.signaling.status).toBe('ok');
    expect(report.signaling.rttMs).toBeGreaterThanOrEqual(0);
    expect(report.media).toMatchObject({ status: 'ok', candidateType: 'host', protocol: 'udp' });
    expect(report.media.framesReceived as number, context()).toBeGreaterThan(0);
    expect(report.media.framesDecoded as number).toBeGreaterThan(0);
    expect(report.media.bitrateKbps as number, context()).toBeGreaterThan(0);
    expect(report.media.sendBitrateKbps as number).toBeGreaterThan(0);
    expect(report.media.rttMs as number).toBeGreaterThanOrEqual(0);
    expect(report.media.packetLossPercent as number).toBeLessThan(5);
    expect(report.media.durationMs as number).toBeGreaterThanOrEqual(4000);
    expect(report.advice.length).toBeGreaterThan(0);
    // Every step reported, in order, ending at 100 %.
    const steps = [...new Set(report.progress.map((p) => p.step))];
    expect(steps).toEqual(['camera', 'microphone', 'signaling', 'media', 'verdict']);
    expect(report.progress.at(-1)?.fraction).toBe(1);
    // The loopback is gone afterwards and nobody ever entered a room.
    await waitFor(
      'the loopback to close',
      async () => (await (await fetch(`${s.url}/metrics`)).text()).match(/huizhen_preflight_active 0\b/) ?? undefined,
      { timeoutMs: 10_000 },
    );
    const metrics = await (await fetch(`${s.url}/metrics`)).text();
    expect(metrics).toMatch(/huizhen_participants 0\b/);
    await demo.page.close();
  });

  it('says failed, and why, when the media path is blocked (announced address nobody can reach)', async () => {
    const s = await server({ HUIZHEN_ANNOUNCED_ADDRESS: '192.0.2.1' }); // TEST-NET-1: never routed
    const demo = await openDemo(chromium!, s.url, 'patient');
    const started = Date.now();
    const report = await runPreflight(demo, await patientToken(s, 'pt-blocked'), {
      durationMs: 4000,
      connectTimeoutMs: 8000,
    });
    const tookMs = Date.now() - started;
    const page = await describePage(demo);
    const context = () => `${JSON.stringify(report, null, 1)}\n${page}`;
    expect(report.verdict, context()).toBe('failed');
    expect(report.failure?.reason, context()).toBe('mediaBlocked');
    expect(report.failure?.name).toBe('PreflightError');
    expect(report.media.status).toBe('failed');
    expect(report.advice[0]).toMatch(/network blocks the video connection/);
    // The devices and signaling still worked, and the report says so.
    expect(report.camera.status).toBe('ok');
    expect(report.signaling.status).toBe('ok');
    expect(tookMs).toBeLessThan(30_000);
    await demo.page.close();
  });

  it('says failed at once when relay is forced and there is no TURN server', async () => {
    const s = await server();
    const demo = await openDemo(chromium!, s.url, 'patient');
    const report = await runPreflight(demo, await patientToken(s, 'pt-relay'), {
      durationMs: 4000,
      iceTransportPolicy: 'relay',
    });
    expect(report.verdict).toBe('failed');
    expect(report.failure?.reason).toBe('noRelay');
    expect(report.media.status).toBe('failed');
    await demo.page.close();
  });

  it('reports a refused token as such, not as a network problem', async () => {
    const s = await server();
    const demo = await openDemo(chromium!, s.url, 'patient');
    const report = await runPreflight(demo, 'not-a-token', { durationMs: 4000 });
    expect(report.verdict).toBe('failed');
    expect(report.failure).toMatchObject({ reason: 'tokenRejected', code: 'TOKEN_INVALID' });
    expect(report.advice[0]).toMatch(/invitation link/);
    await demo.page.close();
  });
});

describe('preflight() on other paths', () => {
  it('reports relay when forced through a real coturn, with the credentials the server handed out', async () => {
    const coturn = await startCoturn();
    const scratch = await mkdtemp(path.join(os.tmpdir(), 'huizhen-e2e-preflight-'));
    try {
      const secretFile = path.join(scratch, 'turn.secret');
      await writeFile(secretFile, coturn.secret + '\n', { mode: 0o600 });
      const s = await server(undefined, { turn: { urls: [coturn.url('udp')], secretFile, ttlSec: 600 } });
      const demo = await openDemo(chromium!, s.url, 'patient');
      const report = await runPreflight(demo, await patientToken(s, 'pt-turn'), {
        durationMs: 4000,
        iceTransportPolicy: 'relay',
      });
      const context = `${JSON.stringify(report, null, 1)}\ncoturn:\n${coturn.tail(20)}`;
      expect(['excellent', 'good', 'poor'], context).toContain(report.verdict);
      expect(report.media, context).toMatchObject({ status: 'ok', candidateType: 'relay', relayProtocol: 'udp' });
      expect(report.media.framesDecoded as number).toBeGreaterThan(0);
      expect(coturn.lines(/ALLOCATE processed, success/).length, context).toBeGreaterThan(0);
      await demo.page.close();
    } finally {
      await coturn.stop();
      await rm(scratch, { recursive: true, force: true });
    }
  });

  it('reports tcp, and at most good, when the server offers ICE over TCP only', async () => {
    const s = await server(undefined, { media: { iceProtocols: ['tcp'] } });
    const demo = await openDemo(chromium!, s.url, 'patient');
    const report = await runPreflight(demo, await patientToken(s, 'pt-tcp'), { durationMs: 4000 });
    const context = JSON.stringify(report, null, 1);
    expect(report.media, context).toMatchObject({ status: 'ok', protocol: 'tcp' });
    // Chrome's active TCP candidate is learnt by the server as peer-reflexive; no relay either way.
    expect(['host', 'prflx'], context).toContain(report.media.candidateType);
    expect(report.media.framesDecoded as number).toBeGreaterThan(0);
    expect(['good', 'poor'], context).toContain(report.verdict);
    expect(report.advice.join(' ')).toMatch(/blocks the fastest way/);
    await demo.page.close();
  });
});

describe('preflight() behind a weak link', () => {
  it('says poor, with advice about the weak connection, behind a 96 kbit/s link (tc tbf)', async () => {
    const net = await createNetNs();
    try {
      const s = await startServer({
        config: { server: { host: net.hostIp, allowedOrigins: [] }, media: { rtcListenIp: net.hostIp } },
      });
      servers.push(s);
      const base = `http://${net.hostIp}:${s.port}`;
      const browser = await net.launchChromium(base);
      // The page and the SDK bundle load on the good line; the check runs behind the limit.
      const demo = await openDemo(browser, base, 'patient');
      const token = await patientToken({ ...s, url: base }, 'pt-weak');
      await net.limit(96);
      const report = await runPreflight(demo, token, {
        durationMs: 8000,
        connectTimeoutMs: 20_000,
      });
      const context = JSON.stringify(report, null, 1);
      console.info('preflight behind 96 kbit/s:', JSON.stringify({ verdict: report.verdict, media: report.media }));
      expect(report.media.status, context).toBe('ok');
      expect(report.verdict, context).toBe('poor');
      expect(report.media.bitrateKbps as number, context).toBeLessThan(150);
      expect(report.advice.join(' '), context).toMatch(/weak|losing data|slow to respond/);
      await browser.close();
    } finally {
      await net.destroy();
    }
  });
});

describe('the demo join form', () => {
  it('offers patients the check, shows each step, the verdict and advice, and plays a test sound', async () => {
    const s = await server();
    const demo = await openDemo(chromium!, s.url, 'patient', '/?role=patient&name=Wang%20Fang&room=pf-demo');
    const { page } = demo;
    await page.waitForSelector('[data-testid="preflight-button"]', { visible: true });
    await page.click('[data-testid="preflight-button"]');
    const verdict = await waitFor(
      'the check to show a verdict',
      () => page.$eval('[data-testid="preflight-verdict"]', (n) => (n as HTMLElement).dataset.verdict ?? undefined),
      { timeoutMs: 60_000, describe: () => describePage(demo) },
    );
    const shown = await page.evaluate(() => ({
      title: document.querySelector('[data-testid="preflight-verdict-title"]')?.textContent,
      advice: [...document.querySelectorAll('[data-testid="preflight-advice"] li')].map((li) => li.textContent),
      details: document.querySelector('[data-testid="preflight-details"]')?.textContent,
      steps: Object.fromEntries(
        [...document.querySelectorAll<HTMLElement>('[data-testid^="preflight-step-"]')].map((li) => [
          li.dataset.testid!.replace('preflight-step-', ''),
          li.dataset.status,
        ]),
      ),
    }));
    const context = `${JSON.stringify(shown)}\n${await describePage(demo)}`;
    expect(['excellent', 'good'], context).toContain(verdict);
    expect(shown.title).toMatch(/Your connection is (excellent|good)/);
    expect(shown.advice.length).toBeGreaterThan(0);
    expect(shown.steps, context).toEqual({
      camera: 'passed',
      microphone: 'passed',
      signaling: 'passed',
      media: 'passed',
    });
    expect(shown.details).toMatch(/host over udp/);

    await page.click('[data-testid="preflight-speaker"]');
    await waitFor('the speaker test to finish', async () =>
      (await page.$eval('[data-testid="preflight-speaker-result"]', (n) => n.textContent))?.includes('Did you hear')
        ? true
        : undefined,
    );

    // Clinicians are not offered the check.
    await page.select('[data-testid="join-role"]', 'doctor');
    expect(await page.$eval('#preflight-offer', (n) => (n as HTMLElement).hidden)).toBe(true);
    await page.close();
  });
});
