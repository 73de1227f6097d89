import { appendFileSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { JOURNAL_FILE, WebhookJournal, type QueuedEvent } from './WebhookJournal.js';

const event = (n: number, room = 'r1'): QueuedEvent => ({
  id: `e${n}`,
  room,
  type: 'participant.joined',
  queuedAt: 1_700_000_000_000 + n,
  body: JSON.stringify({ id: `e${n}`, type: 'participant.joined', room }),
});

describe('webhook journal', () => {
  it('reads back what is pending, in queue order, after a reopen', () => {
    const dir = mkdtempSync(join(tmpdir(), 'huizhen-wh-journal-'));
    const j = WebhookJournal.open(dir);
    for (let n = 1; n <= 5; n++) j.add(event(n, n % 2 ? 'a' : 'b'));
    j.settle('e2', 'done');
    j.settle('e4', 'failed');
    j.settle('e9', 'done'); // unknown: ignored
    j.close();
    const again = WebhookJournal.open(dir);
    expect(again.pending()).toEqual([event(1, 'a'), event(3, 'a'), event(5, 'a')]);
    expect(again.damagedLines).toBe(0);
    again.add(event(6, 'b'));
    again.close();
    expect(
      WebhookJournal.open(dir)
        .pending()
        .map((e) => e.id),
    ).toEqual(['e1', 'e3', 'e5', 'e6']);
  });

  it('keeps the file bounded: settled events are compacted away', () => {
    const dir = mkdtempSync(join(tmpdir(), 'huizhen-wh-journal-'));
    const j = WebhookJournal.open(dir);
    j.add(event(0));
    for (let n = 1; n <= 2000; n++) {
      j.add({ ...event(n), auditSeq: n });
      j.settle(`e${n}`, 'done');
    }
    const size = statSync(join(dir, JOURNAL_FILE)).size;
    // 2000 delivered events of ~200 bytes would be ~400 kB uncompacted.
    expect(size).toBeLessThan(256 * 2 * 200);
    j.close();
    const again = WebhookJournal.open(dir);
    expect(again.pending().map((e) => e.id)).toEqual(['e0']);
    // What the compacted lines knew about the audit trail is kept.
    expect(again.seenUpTo).toBe(2000);
    expect(again.knows(1234)).toBe(true);
    expect(again.knows(2001)).toBe(false);
  });

  it('skips a torn or hostile line and keeps the rest', () => {
    const dir = mkdtempSync(join(tmpdir(), 'huizhen-wh-journal-'));
    const j = WebhookJournal.open(dir);
    j.add(event(1));
    j.close();
    const path = join(dir, JOURNAL_FILE);
    appendFileSync(path, JSON.stringify({ op: 'add', id: 'x', room: 'r', type: 't', queuedAt: -1, body: '{}' }) + '\n');
    appendFileSync(path, '{"op":"add","id":"e2","ro');
    const again = WebhookJournal.open(dir);
    expect(again.pending().map((e) => e.id)).toEqual(['e1']);
    expect(again.damagedLines).toBe(2);
    again.add(event(3));
    again.close();
    // The torn tail does not swallow the line written after it.
    expect(readFileSync(path, 'utf8')).toContain('"id":"e3"');
    expect(
      WebhookJournal.open(dir)
        .pending()
        .map((e) => e.id),
    ).toEqual(['e1', 'e3']);
  });
});
