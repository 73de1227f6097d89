import { describe, expect, it } from 'vitest';
import { METHODS, requestEnvelope, requestValidators } from './messages.js';
import { ValidationError, array, json, number, object, optional, string } from './validate.js';

const fails = (fn: () => unknown): string => {
  try {
    fn();
  } catch (err) {
    if (err instanceof ValidationError) return err.message;
    throw err;
  }
  throw new Error('expected a ValidationError');
};

describe('validators', () => {
  it('name the failing field', () => {
    const v = object({ a: object({ b: array(number({ integer: true }), { max: 3 }) }) });
    expect(fails(() => v.parse({ a: { b: [1, 2.5] } }, 'data'))).toBe('data.a.b[1]: must be an integer');
    expect(fails(() => v.parse({ a: {} }, 'data'))).toBe('data.a.b: is required');
    expect(fails(() => v.parse({ a: { b: [1, 2, 3, 4] } }, 'data'))).toBe('data.a.b: must have at most 3 items');
  });

  it('reject unknown fields and wrong types', () => {
    const v = object({ name: string({ max: 5 }), note: optional(string({ max: 5 })) });
    expect(v.parse({ name: 'abc' })).toEqual({ name: 'abc' });
    expect(fails(() => v.parse({ name: 'abc', admin: true }))).toBe('admin: is not a known field');
    expect(fails(() => v.parse({ name: 123 }))).toBe('name: expected string, got number');
    expect(fails(() => v.parse({ name: 'toolong' }))).toBe('name: must be at most 5 characters');
    expect(fails(() => v.parse(null))).toBe('expected object, got null');
  });

  it('bound free-form JSON in depth, breadth and string size', () => {
    const v = json({ maxDepth: 3, maxItems: 4, maxString: 10 });
    expect(v.parse({ a: [1, { b: 'x' }] })).toEqual({ a: [1, { b: 'x' }] });
    expect(fails(() => v.parse({ a: { b: { c: { d: 1 } } } }))).toMatch(/nested too deeply/);
    expect(fails(() => v.parse({ a: [1, 2, 3, 4, 5] }))).toMatch(/too many items/);
    expect(fails(() => v.parse({ a: 'x'.repeat(11) }))).toMatch(/string is too long/);
    expect(fails(() => v.parse(JSON.parse('{"__proto__": {"polluted": true}}')))).toMatch(/forbidden field name/);
  });

  it('reject non-finite numbers', () => {
    expect(fails(() => number().parse(Number.NaN))).toMatch(/finite number/);
    expect(fails(() => number().parse(Infinity))).toMatch(/finite number/);
  });
});

describe('protocol messages', () => {
  it('has a validator for every method', () => {
    expect(METHODS.length).toBeGreaterThan(10);
    for (const m of METHODS) expect(typeof requestValidators[m].parse).toBe('function');
  });

  it('validates join', () => {
    expect(requestValidators.join.parse({ protocolVersion: 1, token: 'abc' })).toEqual({
      protocolVersion: 1,
      token: 'abc',
    });
    expect(fails(() => requestValidators.join.parse({ protocolVersion: 1 }, 'data'))).toBe('data.token: is required');
    expect(fails(() => requestValidators.join.parse({ protocolVersion: 1, token: 'a', room: '../x' }, 'data'))).toBe(
      'data.room: has an invalid format',
    );
  });

  it('validates produce and connectTransport shapes', () => {
    expect(
      fails(() =>
        requestValidators.produce.parse(
          { transportId: 't', kind: 'smell', source: 'camera', rtpParameters: {} },
          'data',
        ),
      ),
    ).toMatch(/data\.kind: must be one of/);
    expect(
      fails(() =>
        requestValidators.connectTransport.parse({ transportId: 't', dtlsParameters: { fingerprints: [] } }, 'data'),
      ),
    ).toBe('data.dtlsParameters.fingerprints: must have at least 1 items');
  });

  it('validates the envelope', () => {
    expect(requestEnvelope.parse({ id: 1, method: 'leave' })).toEqual({ id: 1, method: 'leave' });
    expect(fails(() => requestEnvelope.parse({ id: -1, method: 'leave' }))).toBe('id: must be >= 0');
    expect(fails(() => requestEnvelope.parse({ id: 1, method: 'x'.repeat(65) }))).toBe(
      'method: must be at most 64 characters',
    );
  });
});
