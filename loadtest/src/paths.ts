/**
 * A media path: one server transport as a synthetic participant sees it. The
 * participant hands it clear RTP/RTCP and gets clear RTP/RTCP back; how the
 * packets travel (plain UDP with SDES-keyed SRTP in `rtp` mode, ICE + DTLS-SRTP
 * in `webrtc` mode, see webrtc.ts) stays behind this interface, so the same
 * publishers and receivers measure both modes.
 */
import { createSocket, type Socket } from 'node:dgram';
import { LoadTestError } from './errors.js';
import { isRtcp } from './rtp/rtp.js';
import { SrtpContext, randomSrtpParameters, type SrtpSuite } from './rtp/srtp.js';
import type { SfuSession } from './sfu.js';
import type { ReceiveThreads } from './recvThreads.js';

export const MEDIA_MODES = ['rtp', 'webrtc'] as const;
export type MediaMode = (typeof MEDIA_MODES)[number];

export interface MediaPath {
  readonly transportId: string;
  readonly direction: 'send' | 'recv';
  /** Settles when media can flow (at once for plain transports; after ICE and DTLS for WebRTC ones). */
  readonly connected: Promise<void>;
  /** Protects (when keyed) and sends one clear RTP or RTCP packet; drops it while not connected. */
  send(packet: Buffer): void;
  /** Clear RTP or RTCP from the server, stamped with performance.now() at arrival. */
  onPacket: ((packet: Buffer, rtcp: boolean, at: number) => void) | undefined;
  close(): void;
}

/** Where paths report what goes wrong (the run's Collector). */
export interface PathSink {
  srtpFailures: number;
  noteError(message: string): void;
}

/** Load traffic may only go to this machine: anything else is refused before a packet leaves. */
export function assertLoopback(ip: string, what: string): void {
  if (!(ip.startsWith('127.') || ip === '::1')) {
    throw new LoadTestError(
      'UNSAFE_TARGET',
      `${what} is ${ip}; the load generator only sends media to loopback addresses (run it on the server's machine)`,
    );
  }
}

/** Encrypts, decrypts and counts for one keyed (or clear) path; shared by both modes. */
export class SrtpPair {
  readonly #out: SrtpContext | undefined;
  readonly #in: SrtpContext | undefined;
  readonly #sink: PathSink;

  constructor(out: SrtpContext | undefined, inbound: SrtpContext | undefined, sink: PathSink) {
    this.#out = out;
    this.#in = inbound;
    this.#sink = sink;
  }

  protect(packet: Buffer): Buffer {
    if (!this.#out) return packet;
    return isRtcp(packet) ? this.#out.protectRtcp(packet) : this.#out.protectRtp(packet);
  }

  /** The clear packet, or undefined (counted) when authentication fails. */
  unprotect(raw: Buffer, rtcp: boolean): Buffer | undefined {
    if (!this.#in) return raw;
    try {
      return rtcp ? this.#in.unprotectRtcp(raw) : this.#in.unprotectRtp(raw);
    } catch {
      this.#sink.srtpFailures++;
      return undefined;
    }
  }
}

/** `rtp` mode: a plain transport (rtcp-mux, comedia for senders), optionally SDES-keyed SRTP. */
class PlainPath implements MediaPath {
  readonly transportId: string;
  readonly direction: 'send' | 'recv';
  readonly connected = Promise.resolve();
  onPacket: ((packet: Buffer, rtcp: boolean, at: number) => void) | undefined;
  readonly #socket: Socket;
  readonly #srtp: SrtpPair;
  readonly #sink: PathSink;
  #closed = false;

  constructor(transportId: string, direction: 'send' | 'recv', socket: Socket, srtp: SrtpPair, sink: PathSink) {
    this.transportId = transportId;
    this.direction = direction;
    this.#socket = socket;
    this.#srtp = srtp;
    this.#sink = sink;
    socket.on('message', (raw) => {
      const at = performance.now();
      const rtcp = isRtcp(raw);
      const clear = this.#srtp.unprotect(raw, rtcp);
      if (clear) this.onPacket?.(clear, rtcp, at);
    });
  }

  send(packet: Buffer): void {
    if (this.#closed) return;
    this.#socket.send(this.#srtp.protect(packet), this.#onSent);
  }

  /** One callback for every send, not a closure per packet. */
  readonly #onSent = (err: Error | null): void => {
    // A full socket buffer or a closed transport: the packet is lost, which the receivers count.
    if (err && !this.#closed) this.#sink.noteError(`send failed: ${err.message}`);
  };

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#socket.close();
  }
}

export async function openPlainPath(
  session: SfuSession,
  direction: 'send' | 'recv',
  srtp: boolean,
  suite: SrtpSuite,
  sink: PathSink,
  threads?: ReceiveThreads,
): Promise<MediaPath> {
  const t = await session.createPlainTransport(direction, srtp, suite);
  assertLoopback(t.ip, 'the server media address');
  if (direction === 'recv' && threads) return openThreadedRecv(session, t, srtp, suite, threads);
  const socket = await bindUdp();
  try {
    socket.connect(t.port, t.ip);
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    const ours = srtp ? randomSrtpParameters(suite) : undefined;
    const pair = srtp
      ? new SrtpPair(new SrtpContext(ours!), new SrtpContext(serverSrtp(t, suite)), sink)
      : new SrtpPair(undefined, undefined, sink);
    const path = new PlainPath(t.id, direction, socket, pair, sink);
    await session.connectPlainTransport(t.id, '127.0.0.1', socket.address().port, ours);
    return path;
  } catch (err) {
    socket.close();
    throw err;
  }
}

/** A receiver's plain transport whose socket a receive thread owns (arrival stamped off the main loop). */
async function openThreadedRecv(
  session: SfuSession,
  t: Awaited<ReturnType<SfuSession['createPlainTransport']>>,
  srtp: boolean,
  suite: SrtpSuite,
  threads: ReceiveThreads,
): Promise<MediaPath> {
  const ours = srtp ? randomSrtpParameters(suite) : undefined;
  if (srtp) serverSrtp(t, suite);
  const { path, localPort } = await threads.open(t.id, t.ip, t.port, srtp ? t.srtpParameters : undefined, ours);
  try {
    await session.connectPlainTransport(t.id, '127.0.0.1', localPort, ours);
  } catch (err) {
    path.close();
    throw err;
  }
  return path;
}

/** The SRTP parameters the server keyed a load-test transport with, refused unless they are the suite asked for. */
function serverSrtp(
  t: Awaited<ReturnType<SfuSession['createPlainTransport']>>,
  suite: SrtpSuite,
): NonNullable<Awaited<ReturnType<SfuSession['createPlainTransport']>>['srtpParameters']> {
  if (!t.srtpParameters)
    throw new LoadTestError('SERVER_REFUSED', 'the server did not offer SRTP on the load-test transport');
  if (t.srtpParameters.cryptoSuite !== suite)
    throw new LoadTestError(
      'SERVER_REFUSED',
      `the server keyed the load-test transport with ${t.srtpParameters.cryptoSuite}, not ${suite}`,
    );
  return t.srtpParameters;
}

function bindUdp(): Promise<Socket> {
  const socket = createSocket({ type: 'udp4', recvBufferSize: 1 << 20, sendBufferSize: 1 << 20 });
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => {
      socket.off('error', reject);
      socket.on('error', () => undefined);
      resolve(socket);
    });
  });
}
