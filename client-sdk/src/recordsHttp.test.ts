import { describe, expect, it } from 'vitest';
import { resolveServerUrl } from './recordsHttp.js';

describe('resolveServerUrl', () => {
  it('joins server paths to the server origin', () => {
    expect(resolveServerUrl('https://consult.example', '/api/rooms/r/records/x/content?sig=1')).toBe(
      'https://consult.example/api/rooms/r/records/x/content?sig=1',
    );
  });

  it('never follows a link to another origin (the token would go with it)', () => {
    expect(() => resolveServerUrl('https://consult.example', 'https://elsewhere.example/steal')).toThrow(
      /another site/,
    );
    expect(() => resolveServerUrl('https://consult.example', 'http://consult.example/x')).toThrow(/another site/);
    expect(resolveServerUrl('https://consult.example', 'https://consult.example/x')).toBe('https://consult.example/x');
  });
});
