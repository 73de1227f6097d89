/**
 * The consent rule on its own: a capture double records what it was told
 * (resume, pause, finish), members are plain objects that collect their
 * notifications. Media and signaling are covered by consent.test.ts.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import type { Notification, NotificationData, RecordingStatus } from '@huizhen/protocol';
import { MemoryAudit } from '../audit/AuditLog.js';
import { createLogger } from '../observability/logger.js';
import { RecordingConsent, type ConsentMember } from './RecordingConsent.js';
import type { ConsentEntry, RecordingCapture, RecordingCaptureContext } from './RecordingPort.js';

class Member implements ConsentMember {
  readonly told: RecordingStatus[] = [];
  readonly issuer = 'huizhen-test';
  constructor(
    readonly identity: string,
    readonly role = 'patient',
  ) {}
  notify<N extends Notification>(name: N, data: NotificationData[N]): void {
    if (name === 'recordingStateChanged') this.told.push(data as RecordingStatus);
  }
  get last(): RecordingStatus | undefined {
    return this.told[this.told.length - 1];
  }
}

class CaptureDouble implements RecordingCapture {
  readonly calls: string[] = [];
  history: readonly ConsentEntry[] | undefined;
  constructor(readonly context: RecordingCaptureContext) {}
  resume(): void {
    this.calls.push('resume');
  }
  pause(): void {
    this.calls.push('pause');
  }
  async finish(history: readonly ConsentEntry[]): Promise<string | undefined> {
    this.calls.push('finish');
    this.history = history;
    return this.context.recordingId;
  }
}

let present: Member[];
let captures: CaptureDouble[];
let audit: MemoryAudit;
let consent: RecordingConsent<{ media: true }>;
let ids: number;

const doctor = () => new Member('dr-li', 'doctor');
const capture = () => captures[captures.length - 1]!;
const events = () => audit.entries.map((e) => e.event);
const history = () => capture().history?.map((e) => `${e.event}:${e.identity}`);

function make(withCapture = true): RecordingConsent<{ media: true }> {
  return new RecordingConsent({
    roomId: 'room-1',
    media: { media: true },
    ...(withCapture
      ? {
          capture: (media, context) => {
            expect(media).toEqual({ media: true });
            const c = new CaptureDouble(context);
            captures.push(c);
            return c;
          },
        }
      : {}),
    audit,
    logger: createLogger({ level: 'error', write: () => undefined }),
    present: () => present,
    newId: () => `rec-${++ids}`,
  });
}

function join(m: Member): void {
  present.push(m);
  consent.joined(m);
}

function leave(m: Member): void {
  present = present.filter((p) => p !== m);
  consent.left(m);
}

/** The doctor and a patient in the room, nothing asked yet. */
function doctorAndPatient(): { dr: Member; pt: Member } {
  const dr = doctor();
  const pt = new Member('pt-1');
  join(dr);
  join(pt);
  return { dr, pt };
}

/** ...and the doctor asked to record: awaiting the patient's consent. */
function requested(): { dr: Member; pt: Member } {
  const both = doctorAndPatient();
  consent.request(both.dr);
  return both;
}

/** ...and the patient agreed: recording. */
function recording(): { dr: Member; pt: Member } {
  const both = requested();
  consent.consent(both.pt, true);
  return both;
}

beforeEach(() => {
  present = [];
  captures = [];
  audit = new MemoryAudit();
  ids = 0;
  consent = make();
});

describe('RecordingConsent', () => {
  it('without a capture, a request fails with RECORDING_UNAVAILABLE and the view says nothing', () => {
    consent = make(false);
    const dr = doctor();
    join(dr);
    expect(consent.available).toBe(false);
    expect(consent.view()).toBeUndefined();
    expect(() => consent.request(dr)).toThrow(expect.objectContaining({ code: 'RECORDING_UNAVAILABLE' }));
    expect(audit.entries).toEqual([]);
  });

  it('records only once everyone present agreed; the request is the asker’s consent', () => {
    const { dr, pt } = doctorAndPatient();
    expect(consent.view()).toEqual({ state: 'off', missingConsent: [], version: 0 });

    const asked = consent.request(dr);
    expect(asked).toEqual({
      state: 'awaiting-consent',
      missingConsent: ['pt-1'],
      requestedBy: 'dr-li',
      recordingId: 'rec-1',
      version: 1,
    });
    expect(capture().context).toEqual({
      roomId: 'room-1',
      recordingId: 'rec-1',
      requestedBy: 'dr-li',
      limitReached: expect.any(Function),
    });
    expect(capture().calls).toEqual([]);
    // Everyone is told, the asker included.
    expect(pt.last).toEqual(asked);
    expect(dr.last).toEqual(asked);

    expect(consent.consent(pt, true)).toMatchObject({ state: 'recording', missingConsent: [] });
    expect(capture().calls).toEqual(['resume']);
    expect(pt.last?.state).toBe('recording');
    expect(events()).toEqual(['recording_requested', 'recording_consented', 'recording_started']);
    expect(audit.entries[1]).toMatchObject({
      room: 'room-1',
      actor: { identity: 'pt-1', role: 'patient', issuer: 'huizhen-test' },
      details: { recordingId: 'rec-1' },
    });
  });

  it('a lone requester records at once', () => {
    const dr = doctor();
    join(dr);
    expect(consent.request(dr).state).toBe('recording');
    expect(capture().calls).toEqual(['resume']);
  });

  it('declining before anything was recorded keeps it awaiting consent; agreeing later starts it', () => {
    const { pt } = requested();
    expect(consent.consent(pt, false)).toMatchObject({ state: 'awaiting-consent', missingConsent: ['pt-1'] });
    expect(capture().calls).toEqual([]);
    expect(consent.consent(pt, true).state).toBe('recording');
    expect(events()).toEqual(['recording_requested', 'recording_declined', 'recording_consented', 'recording_started']);
  });

  it('a withdrawal pauses it at once, agreeing again resumes it', () => {
    const { pt } = recording();
    expect(consent.consent(pt, false)).toMatchObject({ state: 'paused', missingConsent: ['pt-1'] });
    expect(capture().calls).toEqual(['resume', 'pause']);
    expect(consent.consent(pt, true).state).toBe('recording');
    expect(capture().calls).toEqual(['resume', 'pause', 'resume']);
    expect(events().slice(2)).toEqual([
      'recording_started',
      'recording_withdrawn',
      'recording_paused',
      'recording_consented',
      'recording_resumed',
    ]);
  });

  it('the requester may withdraw too', () => {
    const dr = doctor();
    join(dr);
    consent.request(dr);
    expect(consent.consent(dr, false)).toMatchObject({ state: 'paused', missingConsent: ['dr-li'] });
  });

  it('a repeated answer changes nothing: no audit, no notification, no capture call', () => {
    const { dr, pt } = recording();
    const before = { audit: audit.entries.length, told: pt.told.length };
    consent.consent(pt, true);
    consent.consent(dr, true);
    expect({ audit: audit.entries.length, told: pt.told.length }).toEqual(before);
    expect(capture().calls).toEqual(['resume']);
  });

  it('a newcomer pauses it until they agree; they learn the state from their view, not a notification', () => {
    const { dr } = recording();
    const family = new Member('fam-1', 'family');
    join(family);
    expect(consent.view()).toMatchObject({ state: 'paused', missingConsent: ['fam-1'] });
    expect(capture().calls).toEqual(['resume', 'pause']);
    expect(dr.last).toMatchObject({ state: 'paused', missingConsent: ['fam-1'] });
    expect(family.told).toEqual([]);
    consent.consent(family, true);
    expect(capture().calls).toEqual(['resume', 'pause', 'resume']);
    expect(family.last?.state).toBe('recording');
  });

  it('a decliner keeps it paused while present; when they leave, everyone present agreed and it resumes', () => {
    recording();
    const fam = new Member('fam-1', 'family');
    join(fam);
    consent.consent(fam, false);
    expect(consent.status()).toMatchObject({ state: 'paused', missingConsent: ['fam-1'] });
    leave(fam);
    expect(consent.status()).toMatchObject({ state: 'recording', missingConsent: [] });
    expect(capture().calls).toEqual(['resume', 'pause', 'resume']);
    // Back later, they are a newcomer again: asked, and it pauses.
    join(new Member('fam-1', 'family'));
    expect(consent.status()).toMatchObject({ state: 'paused', missingConsent: ['fam-1'] });
  });

  it('a new session of someone in the set (replaced) keeps their answer', () => {
    const { pt } = recording();
    // The room drops the old session without a leave and admits the new one.
    present = present.filter((p) => p !== pt);
    const again = new Member('pt-1');
    join(again);
    expect(consent.status()).toMatchObject({ state: 'recording', missingConsent: [] });
    expect(capture().calls).toEqual(['resume']);
  });

  it('an empty room records nothing', () => {
    const dr = doctor();
    join(dr);
    consent.request(dr);
    leave(dr);
    expect(consent.status().state).toBe('paused');
    expect(capture().calls).toEqual(['resume', 'pause']);
  });

  it('stop ends it for everyone, hands the capture the history, and a new request starts a new recording', async () => {
    const { dr, pt } = recording();
    consent.consent(pt, false);
    expect(consent.stop(dr)).toEqual({
      recording: { state: 'off', missingConsent: [], version: 4 },
      recordingId: 'rec-1',
    });
    expect(pt.last).toEqual({ state: 'off', missingConsent: [], version: 4 });
    // One version per change everyone was told of, so a client can drop an older, replayed one.
    expect(pt.told.map((s) => s.version)).toEqual([1, 2, 3, 4]);
    await consent.idle();
    expect(capture().calls).toEqual(['resume', 'pause', 'finish']);
    expect(history()).toEqual(['requested:dr-li', 'consented:pt-1', 'withdrawn:pt-1', 'stopped:dr-li']);
    expect(capture().history?.every((e) => !Number.isNaN(Date.parse(e.time)))).toBe(true);
    expect(events().at(-1)).toBe('recording_stopped');
    expect(audit.entries.at(-1)).toMatchObject({ actor: { identity: 'dr-li' }, details: { reason: 'stopped' } });

    expect(consent.request(dr)).toMatchObject({ state: 'awaiting-consent', recordingId: 'rec-2' });
    expect(captures).toHaveLength(2);
  });

  it('refuses a second request, and answers or stops when nothing was requested', () => {
    const dr = doctor();
    join(dr);
    expect(() => consent.consent(dr, true)).toThrow(expect.objectContaining({ code: 'RECORDING_NOT_ACTIVE' }));
    expect(() => consent.stop(dr)).toThrow(expect.objectContaining({ code: 'RECORDING_NOT_ACTIVE' }));
    consent.request(dr);
    expect(() => consent.request(dr)).toThrow(expect.objectContaining({ code: 'RECORDING_ALREADY_ACTIVE' }));
  });

  it('the room’s close finishes the recording with the history so far', async () => {
    const { pt } = requested();
    leave(pt);
    present = [];
    consent.close();
    await consent.idle();
    expect(history()).toEqual(['requested:dr-li', 'left:pt-1']);
    expect(capture().calls).toEqual(['resume', 'finish']);
    expect(audit.entries.at(-1)).toMatchObject({ event: 'recording_stopped', details: { reason: 'room_closed' } });
    expect(audit.entries.at(-1)).not.toHaveProperty('actor');
  });

  it('a capture at its maximum duration ends the recording, and everyone is told it is off', async () => {
    const { dr, pt } = recording();
    expect(pt.last?.state).toBe('recording');
    const first = capture();
    first.context.limitReached?.();
    first.context.limitReached?.();
    await consent.idle();
    await Promise.resolve();
    await consent.idle();
    expect(first.calls).toEqual(['resume', 'finish']);
    expect(consent.status().state).toBe('off');
    expect(pt.last?.state).toBe('off');
    expect(dr.last?.state).toBe('off');
    expect(audit.entries.filter((e) => e.event === 'recording_stopped')).toEqual([
      expect.objectContaining({ details: { recordingId: first.context.recordingId, reason: 'max_duration' } }),
    ]);
    // A late signal from that capture does not end the next recording.
    consent.request(dr);
    first.context.limitReached?.();
    await Promise.resolve();
    expect(consent.status().recordingId).toBe(capture().context.recordingId);
    expect(consent.status().state).not.toBe('off');
  });

  it('a capture that cannot start refuses the request; one that fails to finish is audited', async () => {
    const dr = doctor();
    join(dr);
    const broken = new RecordingConsent({
      roomId: 'room-1',
      media: {},
      capture: () => {
        throw new Error('no ffmpeg');
      },
      audit,
      logger: createLogger({ level: 'error', write: () => undefined }),
      present: () => present,
    });
    expect(() => broken.request(dr)).toThrow(expect.objectContaining({ code: 'MEDIA_ERROR' }));
    expect(broken.status().state).toBe('off');
    expect(events()).toEqual(['recording_failed']);

    const failing = new RecordingConsent({
      roomId: 'room-1',
      media: {},
      capture: () => ({
        resume: () => undefined,
        pause: () => undefined,
        finish: () => Promise.reject(new Error('disk full')),
      }),
      audit,
      logger: createLogger({ level: 'error', write: () => undefined }),
      present: () => present,
    });
    failing.request(dr);
    failing.stop(dr);
    await failing.idle();
    expect(audit.entries.at(-1)).toMatchObject({ event: 'recording_failed', details: { during: 'finish' } });
  });
});
