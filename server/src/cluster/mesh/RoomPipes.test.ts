/**
 * Media between two nodes' routers, with the real mediasoup worker and real
 * ffmpeg: node A's camera (VP8 from ffmpeg) is piped to node B over a node
 * link on loopback (authenticated WebSocket) and PipeTransports with SRTP;
 * a consumer on B's router receives its RTP; B's key-frame request reaches
 * A's producer through the pipe; pause, close and release cross as well.
 * Two worker pools in one test process stand for the two nodes: the pipe
 * runs over UDP and the link over TCP exactly as between two machines.
 */
import { createSocket, type Socket } from 'node:dgram';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { types } from 'mediasoup';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { WorkerPool } from '../../media/WorkerPool.js';
import { createLogger } from '../../observability/logger.js';
import { MediaRoom } from '../../rooms/media/MediaRoom.js';
import { publishTestMedia, type TestPublisher } from '../../testing/recordingMedia.js';
import { signLinkHello } from './linkAuth.js';
import type { NodeLink } from './NodeLink.js';
import { LINK_PATH, NodeLinks } from './NodeLinks.js';
import { RoomPipes } from './RoomPipes.js';

const logger = createLogger({ level: 'error' });
const SECRET = 'test-cluster-secret-0123456789abcdef';
const ROOM = 'clinic-1';

interface TestNode {
  id: string;
  pool: WorkerPool;
  media: MediaRoom;
  links: NodeLinks;
  pipes: RoomPipes;
  http: Server;
  url: string;
}

async function startNode(id: string): Promise<TestNode> {
  const pool = await WorkerPool.create({
    workers: 1,
    logLevel: 'warn',
    listenIp: '127.0.0.1',
    announcedAddress: null,
    port: 0,
    logger,
  });
  const media = await MediaRoom.create(
    ROOM,
    pool,
    { maxIncomingBitrate: 1_500_000, initialOutgoingBitrate: 600_000 },
    logger,
  );
  const links = new NodeLinks({ nodeId: id, secret: SECRET, logger });
  const pipes = new RoomPipes({
    listenIp: '127.0.0.1',
    routerFor: (room) => (room === ROOM ? media.router : null),
    logger,
  });
  links.on('link', (link) => pipes.attach(link));
  const http = createServer((_req, res) => res.writeHead(404).end());
  http.on('upgrade', (req, socket, head) => {
    if (req.url === LINK_PATH) links.accept(req, socket, head);
    else socket.destroy();
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  return { id, pool, media, links, pipes, http, url: `http://127.0.0.1:${(http.address() as AddressInfo).port}` };
}

function stopNode(n: TestNode | undefined): void {
  if (!n) return;
  n.links.close();
  n.http.close();
  n.media.close();
  n.pool.close();
}

/** A plain transport on `router` sending `producer` to a UDP socket of the test; counts RTP packets. */
async function plainReceiver(router: types.Router, producerId: string) {
  const socket: Socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const stats = { rtp: 0, keyFrames: 0 };
  socket.on('message', (msg) => {
    const pt = msg[1]! & 0x7f;
    if ((msg[0]! & 0xc0) !== 0x80 || (pt >= 72 && pt <= 76)) return; // RTCP
    stats.rtp++;
  });
  const transport = await router.createPlainTransport({
    listenInfo: { protocol: 'udp', ip: '127.0.0.1' },
    rtcpMux: true,
    comedia: false,
  });
  await transport.connect({ ip: '127.0.0.1', port: (socket.address() as AddressInfo).port });
  const consumer = await transport.consume({ producerId, rtpCapabilities: router.rtpCapabilities });
  return {
    stats,
    consumer,
    close() {
      transport.close();
      socket.close();
    },
  };
}

async function producerPlis(producer: types.Producer): Promise<number> {
  return (await producer.getStats()).reduce((sum, s) => sum + s.pliCount, 0);
}

describe('RoomPipes between two nodes (real worker, real ffmpeg)', () => {
  let a: TestNode;
  let b: TestNode;
  let publisher: TestPublisher;
  let link: NodeLink;

  beforeAll(async () => {
    a = await startNode('node-a');
    b = await startNode('node-b');
    publisher = await publishTestMedia(a.media, 'dr-a');
    link = await a.links.dial(b.id, b.url);
  });
  afterAll(() => {
    publisher?.stop();
    stopNode(a);
    stopNode(b);
  });

  it('refuses a link without the cluster secret, and garbage on an open link closes only that link', async () => {
    const wrong = new NodeLinks({ nodeId: 'node-x', secret: 'another-secret-0123456789abcdef', logger });
    await expect(wrong.dial(b.id, b.url)).rejects.toThrow(/HTTP 401/);
    const raw = new WebSocket(new URL(LINK_PATH, b.url.replace('http', 'ws')), {
      headers: { authorization: signLinkHello(SECRET, 'node-z') },
    });
    await new Promise((resolve) => raw.once('open', resolve));
    const answers: string[] = [];
    raw.on('message', (m) => answers.push(m.toString()));
    // A request that fails validation gets a typed answer; a frame that is not the envelope closes the link.
    raw.send(JSON.stringify({ t: 'req', id: 1, m: 'openPipe', d: { room: '', endpoint: null } }));
    await expect.poll(() => answers.length).toBe(1);
    expect(JSON.parse(answers[0]!)).toMatchObject({ t: 'res', id: 1, ok: false, code: 'INVALID_REQUEST' });
    raw.send('{"t":"nonsense"');
    await new Promise((resolve) => raw.once('close', resolve));
    expect(link.closed).toBe(false);
  });

  it("pipes A's camera to B: B's consumer receives RTP, B's key-frame request reaches A, pause and close follow", async () => {
    const camera = publisher.peer.media.trackBySource('camera')!.producer;
    const imported = new Promise<types.Producer>((resolve) =>
      b.pipes.once('producerImported', (_room, p) => resolve(p)),
    );
    await a.pipes.exportProducer(ROOM, camera, link);
    const copy = await imported;
    expect(copy.id).toBe(camera.id);
    expect(copy.appData).toMatchObject({ identity: 'dr-a', source: 'camera', fromNode: 'node-a' });
    expect(a.pipes.transportCount).toBe(1);
    expect(b.pipes.transportCount).toBe(1);

    const rx = await plainReceiver(b.media.router, copy.id);
    try {
      await expect.poll(() => rx.stats.rtp, { timeout: 10_000 }).toBeGreaterThan(30);

      const before = await producerPlis(camera);
      await rx.consumer.requestKeyFrame();
      await expect.poll(() => producerPlis(camera), { timeout: 5_000 }).toBeGreaterThan(before);

      await camera.pause();
      await expect.poll(() => copy.paused).toBe(true);
      const paused = rx.stats.rtp;
      await new Promise((r) => setTimeout(r, 500));
      expect(rx.stats.rtp - paused).toBeLessThan(5); // packets in flight at most
      await camera.resume();
      await expect.poll(() => copy.paused).toBe(false);
      await expect.poll(() => rx.stats.rtp, { timeout: 5_000 }).toBeGreaterThan(paused + 10);
    } finally {
      rx.close();
    }

    // B no longer needs it: A stops sending, and the pipe, now empty, closes on both nodes.
    b.pipes.releaseImported(ROOM, copy.id, 'node-a');
    expect(copy.closed).toBe(true);
    await expect.poll(() => a.pipes.transportCount).toBe(0);
    await expect.poll(() => b.pipes.transportCount).toBe(0);
    expect(camera.closed).toBe(false);
  });

  it("closes B's copy when A's producer closes", async () => {
    const mic = publisher.peer.media.trackBySource('microphone')!.producer;
    const imported = new Promise<types.Producer>((resolve) =>
      b.pipes.once('producerImported', (_room, p) => resolve(p)),
    );
    await a.pipes.exportProducer(ROOM, mic, link);
    const copy = await imported;
    expect(copy.kind).toBe('audio');
    mic.close();
    await expect.poll(() => copy.closed).toBe(true);
    await expect.poll(() => a.pipes.transportCount).toBe(0);
    await expect.poll(() => b.pipes.transportCount).toBe(0);
  });
});
