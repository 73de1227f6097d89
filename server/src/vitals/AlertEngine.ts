/**
 * Threshold alerts with hysteresis. A rule (e.g. SpO2 below 90 % for 10 s)
 * is raised once when a participant's readings have stayed out of range for
 * `forSec` of measurement time, and cleared once a reading is back in range
 * by `clearMargin`; readings in between change nothing, so a value hovering
 * at the threshold does not raise and clear over and over.
 *
 * Durations are measured on the readings' own clock (their `at`), so a batch
 * that arrives late still measures the episode as it happened; readings
 * older than the latest one a rule has seen are ignored for that rule.
 */
import type { VitalsSample } from '@huizhen/protocol';
import type { AlertRule } from './vitalsConfig.js';

/** mg/dL per mmol/L for glucose (molar mass 180.16 g/mol). */
const GLUCOSE_MG_PER_MMOL = 18.016;

export interface AlertEvent {
  state: 'raised' | 'cleared';
  identity: string;
  rule: AlertRule;
  /** The reading that raised or cleared it, in the rule's unit. */
  value: number;
  threshold: number;
  direction: 'below' | 'above';
  /** Measurement time of that reading (ms since the epoch). */
  at: number;
  message: string;
}

interface RuleState {
  breachSince: number | undefined;
  raised: boolean;
  lastAt: number;
  /** The event that raised it, while raised. */
  event?: AlertEvent;
}

const NAMES: Record<AlertRule['type'], [string, string]> = {
  heartRate: ['Heart rate', '/min'],
  spo2: ['SpO2', '%'],
  respiratoryRate: ['Respiratory rate', '/min'],
  bodyTemperature: ['Body temperature', '°C'],
  bloodPressure: ['Blood pressure', 'mmHg'],
  bloodGlucose: ['Blood glucose', 'mg/dL'],
};

/** The sentence clinicians read; it names the threshold, not the reading. */
export function ruleMessage(rule: AlertRule): string {
  if (rule.message) return rule.message;
  const [name, unit] = NAMES[rule.type];
  const what = rule.component ? `${name} (${rule.component})` : name;
  const direction = rule.below !== undefined ? 'below' : 'above';
  const threshold = rule.below ?? rule.above!;
  return `${what} ${direction} ${threshold} ${unit}${rule.forSec > 0 ? ` for ${rule.forSec} s` : ''}`;
}

/** The number a rule compares, in the rule's unit; undefined when the sample does not carry it. */
export function ruleValue(rule: AlertRule, sample: VitalsSample): number | undefined {
  if (sample.type !== rule.type) return undefined;
  if (sample.type === 'bloodPressure') {
    return rule.component === 'systolic'
      ? sample.systolic
      : rule.component === 'diastolic'
        ? sample.diastolic
        : sample.value;
  }
  if (sample.type === 'bloodGlucose' && sample.unit === 'mmol/L') return sample.value * GLUCOSE_MG_PER_MMOL;
  return sample.value;
}

export class AlertEngine {
  readonly #rules: readonly AlertRule[];
  /** identity → rule index → state. */
  readonly #states = new Map<string, Map<number, RuleState>>();

  constructor(rules: readonly AlertRule[]) {
    this.#rules = rules;
  }

  /** Feeds one accepted reading; returns the alerts it raised or cleared. */
  observe(identity: string, sample: VitalsSample, at: number): AlertEvent[] {
    const events: AlertEvent[] = [];
    for (const [i, rule] of this.#rules.entries()) {
      const value = ruleValue(rule, sample);
      if (value === undefined) continue;
      let perIdentity = this.#states.get(identity);
      if (!perIdentity) this.#states.set(identity, (perIdentity = new Map()));
      let state = perIdentity.get(i);
      if (!state) perIdentity.set(i, (state = { breachSince: undefined, raised: false, lastAt: -Infinity }));
      if (at < state.lastAt) continue;
      state.lastAt = at;
      const below = rule.below !== undefined;
      const threshold = below ? rule.below! : rule.above!;
      const margin = rule.clearMargin ?? 0;
      const breach = below ? value < threshold : value > threshold;
      const event = (s: AlertEvent['state']): AlertEvent => ({
        state: s,
        identity,
        rule,
        value,
        threshold,
        direction: below ? 'below' : 'above',
        at,
        message: ruleMessage(rule),
      });
      if (breach) {
        state.breachSince ??= at;
        if (!state.raised && at - state.breachSince >= rule.forSec * 1000) {
          state.raised = true;
          state.event = event('raised');
          events.push(state.event);
        }
        continue;
      }
      state.breachSince = undefined;
      const recovered = below ? value >= threshold + margin : value <= threshold - margin;
      if (state.raised && recovered) {
        state.raised = false;
        delete state.event;
        events.push(event('cleared'));
      }
    }
    return events;
  }

  /** Rules currently raised for this participant. */
  raised(identity: string): AlertRule[] {
    return this.active(identity).map((e) => e.rule);
  }

  /** The events that raised this participant's current alerts. */
  active(identity: string): AlertEvent[] {
    const perIdentity = this.#states.get(identity);
    if (!perIdentity) return [];
    return [...perIdentity.values()].flatMap((s) => (s.raised && s.event ? [s.event] : []));
  }

  /** The participant left: their episodes end without a reading to clear them. */
  forget(identity: string): void {
    this.#states.delete(identity);
  }
}
