/**
 * Recording retention: with `retention: delete`, recordings older than
 * `retentionDays` are removed (media, per-track files and metadata), each
 * deletion audited. Runs at start and then hourly; `keep` never deletes.
 */
import type { AuditSink } from '../audit/AuditLog.js';
import type { Logger } from '../observability/logger.js';
import type { RecordingStore } from './storage/RecordingStore.js';

export async function sweepRecordings(
  store: RecordingStore,
  policy: { retention: 'keep' | 'delete'; retentionDays: number },
  audit: AuditSink,
  logger: Logger,
  now = Date.now(),
): Promise<number> {
  if (policy.retention !== 'delete') return 0;
  const cutoff = now - policy.retentionDays * 86_400_000;
  let deleted = 0;
  for (const room of await store.rooms()) {
    for (const meta of await store.list(room)) {
      // Never under a capture or composition still running.
      if (meta.state === 'capturing' || meta.state === 'composing') continue;
      if (Date.parse(meta.finishedAt ?? meta.startedAt) > cutoff) continue;
      await store.delete(room, meta.id);
      deleted++;
      audit.append({ event: 'recording_deleted', room, target: meta.id, details: { reason: 'retention' } });
    }
  }
  if (deleted > 0) logger.info('recordings deleted by retention', { deleted });
  return deleted;
}
