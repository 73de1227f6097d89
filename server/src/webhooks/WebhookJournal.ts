/**
 * One endpoint's durable queue: an append-only JSONL journal of "add" lines
 * (the event, its body bytes fixed at enqueue) and "done"/"failed" lines.
 *
 * Why a journal and not one file per event: one write(2) per event keeps the
 * enqueue O(1) with no directory churn, the line order *is* the delivery order
 * (rooms' events stay in sequence after a restart without sorting names), and
 * compaction is one rewrite. Each line is written synchronously (it is in the
 * kernel before the audited action is acknowledged, so a crash or kill -9 of
 * the process loses nothing); fdatasync follows asynchronously, coalesced, so
 * an outage of the machine itself can lose at most the last few milliseconds
 * without putting a disk flush on every room's path.
 *
 * Bounded growth: once settled lines outnumber pending ones (and there are more
 * than a few hundred), the file is rewritten with only the pending events
 * (write to a temporary file, fsync, rename: never a half-written queue).
 */
import {
  closeSync,
  existsSync,
  fdatasync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import * as z from 'zod/mini';
import { num, str } from '@huizhen/protocol';

/** An event waiting for delivery to one endpoint. */
export interface QueuedEvent {
  id: string;
  room: string;
  type: string;
  /** Epoch ms when it was queued: the retry deadline counts from here, across restarts. */
  queuedAt: number;
  /** The JSON body, exactly the bytes that are signed and sent on every attempt. */
  body: string;
  /** The audit entry it came from: after a crash, entries past the journal's knowledge are queued again. */
  auditSeq?: number;
}

const lineSchema = z.union([
  z.strictObject({
    op: z.literal('add'),
    id: str({ min: 1, max: 64 }),
    room: str({ max: 256 }),
    type: str({ min: 1, max: 64 }),
    queuedAt: num({ integer: true, min: 0 }),
    body: str({ min: 2, max: 1024 * 1024 }),
    auditSeq: z.optional(num({ integer: true, min: 0 })),
  }),
  z.strictObject({ op: z.enum(['done', 'failed']), id: str({ min: 1, max: 64 }) }),
  /** Every audit entry up to auditSeq has been considered (queued or not wanted). */
  z.strictObject({ op: z.literal('seen'), auditSeq: num({ integer: true, min: 0 }) }),
]);

export const JOURNAL_FILE = 'queue.jsonl';
const COMPACT_MIN_SETTLED = 256;

export class WebhookJournal {
  readonly #dir: string;
  readonly #pending = new Map<string, QueuedEvent>();
  /** Audit seqs of the events in the file (pending or settled since the last compaction). */
  readonly #known = new Set<number>();
  #maxKnown: number | undefined;
  #seen: number | undefined;
  #fd: number;
  #settled = 0;
  #syncing = false;
  #syncAgain = false;
  #closed = false;
  /** Lines that could not be read when the journal was opened (a torn last line after a power cut). */
  readonly damagedLines: number;

  private constructor(
    dir: string,
    fd: number,
    pending: QueuedEvent[],
    settled: number,
    damaged: number,
    seen: { mark: number | undefined; known: Set<number> },
  ) {
    this.#dir = dir;
    this.#fd = fd;
    this.#seen = seen.mark;
    this.#known = seen.known;
    for (const s of seen.known) this.#maxKnown = Math.max(this.#maxKnown ?? 0, s);
    for (const e of pending) this.#pending.set(e.id, e);
    this.#settled = settled;
    this.damagedLines = damaged;
  }

  /** Opens (or creates) the journal in `dir` and reads back what is still pending, in queue order. */
  static open(dir: string): WebhookJournal {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const path = join(dir, JOURNAL_FILE);
    const pending = new Map<string, QueuedEvent>();
    let settled = 0;
    let damaged = 0;
    let tornTail = false;
    let mark: number | undefined;
    const known = new Set<number>();
    if (existsSync(path)) {
      const text = readFileSync(path, 'utf8');
      tornTail = text.length > 0 && !text.endsWith('\n');
      for (const raw of text.split('\n')) {
        if (!raw) continue;
        let line: z.infer<typeof lineSchema>;
        try {
          line = lineSchema.parse(JSON.parse(raw));
        } catch {
          damaged++;
          continue;
        }
        if (line.op === 'add') {
          const { op: _op, ...event } = line;
          pending.set(line.id, event);
          if (line.auditSeq !== undefined) known.add(line.auditSeq);
        } else if (line.op === 'seen') mark = Math.max(mark ?? 0, line.auditSeq);
        else if (pending.delete(line.id)) settled++;
      }
    }
    const fd = openSync(path, 'a', 0o600);
    // End a torn last line, or the next line would be glued to it and be lost too.
    if (tornTail) writeSync(fd, '\n');
    const journal = new WebhookJournal(dir, fd, [...pending.values()], settled, damaged, { mark, known });
    journal.#compactIfDue();
    return journal;
  }

  /** Pending events in the order they were queued. */
  pending(): QueuedEvent[] {
    return [...this.#pending.values()];
  }

  get size(): number {
    return this.#pending.size;
  }

  /** Audit entries up to this seq were all considered; undefined for a journal that never recorded one. */
  get seenUpTo(): number | undefined {
    if (this.#seen === undefined && this.#maxKnown === undefined) return undefined;
    return Math.max(this.#seen ?? 0, this.#maxKnown ?? 0);
  }

  /** True when an event from this audit entry is (or was, since the last compaction) in the journal. */
  knows(auditSeq: number): boolean {
    return auditSeq <= (this.#seen ?? -1) || this.#known.has(auditSeq);
  }

  add(event: QueuedEvent): void {
    this.#write({ op: 'add', ...event });
    this.#pending.set(event.id, event);
    if (event.auditSeq !== undefined) {
      this.#known.add(event.auditSeq);
      this.#maxKnown = Math.max(this.#maxKnown ?? 0, event.auditSeq);
    }
  }

  /** Records that every audit entry up to `auditSeq` has been considered (on close, or for a new journal). */
  markSeen(auditSeq: number): void {
    if (auditSeq <= (this.#seen ?? -1)) return;
    this.#write({ op: 'seen', auditSeq });
    this.#seen = auditSeq;
  }

  /** Marks an event delivered or given up; it will not be read back after a restart. */
  settle(id: string, outcome: 'done' | 'failed'): void {
    if (!this.#pending.has(id)) return;
    this.#write({ op: outcome, id });
    this.#pending.delete(id);
    this.#settled++;
    this.#compactIfDue();
  }

  /** Flushes to disk and closes the file; pending events stay for the next start. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    fsyncSync(this.#fd);
    closeSync(this.#fd);
  }

  #write(line: object): void {
    if (this.#closed) throw new Error('webhook journal is closed');
    writeSync(this.#fd, JSON.stringify(line) + '\n');
    this.#scheduleSync();
  }

  #scheduleSync(): void {
    if (this.#syncing) {
      this.#syncAgain = true;
      return;
    }
    this.#syncing = true;
    fdatasync(this.#fd, () => {
      // An error here (the file was closed meanwhile) is covered by close()'s own fsync.
      this.#syncing = false;
      if (this.#syncAgain && !this.#closed) {
        this.#syncAgain = false;
        this.#scheduleSync();
      }
    });
  }

  #compactIfDue(): void {
    if (this.#settled < COMPACT_MIN_SETTLED || this.#settled < this.#pending.size) return;
    const path = join(this.#dir, JOURNAL_FILE);
    const tmp = `${path}.tmp`;
    const fd = openSync(tmp, 'w', 0o600);
    // What the dropped lines knew survives as one 'seen' line.
    const seen = this.seenUpTo;
    try {
      const text =
        (seen !== undefined ? JSON.stringify({ op: 'seen', auditSeq: seen }) + '\n' : '') +
        [...this.#pending.values()].map((e) => JSON.stringify({ op: 'add', ...e }) + '\n').join('');
      writeSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
    // The rename itself must survive a power cut too.
    const dirFd = openSync(this.#dir, 'r');
    try {
      fsyncSync(dirFd);
    } finally {
      closeSync(dirFd);
    }
    closeSync(this.#fd);
    this.#fd = openSync(path, 'a', 0o600);
    this.#settled = 0;
    if (seen !== undefined) this.#seen = seen;
    this.#known.clear();
    for (const e of this.#pending.values()) if (e.auditSeq !== undefined) this.#known.add(e.auditSeq);
  }
}
