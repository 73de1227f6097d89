/**
 * A new track reaches subscribers after `produce` has answered. A publisher
 * that closes the track (or leaves) while that fan-out runs must leave no
 * subscriber holding a consumer for a track that is gone.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SignalingTestClient } from '../../testing/SignalingTestClient.js';
import { startTestServer, type TestServer } from '../../testing/testServer.js';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t?.close();
});

const opus = {
  codecs: [{ mimeType: 'audio/opus', payloadType: 111, clockRate: 48000, channels: 2 }],
  encodings: [{ ssrc: 22222222 }],
};

async function subscriber(room: string, identity: string): Promise<SignalingTestClient> {
  const c = await t.connect();
  const joined = await c.join(t.token(identity, 'doctor', room));
  if (joined.admission !== 'admitted') throw new Error('not admitted');
  await c.request('createTransport', { direction: 'recv' });
  await c.request('setRtpCapabilities', { rtpCapabilities: joined.routerRtpCapabilities });
  return c;
}

describe('fan-out of a new track', () => {
  it('announces no consumer for a track closed while subscribers were being set up', async () => {
    const room = 'fanout-close';
    const subs = await Promise.all([1, 2, 3].map((i) => subscriber(room, `sub-${i}`)));
    const publisher = await t.connect();
    await publisher.join(t.token('pub', 'specialist', room));
    const send = await publisher.request('createTransport', { direction: 'send' });
    for (let round = 0; round < 5; round++) {
      const { trackId } = await publisher.request('produce', {
        transportId: send.id,
        kind: 'audio',
        source: 'microphone',
        rtpParameters: opus,
      });
      await publisher.request('closeProducer', { producerId: trackId });
      // Every subscriber ends with no live consumer for it: either never announced, or announced and closed.
      for (const s of subs) {
        await s.waitFor(() => {
          const created = s.notifications.filter(
            (n) => n.notification === 'consumerCreated' && (n.data as { trackId: string }).trackId === trackId,
          ).length;
          const closed = s.notifications.filter(
            (n) => n.notification === 'consumerClosed' && (n.data as { trackId: string }).trackId === trackId,
          ).length;
          return created === closed ? true : undefined;
        }, 3000);
      }
    }
    expect(t.server.rooms.rooms.get(room)?.counts()).toMatchObject({ producers: 0, consumers: 0 });
  });
});
