/**
 * Append-only, hash-chained audit trail (JSONL). Each entry carries the hash of
 * the one before it, so an edited, removed or reordered line breaks the chain
 * at that point. Files rotate by size; the chain continues into the next file.
 * Entries hold who did what to whom and when — never tokens, chat text or
 * record contents.
 */
import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, statSync } from 'node:fs';
import { join } from 'node:path';

export type AuditEvent =
  | 'token_rejected'
  | 'room_created'
  | 'join'
  | 'leave'
  | 'waiting'
  | 'admit'
  | 'deny'
  | 'mute_by_host'
  | 'remove'
  | 'lock'
  | 'unlock'
  | 'end'
  | 'opinion_written'
  | 'record_uploaded'
  | 'record_shared'
  | 'record_url_issued'
  | 'record_downloaded'
  | 'record_annotated'
  | 'record_share_stopped'
  | 'record_deleted'
  // --- pre-call check (no room: a loopback outside every room)
  | 'preflight_started'
  | 'preflight_ended'
  // --- vitals (device and alert events, never the readings)
  | 'vitals_device_connected'
  | 'vitals_device_disconnected'
  | 'vitals_alert_raised'
  | 'vitals_alert_cleared'
  | 'vitals_read'
  // --- recording (consent and capture; never the media itself)
  | 'recording_requested'
  | 'recording_consented'
  | 'recording_declined'
  | 'recording_withdrawn'
  | 'recording_started'
  | 'recording_paused'
  | 'recording_resumed'
  | 'recording_stopped'
  | 'recording_segment'
  | 'recording_failed'
  | 'recording_ready'
  | 'recording_url_issued'
  | 'recording_downloaded'
  | 'recording_deleted'
  // --- the patient's evaluation (never the comment's text)
  | 'evaluation_submitted'
  // --- webhooks: the consult became active (a clinician and someone else admitted), the source of room.started
  | 'consult_started';

export interface AuditActor {
  identity: string;
  role?: string;
  issuer?: string;
}

/** Who did it, as the audit trail names a person: identity, role and the issuer that vouched for them. */
export function actorOf(p: { identity: string; role: string; issuer: string }): AuditActor {
  return { identity: p.identity, role: p.role, issuer: p.issuer };
}

export interface AuditInput {
  event: AuditEvent;
  room?: string;
  actor?: AuditActor;
  target?: string;
  /** Small, non-sensitive facts (reason codes, counts, ids). */
  details?: Record<string, string | number | boolean | null>;
}

export interface AuditEntry extends AuditInput {
  seq: number;
  time: string;
  prev: string;
  hash: string;
}

export const GENESIS = '0'.repeat(64);
export const CURRENT_FILE = 'audit.jsonl';

export interface AuditSink {
  append(input: AuditInput): void;
}

export interface AuditLogOptions {
  dir: string;
  maxFileBytes: number;
}

export class AuditLog implements AuditSink {
  readonly #dir: string;
  readonly #maxFileBytes: number;
  #prev = GENESIS;
  #seq = 0;

  constructor(options: AuditLogOptions) {
    this.#dir = options.dir;
    this.#maxFileBytes = options.maxFileBytes;
    mkdirSync(this.#dir, { recursive: true, mode: 0o700 });
    // Continue the chain from the last entry already on disk.
    const last = lastEntry(join(this.#dir, CURRENT_FILE)) ?? lastRotatedEntry(this.#dir);
    if (last) {
      this.#prev = last.hash;
      this.#seq = last.seq;
    }
  }

  get path(): string {
    return join(this.#dir, CURRENT_FILE);
  }

  /** The seq of the last entry written (0 for an empty trail); webhooks catch up from it after a crash. */
  get seq(): number {
    return this.#seq;
  }

  /** Returns the entry as written (the webhooks' tap reads its time). */
  append(input: AuditInput): AuditEntry {
    const entry: Omit<AuditEntry, 'hash'> = {
      seq: this.#seq + 1,
      time: new Date().toISOString(),
      ...input,
      prev: this.#prev,
    };
    const hash = hashEntry(entry);
    const line = JSON.stringify({ ...entry, hash }) + '\n';
    this.#rotateIfNeeded(line.length);
    // Synchronous on purpose, unlike the record and consult stores: an audit entry must be on disk
    // before the action it records is acknowledged, and in the order the actions happened — an async
    // append could report an action whose entry is later lost or lands out of the hash chain's order.
    // Entries are a few hundred bytes, so the stall is small.
    appendFileSync(this.path, line, { mode: 0o600 });
    this.#prev = hash;
    this.#seq = entry.seq;
    return { ...entry, hash };
  }

  #rotateIfNeeded(incoming: number): void {
    const path = this.path;
    if (!existsSync(path) || statSync(path).size + incoming <= this.#maxFileBytes) return;
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    renameSync(path, join(this.#dir, `audit-${stamp}-${String(this.#seq).padStart(10, '0')}.jsonl`));
  }
}

/** The hash covers every field but `hash`, in a fixed key order. */
export function hashEntry(entry: Omit<AuditEntry, 'hash'>): string {
  return createHash('sha256').update(canonical(entry)).digest('hex');
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    return `{${Object.keys(obj)
      .filter((k) => obj[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(obj[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

function lastEntry(file: string): AuditEntry | undefined {
  if (!existsSync(file)) return undefined;
  const lines = readFileSync(file, 'utf8').trimEnd().split('\n').filter(Boolean);
  const last = lines[lines.length - 1];
  if (!last) return undefined;
  try {
    return JSON.parse(last) as AuditEntry;
  } catch {
    throw new Error(
      `audit file ${file} ends with a damaged line; run 'huizhen audit verify' and repair before starting`,
    );
  }
}

function lastRotatedEntry(dir: string): AuditEntry | undefined {
  const rotated = readdirSync(dir)
    .filter((f) => /^audit-.*\.jsonl$/.test(f))
    .sort();
  const newest = rotated[rotated.length - 1];
  return newest ? lastEntry(join(dir, newest)) : undefined;
}

/** Collects entries in memory (tests). */
export class MemoryAudit implements AuditSink {
  readonly entries: AuditInput[] = [];
  append(input: AuditInput): void {
    this.entries.push(input);
  }
}
