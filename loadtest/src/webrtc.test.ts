import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { TEST_SECRET } from '../../server/src/testing/testServer.js';
import { runCommand } from './cli.js';
import { LoadTestError } from './errors.js';
import { Collector, Pacer, SyntheticParticipant } from './participant.js';
import {
  HuizhenConnector,
  parseTargetUrl,
  type JoinRequest,
  type JoinTiming,
  type SfuConnector,
  type SfuSession,
  type WebRtcTransportInfo,
} from './sfu.js';
import { consultRunArgs, quiet, scratchWithSecret, useTestServer } from './smokeRun.testing.js';
import { HmacTokenSource } from './tokens.js';
import { createWebRtcIdentity, sha256Fingerprint, type WebRtcIdentity } from './webrtcPeer.js';

const scratch = scratchWithSecret('huizhen-loadtest-webrtc-');

/** Passes everything through to Huizhen but lets a test change what createTransport answered. */
class TamperingConnector implements SfuConnector {
  readonly name = 'tampering';
  readonly #inner: SfuConnector;
  readonly #tamper: (info: WebRtcTransportInfo) => WebRtcTransportInfo;

  constructor(inner: SfuConnector, tamper: (info: WebRtcTransportInfo) => WebRtcTransportInfo) {
    this.#inner = inner;
    this.#tamper = tamper;
  }

  async connect(req: JoinRequest, timing: JoinTiming): Promise<SfuSession> {
    const session = await this.#inner.connect(req, timing);
    const tamper = this.#tamper;
    const create = session.createWebRtcTransport.bind(session);
    session.createWebRtcTransport = async (direction) => tamper(await create(direction));
    return session;
  }

  close(): Promise<void> {
    return this.#inner.close();
  }
}

describe('huizhen-loadtest --mode webrtc (smoke)', () => {
  const server = useTestServer();
  let identity: WebRtcIdentity;
  beforeAll(async () => {
    identity = await createWebRtcIdentity();
  });

  it('joins one consult through real ICE + DTLS, sends RTP both ways and reports join times', async () => {
    const out = join(scratch.dir, 'reports');
    const { report, files } = await runCommand(
      consultRunArgs(server().url, scratch, { rooms: 1, window: 2, out }, '--mode', 'webrtc'),
      quiet,
    );
    expect(report.mode).toBe('webrtc');
    const run = report.runs[0]!;
    expect(run.mode).toBe('webrtc');
    expect(run.joinFailures).toBe(0);
    const w = run.webrtc!;
    expect(w).toBeDefined();
    expect(w.participants).toBe(2);
    expect(w.connected).toBe(2);
    expect(w.failed).toBe(0);
    expect(w.iceLost).toBe(0);
    // Both directions: the doctor receives the patient's audio + video and the patient the doctor's.
    expect(new Set(w.perParticipant.map((p) => p.role))).toEqual(new Set(['doctor', 'patient']));
    for (const p of w.perParticipant) {
      expect(p.error).toBeUndefined();
      expect(p.consumers).toBe(2);
      expect(p.packetsReceived).toBeGreaterThan(100);
      expect(p.loss).toBeLessThan(0.05);
      for (const q of [p.delayMs.p50, p.delayMs.p95, p.delayMs.p99]) {
        expect(Number.isFinite(q)).toBe(true);
        expect(q).toBeGreaterThanOrEqual(0);
      }
      // Every transport finished ICE and DTLS (the server's certificate matched its fingerprint).
      expect(p.transports.map((t) => t.direction).sort()).toEqual(['recv', 'send']);
      for (const t of p.transports) {
        expect(t.iceMs).toBeGreaterThan(0);
        expect(t.dtlsMs).toBeGreaterThan(0);
      }
      expect(p.wsOpenMs).toBeGreaterThan(0);
      expect(p.joinedMs!).toBeGreaterThanOrEqual(p.wsOpenMs!);
      expect(p.connectedMs!).toBeGreaterThan(p.joinedMs!);
      expect(p.readyMs!).toBeGreaterThanOrEqual(p.connectedMs!);
      expect(Number.isFinite(p.firstRtpMs)).toBe(true);
      expect(p.firstRtpMs!).toBeGreaterThan(p.joinedMs!);
    }
    for (const q of [w.join.wsOpen, w.join.joined, w.join.connected, w.join.ready, w.join.firstRtp]) {
      expect(q.n).toBe(2);
      expect(Number.isFinite(q.p50) && Number.isFinite(q.p95) && Number.isFinite(q.p99)).toBe(true);
    }
    expect(w.iceMs.n).toBe(4);
    expect(w.dtlsMs.n).toBe(4);
    const step = run.steps[0]!;
    expect(step.consumers).toBe(4);
    expect(step.receivedPps).toBeGreaterThan(100);
    expect(step.srtpFailures).toBe(0);
    expect(step.stalledTracks).toBe(0);
    // DTLS-SRTP offered only AEAD_AES_128_GCM and the worker took it (the path refuses any other profile).
    expect(run.srtpSuite).toBe('AEAD_AES_128_GCM');
    expect(Number.isFinite(step.delayMs.p95)).toBe(true);
    const json = JSON.parse(readFileSync(files.json, 'utf8')) as { runs: { webrtc: { perParticipant: unknown[] } }[] };
    expect(json.runs[0]!.webrtc.perParticipant).toHaveLength(2);
    const html = readFileSync(files.html, 'utf8');
    expect(html).toContain('WebRTC: consults through ICE + DTLS');
    expect(html).not.toMatch(/<(script|link)[^>]+(src|href)=/);
  });

  const connector = () =>
    new HuizhenConnector(
      parseTargetUrl(server().url),
      new HmacTokenSource({ secret: TEST_SECRET, issuer: 'huizhen-test', audience: 'huizhen' }),
    );
  const participant = (room: string) =>
    new SyntheticParticipant(
      {
        identity: `${room}-dr`,
        room,
        role: 'doctor',
        kind: 'consult',
        publish: true,
        subscribe: false,
        expectedConsumers: 0,
      },
      {
        mode: 'webrtc',
        srtp: true,
        srtpSuite: 'AEAD_AES_128_GCM',
        webrtc: identity,
        pacer: new Pacer(),
        collector: new Collector(),
      },
    );

  it('refuses a server whose DTLS certificate does not match the signaled fingerprint', async () => {
    const wrong = sha256Fingerprint(Buffer.from('not the server certificate'));
    const p = participant('wrongfp');
    try {
      await expect(
        p.start(
          new TamperingConnector(connector(), (info) => ({
            ...info,
            dtlsParameters: { ...info.dtlsParameters, fingerprints: [{ algorithm: 'sha-256', value: wrong }] },
          })),
        ),
      ).rejects.toThrow(/does not match the fingerprint signaling announced/);
      expect(p.timing.transports?.[0]?.iceMs).toBeGreaterThan(0);
      expect(p.timing.connectedAt).toBeUndefined();
    } finally {
      p.stop();
    }
  });

  it('never aims ICE at a candidate off this machine', async () => {
    const p = participant('offhost');
    try {
      const err = await p
        .start(
          new TamperingConnector(connector(), (info) => ({
            ...info,
            iceCandidates: info.iceCandidates.map((c) => ({ ...c, ip: '192.0.2.7', address: '192.0.2.7' })),
          })),
        )
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(err).toBeInstanceOf(LoadTestError);
      expect((err as LoadTestError).code).toBe('UNSAFE_TARGET');
      expect(p.timing.transports?.[0]?.iceMs).toBeUndefined();
    } finally {
      p.stop();
    }
  });
});
