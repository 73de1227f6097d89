import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ErrorCode, HuizhenError, VITALS_LIMITS, parseVitalsMessage, type VitalsSample } from '@huizhen/protocol';
import { VitalsOutbox } from './VitalsOutbox.js';

const T0 = Date.UTC(2026, 2, 1, 11, 0, 0);
const hr = (i: number): VitalsSample => ({
  type: 'heartRate',
  value: 60 + (i % 40),
  unit: '/min',
  at: new Date(T0 + i).toISOString(),
});
const wave = (points: number): VitalsSample => ({
  type: 'waveform',
  unit: '1',
  at: new Date(T0).toISOString(),
  waveform: { kind: 'ppg', sampleRateHz: 100, samples: new Array<number>(points).fill(0.5), unit: '1' },
});

describe('VitalsOutbox', () => {
  let sent: { at: number; text: string }[];
  let errors: [string, number][];
  let fail: HuizhenError | null;
  const make = (opts: Partial<ConstructorParameters<typeof VitalsOutbox>[0]> = {}) =>
    new VitalsOutbox({
      send: async (text) => {
        if (fail) throw fail;
        sent.push({ at: Date.now(), text });
      },
      onError: (e, dropped) => errors.push([e.code, dropped]),
      ...opts,
    });

  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(T0);
    sent = [];
    errors = [];
    fail = null;
  });
  afterEach(() => vi.useRealTimers());

  it('batches and sends at most 4 messages a second, all valid protocol messages, in order', async () => {
    const box = make();
    for (let i = 0; i < 200; i++) {
      box.push(hr(i));
      await vi.advanceTimersByTimeAsync(10);
    }
    await vi.advanceTimersByTimeAsync(2000);
    const samples = sent.flatMap((m) => parseVitalsMessage(m.text).samples);
    expect(samples).toEqual(Array.from({ length: 200 }, (_, i) => hr(i)));
    for (let i = 1; i < sent.length; i++) expect(sent[i]!.at - sent[i - 1]!.at).toBeGreaterThanOrEqual(250);
    expect(sent.length).toBeLessThanOrEqual(10);
    expect(box.stats).toMatchObject({ sentSamples: 200, dropped: 0, queued: 0 });
  });

  it('keeps each message within the sample count, waveform points and byte limit', async () => {
    const box = make({ maxMessageBytes: 4000 });
    for (let i = 0; i < 150; i++) box.push(hr(i));
    box.push(wave(300));
    box.push(wave(300));
    await vi.advanceTimersByTimeAsync(5000);
    for (const m of sent) {
      expect(new TextEncoder().encode(m.text).length).toBeLessThanOrEqual(4000);
      expect(parseVitalsMessage(m.text).samples.length).toBeLessThanOrEqual(VITALS_LIMITS.maxSamplesPerMessage);
    }
    expect(sent.flatMap((m) => parseVitalsMessage(m.text).samples)).toHaveLength(152);
    const big = make({ maxMessageBytes: 1000 });
    big.push(wave(500));
    await vi.advanceTimersByTimeAsync(1000);
    expect(errors).toEqual([[ErrorCode.MESSAGE_TOO_LARGE, 1]]);
    expect(big.stats.dropped).toBe(1);
  });

  it('retries while the room reconnects, drops what the server refuses', async () => {
    const box = make({ retryDelayMs: 500 });
    fail = new HuizhenError(ErrorCode.NOT_JOINED, 'not connected');
    box.push(hr(1));
    await vi.advanceTimersByTimeAsync(1200);
    expect(sent).toHaveLength(0);
    expect(errors.length).toBeGreaterThanOrEqual(2);
    expect(errors.every(([, dropped]) => dropped === 0)).toBe(true);
    fail = null;
    await vi.advanceTimersByTimeAsync(600);
    expect(sent).toHaveLength(1);
    errors = [];
    fail = new HuizhenError(ErrorCode.PERMISSION_DENIED, 'no');
    box.push(hr(2));
    await vi.advanceTimersByTimeAsync(2000);
    expect(errors).toEqual([[ErrorCode.PERMISSION_DENIED, 1]]);
    expect(box.stats.dropped).toBe(1);
  });

  it('bounds the queue, giving up waveforms before numbers', async () => {
    const box = make({ maxQueued: 5 });
    fail = new HuizhenError(ErrorCode.CONNECTION_FAILED, 'down');
    box.push(wave(10));
    for (let i = 0; i < 5; i++) box.push(hr(i));
    box.push(hr(5));
    expect(box.stats).toMatchObject({ queued: 5, dropped: 2 });
    fail = null;
    await vi.advanceTimersByTimeAsync(3000);
    expect(sent.flatMap((m) => parseVitalsMessage(m.text).samples)).toEqual([1, 2, 3, 4, 5].map(hr));
  });
});
