import { describe, expect, it } from 'vitest';
import type { VitalsSample } from '@huizhen/protocol';
import { AlertEngine, ruleMessage } from './AlertEngine.js';
import type { AlertRule } from './vitalsConfig.js';

const T0 = Date.UTC(2026, 11, 2, 6, 0, 0);
const spo2 = (value: number): VitalsSample => ({ type: 'spo2', value, unit: '%', at: T0 });
const rule: AlertRule = { type: 'spo2', below: 90, forSec: 10, clearMargin: 2 };

/** Feeds one reading per second from `start` (seconds after T0); returns the events' states with their second. */
function feed(engine: AlertEngine, values: number[], start = 0, identity = 'pt-1'): string[] {
  const out: string[] = [];
  values.forEach((v, i) => {
    for (const e of engine.observe(identity, spo2(v), T0 + (start + i) * 1000)) out.push(`${e.state}@${start + i}`);
  });
  return out;
}

describe('AlertEngine', () => {
  it('raises only after the reading stayed out of range for forSec, and only once', () => {
    const engine = new AlertEngine([rule]);
    // 9 s below 90: not yet. Back to 95: the episode resets.
    expect(feed(engine, [89, 88, 88, 87, 87, 88, 89, 88, 88, 95])).toEqual([]);
    // 10 s below from second 10 to 20: raised at 20, then silence while it stays low.
    expect(feed(engine, Array(25).fill(86), 10)).toEqual(['raised@20']);
    expect(engine.raised('pt-1')).toEqual([rule]);
  });

  it('clears only when back in range by the margin (hysteresis), then can raise again', () => {
    const engine = new AlertEngine([rule]);
    expect(feed(engine, Array(11).fill(85))).toEqual(['raised@10']);
    // 90 and 91 are no longer below the threshold but inside the margin: still raised, no flapping.
    expect(feed(engine, [90, 91, 89, 90, 91, 90], 11)).toEqual([]);
    expect(engine.raised('pt-1')).toHaveLength(1);
    expect(feed(engine, [92], 17)).toEqual(['cleared@17']);
    expect(feed(engine, [93, 94], 18)).toEqual([]);
    expect(feed(engine, Array(11).fill(80), 20)).toEqual(['raised@30']);
  });

  it('with forSec 0 a single reading raises; readings hovering at the threshold raise once', () => {
    const engine = new AlertEngine([{ type: 'heartRate', above: 130, forSec: 0, clearMargin: 5 }]);
    const hr = (value: number, s: number) =>
      engine.observe('pt-1', { type: 'heartRate', value, unit: '/min', at: T0 }, T0 + s * 1000).map((e) => e.state);
    expect(hr(131, 0)).toEqual(['raised']);
    expect([hr(129, 1), hr(132, 2), hr(128, 3), hr(131, 4)].flat()).toEqual([]);
    expect(hr(125, 5)).toEqual(['cleared']);
  });

  it('keeps episodes per participant apart and forgets a participant who left', () => {
    const engine = new AlertEngine([rule]);
    feed(engine, Array(6).fill(85), 0, 'pt-1');
    feed(engine, Array(6).fill(85), 0, 'pt-2');
    expect(feed(engine, Array(5).fill(85), 6, 'pt-1')).toEqual(['raised@10']);
    engine.forget('pt-2');
    // pt-2's first 6 s were forgotten: the 10 s count starts again.
    expect(feed(engine, Array(5).fill(85), 6, 'pt-2')).toEqual([]);
  });

  it('ignores readings older than the latest one seen (a late batch does not rewrite the episode)', () => {
    const engine = new AlertEngine([rule]);
    expect(feed(engine, Array(11).fill(85))).toEqual(['raised@10']);
    expect(feed(engine, [99], 3)).toEqual([]);
    expect(engine.raised('pt-1')).toHaveLength(1);
  });

  it('compares blood pressure by component and glucose in mg/dL whatever the unit', () => {
    const engine = new AlertEngine([
      { type: 'bloodPressure', component: 'systolic', above: 180, forSec: 0 },
      { type: 'bloodGlucose', below: 70, forSec: 0 },
    ]);
    const bp = engine.observe(
      'pt-1',
      { type: 'bloodPressure', systolic: 190, diastolic: 100, unit: 'mm[Hg]', at: T0 },
      T0,
    );
    expect(bp.map((e) => [e.state, e.value, e.threshold, e.direction])).toEqual([['raised', 190, 180, 'above']]);
    // 3.5 mmol/L = 63 mg/dL: below 70.
    const low = engine.observe('pt-1', { type: 'bloodGlucose', value: 3.5, unit: 'mmol/L', at: T0 }, T0);
    expect(low).toHaveLength(1);
    expect(low[0]!.value).toBeCloseTo(63.06, 1);
    // 4.2 mmol/L = 75.7 mg/dL: back in range.
    expect(
      engine.observe('pt-1', { type: 'bloodGlucose', value: 4.2, unit: 'mmol/L', at: T0 }, T0 + 1).map((e) => e.state),
    ).toEqual(['cleared']);
  });

  it('names the threshold in its message, never the reading', () => {
    expect(ruleMessage(rule)).toBe('SpO2 below 90 % for 10 s');
    expect(ruleMessage({ type: 'bloodPressure', component: 'systolic', above: 180, forSec: 0 })).toBe(
      'Blood pressure (systolic) above 180 mmHg',
    );
    const [event] = new AlertEngine([rule])
      .observe('pt-1', spo2(72), T0)
      .concat(new AlertEngine([{ ...rule, forSec: 0 }]).observe('pt-1', spo2(72), T0));
    expect(event!.message).not.toContain('72');
  });
});
