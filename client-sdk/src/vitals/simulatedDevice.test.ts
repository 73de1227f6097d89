import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { parseVitalsMessage, type VitalsSample } from '@huizhen/protocol';
import { simulatedVitalsDevice } from './simulatedDevice.js';
import { VitalsSimulation, type SimulatedReading } from './VitalsSimulation.js';

const run = (sim: VitalsSimulation, seconds: number): SimulatedReading[] =>
  Array.from({ length: seconds }, () => sim.next());
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const sd = (xs: number[]) => Math.sqrt(mean(xs.map((x) => (x - mean(xs)) ** 2)));

describe('VitalsSimulation', () => {
  it('is deterministic for a seed and differs between seeds', () => {
    const a = run(new VitalsSimulation({ seed: 'patient-7', ppgRateHz: 50 }), 120);
    const b = run(new VitalsSimulation({ seed: 'patient-7', ppgRateHz: 50 }), 120);
    const c = run(new VitalsSimulation({ seed: 'patient-8', ppgRateHz: 50 }), 120);
    expect(a).toEqual(b);
    expect(a.map((r) => r.heartRate)).not.toEqual(c.map((r) => r.heartRate));
  });

  it('stays in resting-adult ranges with plausible beat-to-beat variability', () => {
    for (const seed of [1, 2, 3, 'x', 'y']) {
      const rs = run(new VitalsSimulation({ seed }), 600);
      const hr = rs.map((r) => r.heartRate);
      const spo2 = rs.map((r) => r.spo2);
      const rr = rs.map((r) => r.respiratoryRate);
      const temp = rs.map((r) => r.bodyTemperature);
      expect(Math.min(...hr)).toBeGreaterThanOrEqual(45);
      expect(Math.max(...hr)).toBeLessThanOrEqual(105);
      expect(sd(hr)).toBeGreaterThan(1); // not a flat line
      expect(sd(hr)).toBeLessThan(8);
      expect(Math.min(...spo2)).toBeGreaterThanOrEqual(94);
      expect(Math.max(...spo2)).toBeLessThanOrEqual(100);
      expect(new Set(spo2).size).toBeGreaterThan(1);
      expect(Math.min(...rr)).toBeGreaterThanOrEqual(8);
      expect(Math.max(...rr)).toBeLessThanOrEqual(22);
      expect(Math.min(...temp)).toBeGreaterThanOrEqual(36);
      expect(Math.max(...temp)).toBeLessThanOrEqual(37.5);
      // Integers as devices report them; temperature to 0.1.
      expect(hr.every(Number.isInteger) && spo2.every(Number.isInteger) && rr.every(Number.isInteger)).toBe(true);
      expect(temp.every((t) => Math.abs(t * 10 - Math.round(t * 10)) < 1e-9)).toBe(true);
    }
  });

  it('desaturates below 90 % for well over 10 s, raises heart rate, and recovers', () => {
    const sim = new VitalsSimulation({ seed: 42, desaturation: { atSec: 30 } });
    const rs = run(sim, 150);
    const before = rs.slice(0, 30);
    const episode = rs.slice(30, 90);
    const after = rs.slice(110);
    expect(before.every((r) => r.spo2 >= 94)).toBe(true);
    // The longest run below 90 %.
    let run90 = 0;
    let best = 0;
    for (const r of episode) best = Math.max(best, (run90 = r.spo2 < 90 ? run90 + 1 : 0));
    expect(best).toBeGreaterThanOrEqual(25);
    const nadir = Math.min(...episode.map((r) => r.spo2));
    expect(nadir).toBeGreaterThanOrEqual(80);
    expect(nadir).toBeLessThanOrEqual(87);
    const hrAtNadir = mean(episode.filter((r) => r.spo2 <= nadir + 1).map((r) => r.heartRate));
    expect(hrAtNadir - mean(before.map((r) => r.heartRate))).toBeGreaterThan(10);
    expect(after.every((r) => r.spo2 >= 93)).toBe(true);
    expect(sim.desaturationDepth(29)).toBe(0);
    expect(sim.desaturationDepth(55)).toBe(1);
    expect(sim.desaturationDepth(91)).toBe(0);
  });

  it('PPG: one window per tick at the sample rate, pulsing at the heart rate', () => {
    const rs = run(new VitalsSimulation({ seed: 5, ppgRateHz: 100 }), 20);
    for (const r of rs) expect(r.ppg).toHaveLength(100);
    const wave = rs.slice(5).flatMap((r) => r.ppg);
    // Count systolic upstrokes crossing the midline upwards.
    const mid = (Math.max(...wave) + Math.min(...wave)) / 2;
    let beats = 0;
    for (let i = 1; i < wave.length; i++) if (wave[i - 1]! < mid && wave[i]! >= mid) beats++;
    const expected = (mean(rs.slice(5).map((r) => r.heartRate)) / 60) * 15;
    expect(beats).toBeGreaterThan(expected * 0.7);
    expect(beats).toBeLessThan(expected * 1.6);
  });
});

describe('simulatedVitalsDevice', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(Date.UTC(2026, 2, 1, 9, 0, 0));
  });
  afterEach(() => vi.useRealTimers());

  it('emits valid heart rate, SpO2, RR and temperature every second with its identity', async () => {
    const device = simulatedVitalsDevice({ seed: 'demo' });
    const samples: VitalsSample[] = [];
    device.on('sample', (s) => samples.push(s));
    await device.start();
    expect(device.state).toBe('running');
    expect(samples.map((s) => s.type)).toEqual(['heartRate', 'spo2', 'respiratoryRate', 'bodyTemperature']);
    await vi.advanceTimersByTimeAsync(3000);
    expect(samples).toHaveLength(16);
    expect(samples[4]!.at).toBe('2026-03-01T09:00:01.000Z');
    expect(samples[0]!.device).toEqual({ id: 'sim-demo', name: 'Simulated vitals monitor', kind: 'simulated' });
    expect(() => parseVitalsMessage({ samples })).not.toThrow();
    const gone: unknown[] = [];
    device.on('disconnected', (e) => gone.push(e));
    await device.stop();
    await vi.advanceTimersByTimeAsync(3000);
    expect(samples).toHaveLength(16);
    expect(gone).toEqual([null]);
  });

  it('sends PPG windows that cover the second before each reading', async () => {
    const device = simulatedVitalsDevice({ seed: 3, ppg: true });
    const waves: VitalsSample[] = [];
    device.on('sample', (s) => s.type === 'waveform' && waves.push(s));
    await device.start();
    await vi.advanceTimersByTimeAsync(2000);
    expect(waves).toHaveLength(3);
    const w = waves[1]!;
    expect(w.type === 'waveform' && w.waveform.samples.length).toBe(50);
    expect(w.at).toBe('2026-03-01T09:00:00.000Z');
    await device.stop();
  });

  it('same seed, same readings: the desaturation starts when asked', async () => {
    const device = simulatedVitalsDevice({ seed: 9, desaturateAtSec: 5 });
    const spo2: number[] = [];
    device.on('sample', (s) => s.type === 'spo2' && spo2.push(s.value));
    await device.start();
    await vi.advanceTimersByTimeAsync(40_000);
    await device.stop();
    expect(spo2.slice(0, 5).every((v) => v >= 94)).toBe(true);
    expect(Math.min(...spo2.slice(15, 40))).toBeLessThan(90);
    const sim = new VitalsSimulation({ seed: 9, desaturation: { atSec: 5 } });
    expect(spo2).toEqual(run(sim, spo2.length).map((r) => r.spo2));
  });
});
