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
}

const lineSchema = z.union([
  z.strictObject({
    op: z.literal('add'),
    id: str({ min: 1, max: 64 }),
    room: str({ max: 256 }),
    type: str({ min: 1, max: 64 }),
    queuedAt: num({ integer: true, min: 0 }),
    body: str({ min: 2, max: 1024 * 1024 }),
  }),
  z.strictObject({ op: z.enum(['done', 'failed']), id: str({ min: 1, max: 64 }) }),
]);

export const JOURNAL_FILE = 'queue.jsonl';
const COMPACT_MIN_SETTLED = 256;

export class WebhookJournal {
  readonly #dir: string;
  readonly #pending = new Map<string, QueuedEvent>();
  #fd: number;
  #settled = 0;
  #syncing = false;
  #syncAgain = false;
  #closed = false;
  /** Lines that could not be read when the journal was opened (a torn last line after a power cut). */
  readonly damagedLines: number;

  private constructor(dir: string, fd: number, pending: QueuedEvent[], settled: number, damaged: number) {
    this.#dir = dir;
    this.#fd = fd;
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
        } else if (pending.delete(line.id)) settled++;
      }
    }
    const fd = openSync(path, 'a', 0o600);
    // End a torn last line, or the next line would be glued to it and be lost too.
    if (tornTail) writeSync(fd, '\n');
    const journal = new WebhookJournal(dir, fd, [...pending.values()], settled, damaged);
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

  add(event: QueuedEvent): void {
    this.#write({ op: 'add', ...event });
    this.#pending.set(event.id, event);
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
    try {
      const text = [...this.#pending.values()].map((e) => JSON.stringify({ op: 'add', ...e }) + '\n').join('');
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
  }
}
