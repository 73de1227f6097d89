/**
 * `webrtc` mode: a real WebRTC transport to Huizhen's media worker, connected
 * the way a browser connects: ICE with this side controlling and the server
 * ICE-lite (werift's ICE agent, regular nomination, consent checks), DTLS 1.2
 * with this side as the client (werift's DTLS stack), the server's certificate
 * checked against the fingerprint signaling announced, and SRTP
 * AES_CM_128_HMAC_SHA1_80 keyed from the DTLS exporter (RFC 5764). The packets
 * themselves go through the same SRTP code and the same synthetic publishers
 * and receivers as `rtp` mode, so the two modes measure the same media.
 *
 * Only loopback candidates are gathered and only loopback server candidates
 * are used: load never leaves this machine. The werift steps themselves are
 * in webrtcPeer.ts, shared with the Janus driver.
 */
import type { Connection, DtlsClient } from 'werift';
import { LoadTestError } from './errors.js';
import { assertLoopback, type MediaPath, type PathSink, type SrtpPair } from './paths.js';
import type { SrtpSuite } from './rtp/srtp.js';
import type { SfuSession, TransportTiming, WebRtcTransportInfo } from './sfu.js';
import * as peer from './webrtcPeer.js';

const ICE_TIMEOUT_MS = 10_000;
const DTLS_TIMEOUT_MS = 10_000;

/** The server's UDP candidates, every one of them on loopback (else the run stops here). */
export function loopbackUdpCandidates(info: WebRtcTransportInfo): peer.HostCandidate[] {
  const out: peer.HostCandidate[] = [];
  for (const c of info.iceCandidates) {
    const protocol = c.protocol;
    const ip = typeof c.address === 'string' ? c.address : typeof c.ip === 'string' ? c.ip : '';
    const port = typeof c.port === 'number' ? c.port : 0;
    if (protocol !== 'udp') continue;
    assertLoopback(ip, 'the server ICE candidate');
    if (port < 1 || port > 65535) continue;
    out.push({ foundation: String(c.foundation ?? 'udp'), priority: Number(c.priority ?? 1), ip, port });
  }
  if (out.length === 0)
    throw new LoadTestError('SERVER_REFUSED', 'the server offered no UDP ICE candidate for the WebRTC transport');
  return out;
}

function serverFingerprint(info: WebRtcTransportInfo): string {
  const fps = (info.dtlsParameters.fingerprints as { algorithm?: string; value?: string }[] | undefined) ?? [];
  const fp = fps.find((f) => f.algorithm === 'sha-256')?.value;
  if (!fp) throw new LoadTestError('SERVER_REFUSED', 'the server announced no sha-256 DTLS fingerprint');
  return fp.toUpperCase();
}

const now = () => performance.now();

class WebRtcPath implements MediaPath {
  readonly transportId: string;
  readonly direction: 'send' | 'recv';
  readonly connected: Promise<void>;
  onPacket: ((packet: Buffer, rtcp: boolean, at: number) => void) | undefined;
  readonly #sink: PathSink;
  readonly #timing: TransportTiming;
  #ice: Connection | undefined;
  #dtls: DtlsClient | undefined;
  #srtp: SrtpPair | undefined;
  #closed = false;

  constructor(
    session: SfuSession,
    info: WebRtcTransportInfo,
    identity: peer.WebRtcIdentity,
    suite: SrtpSuite,
    sink: PathSink,
    timing: TransportTiming,
  ) {
    this.transportId = info.id;
    this.direction = timing.direction;
    this.#sink = sink;
    this.#timing = timing;
    // Checked before anything is sent: a non-loopback candidate or a missing fingerprint stops the join here.
    const candidates = loopbackUdpCandidates(info);
    const fingerprint = serverFingerprint(info);
    this.connected = this.#connect(session, info, candidates, fingerprint, identity, suite);
    // The participant awaits this later; until then a failure must not count as unhandled.
    this.connected.catch(() => undefined);
  }

  async #connect(
    session: SfuSession,
    info: WebRtcTransportInfo,
    candidates: peer.HostCandidate[],
    expectedFingerprint: string,
    identity: peer.WebRtcIdentity,
    suite: SrtpSuite,
  ): Promise<void> {
    const profile = peer.dtlsSrtpProfile(suite);
    const iceParams = info.iceParameters as { usernameFragment?: string; password?: string; iceLite?: boolean };
    if (!iceParams.usernameFragment || !iceParams.password)
      throw new LoadTestError('SERVER_REFUSED', 'the server sent no ICE username fragment or password');

    // ICE: one host candidate on loopback, the server's candidates, then checks and nomination.
    const ice = peer.hostOnlyIce('127.0.0.1');
    this.#ice = ice;
    ice.setRemoteParams({
      iceLite: iceParams.iceLite ?? true,
      usernameFragment: iceParams.usernameFragment,
      password: iceParams.password,
    });
    ice.onData.subscribe((buf) => peer.demux(buf, this.#dtls, this.#srtp, this.onPacket));
    const gathered = ice.gatherCandidates();
    gathered.catch(() => undefined);
    // The server learns our DTLS role and certificate first, and ICE starts once it has answered, as a
    // browser with the SDK does (its handler awaits connectTransport before setLocalDescription). Were ICE
    // to complete first, the worker would start DTLS in its default role and Huizhen would then refuse
    // connectTransport as "already connected".
    const signalStart = now();
    await session.connectWebRtcTransport(info.id, { role: 'client', fingerprints: [identity.fingerprint] });
    this.#timing.connectMs = now() - signalStart;
    await gathered;
    if (this.#closed) return;
    if (ice.localCandidates.length === 0)
      throw new LoadTestError('SETUP_FAILED', 'could not bind a UDP socket on 127.0.0.1 for ICE');
    this.#timing.iceMs = await peer.checkIce(ice, candidates, ICE_TIMEOUT_MS, `ICE on the ${this.direction} transport`);
    if (this.#closed) return;
    peer.countIceLoss(
      ice,
      this.#timing,
      () => this.#closed,
      (state) => this.#sink.noteError(`ICE ${state} on a ${this.direction} transport (consent check unanswered)`),
    );

    // DTLS as the client over the nominated pair.
    const dtlsStart = now();
    const dtls = peer.dtlsOverIce(ice, identity, profile);
    this.#dtls = dtls;
    await peer.dtlsHandshake(
      dtls,
      DTLS_TIMEOUT_MS,
      `the DTLS handshake on the ${this.direction} transport`,
      (message) => `DTLS on the ${this.direction} transport failed: ${message}`,
    );
    if (this.#closed) return;
    this.#srtp = peer.srtpFromDtls(dtls, suite, profile, expectedFingerprint, this.#sink, {
      peer: 'the server',
      peers: "the server's",
      announced: 'the fingerprint signaling announced',
    });
    dtls.onClose.subscribe(() => {
      if (!this.#closed) this.#sink.noteError(`the server closed DTLS on a ${this.direction} transport`);
    });
    const at = now();
    this.#timing.dtlsMs = at - dtlsStart;
    this.#timing.connectedAt = at;
  }

  send(packet: Buffer): void {
    if (this.#closed || !this.#srtp || !this.#ice) return;
    this.#ice.send(this.#srtp.protect(packet)).catch(this.#onSendFailed);
  }

  /** One handler for every send, not a closure per packet. */
  readonly #onSendFailed = (err: unknown): void => {
    if (!this.#closed) this.#sink.noteError(`send failed: ${(err as Error).message}`);
  };

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    peer.closePeer(this.#dtls, this.#ice);
  }
}

/**
 * Creates the server transport and starts ICE + DTLS in the background: the
 * path is returned as soon as signaling answered, `connected` settles when
 * SRTP can flow (so the participant publishes and subscribes meanwhile, as a
 * browser does).
 */
export async function openWebRtcPath(
  session: SfuSession,
  direction: 'send' | 'recv',
  identity: peer.WebRtcIdentity,
  suite: SrtpSuite,
  sink: PathSink,
  timings: TransportTiming[],
): Promise<MediaPath> {
  const requested = now();
  const info = await session.createWebRtcTransport(direction);
  const timing: TransportTiming = { direction, createMs: now() - requested };
  timings.push(timing);
  return new WebRtcPath(session, info, identity, suite, sink, timing);
}
