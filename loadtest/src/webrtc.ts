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
 * are used: load never leaves this machine.
 */
import { X509Certificate, createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import {
  Candidate,
  CipherContext,
  Connection,
  DtlsClient,
  HashAlgorithm,
  NamedCurveAlgorithm,
  SignatureAlgorithm,
  type SignatureHash,
} from 'werift';
import { LoadTestError } from './errors.js';
import { assertLoopback, SrtpPair, type MediaPath, type PathSink } from './paths.js';
import { isRtcp } from './rtp/rtp.js';
import { SrtpContext, srtpKeyLengths, type SrtpSuite } from './rtp/srtp.js';
import type { SfuSession, TransportTiming, WebRtcTransportInfo } from './sfu.js';

/** DTLS-SRTP protection profiles (RFC 5764 §4.1.2, RFC 7714 §14.2) for the suites the generator speaks. */
export const DTLS_SRTP_PROFILES: Record<SrtpSuite, number | undefined> = {
  AEAD_AES_128_GCM: 0x0007,
  // werift's DTLS (0.22) negotiates only profiles 1 and 7.
  AEAD_AES_256_GCM: undefined,
  AES_CM_128_HMAC_SHA1_80: 0x0001,
};
const ICE_TIMEOUT_MS = 10_000;
const DTLS_TIMEOUT_MS = 10_000;

/** This generator's DTLS certificate (ECDSA P-256, self-signed, as browsers make them), shared by its transports. */
export interface WebRtcIdentity {
  certPem: string;
  keyPem: string;
  signatureHash: SignatureHash;
  fingerprint: { algorithm: 'sha-256'; value: string };
}

export async function createWebRtcIdentity(): Promise<WebRtcIdentity> {
  const { certPem, keyPem, signatureHash } = await CipherContext.createSelfSignedCertificateWithKey(
    { signature: SignatureAlgorithm.ecdsa_3, hash: HashAlgorithm.sha256_4 },
    NamedCurveAlgorithm.secp256r1_23,
  );
  return {
    certPem,
    keyPem,
    signatureHash,
    fingerprint: { algorithm: 'sha-256', value: new X509Certificate(certPem).fingerprint256 },
  };
}

/** SHA-256 fingerprint of a DER certificate in SDP form (upper-case hex pairs joined by ':'). */
export function sha256Fingerprint(der: Buffer): string {
  return createHash('sha256')
    .update(der)
    .digest('hex')
    .toUpperCase()
    .replace(/(..)(?!$)/g, '$1:');
}

interface ServerCandidate {
  foundation: string;
  priority: number;
  ip: string;
  port: number;
}

/** The server's UDP candidates, every one of them on loopback (else the run stops here). */
export function loopbackUdpCandidates(info: WebRtcTransportInfo): ServerCandidate[] {
  const out: ServerCandidate[] = [];
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

/** Bounds a step; the message says which one timed out. */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
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
  /** What DtlsClient reads from: werift's transport shape, fed by the ICE connection. */
  #dtlsIn: ((data: Buffer, addr: [string, number]) => void) | undefined;
  #srtp: SrtpPair | undefined;
  #closed = false;

  constructor(
    session: SfuSession,
    info: WebRtcTransportInfo,
    identity: WebRtcIdentity,
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
    candidates: ServerCandidate[],
    expectedFingerprint: string,
    identity: WebRtcIdentity,
    suite: SrtpSuite,
  ): Promise<void> {
    const profile = DTLS_SRTP_PROFILES[suite];
    if (profile === undefined)
      throw new LoadTestError('SETUP_FAILED', `webrtc mode cannot offer ${suite}: werift's DTLS does not negotiate it`);
    const iceParams = info.iceParameters as { usernameFragment?: string; password?: string; iceLite?: boolean };
    if (!iceParams.usernameFragment || !iceParams.password)
      throw new LoadTestError('SERVER_REFUSED', 'the server sent no ICE username fragment or password');

    // ICE: one host candidate on loopback, the server's candidates, then checks and nomination.
    const ice = new Connection(true, {
      useIpv4: false,
      useIpv6: false,
      additionalHostAddresses: ['127.0.0.1'],
      interfaceAddresses: { udp4: '127.0.0.1' },
    });
    // The agent defaults to a public STUN server for a reflexive candidate; nothing may leave this machine.
    ice.stunServer = undefined;
    ice.turnServer = undefined;
    this.#ice = ice;
    ice.setRemoteParams({
      iceLite: iceParams.iceLite ?? true,
      usernameFragment: iceParams.usernameFragment,
      password: iceParams.password,
    });
    ice.onData.subscribe((buf) => this.#onData(buf));
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
    for (const c of candidates)
      await ice.addRemoteCandidate(new Candidate(c.foundation, 1, 'udp', c.priority, c.ip, c.port, 'host'));
    await ice.addRemoteCandidate(undefined);
    const iceStart = now();
    const checked = ice.connect();
    try {
      await within(checked, ICE_TIMEOUT_MS, `ICE on the ${this.direction} transport`);
    } catch (err) {
      checked.catch(() => undefined);
      throw err;
    }
    this.#timing.iceMs = now() - iceStart;
    if (this.#closed) return;
    ice.stateChanged.subscribe((state) => {
      if (this.#closed || (state !== 'disconnected' && state !== 'closed')) return;
      this.#timing.iceLost = (this.#timing.iceLost ?? 0) + 1;
      this.#sink.noteError(`ICE ${state} on a ${this.direction} transport (consent check unanswered)`);
    });

    // DTLS as the client over the nominated pair.
    const dtlsStart = now();
    const dtls = new DtlsClient({
      transport: {
        type: 'ice',
        address: {} as AddressInfo,
        closed: false,
        onData: () => undefined,
        send: (data: Buffer) => ice.send(data),
        close: async () => undefined,
      },
      cert: identity.certPem,
      key: identity.keyPem,
      signatureHash: identity.signatureHash,
      // Only the configured suite is offered, so the figures are known to be for it.
      srtpProfiles: [profile as 1 | 7],
      extendedMasterSecret: true,
    });
    this.#dtls = dtls;
    this.#dtlsIn = (data, addr) => dtls.transport.socket.onData(data, addr);
    const handshake = new Promise<void>((resolve, reject) => {
      dtls.onConnect.once(() => resolve());
      dtls.onError.once((err) =>
        reject(new LoadTestError('SERVER_REFUSED', `DTLS on the ${this.direction} transport failed: ${err.message}`)),
      );
      dtls
        .connect()
        .catch((err: unknown) =>
          reject(
            new LoadTestError(
              'SERVER_REFUSED',
              `DTLS on the ${this.direction} transport failed: ${(err as Error).message}`,
            ),
          ),
        );
    });
    await within(handshake, DTLS_TIMEOUT_MS, `the DTLS handshake on the ${this.direction} transport`);
    if (this.#closed) return;
    const remoteCert = dtls.cipher.remoteCertificate;
    if (!remoteCert) throw new LoadTestError('SERVER_REFUSED', 'the server presented no DTLS certificate');
    const got = sha256Fingerprint(remoteCert);
    if (got !== expectedFingerprint) {
      throw new LoadTestError(
        'SERVER_REFUSED',
        `the server's DTLS certificate (sha-256 ${got}) does not match the fingerprint signaling announced (${expectedFingerprint})`,
      );
    }
    if (dtls.srtp.srtpProfile !== profile) {
      throw new LoadTestError(
        'SERVER_REFUSED',
        `the server chose SRTP profile ${String(dtls.srtp.srtpProfile)}, not ${suite}`,
      );
    }
    const lengths = srtpKeyLengths(suite);
    const keys = dtls.extractSessionKeys(lengths.key, lengths.salt) as {
      localKey: Buffer;
      localSalt: Buffer;
      remoteKey: Buffer;
      remoteSalt: Buffer;
    };
    const ctx = (key: Buffer, salt: Buffer) =>
      new SrtpContext({ cryptoSuite: suite, keyBase64: Buffer.concat([key, salt]).toString('base64') });
    this.#srtp = new SrtpPair(ctx(keys.localKey, keys.localSalt), ctx(keys.remoteKey, keys.remoteSalt), this.#sink);
    dtls.onClose.subscribe(() => {
      if (!this.#closed) this.#sink.noteError(`the server closed DTLS on a ${this.direction} transport`);
    });
    const at = now();
    this.#timing.dtlsMs = at - dtlsStart;
    this.#timing.connectedAt = at;
  }

  /** Everything the ICE connection receives that is not STUN: DTLS records (first byte 20–63) or SRTP/SRTCP (128–191). */
  #onData(buf: Buffer): void {
    const first = buf[0] ?? 0;
    if (first >= 20 && first <= 63) {
      this.#dtlsIn?.(buf, ['127.0.0.1', 0]);
      return;
    }
    if (first < 128 || first > 191 || !this.#srtp) return;
    const at = now();
    const rtcp = isRtcp(buf);
    const clear = this.#srtp.unprotect(buf, rtcp);
    if (clear) this.onPacket?.(clear, rtcp, at);
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
    try {
      this.#dtls?.close();
    } catch {
      // already gone
    }
    this.#ice?.close().catch(() => undefined);
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
  identity: WebRtcIdentity,
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
