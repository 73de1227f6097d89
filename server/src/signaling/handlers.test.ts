import { METHODS } from '@huizhen/protocol';
import { describe, expect, it } from 'vitest';
import { handlers } from './handlers.js';

describe('handler table', () => {
  // Compared against the protocol's own list, not against itself: a method added to the
  // protocol without a handler (or a handler for a method the protocol lacks) fails here.
  it('implements exactly the protocol methods', () => {
    expect(Object.keys(handlers).sort()).toEqual([...METHODS].sort());
  });
});
