/**
 * The physiology behind `simulatedVitalsDevice`: a resting adult whose heart
 * rate, SpO2, respiratory rate and temperature wander around seeded baselines
 * (mean-reverting random walks, heart rate modulated by breathing as in
 * respiratory sinus arrhythmia), an optional desaturation episode (SpO2 falls
 * below 90 % for tens of seconds and recovers while heart and breathing rates
 * rise, as in an obstructive apnoea or a COPD exacerbation), and an optional
 * PPG waveform following the simulated pulse.
 *
 * Stepped in fixed ticks, never by the wall clock: the same seed and options
 * give the same numbers on every run.
 */
import { Prng } from './prng.js';

export interface DesaturationOptions {
  /** When the episode starts, seconds after the first tick. */
  atSec: number;
  /** End-to-end duration, seconds (fall ≈ 25 %, hold ≈ 40 %, recovery ≈ 35 %). Default 60. */
  durationSec?: number;
  /** Lowest SpO2 in % (default seeded 82–86; at least 70). */
  nadir?: number;
}

/** Options of `VitalsSimulation`. */
export interface VitalsSimulationOptions {
  /** The seed: the same seed and options give the same numbers. */
  seed: number | string;
  /** A desaturation episode to include. */
  desaturation?: DesaturationOptions;
  /** Seconds per tick (default 1). */
  tickSec?: number;
  /** PPG sample rate in Hz, or 0 for none (default 0). */
  ppgRateHz?: number;
}

/** One tick of the simulation. */
export interface SimulatedReading {
  /** Seconds since the first tick. */
  t: number;
  /** Heart rate, per minute. */
  heartRate: number;
  /** Oxygen saturation, percent. */
  spo2: number;
  /** Respiratory rate, per minute. */
  respiratoryRate: number;
  /** Body temperature, °C. */
  bodyTemperature: number;
  /** PPG points for the tick that just ended (empty without PPG). */
  ppg: number[];
}

/** Mean-reverting random walk (discrete Ornstein–Uhlenbeck). */
class Wander {
  value: number;
  constructor(
    readonly mean: number,
    readonly reversion: number,
    readonly sigma: number,
  ) {
    this.value = mean;
  }
  step(rng: Prng, dt: number): number {
    this.value += this.reversion * (this.mean - this.value) * dt + this.sigma * Math.sqrt(dt) * rng.gaussian();
    return this.value;
  }
}

const ease = (x: number): number => (1 - Math.cos(Math.PI * Math.min(1, Math.max(0, x)))) / 2;
const clamp = (v: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, v));
const round = (v: number, digits: number): number => Math.round(v * 10 ** digits) / 10 ** digits;
const gauss = (x: number, mu: number, width: number): number => Math.exp(-(((x - mu) / width) ** 2));

/** The seeded physiology behind `simulatedVitalsDevice`, stepped one tick at a time. */
export class VitalsSimulation {
  readonly #rng: Prng;
  readonly #tickSec: number;
  readonly #ppgRate: number;
  readonly #hr: Wander;
  readonly #spo2: Wander;
  readonly #rr: Wander;
  readonly #temp: Wander;
  readonly #desat: Required<DesaturationOptions> | null;
  readonly #hrRise: number;
  #tick = 0;
  #beatPhase = 0;
  #breathPhase = 0;

  constructor(options: VitalsSimulationOptions) {
    this.#rng = new Prng(options.seed);
    this.#tickSec = options.tickSec ?? 1;
    this.#ppgRate = options.ppgRateHz ?? 0;
    const r = this.#rng;
    this.#hr = new Wander(r.between(62, 82), 0.08, 1.0);
    this.#spo2 = new Wander(r.between(96.2, 98.6), 0.2, 0.35);
    this.#rr = new Wander(r.between(12, 17), 0.05, 0.35);
    this.#temp = new Wander(r.between(36.5, 37.0), 0.02, 0.01);
    this.#hrRise = r.between(15, 28);
    const nadirDefault = r.between(82, 86);
    const d = options.desaturation;
    this.#desat = d
      ? { atSec: d.atSec, durationSec: d.durationSec ?? 60, nadir: Math.max(70, d.nadir ?? nadirDefault) }
      : null;
  }

  /** Episode depth 0..1 at time t (s). */
  desaturationDepth(t: number): number {
    const d = this.#desat;
    if (!d) return 0;
    const x = t - d.atSec;
    const fall = 0.25 * d.durationSec;
    const hold = 0.4 * d.durationSec;
    const recover = d.durationSec - fall - hold;
    if (x <= 0 || x >= d.durationSec) return 0;
    if (x < fall) return ease(x / fall);
    if (x < fall + hold) return 1;
    return 1 - ease((x - fall - hold) / recover);
  }

  /** Advances one tick and returns the readings at its end. */
  next(): SimulatedReading {
    const dt = this.#tickSec;
    const rng = this.#rng;
    const t = this.#tick * dt;
    this.#tick++;
    const depth = this.desaturationDepth(t);
    const rr = clamp(this.#rr.step(rng, dt) + 5 * depth, 8, 32);
    // Respiratory sinus arrhythmia: the heart speeds up on each breath in.
    this.#breathPhase = (this.#breathPhase + (rr / 60) * dt) % 1;
    const rsa = 2.5 * Math.sin(2 * Math.PI * this.#breathPhase);
    const hr = clamp(this.#hr.step(rng, dt) + rsa + this.#hrRise * depth, 40, 160);
    const baseSpo2 = Math.min(99.6, this.#spo2.step(rng, dt));
    // The episode shifts the wandering value down, so it keeps fluctuating at the nadir too.
    const nadir = this.#desat?.nadir ?? this.#spo2.mean;
    const spo2 = clamp(baseSpo2 - depth * (this.#spo2.mean - nadir), 70, 100);
    const temp = this.#temp.step(rng, dt);
    const ppg = this.#ppgRate > 0 ? this.#ppgWindow(hr, rr, depth, t) : [];
    return {
      t: t + dt,
      heartRate: Math.round(hr),
      // Oximeters report whole percent.
      spo2: Math.round(spo2),
      respiratoryRate: Math.round(rr),
      bodyTemperature: round(temp, 1),
      ppg,
    };
  }

  /** One tick of PPG: a systolic peak and a dicrotic wave per beat, breathing baseline, sensor noise. */
  #ppgWindow(hr: number, rr: number, depth: number, t0: number): number[] {
    const n = Math.round(this.#ppgRate * this.#tickSec);
    const out: number[] = new Array<number>(n);
    const perfusion = 1 - 0.35 * depth;
    for (let i = 0; i < n; i++) {
      const time = t0 + i / this.#ppgRate;
      this.#beatPhase = (this.#beatPhase + hr / 60 / this.#ppgRate) % 1;
      const p = this.#beatPhase;
      const pulse = gauss(p, 0.15, 0.08) + 0.35 * gauss(p, 0.45, 0.1) + gauss(p, 1.15, 0.08);
      const baseline = 0.06 * Math.sin((2 * Math.PI * rr * time) / 60);
      out[i] = round(perfusion * pulse + baseline + 0.01 * this.#rng.gaussian(), 4);
    }
    return out;
  }
}
