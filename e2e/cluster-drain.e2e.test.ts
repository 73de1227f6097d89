/**
 * Draining a node (SIGTERM) with a live call on it (real redis-server, two
 * real Huizhen processes, real Chromium): the doctor's node a is the room's
 * home and carries the doctor's media; the specialist is on b. a tells the
 * doctor to move (the SDK resumes through b), hands the room's home over and
 * exits by itself well inside cluster.drainTimeoutSec; the call goes on on b
 * and both keep decoding each other.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { demoEvents, type DemoPage } from './helpers/browser.js';
import { seesAndHears } from './helpers/mediaFlow.js';
import { startTwoNodeCall, type TwoNodeCall } from './helpers/cluster.js';
import type { HuizhenServer } from './helpers/server.js';
import { waitFor } from './helpers/wait.js';

const DRAIN_TIMEOUT_SEC = 20;

describe('draining the node a live call is on', () => {
  let call: TwoNodeCall;
  let a: HuizhenServer;
  let b: HuizhenServer;
  let doctor: DemoPage;
  let specialist: DemoPage;
  const room = `e2e-cluster-drain-${Date.now().toString(36)}`;

  beforeAll(async () => {
    call = await startTwoNodeCall(room, { cluster: { drainTimeoutSec: DRAIN_TIMEOUT_SEC } });
    ({ a, b, doctor, specialist } = call);
    await seesAndHears(doctor, specialist, 'before the drain');
  }, 120_000);

  afterEach(async (ctx) => {
    if (ctx.task.result?.state === 'fail') await call?.report();
  });

  afterAll(async () => {
    await call?.close();
  });

  it('moves the call to b, where it keeps decoding, and a exits by itself', async () => {
    const startedAt = Date.now();
    const exitedByItself = await a!.stop({ graceMs: (DRAIN_TIMEOUT_SEC + 10) * 1000 });
    const drainMs = Date.now() - startedAt;
    console.log(`node a drained and exited ${drainMs} ms after SIGTERM`);
    expect(exitedByItself).toBe(true);
    await seesAndHears(doctor, specialist, 'after the drain, doctor now on b');
    await seesAndHears(specialist, doctor, 'after the drain');
    const health = (await (await fetch(`${b!.url}/healthz`)).json()) as { cluster?: { roomsHomed: number } };
    expect(health.cluster?.roomsHomed).toBe(1);
    // The doctor was moved (a planned reconnect), not dropped.
    await waitFor(
      'the doctor to have reconnected',
      async () => (await demoEvents(doctor)).some((e) => e.type === 'reconnected') || undefined,
    );
  });
});
