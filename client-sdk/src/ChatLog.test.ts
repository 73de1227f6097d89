import { describe, expect, it } from 'vitest';
import { ChatLog } from './ChatLog.js';
import type { ChatMessage } from '@huizhen/protocol';

const msg = (seq: number, id = `m${seq}`): ChatMessage => ({
  id,
  seq,
  from: { identity: 'dr', name: 'Dr', role: 'doctor' },
  text: `text ${seq}`,
  to: 'everyone',
  sentAt: 1_700_000_000_000 + seq,
});

describe('ChatLog', () => {
  it('keeps messages in server order whatever order they arrive in', () => {
    const log = new ChatLog();
    for (const seq of [2, 5, 1, 4, 3]) log.add(msg(seq));
    expect(log.messages.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5]);
  });

  it('keeps each message once, by id', () => {
    const log = new ChatLog();
    expect(log.add(msg(1))).toBe(true);
    expect(log.add(msg(1))).toBe(false);
    expect(log.addAll([msg(1), msg(3), msg(2)]).map((m) => m.seq)).toEqual([2, 3]);
    expect(log.messages).toHaveLength(3);
  });
});
