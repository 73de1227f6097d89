/**
 * A WebRTC media path to Janus, with Janus' ordering: the generator's ICE
 * credentials and host candidate exist before any SDP (they go into the
 * publisher's offer or the subscriber's answer), Janus' credentials,
 * candidates and fingerprint come from its SDP. Then ICE (werift, this side
 * controlling, Janus ICE-lite), DTLS 1.2 as the client (werift's DtlsClient,
 * Janus' certificate checked against its SDP fingerprint) and SRTP keyed from
 * the DTLS exporter through the generator's own SRTP code (SrtpPair), with
 * the same werift steps (webrtcPeer.ts) as webrtc.ts uses for Huizhen.
 */
import type { Connection, DtlsClient } from 'werift';
import { LoadTestError } from '../errors.js';
import { assertLoopback, type MediaPath, type PathSink, type SrtpPair } from '../paths.js';
import type { SrtpSuite } from '../rtp/srtp.js';
import type { TransportTiming } from '../sfu.js';
import * as peer from '../webrtcPeer.js';
import type { LocalIce, RemoteDescription } from './sdp.js';

const STEP_TIMEOUT_MS = 10_000;
const now = () => performance.now();

export class JanusPath implements MediaPath {
  readonly transportId: string;
  readonly direction: 'send' | 'recv';
  /**
   * Send path: settles when SRTP can flow. Recv path: at once — Janus' subscriber PeerConnection exists only
   * once the feeds it subscribes to are published, and a room's first participant finishes joining before
   * anyone else publishes (as it does with Huizhen, whose recv transport connects without consumers);
   * `established` settles when it is up, a failure is reported to the sink (the stalled-track check sees it).
   */
  readonly connected: Promise<void>;
  readonly established: Promise<void>;
  onPacket: ((packet: Buffer, rtcp: boolean, at: number) => void) | undefined;
  readonly timing: TransportTiming;
  readonly #sink: PathSink;
  readonly #identity: peer.WebRtcIdentity;
  readonly #suite: SrtpSuite;
  readonly #ice: Connection;
  readonly #gathered: Promise<void>;
  #dtls: DtlsClient | undefined;
  #srtp: SrtpPair | undefined;
  #closed = false;
  #resolveConnected!: () => void;
  #rejectConnected!: (err: Error) => void;

  readonly #localIceIp: string | undefined;
  readonly #stepTimeoutMs: number;

  /**
   * @param localIceIp the one non-loopback address of this machine Janus may offer (see process.ts).
   * @param stepTimeoutMs how long ICE and the DTLS handshake may each take (longer for a janus under valgrind).
   */
  constructor(
    id: string,
    direction: 'send' | 'recv',
    identity: peer.WebRtcIdentity,
    suite: SrtpSuite,
    sink: PathSink,
    localIceIp?: string,
    stepTimeoutMs = STEP_TIMEOUT_MS,
  ) {
    this.#localIceIp = localIceIp;
    this.#stepTimeoutMs = stepTimeoutMs;
    this.transportId = id;
    this.direction = direction;
    this.#identity = identity;
    this.#suite = suite;
    this.#sink = sink;
    this.timing = { direction, createMs: 0 };
    this.established = new Promise<void>((resolve, reject) => {
      this.#resolveConnected = resolve;
      this.#rejectConnected = reject;
    });
    this.established.catch((err: unknown) => {
      if (direction === 'recv' && !this.#closed) sink.noteError(`janus subscriber: ${(err as Error).message}`);
    });
    this.connected = direction === 'recv' ? Promise.resolve() : this.established;
    // The generator's candidate is on the same local address as Janus' (here, Janus answered no check sent
    // from 127.0.0.1 to that address), so both ends stay on this host.
    const bindIp = localIceIp ?? '127.0.0.1';
    const ice = peer.hostOnlyIce(bindIp);
    ice.onData.subscribe((buf) => peer.demux(buf, this.#dtls, this.#srtp, this.onPacket));
    this.#ice = ice;
    this.#gathered = ice.gatherCandidates();
    this.#gathered.catch(() => undefined);
  }

  /** The generator's ICE credentials, host candidate and certificate fingerprint, for its SDP. */
  async local(): Promise<LocalIce> {
    await this.#gathered;
    const host = this.#ice.localCandidates[0];
    if (!host)
      throw new LoadTestError(
        'SETUP_FAILED',
        `could not bind a UDP socket on ${this.#localIceIp ?? '127.0.0.1'} for ICE`,
      );
    return {
      ufrag: this.#ice.localUsername,
      pwd: this.#ice.localPassword,
      ip: host.host,
      port: host.port,
      fingerprint: this.#identity.fingerprint.value.toUpperCase(),
    };
  }

  /** Failures before start() (signaling) end the path too. */
  fail(err: Error): void {
    this.#rejectConnected(err);
  }

  /** ICE + DTLS against Janus' description; `connected` settles with the outcome. */
  start(remote: RemoteDescription): void {
    this.#connect(remote).then(
      () => this.#resolveConnected(),
      (err: unknown) => this.#rejectConnected(err instanceof Error ? err : new Error(String(err))),
    );
  }

  async #connect(remote: RemoteDescription): Promise<void> {
    const profile = peer.dtlsSrtpProfile(this.#suite);
    const candidates = remote.candidates.filter((c) => c.component === 1);
    const local = this.#localIceIp;
    for (const c of candidates) if (c.ip !== local) assertLoopback(c.ip, 'the janus ICE candidate');
    if (candidates.length === 0) throw new LoadTestError('SERVER_REFUSED', 'janus offered no UDP ICE candidate');
    const ice = this.#ice;
    ice.setRemoteParams({ iceLite: remote.iceLite, usernameFragment: remote.ufrag, password: remote.pwd });
    await this.#gathered;
    this.timing.iceMs = await peer.checkIce(
      ice,
      candidates,
      this.#stepTimeoutMs,
      `ICE with janus on the ${this.direction} path`,
    );
    if (this.#closed) return;
    peer.countIceLoss(
      ice,
      this.timing,
      () => this.#closed,
      (state) => this.#sink.noteError(`ICE ${state} on a janus ${this.direction} path (consent check unanswered)`),
    );

    const dtlsStart = now();
    const dtls = peer.dtlsOverIce(ice, this.#identity, profile);
    this.#dtls = dtls;
    await peer.dtlsHandshake(
      dtls,
      this.#stepTimeoutMs,
      `the DTLS handshake with janus on the ${this.direction} path`,
      (message) => `DTLS with janus on the ${this.direction} path failed: ${message}`,
    );
    if (this.#closed) return;
    this.#srtp = peer.srtpFromDtls(dtls, this.#suite, profile, remote.fingerprint, this.#sink, {
      peer: 'janus',
      peers: "janus'",
      announced: 'its SDP fingerprint',
    });
    dtls.onClose.subscribe(() => {
      if (!this.#closed) this.#sink.noteError(`janus closed DTLS on a ${this.direction} path`);
    });
    const at = now();
    this.timing.dtlsMs = at - dtlsStart;
    this.timing.connectedAt = at;
  }

  send(packet: Buffer): void {
    if (this.#closed || !this.#srtp) return;
    this.#ice.send(this.#srtp.protect(packet)).catch(this.#onSendFailed);
  }

  readonly #onSendFailed = (err: unknown): void => {
    if (!this.#closed) this.#sink.noteError(`send to janus failed: ${(err as Error).message}`);
  };

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#rejectConnected(new LoadTestError('INTERNAL', 'the path was closed'));
    peer.closePeer(this.#dtls, this.#ice);
  }
}
