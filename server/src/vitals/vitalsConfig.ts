/**
 * The `vitals` section of the server configuration: how fresh a sample must
 * be, how often one participant may send each type, what is kept for the
 * consult's record, and the alert thresholds.
 */
import { num, oneOf, arr, str } from '@huizhen/protocol';
import * as z from 'zod/mini';

/** The vitals an alert can watch (waveforms are not thresholded). */
export const ALERTABLE_TYPES = [
  'heartRate',
  'spo2',
  'respiratoryRate',
  'bodyTemperature',
  'bloodPressure',
  'bloodGlucose',
] as const;
export type AlertableType = (typeof ALERTABLE_TYPES)[number];

export const BP_COMPONENTS = ['systolic', 'diastolic', 'mean'] as const;
export type BpComponent = (typeof BP_COMPONENTS)[number];

/**
 * One alert threshold. Values are in the type's first unit (/min, %, Cel,
 * mm[Hg]); blood glucose thresholds are in mg/dL and readings in mmol/L are
 * converted before they are compared.
 */
const alertRuleShape = z.strictObject({
  type: oneOf(ALERTABLE_TYPES),
  /** Blood pressure only: which reading the threshold applies to. */
  component: z.optional(oneOf(BP_COMPONENTS)),
  /** Raised when the value stays below this (exclusive) ... */
  below: z.optional(num({ min: -1000, max: 10_000 })),
  /** ... or above this (exclusive) ... */
  above: z.optional(num({ min: -1000, max: 10_000 })),
  /** ... for at least this many seconds of measurement time (0 = the first reading). */
  forSec: num({ integer: true, min: 0, max: 3600 }),
  /**
   * Hysteresis: the alert clears only once the value is back in range by this
   * much (e.g. SpO2 below 90 clears at 90 + 2 = 92), so a reading hovering at
   * the threshold does not raise and clear over and over. Default 0.
   */
  clearMargin: z.optional(num({ min: 0, max: 1000 })),
  /** What clinicians read in the alert; a sentence is made from the rule when absent. */
  message: z.optional(str({ min: 1, max: 200 })),
});
export type AlertRule = z.infer<typeof alertRuleShape>;

const alertRule = alertRuleShape.check((ctx) => {
  const r = ctx.value;
  const fail = (message: string) => ctx.issues.push({ code: 'custom', message, input: r, path: [] });
  if ((r.below === undefined) === (r.above === undefined)) fail('needs exactly one of below, above');
  if (r.type === 'bloodPressure' && r.component === undefined) fail('a blood pressure rule needs a component');
  if (r.type !== 'bloodPressure' && r.component !== undefined) fail('component applies to bloodPressure only');
});

export const vitalsConfigSchema = z.strictObject({
  /** Measurement times further ahead of the server clock than this are refused (device clock skew allowance). */
  maxFutureSec: num({ integer: true, min: 0, max: 3600 }),
  /** Measurement times older than this are refused: not a reading of this consult. */
  maxAgeSec: num({ integer: true, min: 10, max: 7 * 86400 }),
  /** Per participant and vital type: samples per second (sustained) and at once. */
  ratePerSec: num({ min: 0.1, max: 100 }),
  rateBurst: num({ integer: true, min: 1, max: 1000 }),
  /** A device not heard from for this long counts as disconnected (audited). */
  deviceTimeoutSec: num({ integer: true, min: 2, max: 3600 }),
  storage: z.strictObject({
    /**
     * Numbers are stored at most once per this interval per participant and type (1000 = 1 Hz);
     * a reading up to a tenth of it early still counts, for device clock jitter.
     */
    numericIntervalMs: num({ integer: true, min: 1000, max: 3_600_000 }),
    /** A stored waveform window is at most this long. */
    waveformWindowSec: num({ integer: true, min: 1, max: 60 }),
    /** At most one routine waveform window per this many seconds per participant and kind (alerts add theirs). */
    waveformEverySec: num({ integer: true, min: 10, max: 86_400 }),
    /** The most Observations one consult keeps; beyond it new ones are counted and dropped. */
    maxObservationsPerRoom: num({ integer: true, min: 10, max: 1_000_000 }),
    /** Buffered Observations are written at least this often. */
    flushSec: num({ integer: true, min: 1, max: 600 }),
  }),
  alerts: arr(alertRule, { max: 64 }),
});

export type VitalsConfig = z.infer<typeof vitalsConfigSchema>;
