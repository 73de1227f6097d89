/**
 * A room's recording consent: who asked, who has agreed, and so whether the
 * recording may run now. It drives the capture (RecordingPort.ts) and never
 * touches media itself.
 *
 * The rule (the "only while every participant present has
 * consented"): a participant with `record` asks, and that request is their own
 * consent; everyone admitted is asked. The capture runs exactly while there is
 * at least one participant and every admitted participant has agreed. So:
 * - anyone may withdraw at any time: the recording pauses;
 * - a newcomer (joined, or admitted from the waiting room) who has not
 *   answered pauses it until they agree; declining keeps it paused;
 * - someone who leaves is dropped from the set, so when the last person who
 *   had not agreed (a decliner, say) leaves, everyone present has agreed
 *   again and the recording resumes. Someone who comes back later is a
 *   newcomer and is asked again;
 * - a reconnect of the same person (a resumed session, or a new session that
 *   replaces theirs) keeps their answer: the room never sees them leave;
 * - `stop` (needs `record`) or the room's end finishes the recording: the
 *   capture is closed and handed the consent history.
 *
 * Everyone admitted sees each change of state or of who has not agreed
 * (`recordingStateChanged`); consent is rare, so nothing is throttled. Every
 * request, answer, start, pause, resume and stop is audited.
 *
 * The consent history grows only with real changes (a repeated answer adds
 * nothing) and requests are rate-limited per connection, so it stays small.
 */
import { randomUUID } from 'node:crypto';
import {
  ErrorCode,
  HuizhenError,
  type Notification,
  type NotificationData,
  type RecordingState,
  type RecordingStatus,
} from '@huizhen/protocol';
import { actorOf, type AuditEvent, type AuditSink } from '../audit/AuditLog.js';
import type { Logger } from '../observability/logger.js';
import type { ConsentEntry, RecordingCapture, RecordingCaptureFactory } from './RecordingPort.js';

/** What the consent side needs of a participant: who they are, and telling them. */
export interface ConsentMember {
  readonly identity: string;
  readonly role: string;
  readonly issuer: string;
  notify<N extends Notification>(name: N, data: NotificationData[N]): void;
}

export interface RecordingConsentOptions<Media> {
  roomId: string;
  /** Handed to the capture factory: the capture finds the room's producers there. */
  media: Media;
  /** Absent: this server records nothing, and requests fail with RECORDING_UNAVAILABLE. */
  capture?: RecordingCaptureFactory<Media> | undefined;
  audit: AuditSink;
  logger: Logger;
  /** The participants admitted now (the people who must have agreed). */
  present: () => Iterable<ConsentMember>;
  /** Recording ids (tests pass their own). */
  newId?: () => string;
}

type LiveState = Exclude<RecordingState, 'off'>;

/** One recording, from its request until stop or the room's end. */
interface Recording {
  readonly id: string;
  readonly requestedBy: string;
  readonly capture: RecordingCapture;
  /** identity → agreed (true) or declined / withdrew (false); absent: not answered. */
  readonly answers: Map<string, boolean>;
  readonly history: ConsentEntry[];
  /** Whether the capture has ever run (paused vs awaiting-consent). */
  started: boolean;
  state: LiveState;
}

type StatusCore = Omit<RecordingStatus, 'version'>;

const OFF: StatusCore = { state: 'off', missingConsent: [] };

export class RecordingConsent<Media> {
  readonly #o: RecordingConsentOptions<Media>;
  #current: Recording | undefined;
  /** What everyone was last told, to send only changes. */
  #told = JSON.stringify(OFF);
  /** Counts the changes everyone was told of (the status's `version`). */
  #version = 0;
  /** Captures still finishing (closing their files, queueing the composition). */
  readonly #finishing = new Set<Promise<void>>();

  constructor(options: RecordingConsentOptions<Media>) {
    this.#o = options;
  }

  /** Whether this server can record at all (a capture is configured). */
  get available(): boolean {
    return this.#o.capture !== undefined;
  }

  /** The recording as everyone sees it now. */
  status(): RecordingStatus {
    return { ...this.#core(), version: this.#version };
  }

  #core(): StatusCore {
    const r = this.#current;
    if (!r) return { ...OFF };
    return { state: r.state, missingConsent: this.#missing(r), requestedBy: r.requestedBy, recordingId: r.id };
  }

  /** For the room view (join answer, admitted): the status, or undefined when this server cannot record. */
  view(): RecordingStatus | undefined {
    return this.available ? this.status() : undefined;
  }

  // --- requests (the signaling layer has checked admission and, for request and stop, `record`)

  request(p: ConsentMember): RecordingStatus {
    const factory = this.#o.capture;
    if (!factory) throw new HuizhenError(ErrorCode.RECORDING_UNAVAILABLE, 'This server is not set up to record.');
    if (this.#current) {
      throw new HuizhenError(
        ErrorCode.RECORDING_ALREADY_ACTIVE,
        'A recording of this consult was already requested; stop it before asking again.',
      );
    }
    const id = (this.#o.newId ?? randomUUID)();
    let capture: RecordingCapture;
    try {
      capture = factory(this.#o.media, {
        roomId: this.#o.roomId,
        recordingId: id,
        requestedBy: p.identity,
        // Deferred: the capture may say so from inside resume(), in the middle of #settle.
        limitReached: () => queueMicrotask(() => this.#limitReached(id)),
      });
    } catch (error) {
      this.#o.logger.error('recorder could not be started', { recording: id, error: error as Error });
      this.#audit('recording_failed', p, { recordingId: id, during: 'start' });
      if (error instanceof HuizhenError) throw error;
      throw new HuizhenError(ErrorCode.MEDIA_ERROR, 'The recorder could not be started.');
    }
    const r: Recording = {
      id,
      requestedBy: p.identity,
      capture,
      // Asking is agreeing.
      answers: new Map([[p.identity, true]]),
      history: [],
      started: false,
      state: 'awaiting-consent',
    };
    this.#current = r;
    this.#note(r, p.identity, 'requested');
    this.#audit('recording_requested', p, { recordingId: id });
    this.#o.logger.info('recording requested', { recording: id, participant: p.identity });
    this.#settle(r, null);
    return this.status();
  }

  /** `p`'s own answer: agree, or decline (never agreed) / withdraw (had agreed). */
  consent(p: ConsentMember, agree: boolean): RecordingStatus {
    const r = this.#requireCurrent();
    const before = r.answers.get(p.identity);
    if (before === agree) return this.status();
    r.answers.set(p.identity, agree);
    const event = agree ? 'consented' : before === true ? 'withdrawn' : 'declined';
    this.#note(r, p.identity, event);
    this.#audit(`recording_${event}`, p, { recordingId: r.id });
    this.#settle(r, null);
    return this.status();
  }

  /** Ends the recording for good; the capture is finished in the background. */
  stop(p: ConsentMember): { recording: RecordingStatus; recordingId: string } {
    const r = this.#requireCurrent();
    this.#note(r, p.identity, 'stopped');
    this.#end(r, p, { recordingId: r.id, reason: 'stopped' });
    this.#publish(null);
    return { recording: this.status(), recordingId: r.id };
  }

  // --- the room's people (called by the room)

  /**
   * `p` was admitted (joined, or came in from the waiting room). Call once
   * they are among `present()`. They learn the state from their room view, so
   * they are not sent the notification; everyone else is.
   */
  joined(p: ConsentMember): void {
    const r = this.#current;
    if (!r) return;
    // A new session of someone already in the set (replaced): same person, same answer.
    if (!r.answers.has(p.identity)) this.#note(r, p.identity, 'joined');
    this.#settle(r, p);
  }

  /** `p` left the room for good (not a reconnect, not a replaced session): their answer goes with them. */
  left(p: ConsentMember): void {
    const r = this.#current;
    if (!r) return;
    r.answers.delete(p.identity);
    this.#note(r, p.identity, 'left');
    this.#settle(r, null);
  }

  /**
   * The room closed (ended, emptied, server shutting down): the recording ends with it. No one
   * stopped it, so the history gets no `stopped` line; the audit entry says `room_closed`.
   */
  close(): void {
    const r = this.#current;
    if (r) this.#end(r, undefined, { recordingId: r.id, reason: 'room_closed' });
  }

  /** The capture hit its maximum duration: the recording ends as if stopped, by no one. */
  #limitReached(id: string): void {
    const r = this.#current;
    if (r?.id !== id) return;
    this.#end(r, undefined, { recordingId: id, reason: 'max_duration' });
    this.#publish(null);
  }

  /** Resolves once every finished capture has been handed its history. */
  async idle(): Promise<void> {
    await Promise.all([...this.#finishing]);
  }

  // --- the rule

  /** Who is present and has not agreed, in the order they came in. */
  #missing(r: Recording): string[] {
    const missing: string[] = [];
    for (const p of this.#o.present()) if (r.answers.get(p.identity) !== true) missing.push(p.identity);
    return missing;
  }

  /** Applies the rule after any change: run the capture only while everyone present agrees. */
  #settle(r: Recording, except: ConsentMember | null): void {
    const present = [...this.#o.present()].length;
    const everyone = present > 0 && this.#missing(r).length === 0;
    const next: LiveState = everyone ? 'recording' : r.started ? 'paused' : 'awaiting-consent';
    if (next !== r.state) {
      const previous = r.state;
      r.state = next;
      if (next === 'recording') {
        this.#drive(r, 'resume');
        this.#audit(r.started ? 'recording_resumed' : 'recording_started', undefined, { recordingId: r.id });
        r.started = true;
      } else if (previous === 'recording') {
        this.#drive(r, 'pause');
        this.#audit('recording_paused', undefined, { recordingId: r.id, missing: this.#missing(r).length });
      }
      this.#o.logger.info('recording state', { recording: r.id, state: next });
    }
    this.#publish(except);
  }

  /** The capture reports and restarts its own failures; one never changes what consent allows. */
  #drive(r: Recording, action: 'resume' | 'pause'): void {
    try {
      r.capture[action]();
    } catch (error) {
      this.#o.logger.error('recorder failed to ' + action, { recording: r.id, error: error as Error });
    }
  }

  #end(r: Recording, actor: ConsentMember | undefined, details: Record<string, string>): void {
    this.#current = undefined;
    this.#audit('recording_stopped', actor, details);
    this.#o.logger.info('recording stopped', { recording: r.id, reason: details['reason'] });
    const history: readonly ConsentEntry[] = [...r.history];
    // Called at once (not after a tick), so the capture starts closing before the room's media does.
    let finishing: Promise<string | undefined>;
    try {
      finishing = r.capture.finish(history);
    } catch (error) {
      finishing = Promise.reject(error as Error);
    }
    const done = finishing
      .then(
        (captured) => this.#o.logger.info('recording finished', { recording: r.id, captured: captured !== undefined }),
        (error: unknown) => {
          this.#o.logger.error('recorder failed to finish', { recording: r.id, error: error as Error });
          this.#audit('recording_failed', undefined, { recordingId: r.id, during: 'finish' });
        },
      )
      .finally(() => this.#finishing.delete(done));
    this.#finishing.add(done);
  }

  #requireCurrent(): Recording {
    if (!this.#current)
      throw new HuizhenError(ErrorCode.RECORDING_NOT_ACTIVE, 'No recording has been requested in this consult.');
    return this.#current;
  }

  /** Tells everyone admitted (but `except`) the status, if it changed since they were last told. */
  #publish(except: ConsentMember | null): void {
    const json = JSON.stringify(this.#core());
    if (json === this.#told) return;
    this.#told = json;
    this.#version++;
    const status = this.status();
    for (const p of this.#o.present()) if (p !== except) p.notify('recordingStateChanged', status);
  }

  #note(r: Recording, identity: string, event: ConsentEntry['event']): void {
    r.history.push({ time: new Date().toISOString(), identity, event });
  }

  #audit(event: AuditEvent, actor: ConsentMember | undefined, details: Record<string, string | number>): void {
    this.#o.audit.append({
      event,
      room: this.#o.roomId,
      ...(actor ? { actor: actorOf(actor) } : {}),
      details,
    });
  }
}
