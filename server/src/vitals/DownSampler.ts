/**
 * What of the live stream is kept for the consult's record.
 *
 * - Numbers (heart rate, SpO2, ..., blood pressure): at most one reading per
 *   participant and type per `numericIntervalMs` (1 s = 1 Hz, less a tenth
 *   of slack for device clock jitter), the first one of each interval, by
 *   measurement time. Live viewers still get every
 *   accepted sample; only storage is thinned.
 * - Waveforms: never the continuous stream. The last `windowSec` seconds of
 *   each participant's PPG / ECG are held in memory; a window is stored (a)
 *   once per `everySec` as a routine strip, and (b) when an alert is raised,
 *   the strip leading up to it, which is what a clinician reviewing the
 *   alert wants to see. Batches are joined only while they are contiguous
 *   (same rate and unit, the next one starting where the last one ended).
 */
import type { VitalsDeviceInfo, VitalType, WaveformKind, WaveformSample } from '@huizhen/protocol';
import type { WaveformWindow } from './fhir.js';

export interface DownSamplerOptions {
  numericIntervalMs: number;
  windowSec: number;
  everySec: number;
}

export interface StoredWindow extends WaveformWindow {
  identity: string;
  /** Measurement time of the first point. */
  at: number;
  device?: VitalsDeviceInfo;
  reason: 'routine' | 'alert';
}

interface Batch {
  at: number;
  end: number;
  sampleRateHz: number;
  unit: string;
  points: number[];
  device?: VitalsDeviceInfo;
}

interface Strip {
  batches: Batch[];
  /** Measurement time the last stored window of this strip ended (routine windows do not overlap). */
  storedUntil: number;
  lastRoutineAt: number;
}

/** Slack allowed between one batch's end and the next one's start (device clocks and batching jitter). */
const CONTIGUOUS_MS = 250;
/**
 * The share of `numericIntervalMs` a reading may come early and still be kept.
 * A 1 Hz oximeter stamps its readings 999 or 1003 ms apart (its clock, the
 * browser's timers); with no slack every other such reading was dropped. A
 * tenth keeps such a series whole while a faster stream is still thinned to
 * at most one reading per 0.9 interval.
 */
const INTERVAL_SLACK = 0.1;
/** Hard cap on points in one stored window, whatever the rate. */
const MAX_WINDOW_POINTS = 20_000;

export class DownSampler {
  readonly #options: DownSamplerOptions;
  /** `${identity}\n${type}` → measurement time of the last stored reading. */
  readonly #lastKept = new Map<string, number>();
  /** `${identity}\n${kind}` → recent contiguous waveform. */
  readonly #strips = new Map<string, Strip>();

  constructor(options: DownSamplerOptions) {
    this.#options = options;
  }

  /** Whether this numeric reading is stored. */
  keepNumeric(identity: string, type: Exclude<VitalType, 'waveform'>, at: number): boolean {
    const key = `${identity}\n${type}`;
    const last = this.#lastKept.get(key);
    const interval = this.#options.numericIntervalMs;
    if (last !== undefined && at < last + interval * (1 - INTERVAL_SLACK) && at >= last) return false;
    // A reading from before the last kept one (a device's stored backlog) starts a fresh interval.
    this.#lastKept.set(key, at);
    return true;
  }

  /** Adds a waveform batch; returns a routine window when one is due. */
  addWaveform(identity: string, sample: WaveformSample, at: number): StoredWindow | undefined {
    const w = sample.waveform;
    const key = `${identity}\n${w.kind}`;
    let strip = this.#strips.get(key);
    if (!strip) this.#strips.set(key, (strip = { batches: [], storedUntil: -Infinity, lastRoutineAt: -Infinity }));
    const batch: Batch = {
      at,
      end: at + (w.samples.length * 1000) / w.sampleRateHz,
      sampleRateHz: w.sampleRateHz,
      unit: w.unit,
      points: w.samples,
      ...(sample.device ? { device: sample.device } : {}),
    };
    const last = strip.batches.at(-1);
    const contiguous =
      last !== undefined &&
      last.sampleRateHz === batch.sampleRateHz &&
      last.unit === batch.unit &&
      Math.abs(batch.at - last.end) <= CONTIGUOUS_MS;
    if (!contiguous) strip.batches = [];
    strip.batches.push(batch);
    // Keep only what a window can use.
    const windowMs = this.#options.windowSec * 1000;
    while (strip.batches.length > 1 && batch.end - strip.batches[1]!.at >= windowMs) strip.batches.shift();

    const first = strip.batches[0]!;
    const spans = batch.end - first.at >= windowMs;
    const due = batch.end - strip.lastRoutineAt >= this.#options.everySec * 1000;
    if (spans && due && first.at >= strip.storedUntil) {
      strip.lastRoutineAt = batch.end;
      return this.#window(identity, w.kind, strip, 'routine');
    }
    return undefined;
  }

  /** The strips leading up to an alert for this participant (one per waveform kind that has data). */
  alertWindows(identity: string): StoredWindow[] {
    const out: StoredWindow[] = [];
    for (const [key, strip] of this.#strips) {
      const [who, kind] = key.split('\n') as [string, WaveformKind];
      if (who !== identity || strip.batches.length === 0) continue;
      // Only what was not stored already.
      strip.batches = strip.batches.filter((b) => b.at >= strip.storedUntil);
      if (strip.batches.length === 0) continue;
      out.push(this.#window(identity, kind, strip, 'alert'));
    }
    return out;
  }

  forget(identity: string): void {
    for (const key of [...this.#lastKept.keys()]) if (key.startsWith(`${identity}\n`)) this.#lastKept.delete(key);
    for (const key of [...this.#strips.keys()]) if (key.startsWith(`${identity}\n`)) this.#strips.delete(key);
  }

  #window(identity: string, kind: WaveformKind, strip: Strip, reason: StoredWindow['reason']): StoredWindow {
    const first = strip.batches[0]!;
    const last = strip.batches.at(-1)!;
    let points = strip.batches.flatMap((b) => b.points);
    let at = first.at;
    if (points.length > MAX_WINDOW_POINTS) {
      const drop = points.length - MAX_WINDOW_POINTS;
      points = points.slice(drop);
      at += (drop * 1000) / first.sampleRateHz;
    }
    strip.storedUntil = last.end;
    strip.batches = [];
    return {
      identity,
      kind,
      unit: first.unit,
      sampleRateHz: first.sampleRateHz,
      points,
      at,
      reason,
      ...(last.device ? { device: last.device } : {}),
    };
  }
}
