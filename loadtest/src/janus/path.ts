/**
 * A WebRTC media path to Janus, with Janus' ordering: the generator's ICE
 * credentials and host candidate exist before any SDP (they go into the
 * publisher's offer or the subscriber's answer), Janus' credentials,
 * candidates and fingerprint come from its SDP. Then ICE (werift, this side
 * controlling, Janus ICE-lite), DTLS 1.2 as the client (werift's DtlsClient,
 * Janus' certificate checked against its SDP fingerprint) and SRTP keyed from
 * the DTLS exporter through the generator's own SRTP code (SrtpPair), as
 * webrtc.ts does for Huizhen.
 */
import type { AddressInfo } from 'node:net';
import { Candidate, Connection, DtlsClient } from 'werift';
import { LoadTestError } from '../errors.js';
import { assertLoopback, SrtpPair, type MediaPath, type PathSink } from '../paths.js';
import { isRtcp } from '../rtp/rtp.js';
import { SrtpContext, srtpKeyLengths, type SrtpSuite } from '../rtp/srtp.js';
import type { TransportTiming } from '../sfu.js';
import { DTLS_SRTP_PROFILES, sha256Fingerprint, type WebRtcIdentity } from '../webrtc.js';
import type { LocalIce, RemoteDescription } from './sdp.js';

const STEP_TIMEOUT_MS = 10_000;
const now = () => performance.now();

function within<T>(p: Promise<T>, what: string, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new LoadTestError('SERVER_REFUSED', `${what} did not complete within ${ms / 1000} s`)),
      ms,
    );
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}

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
  readonly #identity: WebRtcIdentity;
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
    identity: WebRtcIdentity,
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
    const ice = new Connection(true, {
      useIpv4: false,
      useIpv6: false,
      additionalHostAddresses: [bindIp],
      interfaceAddresses: { udp4: bindIp },
    });
    // Nothing may leave this machine: no public STUN server for a reflexive candidate.
    ice.stunServer = undefined;
    ice.turnServer = undefined;
    ice.onData.subscribe((buf) => this.#onData(buf));
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
    const profile = DTLS_SRTP_PROFILES[this.#suite];
    if (profile === undefined)
      throw new LoadTestError(
        'SETUP_FAILED',
        `webrtc mode cannot offer ${this.#suite}: werift's DTLS does not negotiate it`,
      );
    const candidates = remote.candidates.filter((c) => c.component === 1);
    const local = this.#localIceIp;
    for (const c of candidates) if (c.ip !== local) assertLoopback(c.ip, 'the janus ICE candidate');
    if (candidates.length === 0) throw new LoadTestError('SERVER_REFUSED', 'janus offered no UDP ICE candidate');
    const ice = this.#ice;
    ice.setRemoteParams({ iceLite: remote.iceLite, usernameFragment: remote.ufrag, password: remote.pwd });
    await this.#gathered;
    for (const c of candidates)
      await ice.addRemoteCandidate(new Candidate(c.foundation, 1, 'udp', c.priority, c.ip, c.port, 'host'));
    await ice.addRemoteCandidate(undefined);
    const iceStart = now();
    const checked = ice.connect();
    checked.catch(() => undefined);
    await within(checked, `ICE with janus on the ${this.direction} path`, this.#stepTimeoutMs);
    this.timing.iceMs = now() - iceStart;
    if (this.#closed) return;
    ice.stateChanged.subscribe((state) => {
      if (this.#closed || (state !== 'disconnected' && state !== 'closed')) return;
      this.timing.iceLost = (this.timing.iceLost ?? 0) + 1;
      this.#sink.noteError(`ICE ${state} on a janus ${this.direction} path (consent check unanswered)`);
    });

    const dtlsStart = now();
    const id = this.#identity;
    const dtls = new DtlsClient({
      transport: {
        type: 'ice',
        address: {} as AddressInfo,
        closed: false,
        onData: () => undefined,
        send: (data: Buffer) => ice.send(data),
        close: async () => undefined,
      },
      cert: id.certPem,
      key: id.keyPem,
      signatureHash: id.signatureHash,
      srtpProfiles: [profile as 1 | 7],
      extendedMasterSecret: true,
    });
    this.#dtls = dtls;
    const failed = (err: unknown) =>
      new LoadTestError(
        'SERVER_REFUSED',
        `DTLS with janus on the ${this.direction} path failed: ${(err as Error).message}`,
      );
    const handshake = new Promise<void>((resolve, reject) => {
      dtls.onConnect.once(() => resolve());
      dtls.onError.once((err) => reject(failed(err)));
      dtls.connect().catch((err: unknown) => reject(failed(err)));
    });
    await within(handshake, `the DTLS handshake with janus on the ${this.direction} path`, this.#stepTimeoutMs);
    if (this.#closed) return;
    const cert = dtls.cipher.remoteCertificate;
    if (!cert) throw new LoadTestError('SERVER_REFUSED', 'janus presented no DTLS certificate');
    const got = sha256Fingerprint(cert);
    if (got !== remote.fingerprint)
      throw new LoadTestError(
        'SERVER_REFUSED',
        `janus' DTLS certificate (sha-256 ${got}) does not match its SDP fingerprint (${remote.fingerprint})`,
      );
    if (dtls.srtp.srtpProfile !== profile)
      throw new LoadTestError(
        'SERVER_REFUSED',
        `janus chose SRTP profile ${String(dtls.srtp.srtpProfile)}, not ${this.#suite}`,
      );
    const lengths = srtpKeyLengths(this.#suite);
    const keys = dtls.extractSessionKeys(lengths.key, lengths.salt) as {
      localKey: Buffer;
      localSalt: Buffer;
      remoteKey: Buffer;
      remoteSalt: Buffer;
    };
    const ctx = (key: Buffer, salt: Buffer) =>
      new SrtpContext({ cryptoSuite: this.#suite, keyBase64: Buffer.concat([key, salt]).toString('base64') });
    this.#srtp = new SrtpPair(ctx(keys.localKey, keys.localSalt), ctx(keys.remoteKey, keys.remoteSalt), this.#sink);
    dtls.onClose.subscribe(() => {
      if (!this.#closed) this.#sink.noteError(`janus closed DTLS on a ${this.direction} path`);
    });
    const at = now();
    this.timing.dtlsMs = at - dtlsStart;
    this.timing.connectedAt = at;
  }

  /** DTLS records (first byte 20–63) go to the DTLS client, SRTP/SRTCP (128–191) is unprotected. */
  #onData(buf: Buffer): void {
    const first = buf[0] ?? 0;
    if (first >= 20 && first <= 63) {
      this.#dtls?.transport.socket.onData(buf, ['127.0.0.1', 0]);
      return;
    }
    if (first < 128 || first > 191 || !this.#srtp) return;
    const at = now();
    const rtcp = isRtcp(buf);
    const clear = this.#srtp.unprotect(buf, rtcp);
    if (clear) this.onPacket?.(clear, rtcp, at);
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
    try {
      this.#dtls?.close();
    } catch {
      // already gone
    }
    this.#ice.close().catch(() => undefined);
  }
}
