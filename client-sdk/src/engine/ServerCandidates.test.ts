import { describe, expect, it } from 'vitest';
import { ServerCandidates } from './ServerCandidates.js';

describe('ServerCandidates', () => {
  it('has nowhere else to go before a join named other nodes (embedded mode)', () => {
    const c = new ServerCandidates('http://a:3001');
    c.learn([]);
    expect(c.advance()).toBeUndefined();
    expect(c.current).toBe('http://a:3001');
  });

  it('moves on to the other nodes in turn and back, skipping itself, duplicates and junk', () => {
    const c = new ServerCandidates('http://a:3001');
    c.learn(['ws://a:3001/ws', 'http://b:3002', 'http://b:3002', 'not a url', 'http://c:3003']);
    expect(c.all).toEqual(['http://a:3001', 'http://b:3002', 'http://c:3003']);
    expect(c.advance()).toBe('http://b:3002');
    expect(c.advance()).toBe('http://c:3003');
    expect(c.advance()).toBe('http://a:3001');
  });

  it('starts from the node it is on when a later join names the others', () => {
    const c = new ServerCandidates('http://a:3001');
    c.learn(['http://b:3002']);
    c.advance();
    c.learn(['http://c:3003']);
    expect(c.all).toEqual(['http://b:3002', 'http://c:3003']);
  });

  it('goes to the node a draining server names, keeping the others to fall back on', () => {
    const c = new ServerCandidates('https://hz-a.example.org');
    c.learn(['https://hz-b.example.org', 'https://hz-c.example.org']);
    expect(c.prefer('https://hz-c.example.org')).toBe(true);
    expect(c.current).toBe('https://hz-c.example.org');
    expect(c.all).toEqual(['https://hz-c.example.org', 'https://hz-a.example.org', 'https://hz-b.example.org']);
    expect(c.prefer('not a url')).toBe(false);
    expect(c.current).toBe('https://hz-c.example.org');
  });
});
