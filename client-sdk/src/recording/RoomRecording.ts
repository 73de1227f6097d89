/**
 * `room.recording`: recording the consult, only with everyone's consent.
 *
 * The server keeps the rule (see the protocol's recording.ts): once someone
 * with the `record` permission asks, the recording runs only while every
 * participant present has agreed; anyone may withdraw at any time; a newcomer
 * pauses it until they agree. This class asks, answers and stops, and keeps
 * `state` as the server last said it.
 *
 * `state` follows the server's `recordingStateChanged` notifications (checked
 * against the protocol schema on arrival, like every notification, and applied
 * in order; one older than the state already known, as replayed after a
 * reconnect, is ignored) and the room view at join, admission and reconnect. What `request`,
 * `consent` and `stop` resolve with is the server's answer at that moment; the
 * notification that carries the same change follows.
 */
import type { Method, RecordingStatus, RequestData, ResponseData } from '@huizhen/protocol';

export type { RecordingState, RecordingStatus } from '@huizhen/protocol';

/** What RoomRecording needs from its Room. */
export interface RoomRecordingHost {
  request<M extends Method>(method: M, data: RequestData<M>): Promise<ResponseData[M]>;
  /** Emits the room event `recordingStateChanged`. */
  emitChanged(status: RecordingStatus, consentRequested: boolean): void;
  /** This participant's identity. */
  identity(): string;
}

/** The room events RoomRecording emits (added to RoomEventCallbacks). */
export interface RoomRecordingEvents {
  /**
   * The recording's state or who has not consented changed (`room.recording.state`).
   * `consentRequested`: this participant is asked now (see `RoomRecording.consentRequested`).
   */
  recordingStateChanged: (status: RecordingStatus, consentRequested: boolean) => void;
}

const OFF: RecordingStatus = { state: 'off', missingConsent: [], version: 0 };

function same(a: RecordingStatus, b: RecordingStatus): boolean {
  return (
    a.state === b.state &&
    a.requestedBy === b.requestedBy &&
    a.recordingId === b.recordingId &&
    a.missingConsent.length === b.missingConsent.length &&
    a.missingConsent.every((identity, i) => b.missingConsent[i] === identity)
  );
}

function copy(status: RecordingStatus): RecordingStatus {
  return { ...status, missingConsent: [...status.missingConsent] };
}

/** Recording the consult (`room.recording`) with everyone's consent: request, consent, stop, and the current state. */
export class RoomRecording {
  readonly #host: RoomRecordingHost;
  #status: RecordingStatus = OFF;
  #available = false;

  /** @internal Created by Room. */
  constructor(host: RoomRecordingHost) {
    this.#host = host;
  }

  /**
   * `{ state, missingConsent, requestedBy?, recordingId?, version }`: 'off' | 'awaiting-consent' |
   * 'recording' | 'paused', and the identities of those present who have not agreed.
   */
  get state(): RecordingStatus {
    return copy(this.#status);
  }

  /** Whether the server can record at all (false until admitted, and on servers without a recorder). */
  get available(): boolean {
    return this.#available;
  }

  /**
   * True while a recording is requested (awaiting consent or paused) and this
   * participant is among those who have not agreed: show the consent prompt.
   * This is the whole "consent requested" signal: no separate notification,
   * so a prompt cannot be missed or shown twice across reconnects — it stays
   * true until this participant agrees, the recording stops, or they leave.
   * After declining it stays true too (the recording stays paused for them),
   * so an app may offer to agree later.
   */
  get consentRequested(): boolean {
    const { state, missingConsent } = this.#status;
    return (state === 'awaiting-consent' || state === 'paused') && missingConsent.includes(this.#host.identity());
  }

  /** Whether this participant has agreed to the current recording (false when there is none). */
  get consented(): boolean {
    return this.#status.state !== 'off' && !this.#status.missingConsent.includes(this.#host.identity());
  }

  /**
   * Asks to record the consult (needs the `record` permission); counts as this
   * participant's own consent. Everyone else is asked.
   *
   * @throws HuizhenError RECORDING_UNAVAILABLE (the server records nothing),
   *   RECORDING_ALREADY_ACTIVE, PERMISSION_DENIED, NOT_ADMITTED, ...
   */
  async request(): Promise<RecordingStatus> {
    return (await this.#host.request('requestRecording', {})).recording;
  }

  /**
   * This participant's answer: `true` agrees; `false` declines, or withdraws
   * an earlier agreement (the recording pauses at once). Answer again at any time.
   *
   * @throws HuizhenError RECORDING_NOT_ACTIVE (nothing was requested), NOT_ADMITTED, ...
   */
  async consent(agree: boolean): Promise<RecordingStatus> {
    return (await this.#host.request('recordingConsent', { agree })).recording;
  }

  /**
   * Ends the recording for good (needs `record`) and resolves with its id; the
   * server then composes the file in the background.
   *
   * @throws HuizhenError RECORDING_NOT_ACTIVE, PERMISSION_DENIED, ...
   */
  async stop(): Promise<string> {
    return (await this.#host.request('stopRecording', {})).recordingId;
  }

  // --- fed by Room

  /** @internal A room view (join, admitted, reconnect); `undefined`: the server cannot record (or not admitted). */
  _applyView(status: RecordingStatus | undefined, emit: boolean): void {
    this.#available = status !== undefined;
    this.#set(status ?? OFF, emit);
  }

  /** @internal A `recordingStateChanged` notification; an older one than the state known is stale. */
  _handle(status: RecordingStatus): void {
    this.#available = true;
    if (status.version < this.#status.version) return;
    this.#set(status, true);
  }

  /** @internal The session is over. */
  _reset(): void {
    this.#available = false;
    this.#status = OFF;
  }

  #set(status: RecordingStatus, emit: boolean): void {
    // Kept even when nothing else changed: the version is what stale notifications are judged by.
    const changed = !same(status, this.#status);
    this.#status = copy(status);
    if (changed && emit) this.#host.emitChanged(copy(status), this.consentRequested);
  }
}
