/**
 * Over 400 lines on purpose: one public surface (`room.records`) whose share state and the notifications that
 * change it belong together; the HTTP half is recordsHttp.ts.
 *
 * `room.records`: the room's shared medical records. Upload and download go
 * over HTTP; listing, sharing, the synchronized view, presenting and
 * annotations go over signaling. Keeps `current` (the record being shared,
 * its view and marks) up to date from the server's notifications, and a local
 * "follow the presenter" view for viewers who look around on their own.
 */
import { ErrorCode, HuizhenError } from './errors.js';
import type { RoomEventCallbacks } from './events.js';
import { errorFields, type Logger } from './logger.js';
import type {
  Mark,
  Method,
  NotificationData,
  RecordInfo,
  RequestData,
  ResponseData,
  SharedRecord,
  ViewState,
} from '@huizhen/protocol';
import {
  downloadRecord,
  resolveServerUrl,
  uploadRecord,
  type HttpTarget,
  type RecordBody,
  type UploadRecordOptions,
} from './recordsHttp.js';

/** Fields of the view to change; the others keep their value. */
export type ViewPatch = RequestData<'setViewState'>['view'];
/** A stored mark to add: stroke (a path), arrow ([from, to]) or text note ([anchor] plus `text`). */
export type MarkInput = RequestData<'annotate'>['mark'];

/** A short-lived download URL for one record, issued to this participant only. */
export interface RecordUrl {
  /** Absolute URL. Downloading it also needs this participant's token: use `records.fetch()`. */
  url: string;
  /** When the URL stops working (ms since the epoch). */
  expiresAt: number;
}

/** The record notifications RoomRecords handles. */
export type RecordNotification = {
  [N in RecordNotificationName]: { notification: N; data: NotificationData[N] };
}[RecordNotificationName];

type RecordNotificationName =
  | 'recordAdded'
  | 'recordDeleted'
  | 'recordShared'
  | 'recordShareStopped'
  | 'viewStateChanged'
  | 'presenterChanged'
  | 'presenterRequested'
  | 'pointer'
  | 'annotationAdded'
  | 'annotationRemoved';

const RECORD_NOTIFICATIONS: ReadonlySet<string> = new Set<RecordNotificationName>([
  'recordAdded',
  'recordDeleted',
  'recordShared',
  'recordShareStopped',
  'viewStateChanged',
  'presenterChanged',
  'presenterRequested',
  'pointer',
  'annotationAdded',
  'annotationRemoved',
]);

export function isRecordNotification(message: { notification: string }): message is RecordNotification {
  return RECORD_NOTIFICATIONS.has(message.notification);
}

/**
 * At most one pointer update per this many ms. The server forwards up to 30/s
 * per person, but it also allows only 30 requests/s per connection in all:
 * sending pointers that fast would starve every other request.
 */
export const POINTER_INTERVAL_MS = 50;

/** What RoomRecords needs from its Room. */
export interface RoomRecordsHost {
  request<M extends Method>(method: M, data: RequestData<M>): Promise<ResponseData[M]>;
  emit<E extends keyof RoomEventCallbacks>(event: E, ...args: Parameters<RoomEventCallbacks[E]>): void;
  /** This participant's identity. */
  identity(): string;
  /** Throws NOT_JOINED when the room is not connected. */
  http(): HttpTarget;
  logger(): Logger;
}

function cloneShare(share: SharedRecord): SharedRecord {
  return {
    record: { ...share.record },
    presenter: share.presenter,
    view: { ...share.view },
    marks: [...share.marks].sort((a, b) => a.seq - b.seq),
  };
}

function clamp01(value: number): number {
  return Number.isFinite(value) ? Math.min(1, Math.max(0, value)) : 0;
}

/** The room's shared medical records (`room.records`): list, upload and download, share one with everyone, a synchronized view with a presenter, pointer and annotations. */
export class RoomRecords {
  readonly #host: RoomRecordsHost;
  #current: SharedRecord | undefined;
  #follow = true;
  #localView: ViewState | undefined;
  readonly #objectUrls = new Set<string>();
  #pendingPointer: RequestData<'pointer'> | undefined;
  #pointerTimer: ReturnType<typeof setTimeout> | undefined;

  /** @internal Created by Room. */
  constructor(host: RoomRecordsHost) {
    this.#host = host;
  }

  /**
   * The record being shared now, with its presenter, the shared view state
   * and its marks (in server order); undefined when nothing is shared or this
   * participant may not see it. Set at join (late joiners, reconnects) and kept
   * current by notifications.
   */
  get current(): Readonly<SharedRecord> | undefined {
    return this.#current;
  }

  /** Whether this client presents the current record (only the presenter moves the shared view). */
  get isPresenter(): boolean {
    return this.#current !== undefined && this.#current.presenter === this.#host.identity();
  }

  /**
   * True while this viewer follows the presenter (the default); false after
   * `setLocalView()` until `followPresenter()`.
   */
  get follow(): boolean {
    return this.#follow;
  }

  /**
   * What this client should render: the shared view while following, this
   * viewer's own view otherwise. Undefined when nothing is shared.
   */
  get localView(): Readonly<ViewState> | undefined {
    return this.#localView;
  }

  // --- files ----------------------------------------------------------------

  /**
   * Uploads a record into the room (PDF, PNG, JPEG or DICOM; the server checks
   * the bytes). Needs the share permission and an admitted session.
   *
   * @throws HuizhenError: UNSUPPORTED_MEDIA_TYPE, CORRUPT_FILE, UNSAFE_CONTENT,
   *   MESSAGE_TOO_LARGE, PERMISSION_DENIED, NOT_JOINED, CONNECTION_FAILED, ...
   */
  async upload(file: RecordBody, options: UploadRecordOptions): Promise<RecordInfo> {
    const record = await uploadRecord(this.#host.http(), file, options);
    // The server tells everyone else; this client learns from the answer.
    this.#host.emit('recordAdded', record);
    return record;
  }

  /** The records this participant may see. */
  async list(): Promise<RecordInfo[]> {
    return (await this.#host.request('listRecords', {})).records;
  }

  /**
   * A short-lived download URL for this participant. It is useless without
   * this participant's token, so `<img src>` cannot use it: see `fetch()` and
   * `objectUrlFor()`.
   */
  async urlFor(recordId: string): Promise<RecordUrl> {
    const { url, expiresAt } = await this.#host.request('getRecordUrl', { recordId });
    return { url: resolveServerUrl(this.#host.http().baseUrl, url), expiresAt: expiresAt * 1000 };
  }

  /** Downloads a record's bytes (a fresh signed URL plus this participant's token). */
  async fetch(recordId: string, options: { signal?: AbortSignal } = {}): Promise<Blob> {
    const { url } = await this.#host.request('getRecordUrl', { recordId });
    return downloadRecord(this.#host.http(), url, options.signal);
  }

  /**
   * Downloads a record and returns a `blob:` URL for `<img>`, `<iframe>` or a
   * PDF viewer. Revoke it with `URL.revokeObjectURL` when done; the SDK revokes
   * any left when the room disconnects, so the bytes do not outlive the consult.
   */
  async objectUrlFor(recordId: string, options: { signal?: AbortSignal } = {}): Promise<string> {
    const blob = await this.fetch(recordId, options);
    const url = URL.createObjectURL(blob);
    this.#objectUrls.add(url);
    return url;
  }

  /** Deletes a record (its uploader, or a host). Stops its share if it is being shared. */
  async delete(recordId: string): Promise<void> {
    await this.#host.request('deleteRecord', { recordId });
    // The server does not echo our own delete (nor the share it stopped) back to us.
    this.#onDeleted(recordId);
  }

  // --- sharing and the synchronized view ----------------------------------------

  /** Opens a record for everyone allowed to see it; this client presents. Replaces another share. */
  async share(recordId: string): Promise<SharedRecord> {
    const { share } = await this.#host.request('shareRecord', { recordId });
    this.#setShare(share, true);
    return cloneShare(share);
  }

  /** Stops sharing (the current record unless another id is given): the presenter, or a host. */
  async stopShare(recordId?: string): Promise<void> {
    const id = recordId ?? this.#requireShare().record.id;
    await this.#host.request('stopShare', { recordId: id });
    this.#onShareStopped(id);
  }

  /**
   * Presenter only: moves the shared view for everyone. Omitted fields keep
   * their value. Others get PERMISSION_DENIED (ask with `requestPresenter()`).
   */
  async setViewState(patch: ViewPatch): Promise<ViewState> {
    const share = this.#requireShare();
    const { view } = await this.#host.request('setViewState', { recordId: share.record.id, view: patch });
    this.#onViewState(share.record.id, view, this.#host.identity());
    return { ...view };
  }

  /**
   * Changes what this client shows. For the presenter this moves the shared
   * view (as `setViewState`); for a viewer it stays local and stops following
   * the presenter until `followPresenter()`.
   */
  async setLocalView(patch: ViewPatch): Promise<ViewState> {
    const share = this.#requireShare();
    if (this.isPresenter) return this.setViewState(patch);
    const base = this.#localView ?? share.view;
    const next: ViewState = { ...base };
    for (const [key, value] of Object.entries(patch) as [keyof ViewPatch, ViewState[keyof ViewPatch] | undefined][]) {
      if (value !== undefined) (next as unknown as Record<string, unknown>)[key] = value;
    }
    this.#follow = false;
    this.#localView = next;
    this.#host.emit('localViewChanged', { ...next }, false);
    return { ...next };
  }

  /** Follows the presenter again: the local view jumps to the shared one. */
  followPresenter(): void {
    const share = this.#current;
    const changed = !this.#follow;
    this.#follow = true;
    if (!share) return;
    this.#localView = { ...share.view };
    if (changed) this.#host.emit('localViewChanged', { ...share.view }, true);
  }

  /** Asks the presenter to hand presenting over (they get `presenterRequested`). */
  async requestPresenter(): Promise<void> {
    await this.#host.request('requestPresenter', { recordId: this.#requireShare().record.id });
  }

  /** Presenter (or a host): hands presenting to `identity`. Everyone gets `presenterChanged`. */
  async grantPresenter(identity: string): Promise<void> {
    await this.#host.request('grantPresenter', { recordId: this.#requireShare().record.id, identity });
  }

  // --- pointer and annotations ------------------------------------------------------

  /**
   * Shows this client's pointer to the others, in record coordinates (x, y in
   * 0..1 of the page). Call it freely (e.g. on every pointermove): updates go
   * out at most every 50 ms, always ending with the latest position. Ignored
   * when nothing is shared.
   */
  pointer(page: number, x: number, y: number): void {
    const share = this.#current;
    if (!share) return;
    this.#pendingPointer = {
      recordId: share.record.id,
      page: Math.max(1, Math.round(page)),
      x: clamp01(x),
      y: clamp01(y),
    };
    if (this.#pointerTimer === undefined) this.#flushPointer();
  }

  /** Adds a stored mark to the current record; everyone who can see it gets `annotationAdded`. */
  async annotate(mark: MarkInput): Promise<Mark> {
    const share = this.#requireShare();
    const { mark: stored } = await this.#host.request('annotate', { recordId: share.record.id, mark });
    this.#onMarkAdded(share.record.id, stored);
    return { ...stored };
  }

  /** Removes this client's own most recent mark on the current record; resolves with its id, or null if none. */
  async undo(): Promise<string | null> {
    const share = this.#requireShare();
    const { markId } = await this.#host.request('undoAnnotation', { recordId: share.record.id });
    if (markId !== null) this.#onMarkRemoved(share.record.id, markId);
    return markId;
  }

  // --- fed by Room ----------------------------------------------------------------------

  /** @internal A record notification from the server. */
  _handle(message: RecordNotification): void {
    switch (message.notification) {
      case 'recordAdded':
        return void this.#host.emit('recordAdded', message.data.record);
      case 'recordDeleted':
        return this.#onDeleted(message.data.recordId);
      case 'recordShared':
        return this.#setShare(message.data.share, true);
      case 'recordShareStopped':
        return this.#onShareStopped(message.data.recordId);
      case 'viewStateChanged':
        return this.#onViewState(message.data.recordId, message.data.view, message.data.by);
      case 'presenterChanged':
        return this.#onPresenter(message.data.recordId, message.data.presenter);
      case 'presenterRequested':
        return void this.#host.emit('presenterRequested', message.data.recordId, message.data.from);
      case 'pointer':
        return void this.#host.emit('pointer', { ...message.data });
      case 'annotationAdded':
        return this.#onMarkAdded(message.data.recordId, message.data.mark);
      case 'annotationRemoved':
        return this.#onMarkRemoved(message.data.recordId, message.data.markId);
    }
  }

  /**
   * @internal The share as a room view describes it. `emit: false` at join or
   * admission (the app reads `current` then); `emit: true` after a reconnect,
   * where it is told what changed while it was away.
   */
  _applyShare(share: SharedRecord | undefined, emit: boolean): void {
    const current = this.#current;
    if (!emit) {
      if (share) this.#setShare(share, false);
      else this.#clearShare();
      return;
    }
    if (!share) {
      if (current) this.#onShareStopped(current.record.id);
      return;
    }
    if (!current || current.record.id !== share.record.id) {
      this.#setShare(share, true);
      return;
    }
    const id = share.record.id;
    this.#onPresenter(id, share.presenter);
    this.#onViewState(id, share.view, share.presenter);
    const wanted = new Set(share.marks.map((m) => m.id));
    for (const mark of [...current.marks]) if (!wanted.has(mark.id)) this.#onMarkRemoved(id, mark.id);
    for (const mark of share.marks) this.#onMarkAdded(id, mark);
  }

  /** @internal The room disconnected: forget the share and release downloaded bytes. */
  _reset(): void {
    this.#clearShare();
    if (this.#pointerTimer !== undefined) clearTimeout(this.#pointerTimer);
    this.#pointerTimer = undefined;
    this.#pendingPointer = undefined;
    const revoke = (globalThis as { URL?: { revokeObjectURL?: (url: string) => void } }).URL?.revokeObjectURL;
    for (const url of this.#objectUrls) revoke?.(url);
    this.#objectUrls.clear();
  }

  // --- state changes ----------------------------------------------------------------------

  #requireShare(): SharedRecord {
    if (!this.#current) throw new HuizhenError(ErrorCode.INVALID_STATE, 'No record is being shared');
    return this.#current;
  }

  #setShare(share: SharedRecord, emit: boolean): void {
    this.#current = cloneShare(share);
    this.#follow = true;
    this.#localView = { ...share.view };
    if (!emit) return;
    this.#host.emit('recordShared', cloneShare(share));
    this.#host.emit('localViewChanged', { ...share.view }, true);
  }

  #clearShare(): void {
    this.#current = undefined;
    this.#localView = undefined;
    this.#follow = true;
  }

  #onShareStopped(recordId: string): void {
    if (this.#current?.record.id !== recordId) return;
    this.#clearShare();
    this.#host.emit('recordShareStopped', recordId);
  }

  #onDeleted(recordId: string): void {
    this.#onShareStopped(recordId);
    this.#host.emit('recordDeleted', recordId);
  }

  #onViewState(recordId: string, view: ViewState, by: string): void {
    const current = this.#current;
    if (current?.record.id !== recordId) return;
    // Versions only grow; an older one is a replay of something already applied.
    if (view.version <= current.view.version) return;
    current.view = { ...view };
    this.#host.emit('viewStateChanged', recordId, { ...view }, by);
    if (this.#follow) {
      this.#localView = { ...view };
      this.#host.emit('localViewChanged', { ...view }, true);
    }
  }

  #onPresenter(recordId: string, presenter: string): void {
    const current = this.#current;
    if (current?.record.id !== recordId || current.presenter === presenter) return;
    current.presenter = presenter;
    this.#host.emit('presenterChanged', recordId, presenter);
    // A new presenter steers the shared view, so they see exactly that.
    if (presenter === this.#host.identity() && !this.#follow) this.followPresenter();
  }

  #onMarkAdded(recordId: string, mark: Mark): void {
    const current = this.#current;
    if (current?.record.id === recordId) {
      if (current.marks.some((m) => m.id === mark.id)) return;
      let i = current.marks.length;
      while (i > 0 && current.marks[i - 1]!.seq > mark.seq) i--;
      current.marks.splice(i, 0, { ...mark });
    }
    this.#host.emit('annotationAdded', recordId, { ...mark });
  }

  #onMarkRemoved(recordId: string, markId: string): void {
    const current = this.#current;
    if (current?.record.id === recordId) {
      const index = current.marks.findIndex((m) => m.id === markId);
      if (index === -1) return;
      current.marks.splice(index, 1);
    }
    this.#host.emit('annotationRemoved', recordId, markId);
  }

  #flushPointer(): void {
    this.#pointerTimer = undefined;
    const next = this.#pendingPointer;
    if (!next) return;
    this.#pendingPointer = undefined;
    this.#host
      .request('pointer', next)
      .catch((error: unknown) => this.#host.logger().debug('pointer not sent', errorFields(error)));
    // Keep the window closed for an interval; the latest position then goes out at its end.
    this.#pointerTimer = setTimeout(() => this.#flushPointer(), POINTER_INTERVAL_MS);
  }
}
