/**
 * The medical records of one room and how they are looked at together: who
 * may see each one, the record being shared, the view state the server owns
 * (one presenter at a time), and the annotation log per record.
 * Over 400 lines on purpose for now: it also orders its own store writes; splitting the share and mark
 * state out of it is the next step (noted in docs/architecture.md).
 */
import { randomUUID } from 'node:crypto';
import {
  ErrorCode,
  type Mark,
  type NotificationData,
  type Notification,
  type RecordInfo,
  type RecordVisibility,
  type SharedRecord,
  type ViewState,
} from '@huizhen/protocol';
import { actorOf, type AuditSink } from '../audit/AuditLog.js';
import { HuizhenError, notFound, permissionDenied } from '../errors.js';
import type { Participant } from '../rooms/Participant.js';
import type { DurableShare } from '../rooms/RoomStateWriter.js';
import { isClinician } from '../rooms/policy.js';
import { RateLimiter } from '../util/RateLimiter.js';
import { detectRecordType } from './contentCheck.js';
import { checkFileName, sanitizeFileName } from './filenames.js';
import { SerialQueue } from '../storage/SerialQueue.js';
import type { RecordStore } from './RecordStore.js';
import type { UrlSigner } from './signedUrls.js';

export interface RoomRecordsOptions {
  roomId: string;
  store: RecordStore;
  signer: UrlSigner;
  audit: AuditSink;
  maxBytes: number;
  urlTtlSec: number;
  /** The room's admitted participants, for notifications. */
  participants: () => Iterable<Participant>;
  /**
   * Writes the current share (null: none) through to the room's durable state
   * (cluster mode; see rooms/RoomStateWriter.ts). A change is made and told
   * only once its write resolved; absent, nothing is written.
   */
  writeShare?: (share: DurableShare | null) => Promise<void>;
}

type ViewPatch = Partial<Omit<ViewState, 'version'>>;

/** What is saved per record. */
interface SavedMeta {
  info: RecordInfo;
  marks: Mark[];
}

interface RecordMeta extends SavedMeta {
  /** The points of all marks, kept current so annotating does not re-add the whole log. */
  points: number;
}

const META_SUFFIX = '-meta';
/** Bounds that keep one room's records and marks from costing the node (or late joiners) too much. */
const MAX_RECORDS_PER_ROOM = 200;
const MAX_MARKS_PER_RECORD = 2000;
const MAX_POINTS_PER_RECORD = 100_000;
/** Mark logs are written at most this often per record (they are also flushed when the room closes). */
const SAVE_DELAY_MS = 500;
/** The write queue's key for the whole room's folder (record ids are UUIDs, so it cannot collide). */
const ROOM_KEY = '#room';

export function canSee(p: { role: Participant['role']; can: Participant['can'] }, record: RecordInfo): boolean {
  return p.can('viewRecords') && (record.visibility === 'everyone' || isClinician(p.role));
}

export class RoomRecords {
  readonly #o: RoomRecordsOptions;
  readonly #records = new Map<string, RecordMeta>();
  readonly #pointerLimiters = new Map<string, RateLimiter>();
  readonly #markLimiters = new Map<string, RateLimiter>();
  readonly #pendingSaves = new Map<string, NodeJS.Timeout>();
  /** Store writes per record id, in order: a deletion never races the write before it. */
  readonly #writes = new SerialQueue();
  #share: DurableShare | undefined;
  /** Share changes one at a time: each is checked against the share its predecessor left, then written. */
  #shareChanges: Promise<unknown> = Promise.resolve();
  #markSeq = 0;
  /** Uploads still being written; they count against the room's limit. */
  #uploading = 0;
  /** Set by `deleteAll`: the consult ended and its records are gone. */
  #gone = false;
  /** The first background write that failed and has not been reported by `saved()`. */
  #saveError: unknown;
  /** Settles when the stored metadata has been read; the room is not used before. */
  readonly ready: Promise<void>;

  constructor(options: RoomRecordsOptions) {
    this.#o = options;
    this.ready = this.#load();
  }

  /** Records outlive an idle room: reload their (encrypted) metadata, once per room. */
  async #load(): Promise<void> {
    const { store, roomId } = this.#o;
    for (const id of await store.list(roomId)) {
      if (!id.endsWith(META_SUFFIX)) continue;
      try {
        const saved = JSON.parse((await store.get(roomId, id)).toString('utf8')) as SavedMeta;
        const meta: RecordMeta = { ...saved, points: saved.marks.reduce((n, m) => n + m.points.length, 0) };
        this.#records.set(meta.info.id, meta);
        for (const m of meta.marks) this.#markSeq = Math.max(this.#markSeq, m.seq);
      } catch {
        // A damaged metadata file hides that record; the rest stay available.
      }
    }
  }

  // --- upload, list, download, delete ---------------------------------------

  async add(
    p: Participant,
    upload: { data: Buffer; fileName?: string; visibility: RecordVisibility },
  ): Promise<RecordInfo> {
    if (!p.can('shareRecords')) throw permissionDenied('share records');
    if (this.#gone) throw new HuizhenError(ErrorCode.ROOM_ENDED, 'The consult has ended; the file was not stored.');
    if (this.#records.size + this.#uploading >= MAX_RECORDS_PER_ROOM) {
      throw new HuizhenError(
        ErrorCode.INVALID_STATE,
        `A consult holds at most ${MAX_RECORDS_PER_ROOM} records; delete some first.`,
      );
    }
    checkFileName(upload.fileName);
    if (upload.data.length === 0) throw new HuizhenError(ErrorCode.INVALID_REQUEST, 'The file is empty.');
    if (upload.data.length > this.#o.maxBytes) {
      throw new HuizhenError(
        ErrorCode.MESSAGE_TOO_LARGE,
        `Records may be at most ${Math.floor(this.#o.maxBytes / 1024 / 1024)} MB.`,
      );
    }
    const type = detectRecordType(upload.data);
    const id = randomUUID();
    const info: RecordInfo = {
      id,
      name: sanitizeFileName(upload.fileName, `record-${id.slice(0, 8)}`),
      type,
      size: upload.data.length,
      visibility: upload.visibility,
      uploadedBy: p.ref(),
      uploadedAt: Date.now(),
    };
    const meta: RecordMeta = { info, marks: [], points: 0 };
    const { store, roomId } = this.#o;
    this.#uploading++;
    try {
      await this.#writes.run(id, async () => {
        await store.put(roomId, id, upload.data);
        try {
          await this.#metaWrite(meta)();
        } catch (err) {
          await store.delete(roomId, id);
          throw err;
        }
      });
    } finally {
      this.#uploading--;
    }
    // The write took time: the consult may have ended (its folder is removed after this write), or the
    // uploader may have been removed, meanwhile.
    if (this.#gone) throw new HuizhenError(ErrorCode.ROOM_ENDED, 'The consult has ended; the file was not stored.');
    if (p.closed) {
      await this.#writes.run(id, () => this.#deleteStored(id));
      throw new HuizhenError(ErrorCode.NOT_JOINED, 'You are no longer in this consult; the file was not stored.');
    }
    this.#records.set(id, meta);
    this.#audit('record_uploaded', p, id, { type, size: info.size, visibility: info.visibility });
    this.#notifyViewers(info, p, 'recordAdded', { record: info });
    return info;
  }

  list(p: Participant): RecordInfo[] {
    return [...this.#records.values()].map((m) => m.info).filter((r) => canSee(p, r));
  }

  /** Only for someone who may see the record; the URL lives a few minutes. */
  urlFor(p: Participant, recordId: string): { url: string; expiresAt: number } {
    const { info: record } = this.#visible(p, recordId);
    const expiresAt = Math.floor(Date.now() / 1000) + this.#o.urlTtlSec;
    const url = this.#o.signer.sign({ room: this.#o.roomId, recordId: record.id, identity: p.identity, expiresAt });
    this.#audit('record_url_issued', p, recordId, { expiresAt });
    return { url, expiresAt };
  }

  info(recordId: string): RecordInfo | undefined {
    return this.#records.get(recordId)?.info;
  }

  content(recordId: string): Promise<Buffer> {
    return this.#o.store.get(this.#o.roomId, recordId);
  }

  /** Takes the record out of the room at once; resolves when its files are gone from disk. */
  delete(p: Participant, recordId: string): Promise<void> {
    const meta = this.#visible(p, recordId);
    // The uploader, or a host, may delete.
    if (meta.info.uploadedBy.identity !== p.identity && !p.can('end'))
      throw permissionDenied('delete a record someone else shared');
    if (this.#share?.recordId === recordId) {
      if (this.#share.presenter !== p.identity && !p.can('end'))
        throw permissionDenied('stop a share you are not presenting');
      this.#audit('record_share_stopped', p, recordId);
      this.#endShare(recordId, p);
      void this.#changeShare(async () => {
        if (!this.#share) await this.#o.writeShare?.(null);
      }).catch(() => {
        // As for presenterLeft: a restored share of a record that is gone is not taken up.
      });
    }
    this.#records.delete(recordId);
    clearTimeout(this.#pendingSaves.get(recordId));
    this.#pendingSaves.delete(recordId);
    const removed = this.#writes.run(recordId, () => this.#deleteStored(recordId));
    this.#audit('record_deleted', p, recordId);
    this.#notifyViewers(meta.info, p, 'recordDeleted', { recordId });
    return removed;
  }

  /** A presenter who leaves ends their share; nobody is left steering it. */
  presenterLeft(identity: string): void {
    if (this.#share?.presenter !== identity) return;
    this.#endShare(this.#share.recordId);
    // Nobody waits on a leave: the durable share ends in the background, in order with the other changes.
    this.#changeShare(async () => {
      if (!this.#share) await this.#o.writeShare?.(null);
    }).catch(() => {
      // Only a lost room or an unreachable Redis: the next home then restores it without its presenter,
      // which Room.restore does not take up.
    });
  }

  /** Forgets every record at once; resolves when the room's folder is gone (failures are kept for `saved()`). */
  deleteAll(): Promise<void> {
    for (const timer of this.#pendingSaves.values()) clearTimeout(timer);
    this.#pendingSaves.clear();
    this.#records.clear();
    this.#share = undefined;
    this.#gone = true;
    // After the writes already under way, so none of them recreates a file in the removed folder.
    const underWay = this.#writes.idle();
    return this.#background(
      this.#writes.run(ROOM_KEY, async () => {
        await underWay;
        await this.#o.store.deleteRoom(this.#o.roomId);
      }),
    );
  }

  // --- synchronized viewing ---------------------------------------------------

  /** What a participant sees of the current share (late joiners, reconnects). */
  currentShareFor(p: Participant): SharedRecord | undefined {
    if (!this.#share) return undefined;
    const meta = this.#records.get(this.#share.recordId);
    if (!meta || !canSee(p, meta.info)) return undefined;
    return this.#sharedRecord(meta);
  }

  share(p: Participant, recordId: string): Promise<SharedRecord> {
    return this.#changeShare(async () => {
      if (!p.can('shareRecords')) throw permissionDenied('share records');
      this.#visible(p, recordId);
      const next: DurableShare = {
        recordId,
        presenter: p.identity,
        view: { page: 1, zoom: 1, panX: 0, panY: 0, rotation: 0, windowCenter: null, windowWidth: null, version: 1 },
      };
      await this.#o.writeShare?.(next);
      // The record may have been deleted during the write.
      const meta = this.#visible(p, recordId);
      const previous = this.#share;
      if (previous && previous.recordId !== recordId) this.#endShare(previous.recordId);
      this.#share = next;
      const shared = this.#sharedRecord(meta);
      this.#audit('record_shared', p, recordId);
      this.#notifyViewers(meta.info, p, 'recordShared', { share: shared });
      return shared;
    });
  }

  stopShare(p: Participant, recordId: string): Promise<void> {
    return this.#changeShare(async () => {
      const share = this.#activeShare(recordId);
      if (share.presenter !== p.identity && !p.can('end'))
        throw permissionDenied('stop a share you are not presenting');
      await this.#o.writeShare?.(null);
      this.#audit('record_share_stopped', p, recordId);
      this.#endShare(recordId, p);
    });
  }

  setViewState(p: Participant, recordId: string, patch: ViewPatch): Promise<ViewState> {
    return this.#changeShare(async () => {
      const share = this.#activeShare(recordId);
      if (share.presenter !== p.identity)
        throw permissionDenied('move the shared view (ask the presenter to hand over)');
      const next: ViewState = { ...share.view, version: share.view.version + 1 };
      for (const [k, v] of Object.entries(patch) as [keyof ViewPatch, number | undefined][]) {
        if (v !== undefined) (next as unknown as Record<string, number>)[k] = v;
      }
      await this.#o.writeShare?.({ ...share, view: next });
      if (this.#share !== share) throw new HuizhenError(ErrorCode.INVALID_STATE, 'That record is not being shared.');
      share.view = next;
      this.#notifyViewers(this.#records.get(recordId)!.info, p, 'viewStateChanged', {
        recordId,
        view: next,
        by: p.identity,
      });
      return next;
    });
  }

  /** A room rebuilt on a new home takes up the share its durable state holds (if the record is here). */
  restoreShare(share: DurableShare): void {
    if (this.#records.has(share.recordId)) this.#share = structuredClone(share);
  }

  requestPresenter(p: Participant, recordId: string): void {
    const share = this.#activeShare(recordId);
    this.#visible(p, recordId);
    if (share.presenter === p.identity) return;
    for (const presenter of this.#o.participants()) {
      if (presenter.identity === share.presenter) presenter.notify('presenterRequested', { recordId, from: p.ref() });
    }
  }

  grantPresenter(p: Participant, recordId: string, to: Participant | undefined): Promise<void> {
    return this.#changeShare(async () => {
      const share = this.#activeShare(recordId);
      if (share.presenter !== p.identity && !p.can('end')) throw permissionDenied('hand over presenting');
      const meta = this.#records.get(recordId)!;
      if (!to || !canSee(to, meta.info))
        throw new HuizhenError(ErrorCode.NOT_FOUND, 'That person is not here or may not see this record.');
      await this.#o.writeShare?.({ ...share, presenter: to.identity });
      if (this.#share !== share) throw new HuizhenError(ErrorCode.INVALID_STATE, 'That record is not being shared.');
      share.presenter = to.identity;
      this.#notifyViewers(meta.info, null, 'presenterChanged', { recordId, presenter: to.identity });
    });
  }

  // --- annotations --------------------------------------------------------------

  /** Ephemeral; at most 30 updates a second per person, the rest are dropped. */
  pointer(p: Participant, recordId: string, page: number, x: number, y: number): void {
    this.#activeShare(recordId);
    const meta = this.#records.get(recordId)!;
    if (!canSee(p, meta.info) || !p.can('annotate')) throw permissionDenied('point on this record');
    let limiter = this.#pointerLimiters.get(p.identity);
    if (!limiter) this.#pointerLimiters.set(p.identity, (limiter = new RateLimiter(30, 30)));
    if (!limiter.take()) return;
    this.#notifyViewers(meta.info, p, 'pointer', { recordId, identity: p.identity, page, x, y });
  }

  annotate(p: Participant, recordId: string, input: Omit<Mark, 'id' | 'seq' | 'author' | 'createdAt'>): Mark {
    if (!p.can('annotate')) throw permissionDenied('annotate records');
    const meta = this.#visible(p, recordId);
    let limiter = this.#markLimiters.get(p.identity);
    if (!limiter) this.#markLimiters.set(p.identity, (limiter = new RateLimiter(10, 20)));
    if (!limiter.take()) throw new HuizhenError(ErrorCode.RATE_LIMITED, 'You are annotating too quickly.');
    if (meta.marks.length >= MAX_MARKS_PER_RECORD || meta.points + input.points.length > MAX_POINTS_PER_RECORD) {
      throw new HuizhenError(ErrorCode.INVALID_STATE, 'This record has as many marks as it can hold.');
    }
    if (input.kind === 'text' && !input.text)
      throw new HuizhenError(ErrorCode.INVALID_REQUEST, 'A text note needs text.');
    if (input.kind === 'arrow' && input.points.length !== 2)
      throw new HuizhenError(ErrorCode.INVALID_REQUEST, 'An arrow has exactly two points.');
    const mark: Mark = { ...input, id: randomUUID(), seq: ++this.#markSeq, author: p.ref(), createdAt: Date.now() };
    meta.marks.push(mark);
    meta.points += mark.points.length;
    this.#saveMetaSoon(meta);
    this.#audit('record_annotated', p, recordId, { kind: mark.kind, page: mark.page });
    this.#notifyViewers(meta.info, p, 'annotationAdded', { recordId, mark });
    return mark;
  }

  /** Undoes the caller's own latest mark on the record. */
  undo(p: Participant, recordId: string): string | null {
    const meta = this.#visible(p, recordId);
    for (let i = meta.marks.length - 1; i >= 0; i--) {
      if (meta.marks[i]!.author.identity !== p.identity) continue;
      const [removed] = meta.marks.splice(i, 1);
      meta.points -= removed!.points.length;
      this.#saveMetaSoon(meta);
      this.#notifyViewers(meta.info, p, 'annotationRemoved', { recordId, markId: removed!.id });
      return removed!.id;
    }
    return null;
  }

  // --- helpers ----------------------------------------------------------------------

  #visible(p: Participant, recordId: string): RecordMeta {
    const meta = this.#records.get(recordId);
    // Not "forbidden": a hidden record does not exist for those who may not see it.
    if (!meta || !canSee(p, meta.info)) throw notFound('record', recordId);
    return meta;
  }

  /** Runs a share change after the ones before it (failed or not). */
  #changeShare<T>(change: () => Promise<T>): Promise<T> {
    const next = this.#shareChanges.then(change);
    this.#shareChanges = next.catch(() => undefined);
    return next;
  }

  #activeShare(recordId: string) {
    if (!this.#share || this.#share.recordId !== recordId)
      throw new HuizhenError(ErrorCode.INVALID_STATE, 'That record is not being shared.');
    return this.#share;
  }

  #endShare(recordId: string, except: Participant | null = null): void {
    const meta = this.#records.get(recordId);
    this.#share = undefined;
    if (meta) this.#notifyViewers(meta.info, except, 'recordShareStopped', { recordId });
  }

  #sharedRecord(meta: RecordMeta): SharedRecord {
    const share = this.#share!;
    return {
      record: meta.info,
      presenter: share.presenter,
      view: { ...share.view },
      marks: meta.marks.map((m) => ({ ...m })),
    };
  }

  #notifyViewers<N extends Notification>(
    record: RecordInfo,
    except: Participant | null,
    name: N,
    data: NotificationData[N],
  ): void {
    for (const other of this.#o.participants()) if (other !== except && canSee(other, record)) other.notify(name, data);
  }

  /** Coalesces bursts of annotation into one write per record. */
  #saveMetaSoon(meta: RecordMeta): void {
    if (this.#pendingSaves.has(meta.info.id)) return;
    const timer = setTimeout(() => {
      this.#pendingSaves.delete(meta.info.id);
      if (this.#records.get(meta.info.id) === meta) this.#saveMeta(meta);
    }, SAVE_DELAY_MS);
    timer.unref();
    this.#pendingSaves.set(meta.info.id, timer);
  }

  /**
   * Writes whatever is still pending (the room is closing); resolves when every write is done.
   * Never rejects: a failure is kept for `saved()`.
   */
  flush(): Promise<void> {
    for (const [id, timer] of this.#pendingSaves) {
      clearTimeout(timer);
      const meta = this.#records.get(id);
      if (meta) this.#saveMeta(meta);
    }
    this.#pendingSaves.clear();
    return this.#writes.idle();
  }

  /** Resolves when every write so far is done; rejects with the first background write that failed. */
  async saved(): Promise<void> {
    await this.#writes.idle();
    const error = this.#saveError;
    this.#saveError = undefined;
    if (error !== undefined) throw error;
  }

  #saveMeta(meta: RecordMeta): void {
    this.#background(this.#writes.run(meta.info.id, this.#metaWrite(meta)));
  }

  /** The write of the record's metadata as it is now (the snapshot is taken at once), to run or queue. */
  #metaWrite(meta: RecordMeta): () => Promise<void> {
    const saved: SavedMeta = { info: meta.info, marks: meta.marks };
    const bytes = Buffer.from(JSON.stringify(saved));
    return () => this.#o.store.put(this.#o.roomId, meta.info.id + META_SUFFIX, bytes);
  }

  async #deleteStored(recordId: string): Promise<void> {
    await this.#o.store.delete(this.#o.roomId, recordId);
    await this.#o.store.delete(this.#o.roomId, recordId + META_SUFFIX);
  }

  /** A write nobody waits for: its failure is kept for `saved()` instead of going unhandled. */
  #background(write: Promise<void>): Promise<void> {
    return write.catch((err: unknown) => {
      this.#saveError ??= err;
    });
  }

  #audit(
    event: Parameters<AuditSink['append']>[0]['event'],
    p: Participant,
    recordId: string,
    details?: Record<string, string | number | boolean | null>,
  ): void {
    this.#o.audit.append({
      event,
      room: this.#o.roomId,
      actor: actorOf(p),
      target: recordId,
      ...(details ? { details } : {}),
    });
  }
}
