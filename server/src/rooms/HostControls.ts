/**
 * What a host may do to others in the room: mute a track (with or without
 * allowing unmute), remove someone for good, lock the room, end the consult.
 * Permissions are checked by the caller through `authorize`; this class does
 * the deed, tells the people concerned and writes the audit trail.
 */
import { ErrorCode, type ConsultSummary, type RoomInfo, type TrackSource } from '@huizhen/protocol';
import { actorOf } from '../audit/AuditLog.js';
import { personKey } from '../auth/person.js';
import { HuizhenError, invalidState, notFound } from '../errors.js';
import type { MediaRoom } from './media/MediaRoom.js';
import type { Participant } from './Participant.js';
import type { RoomContext } from './RoomContext.js';

export class HostControls {
  readonly #room: RoomContext;
  readonly #media: MediaRoom;
  /** Called when a consult ends: deletes its records if the retention policy says so. */
  readonly #onEnd: () => void;

  constructor(room: RoomContext, media: MediaRoom, onEnd: () => void) {
    this.#room = room;
    this.#media = media;
    this.#onEnd = onEnd;
  }

  async mute(actor: Participant, target: Participant, source: TrackSource, allowUnmute: boolean): Promise<void> {
    // --- cluster: a relayed participant's tracks are on the node their media terminates at
    const paused = target.remoteMedia
      ? await target.remoteMedia.hostPause(source, allowUnmute)
      : await this.#media
          .hostPause(target, source, allowUnmute)
          .then((p) => p && { trackId: p.track.producer.id, changed: p.changed });
    if (!paused) throw new HuizhenError(ErrorCode.NOT_FOUND, `${target.name} has no ${source} track.`);
    const { trackId, changed } = paused;
    if (changed) {
      this.#room.broadcast(target, 'trackMuted', { participantIdentity: target.identity, trackId });
    }
    target.notify('mutedByHost', { trackId, source, by: actor.ref(), allowUnmute });
    this.#room.audit.append({
      event: 'mute_by_host',
      room: this.#room.id,
      actor: actorOf(actor),
      target: target.identity,
      details: { source, allowUnmute },
    });
  }

  async remove(actor: Participant, identity: string, reason?: string): Promise<void> {
    if (identity === actor.identity) throw invalidState('Use leave to leave the room yourself.');
    const found = this.#room.find(identity);
    if (!found) throw notFound('participant', identity);
    await this.#room.durable.ban(personKey(found.issuer, identity));
    // The target may have left (or been replaced) while the ban was written.
    const target = this.#room.find(identity);
    if (!target) {
      this.#room.consult.ban(identity, found.issuer);
      return;
    }
    this.#room.consult.ban(identity, target.issuer);
    target.notify('sessionClosed', {
      code: ErrorCode.REMOVED,
      reason: reason ?? 'A host removed you from this consult.',
    });
    this.#room.audit.append({ event: 'remove', room: this.#room.id, actor: actorOf(actor), target: identity });
    this.#room.leave(target, 'removed');
  }

  async setLocked(actor: Participant, locked: boolean): Promise<RoomInfo> {
    const { consult } = this.#room;
    if (consult.locked !== locked) {
      await this.#room.durable.setLocked(locked);
      consult.setLocked(locked);
      this.#room.audit.append({ event: locked ? 'lock' : 'unlock', room: this.#room.id, actor: actorOf(actor) });
      this.#room.broadcast(null, 'roomUpdated', { room: consult.info });
    }
    return consult.info;
  }

  end(actor: Participant, reason?: string): ConsultSummary {
    const summary = this.#room.consult.end();
    this.#onEnd();
    this.#room.audit.append({
      event: 'end',
      room: this.#room.id,
      actor: actorOf(actor),
      details: {
        durationSec: summary.durationSec,
        participants: summary.participants.length,
        // Who took part (identities, no names): the summary as the audit trail keeps it.
        who: summary.participants
          .slice(0, 100)
          .map((e) => `${e.role}:${e.identity}`)
          .join(','),
      },
    });
    this.#room.close(reason ?? `${actor.name} ended the consult.`, ErrorCode.ROOM_ENDED, summary);
    return summary;
  }
}
