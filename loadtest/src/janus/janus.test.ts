import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runScenario } from '../engine.js';
import { JanusConnector } from './connector.js';
import { JanusProbe } from './probe.js';
import { janusInstalled, startJanus, JANUS_BINARY, type JanusProcess } from './process.js';

const installed = janusInstalled();
if (!installed)
  console.warn(
    `janus smoke test skipped: ${JANUS_BINARY} is not installed (node scripts/setup.mjs --for test installs it)`,
  );

describe.skipIf(!installed)('janus side by side (smoke, real janus)', () => {
  let janus: JanusProcess;
  beforeAll(async () => {
    janus = await startJanus();
  });
  afterAll(async () => {
    await janus?.stop();
  });

  it('carries one consult room through janus both ways (≥ 90 % of what was sent)', async () => {
    const connector = new JanusConnector(janus.url, janus.iceIp);
    try {
      const run = await runScenario({
        connector,
        probe: new JanusProbe(janus.pid),
        scenario: 'consults',
        steps: [1],
        mode: 'webrtc',
        srtp: true,
        warmupSec: 2,
        windowSec: 3,
        stopAtKnee: false,
        confirmFailures: false,
        deadlineMs: performance.now() + 60_000,
        runId: `jt${Date.now().toString(36)}`,
      });
      expect(run.target).toBe('janus');
      expect(run.joinFailures, run.errors.join('; ')).toBe(0);
      const w = run.webrtc!;
      expect(w.connected).toBe(2);
      for (const p of w.perParticipant) {
        expect(p.error).toBeUndefined();
        expect(p.consumers).toBe(2);
        expect(p.packetsReceived).toBeGreaterThan(100);
      }
      const step = run.steps[0]!;
      expect(step.consumers).toBe(4);
      expect(step.stalledTracks).toBe(0);
      expect(step.receivedRatio).toBeGreaterThanOrEqual(0.9);
      // Janus' CPU came from /proc over the window.
      expect(step.server.workerCpuTotal).toBeGreaterThan(0);
    } finally {
      await connector.close();
    }
  }, 90_000);
});
