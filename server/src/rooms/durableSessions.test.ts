/**
 * A session as the durable state keeps it and the participant a new home
 * rebuilds from it: the same person and session, away, resumable from any
 * seq with nothing replayed, numbering on above the client's last seq.
 */
import type { Notification, NotificationData } from '@huizhen/protocol';
import { describe, expect, it } from 'vitest';
import { participantOf, sessionOf } from './durableSessions.js';
import { Participant, type SinkOwner } from './Participant.js';

const owner = (): SinkOwner => ({ superseded: () => undefined });

function received() {
  const got: { name: Notification; seq: number | undefined }[] = [];
  const sink = <N extends Notification>(name: N, _data: NotificationData[N], seq?: number) =>
    void got.push({ name, seq });
  return { got, sink };
}

const doctor = () =>
  new Participant({
    identity: 'dr-wang',
    name: 'Dr Wang',
    role: 'doctor',
    permissions: new Set(['admit', 'chat'] as const),
    issuer: 'county-hospital',
    sessionId: 'sess-1',
    tokenExpiresAt: 1_900_000_000,
    joinedAt: 1_700_000_000_000,
  });

describe('durable sessions', () => {
  it('keeps the person, the session and the lobby place, and rebuilds the same participant', () => {
    const p = doctor();
    const kept = sessionOf(p, 'admitted');
    expect(kept).toEqual({
      sessionId: 'sess-1',
      identity: 'dr-wang',
      issuer: 'county-hospital',
      role: 'doctor',
      name: 'Dr Wang',
      permissions: ['admit', 'chat'],
      joinedAt: 1_700_000_000_000,
      tokenExpiresAt: 1_900_000_000,
      admission: 'admitted',
    });
    const back = participantOf(kept);
    expect(sessionOf(back, 'admitted')).toEqual(kept);
    expect(back.restored).toBe(true);
    expect(back.admission).toBe('admitted');
    expect(back.can('admit')).toBe(true);

    const waiter = participantOf({ ...kept, admission: 'waiting', waitingSince: 1_700_000_000_500 });
    expect(waiter.admission).toBe('waiting');
    expect(waiter.waitingSince).toBe(1_700_000_000_500);
    expect(sessionOf(waiter, 'waiting').waitingSince).toBe(1_700_000_000_500);
  });

  it('resumes from any seq with nothing replayed, then numbers on above the client’s last seq', () => {
    const p = participantOf(sessionOf(doctor(), 'admitted'));
    p.disconnect(60_000, () => undefined);
    // Queued on the new home before the resume: stale beside the join answer's room view.
    p.notify('participantReconnected', { identity: 'patient-li' });
    expect(p.canResume(41)).toBe(true);
    expect(p.canResume(undefined)).toBe(true);
    const first = received();
    p.resume(first.sink, owner(), 41);
    expect(first.got).toEqual([]);
    expect(p.restored).toBe(false);
    p.notify('participantReconnected', { identity: 'nurse-zhou' });
    expect(first.got).toEqual([{ name: 'participantReconnected', seq: 42 }]);

    // From now on an ordinary session: a later resume replays what was missed, and no more.
    p.disconnect(60_000, () => undefined);
    p.notify('participantLeft', { identity: 'nurse-zhou', reason: 'disconnected' });
    expect(p.canResume(50)).toBe(false);
    const second = received();
    p.resume(second.sink, owner(), 42);
    expect(second.got).toEqual([{ name: 'participantLeft', seq: 43 }]);
    p.close();
  });

  it('an ordinary session still refuses a resume from a seq it cannot replay', () => {
    const p = doctor();
    p.setSink(received().sink, owner());
    p.notify('participantReconnected', { identity: 'patient-li' });
    expect(p.restored).toBe(false);
    expect(p.canResume(5)).toBe(false);
    p.close();
  });
});
