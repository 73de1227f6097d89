/**
 * Reads the audit entries after a given seq, oldest first, across rotated
 * files. Webhooks use it at start to queue what a crash cut off between the
 * audit write and the queue write (the audit trail is the source of truth).
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { CURRENT_FILE, type AuditEntry } from '../audit/AuditLog.js';

export function auditEntriesAfter(dir: string, seq: number): AuditEntry[] {
  if (!existsSync(dir)) return [];
  // Rotated files are named audit-<time>-<seq of their last entry>.jsonl: skip those wholly before `seq`.
  const rotated = readdirSync(dir)
    .filter((f) => /^audit-.*\.jsonl$/.test(f))
    .sort()
    .filter((f) => Number(/-(\d+)\.jsonl$/.exec(f)?.[1] ?? Infinity) > seq);
  const out: AuditEntry[] = [];
  for (const file of [...rotated, CURRENT_FILE]) {
    const path = join(dir, file);
    if (!existsSync(path)) continue;
    for (const line of readFileSync(path, 'utf8').split('\n')) {
      if (!line) continue;
      let entry: AuditEntry;
      try {
        entry = JSON.parse(line) as AuditEntry;
      } catch {
        continue; // a damaged line is the audit verifier's to report
      }
      if (typeof entry.seq === 'number' && entry.seq > seq && typeof entry.event === 'string') out.push(entry);
    }
  }
  return out;
}
