import { describe, expect, it } from 'vitest';
import {
  ENTER_AFTER,
  FAIL_AFTER,
  PASS_AFTER,
  PROVEN_AFTER,
  RETRY_FIRST_MS,
  RETRY_MAX_MS,
  TRIAL_CLIMB_MAX_MS,
  TRIAL_MAX_MS,
  VideoGate,
} from './VideoGate.js';

const STEP = 2_000;

/** Feeds samples until `until` says stop; returns the changes seen. */
function run(
  gate: VideoGate,
  from: number,
  samples: { fits: boolean | undefined; healthy?: boolean; climbing?: boolean }[],
) {
  const changes = [];
  let now = from;
  for (const s of samples) {
    now += STEP;
    const change = gate.push({ now, fits: s.fits, healthy: s.healthy ?? true, climbing: s.climbing ?? false });
    if (change) changes.push({ at: now, ...change });
  }
  return { changes, now };
}

const times = (n: number, fits: boolean | undefined, healthy = true) =>
  Array.from({ length: n }, () => ({ fits, healthy }));

describe('VideoGate', () => {
  it('stops video after ENTER_AFTER samples that do not fit, not after one', () => {
    const gate = new VideoGate();
    expect(run(gate, 0, [{ fits: false }, { fits: true }, { fits: false }, { fits: true }]).changes).toEqual([]);
    const { changes } = run(gate, 10_000, times(ENTER_AFTER, false));
    expect(changes).toEqual([
      { at: 10_000 + ENTER_AFTER * STEP, state: 'audioOnly', sendVideo: false, announce: true },
    ]);
    expect(gate.audioOnly).toBe(true);
  });

  it('ignores samples without a measurement', () => {
    const gate = new VideoGate();
    expect(run(gate, 0, times(10, undefined)).changes).toEqual([]);
    expect(gate.state).toBe('video');
  });

  it('tries video again after the retry delay and brings it back when the trial fits', () => {
    const gate = new VideoGate();
    const entered = run(gate, 0, times(ENTER_AFTER, false));
    // Waits out the delay, then a trial (video on, not announced).
    const waiting = run(gate, entered.now, times(RETRY_FIRST_MS / STEP, true));
    const trial = waiting.changes.find((c) => c.state === 'trial');
    expect(trial).toMatchObject({ sendVideo: true });
    expect(trial?.announce).toBeUndefined();
    expect(trial!.at - entered.now).toBeGreaterThanOrEqual(RETRY_FIRST_MS);
    const back = run(gate, waiting.now, times(PASS_AFTER, true));
    expect(back.changes.at(-1)).toMatchObject({ state: 'video', sendVideo: true, announce: false });
  });

  it('does not start a trial while the audio-only link itself is unhealthy', () => {
    const gate = new VideoGate();
    const entered = run(gate, 0, times(ENTER_AFTER, false));
    expect(run(gate, entered.now, times(20, undefined, false)).changes).toEqual([]);
    expect(gate.state).toBe('audioOnly');
  });

  it('doubles the wait after each failed trial, up to RETRY_MAX_MS', () => {
    const gate = new VideoGate();
    let { now } = run(gate, 0, times(ENTER_AFTER, false));
    const waits: number[] = [];
    let lastBack = now;
    for (let round = 0; round < 5; round++) {
      // Wait for the trial...
      for (;;) {
        now += STEP;
        const c = gate.push({ now, fits: undefined, healthy: true });
        if (c?.state === 'trial') break;
      }
      waits.push(now - lastBack);
      // ...and fail it.
      const failed = run(gate, now, times(FAIL_AFTER, false));
      now = failed.now;
      lastBack = now;
      expect(failed.changes.at(-1)).toMatchObject({ state: 'audioOnly', sendVideo: false });
      expect(failed.changes.at(-1)?.announce).toBeUndefined();
    }
    expect(waits[0]).toBeGreaterThanOrEqual(RETRY_FIRST_MS);
    expect(waits[1]).toBeGreaterThanOrEqual(2 * RETRY_FIRST_MS);
    expect(Math.max(...waits)).toBeLessThanOrEqual(RETRY_MAX_MS + STEP);
    expect(waits.at(-1)).toBeGreaterThanOrEqual(RETRY_MAX_MS);
  });

  it('gives a trial that never decides up after TRIAL_MAX_MS', () => {
    const gate = new VideoGate();
    let { now } = run(gate, 0, times(ENTER_AFTER, false));
    ({ now } = run(gate, now, times(RETRY_FIRST_MS / STEP, undefined)));
    expect(gate.state).toBe('trial');
    const { changes } = run(gate, now, times(TRIAL_MAX_MS / STEP, undefined));
    expect(changes.at(-1)).toMatchObject({ state: 'audioOnly' });
  });

  it('lets a trial whose link is still being found run past TRIAL_MAX_MS, up to TRIAL_CLIMB_MAX_MS', () => {
    const climbing = (n: number) => Array.from({ length: n }, () => ({ fits: undefined, climbing: true }));
    const gate = new VideoGate();
    let { now } = run(gate, 0, times(ENTER_AFTER, false));
    ({ now } = run(gate, now, times(RETRY_FIRST_MS / STEP, undefined)));
    expect(gate.state).toBe('trial');
    // Still climbing past TRIAL_MAX_MS, then the estimate reaches a video layer: the trial passes.
    const passed = run(gate, now, [...climbing(TRIAL_MAX_MS / STEP + 2), ...times(PASS_AFTER, true)]);
    expect(passed.changes.map((c) => c.state)).toEqual(['video']);
    // Climbing for ever does not keep a trial open for ever.
    ({ now } = run(gate, passed.now, times(ENTER_AFTER, false)));
    ({ now } = run(gate, now, times(RETRY_FIRST_MS / STEP, undefined)));
    expect(gate.state).toBe('trial');
    const endless = run(gate, now, climbing(TRIAL_CLIMB_MAX_MS / STEP));
    expect(endless.changes.at(-1)).toMatchObject({ state: 'audioOnly' });
  });

  describe('holdUnproven (the other direction showed video does not fit)', () => {
    it('stops video on a new link that has not shown it carries video, and a trial brings it back', () => {
      const gate = new VideoGate();
      run(gate, 0, times(PROVEN_AFTER - 1, true));
      expect(gate.proven).toBe(false);
      expect(gate.holdUnproven(10_000)).toEqual({ state: 'audioOnly', sendVideo: false, announce: true });
      expect(gate.holdUnproven(10_500)).toBeUndefined();
      const { changes } = run(gate, 10_000 + RETRY_FIRST_MS - STEP, [{ fits: undefined }, ...times(PASS_AFTER, true)]);
      expect(changes.map((c) => c.state)).toEqual(['trial', 'video']);
      expect(gate.proven).toBe(true);
      expect(gate.holdUnproven(40_000)).toBeUndefined();
    });

    it('leaves a link alone that carried video for PROVEN_AFTER samples in a row', () => {
      const gate = new VideoGate();
      run(gate, 0, [...times(PROVEN_AFTER - 1, true), { fits: false }, ...times(PROVEN_AFTER - 1, true)]);
      expect(gate.proven).toBe(false);
      run(gate, 20_000, times(1, true));
      expect(gate.proven).toBe(true);
      expect(gate.holdUnproven(30_000)).toBeUndefined();
      expect(gate.state).toBe('video');
    });
  });
});
