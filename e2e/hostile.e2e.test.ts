/**
 * A call in two real browsers keeps its media while a hostile client next to
 * it sends malformed JSON, binary garbage, an oversized frame, guessed tokens
 * and a request flood to the same server.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProtocolClient } from '../server/src/client/ProtocolClient.js';
import { joinViaUi, launchChromium, openDemo, type Chromium, type DemoPage } from './helpers/browser.js';
import { audioDuring, framesDuring, untilDecoding } from './helpers/probes.js';
import { devToken, startServer, type HuizhenServer } from './helpers/server.js';
import { waitFor } from './helpers/wait.js';

const SILENCE_RMS = 0.005;
const MIN_LIVE_FRAMES = 10;

/** Opens a socket with the shared protocol client, runs `attack`, and reports how the server answered and closed it. */
async function hostileSocket(
  url: string,
  attack: (client: ProtocolClient) => void,
): Promise<{ answers: string[]; closeCode: number }> {
  const client = await ProtocolClient.connect(url);
  attack(client);
  const closeCode = await client.waitClosed(8_000).then(
    (c) => c.code,
    () => -1,
  );
  if (closeCode === -1) client.ws.terminate();
  return { answers: client.raw, closeCode };
}

describe('a call beside a hostile client', () => {
  let server: HuizhenServer | undefined;
  let chromium: Chromium | undefined;
  let doctor: DemoPage;
  let specialist: DemoPage;
  const room = `e2e-hostile-${Date.now().toString(36)}`;

  beforeAll(async () => {
    server = await startServer();
    chromium = await launchChromium();
    doctor = await openDemo(chromium, server.url, 'doctor');
    specialist = await openDemo(chromium, server.url, 'specialist');
    await joinViaUi(doctor, { name: 'Dr Wang', role: 'doctor', room });
    await joinViaUi(specialist, { name: 'Prof Zhou', role: 'specialist', room });
    await untilDecoding(specialist, doctor);
    await untilDecoding(doctor, specialist);
  });

  afterAll(async () => {
    await chromium?.close();
    await server?.stop();
  });

  it('answers or closes each hostile socket, and the call keeps its video and audio', async () => {
    const wsUrl = `${server!.url.replace(/^http/, 'ws')}/ws`;
    // A real member of the room misbehaving, not just a stranger.
    const insiderToken = await devToken(server!, { identity: 'insider', name: 'Insider', role: 'doctor', room });

    const attacks = await Promise.all([
      hostileSocket(wsUrl, (c) => {
        for (let i = 0; i < 30; i++) c.sendRaw('{"id": 1, "method": "join", ');
      }),
      hostileSocket(wsUrl, (c) => {
        for (let i = 0; i < 30; i++) c.sendRaw(Buffer.from([0xde, 0xad, 0xbe, 0xef, i]));
      }),
      hostileSocket(wsUrl, (c) =>
        c.sendRaw(JSON.stringify({ id: 1, method: 'join', data: { protocolVersion: 1, token: 'x'.repeat(200_000) } })),
      ),
      hostileSocket(wsUrl, (c) => {
        for (let i = 0; i < 10; i++)
          c.sendRaw(
            JSON.stringify({ id: i, method: 'join', data: { protocolVersion: 1, token: `forged.${i}.token` } }),
          );
      }),
      hostileSocket(wsUrl, (c) => {
        c.sendRaw(JSON.stringify({ id: 0, method: 'join', data: { protocolVersion: 1, token: insiderToken, room } }));
        for (let i = 1; i <= 600; i++)
          c.sendRaw(
            JSON.stringify({
              id: i,
              method: i % 2 ? 'getStats' : 'sendChat',
              data: i % 2 ? {} : { text: `spam ${i}` },
            }),
          );
      }),
    ]);
    const [malformed, binary, oversized, forged, flood] = attacks;
    expect(malformed!.answers.some((a) => a.includes('MALFORMED_MESSAGE'))).toBe(true);
    expect(malformed!.closeCode).toBe(4000);
    expect(binary!.answers.some((a) => a.includes('MALFORMED_MESSAGE'))).toBe(true);
    expect(binary!.closeCode).toBe(4000);
    expect(oversized!.closeCode).toBe(1009);
    expect(forged!.answers.some((a) => a.includes('TOKEN_INVALID'))).toBe(true);
    expect(forged!.closeCode).toBe(4000);
    expect(flood!.answers.some((a) => a.includes('RATE_LIMITED'))).toBe(true);
    expect(flood!.closeCode).toBe(4002);

    // The server is up, and the two people in the call never noticed.
    expect((await fetch(`${server!.url}/healthz`)).status).toBe(200);
    for (const [viewer, other] of [
      [specialist, doctor],
      [doctor, specialist],
    ] as const) {
      const { probe } = await framesDuring(viewer, other.identity, 2_000);
      expect(probe, `${viewer.label} still decodes ${other.label}'s video`).toBeGreaterThanOrEqual(MIN_LIVE_FRAMES);
      const heard = await waitFor(
        `${viewer.label} to still hear ${other.label}`,
        async () => {
          const sample = await audioDuring(viewer, other.identity, 1_500);
          return sample.peakRms > SILENCE_RMS ? sample : undefined;
        },
        { timeoutMs: 10_000, intervalMs: 0 },
      );
      expect(heard.peakRms).toBeGreaterThan(SILENCE_RMS);
    }
    expect(server!.logs.some((l) => l.includes('"media worker died"'))).toBe(false);
  });
});
