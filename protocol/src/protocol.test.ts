import { describe, expect, it } from 'vitest';
import {
  METHODS,
  NOTIFICATIONS,
  ProtocolValidationError,
  arr,
  json,
  notificationSchemas,
  num,
  parseEnvelope,
  parseNotification,
  parseRequest,
  parseResponse,
  parseWith,
  ValidationError,
  requestSchemas,
  requestValidators,
  responseSchemas,
  str,
  type Method,
  type Notification,
} from './index.js';
import * as z from 'zod/mini';
import { consumerCreated, goodNotifications, goodRequests, goodResponses, joinWaiting } from './testing/fixtures.js';

const fails = (fn: () => unknown): string => {
  try {
    fn();
  } catch (err) {
    if (err instanceof ProtocolValidationError) return err.message;
    throw err;
  }
  throw new Error('expected a ProtocolValidationError');
};

/** The good value with its first field replaced by something of the wrong type. */
function spoilFirstField(good: unknown): unknown {
  const entries = Object.entries(good as Record<string, unknown>);
  if (entries.length === 0) return null;
  const [key, value] = entries[0]!;
  return { ...(good as object), [key]: typeof value === 'boolean' ? 'yes' : true };
}

describe('zod issues read as "<path>: <problem>"', () => {
  it('name the failing field', () => {
    const v = z.strictObject({ a: z.strictObject({ b: arr(num({ integer: true }), { max: 3 }) }) });
    expect(fails(() => parseWith(v, { a: { b: [1, 2.5] } }, 'data'))).toBe('data.a.b[1]: must be an integer');
    expect(fails(() => parseWith(v, { a: {} }, 'data'))).toBe('data.a.b: is required');
    expect(fails(() => parseWith(v, { a: { b: [1, 2, 3, 4] } }, 'data'))).toBe('data.a.b: must have at most 3 items');
  });

  it('reject unknown fields and wrong types', () => {
    const v = z.strictObject({ name: str({ max: 5 }), note: z.optional(str({ max: 5 })) });
    expect(parseWith(v, { name: 'abc' })).toEqual({ name: 'abc' });
    expect(fails(() => parseWith(v, { name: 'abc', admin: true }))).toBe('admin: is not a known field');
    expect(fails(() => parseWith(v, { name: 123 }))).toBe('name: expected string, got number');
    expect(fails(() => parseWith(v, { name: 'toolong' }))).toBe('name: must be at most 5 characters');
    expect(fails(() => parseWith(v, null))).toBe('expected object, got null');
  });

  it('bound free-form JSON in depth, breadth and string size', () => {
    const v = json({ maxDepth: 3, maxItems: 4, maxString: 10 });
    expect(parseWith(v, { a: [1, { b: 'x' }] })).toEqual({ a: [1, { b: 'x' }] });
    expect(fails(() => parseWith(v, { a: { b: { c: { d: 1 } } } }))).toMatch(/nested too deeply/);
    expect(fails(() => parseWith(v, { a: [1, 2, 3, 4, 5] }))).toMatch(/too many items/);
    expect(fails(() => parseWith(v, { a: 'x'.repeat(11) }))).toMatch(/string is too long/);
    expect(fails(() => parseWith(v, JSON.parse('{"__proto__": {"polluted": true}}')))).toMatch(
      /__proto__: is a forbidden field name/,
    );
    expect(fails(() => parseWith(v, { a: { constructor: 1 } }, 'data'))).toBe(
      'data.a.constructor: is a forbidden field name',
    );
    expect(fails(() => parseWith(z.strictObject({ blob: v }), {}, 'data'))).toBe('data.blob: is required');
  });

  it('reject non-finite numbers', () => {
    expect(fails(() => parseWith(num(), Number.NaN))).toMatch(/finite number/);
    expect(fails(() => parseWith(num(), Infinity))).toMatch(/finite number/);
  });
});

describe('protocol coverage', () => {
  it('has a request and a response schema for exactly the protocol methods, and a schema per notification', () => {
    expect(METHODS.length).toBeGreaterThan(10);
    expect(Object.keys(requestSchemas).sort()).toEqual([...METHODS].sort());
    expect(Object.keys(responseSchemas).sort()).toEqual([...METHODS].sort());
    expect(Object.keys(notificationSchemas).sort()).toEqual([...NOTIFICATIONS].sort());
    // The fixtures cover every name too, so the loops below test every schema.
    expect(Object.keys(goodRequests).sort()).toEqual([...METHODS].sort());
    expect(Object.keys(goodResponses).sort()).toEqual([...METHODS].sort());
    expect(Object.keys(goodNotifications).sort()).toEqual([...NOTIFICATIONS].sort());
  });

  it.each(METHODS)('request %s: accepts a real payload, rejects a spoiled one and unknown keys', (method: Method) => {
    const good = goodRequests[method];
    expect(parseRequest(method, good)).toEqual(good);
    expect(fails(() => parseRequest(method, spoilFirstField(good)))).toMatch(/^data/);
    expect(fails(() => parseRequest(method, { ...(good as object), admin: true }))).toBe(
      'data.admin: is not a known field',
    );
  });

  it.each(METHODS)('response %s: accepts a real answer, rejects a spoiled one', (method: Method) => {
    const good = goodResponses[method];
    expect(parseResponse(method, good)).toEqual(good);
    expect(() => parseResponse(method, spoilFirstField(good))).toThrow(ProtocolValidationError);
    expect(() => parseResponse(method, 'ok')).toThrow(ProtocolValidationError);
  });

  it.each(NOTIFICATIONS)('notification %s: accepts a real one, rejects a spoiled one', (name: Notification) => {
    const good = goodNotifications[name];
    expect(parseNotification(name, good)).toEqual(good);
    expect(() => parseNotification(name, spoilFirstField(good))).toThrow(ProtocolValidationError);
  });
});

describe('protocol messages', () => {
  it('validates join', () => {
    expect(parseRequest('join', { protocolVersion: 1, token: 'abc' })).toEqual({ protocolVersion: 1, token: 'abc' });
    expect(fails(() => parseRequest('join', { protocolVersion: 1 }))).toBe('data.token: is required');
    expect(fails(() => parseRequest('join', { protocolVersion: 1, token: 'a', room: '../x' }))).toBe(
      'data.room: has an invalid format',
    );
  });

  it('validates produce and connectTransport shapes', () => {
    expect(
      fails(() => parseRequest('produce', { transportId: 't', kind: 'smell', source: 'camera', rtpParameters: {} })),
    ).toMatch(/data\.kind: must be one of/);
    expect(
      fails(() => parseRequest('connectTransport', { transportId: 't', dtlsParameters: { fingerprints: [] } })),
    ).toBe('data.dtlsParameters.fingerprints: must have at least 1 items');
    expect(
      fails(() => parseRequest('setRtpCapabilities', { rtpCapabilities: { codecs: [{ mimeType: 'x'.repeat(513) }] } })),
    ).toBe('data.rtpCapabilities.codecs[0].mimeType: string is too long (max 512)');
  });

  it('validates the envelope', () => {
    expect(parseEnvelope({ id: 1, method: 'leave' })).toEqual({ id: 1, method: 'leave' });
    expect(fails(() => parseEnvelope({ id: -1, method: 'leave' }))).toBe('id: must be >= 0');
    expect(fails(() => parseEnvelope({ id: 1, method: 'x'.repeat(65) }))).toBe('method: must be at most 64 characters');
  });

  it('tells the two join answers apart and checks each', () => {
    expect(parseResponse('join', joinWaiting)).toEqual(joinWaiting);
    expect(() => parseResponse('join', { ...joinWaiting, admission: 'maybe' })).toThrow(/data\.admission/);
    const { routerRtpCapabilities: _omit, ...noCaps } = goodResponses.join as Record<string, unknown>;
    expect(fails(() => parseResponse('join', noCaps))).toBe('data.routerRtpCapabilities: is required');
  });

  it('checks a real consumerCreated field by field', () => {
    expect(parseNotification('consumerCreated', consumerCreated).rtpParameters.codecs[0]?.mimeType).toBe('audio/opus');
    expect(fails(() => parseNotification('consumerCreated', { ...consumerCreated, kind: 'smell' }))).toMatch(
      /^data\.kind: must be one of "audio", "video"$/,
    );
    const { rtpParameters: _omit, ...noParams } = consumerCreated;
    expect(fails(() => parseNotification('consumerCreated', noParams))).toBe('data.rtpParameters: is required');
  });

  it('lets an older SDK read a newer server: unknown fields in server messages are dropped, not fatal', () => {
    expect(parseNotification('trackMuted', { participantIdentity: 'a', trackId: 'b', extra: 1 })).toEqual({
      participantIdentity: 'a',
      trackId: 'b',
    });
  });
});

describe('names kept for existing importers', () => {
  it('requestValidators and ValidationError still work as before', () => {
    expect(Object.keys(requestValidators).sort()).toEqual([...METHODS].sort());
    expect(requestValidators.leave.parse({})).toEqual({});
    expect(() => requestValidators.join.parse({ protocolVersion: 1 }, 'data')).toThrow(ValidationError);
    expect(fails(() => requestValidators.join.parse({ protocolVersion: 1 }, 'data'))).toBe('data.token: is required');
  });
});
