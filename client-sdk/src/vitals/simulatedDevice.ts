/**
 * `simulatedVitalsDevice({ seed, desaturateAtSec? })`: a pulse oximeter and
 * thermometer that does not exist, for demos, training and tests. Emits heart
 * rate, SpO2, respiratory rate and body temperature every second (and PPG
 * windows when asked), deterministic for a seed (see VitalsSimulation).
 */
import type { VitalsDeviceInfo, VitalsSample } from '@huizhen/protocol';
import { VitalsDeviceBase } from './VitalsDevice.js';
import { VitalsSimulation } from './VitalsSimulation.js';

/** Options of `simulatedVitalsDevice`. */
export interface SimulatedVitalsOptions {
  /** The seed: the same seed and options give the same readings. */
  seed: number | string;
  /** Start a desaturation episode this many seconds after `start()`. */
  desaturateAtSec?: number;
  /** Episode length end to end in seconds (default 60, of which SpO2 is under 90 % for roughly 40). */
  desaturationSec?: number;
  /** Lowest SpO2 of the episode, % (default 82–86 by seed). */
  nadirSpo2?: number;
  /** Milliseconds between readings (default 1000). */
  intervalMs?: number;
  /** Also send PPG waveform windows, at this rate or 50 Hz for `true`. */
  ppg?:
    | boolean
    | {
        /** Samples per second. */
        sampleRateHz: number;
      };
  /** Clock for the samples' `at` (default Date.now). */
  now?: () => number;
  /** The device name carried in its samples. */
  name?: string;
}

export class SimulatedVitalsDevice extends VitalsDeviceBase {
  readonly info: VitalsDeviceInfo;
  readonly #options: SimulatedVitalsOptions;
  readonly #ppgRate: number;
  #sim: VitalsSimulation | null = null;
  #timer: ReturnType<typeof setInterval> | null = null;

  constructor(options: SimulatedVitalsOptions) {
    super();
    this.#options = options;
    this.#ppgRate = options.ppg === true ? 50 : options.ppg ? options.ppg.sampleRateHz : 0;
    const id = `sim-${String(options.seed).replace(/[^\x21-\x7e]/g, '_')}`.slice(0, 128);
    this.info = { id, name: options.name ?? 'Simulated vitals monitor', kind: 'simulated' };
  }

  async start(): Promise<void> {
    if (this.state === 'running' || this.state === 'starting') return;
    const o = this.#options;
    const intervalMs = o.intervalMs ?? 1000;
    this.#sim = new VitalsSimulation({
      seed: o.seed,
      tickSec: intervalMs / 1000,
      ppgRateHz: this.#ppgRate,
      ...(o.desaturateAtSec !== undefined && {
        desaturation: {
          atSec: o.desaturateAtSec,
          ...(o.desaturationSec !== undefined && { durationSec: o.desaturationSec }),
          ...(o.nadirSpo2 !== undefined && { nadir: o.nadirSpo2 }),
        },
      }),
    });
    this.setState('running');
    this.#tick();
    this.#timer = setInterval(() => this.#tick(), intervalMs);
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    this.#sim = null;
    this.finish(null);
  }

  #tick(): void {
    const sim = this.#sim;
    if (!sim || this.state !== 'running') return;
    const r = sim.next();
    const nowMs = (this.#options.now ?? Date.now)();
    const at = new Date(nowMs).toISOString();
    const device = this.info;
    const samples: VitalsSample[] = [
      { type: 'heartRate', value: r.heartRate, unit: '/min', at, device },
      { type: 'spo2', value: r.spo2, unit: '%', at, device },
      { type: 'respiratoryRate', value: r.respiratoryRate, unit: '/min', at, device },
      { type: 'bodyTemperature', value: r.bodyTemperature, unit: 'Cel', at, device },
    ];
    if (r.ppg.length > 0) {
      const windowMs = (r.ppg.length / this.#ppgRate) * 1000;
      samples.push({
        type: 'waveform',
        unit: '1',
        at: new Date(nowMs - windowMs).toISOString(),
        device,
        waveform: { kind: 'ppg', sampleRateHz: this.#ppgRate, samples: r.ppg, unit: '1' },
      });
    }
    for (const s of samples) this.emitSample(s);
  }
}

/** A simulated wearable (heart rate, SpO2, respiratory rate, temperature, optional PPG) for demos and tests. */
export function simulatedVitalsDevice(options: SimulatedVitalsOptions): SimulatedVitalsDevice {
  return new SimulatedVitalsDevice(options);
}
