/**
 * The werift side of a WebRTC media path, shared by the Huizhen driver
 * (webrtc.ts) and the Janus one (janus/path.ts): the generator's DTLS
 * identity, an ICE agent that stays on this machine, the checks against the
 * server's host candidates, the DTLS handshake as the client, the server's
 * certificate and SRTP profile checked, SRTP keyed from the DTLS exporter
 * (RFC 5764) through the generator's own SRTP code, and the split of what
 * arrives into DTLS records and SRTP. Each driver keeps its own ordering of
 * the steps and its own wording of failures.
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
import { SrtpPair, type PathSink } from './paths.js';
import { isRtcp } from './rtp/rtp.js';
import { SrtpContext, srtpKeyLengths, type SrtpSuite } from './rtp/srtp.js';
import type { TransportTiming } from './sfu.js';

/** DTLS-SRTP protection profiles (RFC 5764 §4.1.2, RFC 7714 §14.2) for the suites the generator speaks. */
export const DTLS_SRTP_PROFILES: Record<SrtpSuite, number | undefined> = {
  AEAD_AES_128_GCM: 0x0007,
  // werift's DTLS (0.22) negotiates only profiles 1 and 7.
  AEAD_AES_256_GCM: undefined,
  AES_CM_128_HMAC_SHA1_80: 0x0001,
};

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

/** The DTLS-SRTP profile for `suite`, or a setup error where werift's DTLS cannot negotiate it. */
export function dtlsSrtpProfile(suite: SrtpSuite): number {
  const profile = DTLS_SRTP_PROFILES[suite];
  if (profile === undefined)
    throw new LoadTestError('SETUP_FAILED', `webrtc mode cannot offer ${suite}: werift's DTLS does not negotiate it`);
  return profile;
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

/** A controlling ICE agent whose one host candidate is on `bindIp`. */
export function hostOnlyIce(bindIp: string): Connection {
  const ice = new Connection(true, {
    useIpv4: false,
    useIpv6: false,
    additionalHostAddresses: [bindIp],
    interfaceAddresses: { udp4: bindIp },
  });
  // The agent defaults to a public STUN server for a reflexive candidate; nothing may leave this machine.
  ice.stunServer = undefined;
  ice.turnServer = undefined;
  return ice;
}

/** A server's host candidate (component 1, UDP). */
export interface HostCandidate {
  foundation: string;
  priority: number;
  ip: string;
  port: number;
}

/**
 * Hands the agent the server's candidates, then runs the checks until a pair is nominated, within `ms`.
 * Returns how long the checks took (the transport's iceMs).
 */
export async function checkIce(
  ice: Connection,
  candidates: readonly HostCandidate[],
  ms: number,
  what: string,
): Promise<number> {
  for (const c of candidates)
    await ice.addRemoteCandidate(new Candidate(c.foundation, 1, 'udp', c.priority, c.ip, c.port, 'host'));
  await ice.addRemoteCandidate(undefined);
  const iceStart = now();
  const checked = ice.connect();
  // A timeout leaves the checks running; their later failure must not count as unhandled.
  checked.catch(() => undefined);
  await within(checked, ms, what);
  return now() - iceStart;
}

/** Counts in `timing` each time ICE goes disconnected or closed once up (consent checks unanswered), and reports it. */
export function countIceLoss(
  ice: Connection,
  timing: TransportTiming,
  closed: () => boolean,
  report: (state: string) => void,
): void {
  ice.stateChanged.subscribe((state) => {
    if (closed() || (state !== 'disconnected' && state !== 'closed')) return;
    timing.iceLost = (timing.iceLost ?? 0) + 1;
    report(state);
  });
}

/** A DTLS client over the nominated ICE pair, offering only `profile` so the figures are known to be for it. */
export function dtlsOverIce(ice: Connection, identity: WebRtcIdentity, profile: number): DtlsClient {
  return new DtlsClient({
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
    srtpProfiles: [profile as 1 | 7],
    extendedMasterSecret: true,
  });
}

/** Runs the DTLS handshake within `ms`; `failed` says where a DTLS error happened. */
export async function dtlsHandshake(
  dtls: DtlsClient,
  ms: number,
  what: string,
  failed: (message: string) => string,
): Promise<void> {
  const handshake = new Promise<void>((resolve, reject) => {
    dtls.onConnect.once(() => resolve());
    dtls.onError.once((err) => reject(new LoadTestError('SERVER_REFUSED', failed(err.message))));
    dtls.connect().catch((err: unknown) => reject(new LoadTestError('SERVER_REFUSED', failed((err as Error).message))));
  });
  await within(handshake, ms, what);
}

/** How failures name the server and the fingerprint it announced. */
export interface PeerWording {
  /** 'the server', 'janus'. */
  peer: string;
  /** "the server's", "janus'". */
  peers: string;
  /** Where the expected fingerprint came from: 'the fingerprint signaling announced'. */
  announced: string;
}

/**
 * After the handshake: the server's certificate must match `fingerprint` and it must have chosen `profile`;
 * then SRTP both ways, keyed from the DTLS exporter.
 */
export function srtpFromDtls(
  dtls: DtlsClient,
  suite: SrtpSuite,
  profile: number,
  fingerprint: string,
  sink: PathSink,
  words: PeerWording,
): SrtpPair {
  const remoteCert = dtls.cipher.remoteCertificate;
  if (!remoteCert) throw new LoadTestError('SERVER_REFUSED', `${words.peer} presented no DTLS certificate`);
  const got = sha256Fingerprint(remoteCert);
  if (got !== fingerprint)
    throw new LoadTestError(
      'SERVER_REFUSED',
      `${words.peers} DTLS certificate (sha-256 ${got}) does not match ${words.announced} (${fingerprint})`,
    );
  if (dtls.srtp.srtpProfile !== profile)
    throw new LoadTestError(
      'SERVER_REFUSED',
      `${words.peer} chose SRTP profile ${String(dtls.srtp.srtpProfile)}, not ${suite}`,
    );
  const lengths = srtpKeyLengths(suite);
  const keys = dtls.extractSessionKeys(lengths.key, lengths.salt) as {
    localKey: Buffer;
    localSalt: Buffer;
    remoteKey: Buffer;
    remoteSalt: Buffer;
  };
  const ctx = (key: Buffer, salt: Buffer) =>
    new SrtpContext({ cryptoSuite: suite, keyBase64: Buffer.concat([key, salt]).toString('base64') });
  return new SrtpPair(ctx(keys.localKey, keys.localSalt), ctx(keys.remoteKey, keys.remoteSalt), sink);
}

/**
 * Everything the ICE connection receives that is not STUN: DTLS records (first byte 20–63) go to the DTLS
 * client, SRTP/SRTCP (128–191) is unprotected and handed on, stamped at arrival.
 */
export function demux(
  buf: Buffer,
  dtls: DtlsClient | undefined,
  srtp: SrtpPair | undefined,
  onPacket: ((packet: Buffer, rtcp: boolean, at: number) => void) | undefined,
): void {
  const first = buf[0] ?? 0;
  if (first >= 20 && first <= 63) {
    dtls?.transport.socket.onData(buf, ['127.0.0.1', 0]);
    return;
  }
  if (first < 128 || first > 191 || !srtp) return;
  const at = now();
  const rtcp = isRtcp(buf);
  const clear = srtp.unprotect(buf, rtcp);
  if (clear) onPacket?.(clear, rtcp, at);
}

/** Ends DTLS (it may already be gone) and ICE. */
export function closePeer(dtls: DtlsClient | undefined, ice: Connection | undefined): void {
  try {
    dtls?.close();
  } catch {
    // already gone
  }
  ice?.close().catch(() => undefined);
}
