/**
 * The audit trail is the source of truth: what a crash cut off between the
 * audit write and the queue write is queued at the next start, once; a new
 * endpoint does not get the history; a clean stop leaves nothing to catch up.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AuditLog } from '../audit/AuditLog.js';
import { createLogger } from '../observability/logger.js';
import { AuditTap } from './AuditTap.js';
import { WebhookJournal } from './WebhookJournal.js';
import { WebhookService } from './WebhookService.js';
import type { WebhookType } from './webhookTypes.js';

const env = { WH_SECRET: 'catch-up-test-secret-0123' };
// Never reachable: these tests look at the queues, not at deliveries.
const endpoint = (id: string, events?: WebhookType[]) => ({
  id,
  url: 'http://127.0.0.1:9/never',
  secretEnv: 'WH_SECRET',
  ...(events ? { events } : {}),
});

describe('webhooks catch up from the audit trail', () => {
  it('queues what a crash cut off, once, and gives a new endpoint no history', () => {
    const dir = mkdtempSync(join(tmpdir(), 'huizhen-wh-catchup-'));
    const auditDir = join(dir, 'audit');
    const queues = join(dir, 'webhooks');
    const logs: string[] = [];
    const logger = createLogger({ level: 'debug', write: (l) => logs.push(l) });
    const audit = new AuditLog({ dir: auditDir, maxFileBytes: 1024 * 1024 });
    const open = (endpoints: ReturnType<typeof endpoint>[]) =>
      WebhookService.open({ endpoints, dir: queues, env, logger, audit: { dir: auditDir, seq: () => audit.seq } });

    // Before webhooks were configured: history a new endpoint must not receive.
    audit.append({ event: 'join', room: 'old', actor: { identity: 'dr-old' } });

    const first = open([endpoint('his'), endpoint('billing', ['room.ended'])]);
    const tap = new AuditTap(audit, (e) => first.enqueue(e), logger);
    tap.append({ event: 'join', room: 'r1', actor: { identity: 'dr-1' } });
    // The process dies between these audit writes and their queue writes (the tap never sees them).
    audit.append({ event: 'leave', room: 'r1', actor: { identity: 'dr-1' }, details: { reason: 'left' } });
    audit.append({ event: 'mute_by_host', room: 'r1', actor: { identity: 'dr-1' }, target: 'pt-1' });
    audit.append({ event: 'end', room: 'r1', actor: { identity: 'dr-1' } });
    // No close(): a crash.

    const second = open([endpoint('his'), endpoint('billing', ['room.ended']), endpoint('new')]);
    second.close();
    first.close();

    const types = (id: string) =>
      WebhookJournal.open(join(queues, id))
        .pending()
        .map((e) => `${e.type}@${e.auditSeq}`);
    expect(types('his')).toEqual(['participant.joined@2', 'participant.left@3', 'room.ended@5']);
    expect(types('billing')).toEqual(['room.ended@5']);
    expect(types('new')).toEqual([]);
    expect(logs.some((l) => l.includes('queued from the audit trail'))).toBe(true);

    // After a clean stop, a start queues nothing twice.
    open([endpoint('his'), endpoint('billing', ['room.ended']), endpoint('new')]).close();
    expect(types('his')).toHaveLength(3);
    expect(types('billing')).toHaveLength(1);
    const bodies = WebhookJournal.open(join(queues, 'his'))
      .pending()
      .map((e) => JSON.parse(e.body) as { type: string; room: string; actor?: { identity: string } });
    expect(bodies[1]).toMatchObject({ type: 'participant.left', room: 'r1', actor: { identity: 'dr-1' } });
  });
});
