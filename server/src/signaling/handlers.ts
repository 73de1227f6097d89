/**
 * One function per protocol method. Each receives data already validated
 * against the shared protocol and the caller's session; permission checks
 * happen in the room.
 */
import { randomUUID } from 'node:crypto';
import type { types } from 'mediasoup';
import { ErrorCode, PROTOCOL_VERSION, type Method, type RequestData, type ResponseData } from '@huizhen/client-sdk/protocol';
import { permissionsFor } from '../auth/permissions.js';
import { verifyAccessToken, type TokenClaims } from '../auth/tokens.js';
import { HuizhenError, invalidState } from '../errors.js';
import { Participant } from '../rooms/Participant.js';
import { DEFAULT_CAPACITY, permissionsInRoom } from '../rooms/policy.js';
import type { Room } from '../rooms/Room.js';
import type { SignalingContext } from './SignalingContext.js';

/** The state of one connection's session, owned by its Connection. */
export interface Session {
  room: Room;
  participant: Participant;
}

export interface HandlerScope {
  ctx: SignalingContext;
  /** The IP address of the signaling peer. */
  remoteIp: string | undefined;
  session: Session | undefined;
  /** Called by `join` to attach the session to the connection; `resume` replays missed notifications (after `fromSeq`) after the response. */
  attach(session: Session, options?: { resume?: boolean; fromSeq?: number }): void;
  /** Called by `leave`. */
  detach(): void;
}

type Handler<M extends Method> = (scope: HandlerScope, data: RequestData<M>) => Promise<ResponseData[M]>;
type Handlers = { [M in Method]: Handler<M> };

const EMPTY = {} as Record<string, never>;

/** A session that has joined (admitted or waiting). */
function present(scope: HandlerScope): Session {
  if (!scope.session) throw new HuizhenError(ErrorCode.NOT_JOINED, 'Join a room first.');
  return scope.session;
}

/** A session inside the room: waiting participants get NOT_ADMITTED. */
function joined(scope: HandlerScope): Session {
  const session = present(scope);
  if (session.participant.admission === 'waiting') {
    throw new HuizhenError(ErrorCode.NOT_ADMITTED, 'You are in the waiting room; a clinician will admit you.');
  }
  return session;
}

function verify(scope: HandlerScope, token: string): TokenClaims {
  const { ctx } = scope;
  try {
    return verifyAccessToken(token, ctx.issuers, {
      clockToleranceSec: ctx.config.auth.clockToleranceSec,
      maxTokenLifetimeSec: ctx.config.auth.maxTokenLifetimeSec,
    });
  } catch (err) {
    if (err instanceof HuizhenError) reject(scope, err.code);
    throw err;
  }
}

/** Counts and audits a refused token (never the token itself). */
function reject(scope: HandlerScope, code: string): void {
  scope.ctx.metrics.tokenRejections.inc({ code });
  scope.ctx.audit.append({ event: 'token_rejected', details: { code, remote: scope.remoteIp ?? null } });
}

function secondsUntil(epochSec: number): number {
  return Math.max(0, epochSec - Math.floor(Date.now() / 1000));
}

function joinResponse(room: Room, p: Participant, expiresAt: number, resumed: boolean): ResponseData['join'] {
  const common = {
    protocolVersion: PROTOCOL_VERSION,
    sessionId: p.sessionId,
    resumed,
    participant: p.info(),
    permissions: [...p.permissions],
    tokenExpiresIn: secondsUntil(expiresAt),
  };
  if (p.admission === 'waiting') return { ...common, admission: 'waiting', room: { id: room.id, kind: room.consult.kind } };
  return { ...common, admission: 'admitted', ...room.view(p) };
}

export const handlers: Handlers = {
  async join(scope, data) {
    if (scope.session) throw new HuizhenError(ErrorCode.ALREADY_JOINED, 'This connection has already joined a room.');
    if (data.protocolVersion !== PROTOCOL_VERSION) {
      throw new HuizhenError(ErrorCode.UNSUPPORTED_PROTOCOL, `This server speaks protocol version ${PROTOCOL_VERSION}; the client sent ${data.protocolVersion}.`);
    }
    const { ctx } = scope;
    const claims = verify(scope, data.token);
    if (data.room !== undefined && data.room !== claims.room) {
      reject(scope, ErrorCode.TOKEN_ROOM_MISMATCH);
      throw new HuizhenError(ErrorCode.TOKEN_ROOM_MISMATCH, `This token is for room '${claims.room}', not '${data.room}'.`);
    }
    // Kind and capacity come from a booking, else from the token of a clinician opening the room.
    // Only doctors vouched for by an issuer that may grant `doctor` choose how a room runs.
    const decides = claims.role === 'doctor' && (ctx.issuers.get(claims.issuer)?.config.roles ?? []).includes('doctor');
    const kind = (decides && claims.roomKind) || 'consult';
    const capacity = Math.min((decides && claims.capacity) || DEFAULT_CAPACITY[kind], ctx.config.rooms.maxParticipants);
    const room = await ctx.rooms.getOrCreate(claims.room, { kind, capacity, host: null, provisional: !decides });
    // A patient who arrived first opened the room with defaults; the doctor's token settles it,
    // unless that would change the rules for people already waiting.
    if (decides && room.consult.provisional && room.participants.size === 0 && (room.lobby.size === 0 || kind !== 'rounds')) {
      room.consult.settle(kind, capacity);
    }

    if (data.resumeSessionId !== undefined) {
      const found = room.findSession(claims.identity, data.resumeSessionId);
      // Resuming needs the same person with the same role; anything else joins afresh.
      const previous = found && found.issuer === claims.issuer && found.role === claims.role ? found : undefined;
      if (!previous || !previous.canResume(data.resumeFromSeq)) {
        throw new HuizhenError(ErrorCode.SESSION_EXPIRED, 'The previous session is gone; join again as a new session.');
      }
      room.refreshToken(previous, claims.expiresAt);
      // Replay what was missed only after the client has this response.
      scope.attach({ room, participant: previous }, { resume: true, ...(data.resumeFromSeq !== undefined ? { fromSeq: data.resumeFromSeq } : {}) });
      return joinResponse(room, previous, claims.expiresAt, true);
    }

    const participant = new Participant({
      identity: claims.identity,
      name: claims.name,
      role: claims.role,
      permissions: permissionsInRoom(room.consult.kind, claims.role, permissionsFor(claims.role, claims.grants)),
      issuer: claims.issuer,
      sessionId: randomUUID(),
      tokenExpiresAt: claims.expiresAt,
      loadTest: claims.loadTest && ctx.config.loadTest.enabled,
      ...(scope.remoteIp ? { remoteIp: scope.remoteIp } : {}),
    });
    // Attach first so the participant's own notifications have a sink.
    scope.attach({ room, participant });
    try {
      room.enter(participant);
    } catch (err) {
      scope.detach();
      if (err instanceof HuizhenError && (err.code === ErrorCode.REMOVED || err.code === ErrorCode.ROOM_LOCKED)) {
        ctx.audit.append({ event: 'token_rejected', room: room.id, actor: { identity: claims.identity, role: claims.role, issuer: claims.issuer }, details: { code: err.code } });
      }
      throw err;
    }
    return joinResponse(room, participant, claims.expiresAt, false);
  },

  async refreshToken(scope, data) {
    const { room, participant } = present(scope);
    const claims = verify(scope, data.token);
    if (claims.identity !== participant.identity || claims.issuer !== participant.issuer || claims.room !== room.id) {
      throw new HuizhenError(ErrorCode.TOKEN_ROOM_MISMATCH, 'The new token must be for the same person and room.');
    }
    if (claims.role !== participant.role) {
      throw new HuizhenError(ErrorCode.PERMISSION_DENIED, 'The new token carries a different role; rejoin to take it up.');
    }
    room.refreshToken(participant, claims.expiresAt);
    return { tokenExpiresIn: secondsUntil(claims.expiresAt) };
  },

  async admit(scope, data) {
    const { room, participant } = joined(scope);
    room.admit(participant, data.identity);
    return EMPTY;
  },

  async deny(scope, data) {
    const { room, participant } = joined(scope);
    room.deny(participant, data.identity, data.reason);
    return EMPTY;
  },

  async muteParticipant(scope, data) {
    const { room, participant } = joined(scope);
    await room.muteParticipant(participant, data.identity, data.source, data.allowUnmute ?? false);
    return EMPTY;
  },

  async removeParticipant(scope, data) {
    const { room, participant } = joined(scope);
    room.removeParticipant(participant, data.identity, data.reason);
    return EMPTY;
  },

  async setLocked(scope, data) {
    const { room, participant } = joined(scope);
    return { room: room.setLocked(participant, data.locked) };
  },

  async endRoom(scope, data) {
    const { room, participant } = joined(scope);
    return { summary: room.end(participant, data.reason) };
  },

  async getSummary(scope) {
    const { room, participant } = joined(scope);
    return { summary: room.summary(participant) };
  },

  async sendChat(scope, data) {
    const { room, participant } = joined(scope);
    return { message: room.sendChat(participant, data.text, data.to ?? 'everyone') };
  },

  async setOpinion(scope, data) {
    const { room, participant } = joined(scope);
    return { opinion: room.setOpinion(participant, data.text) };
  },

  async getOpinions(scope) {
    const { room, participant } = joined(scope);
    return { opinions: room.opinions(participant) };
  },

  async setRtpCapabilities(scope, data) {
    const { room, participant } = joined(scope);
    await room.setRtpCapabilities(participant, data.rtpCapabilities as unknown as types.RtpCapabilities);
    return EMPTY;
  },

  async createTransport(scope, data) {
    const { room, participant } = joined(scope);
    return room.createTransport(participant, data.direction);
  },

  async connectTransport(scope, data) {
    const { room, participant } = joined(scope);
    await room.connectTransport(participant, data.transportId, data.dtlsParameters as types.DtlsParameters);
    return EMPTY;
  },

  async restartIce(scope, data) {
    const { room, participant } = joined(scope);
    return room.restartIce(participant, data.transportId);
  },

  async produce(scope, data) {
    const { room, participant } = joined(scope);
    const trackId = await room.produce(participant, {
      transportId: data.transportId,
      kind: data.kind,
      source: data.source,
      rtpParameters: data.rtpParameters as unknown as types.RtpParameters,
      ...(data.paused !== undefined ? { paused: data.paused } : {}),
    });
    return { trackId };
  },

  async closeProducer(scope, data) {
    const { room, participant } = joined(scope);
    room.closeProducer(participant, data.producerId);
    return EMPTY;
  },

  async setProducerPaused(scope, data) {
    const { room, participant } = joined(scope);
    await room.setProducerPaused(participant, data.producerId, data.paused);
    return EMPTY;
  },

  async resumeConsumer(scope, data) {
    const { room, participant } = joined(scope);
    await room.resumeConsumer(participant, data.consumerId);
    return EMPTY;
  },

  async setConsumerVideoSize(scope, data) {
    const { room, participant } = joined(scope);
    return { spatialLayer: await room.setConsumerVideoSize(participant, data.consumerId, data.width, data.height) };
  },

  async setConsumerPaused(scope, data) {
    const { room, participant } = joined(scope);
    await room.setConsumerPaused(participant, data.consumerId, data.paused);
    return EMPTY;
  },

  async requestKeyFrame(scope, data) {
    const { room, participant } = joined(scope);
    await room.requestKeyFrame(participant, data.consumerId);
    return EMPTY;
  },

  async getStats(scope) {
    const { room, participant } = joined(scope);
    return room.getStats(participant);
  },

  async createPlainTransport(scope, data) {
    const { room, participant } = joined(scope);
    return room.createPlainTransport(participant, data.direction, data.srtp ?? false);
  },

  async connectPlainTransport(scope, data) {
    const { room, participant } = joined(scope);
    await room.connectPlainTransport(participant, data.transportId, data.ip, data.port, data.srtpParameters);
    return EMPTY;
  },

  async listRecords(scope) {
    const { room, participant } = joined(scope);
    return { records: room.records.list(participant) };
  },

  async getRecordUrl(scope, data) {
    const { room, participant } = joined(scope);
    return room.records.urlFor(participant, data.recordId);
  },

  async deleteRecord(scope, data) {
    const { room, participant } = joined(scope);
    room.records.delete(participant, data.recordId);
    return EMPTY;
  },

  async shareRecord(scope, data) {
    const { room, participant } = joined(scope);
    return { share: room.records.share(participant, data.recordId) };
  },

  async stopShare(scope, data) {
    const { room, participant } = joined(scope);
    room.records.stopShare(participant, data.recordId);
    return EMPTY;
  },

  async setViewState(scope, data) {
    const { room, participant } = joined(scope);
    return { view: room.records.setViewState(participant, data.recordId, data.view) };
  },

  async requestPresenter(scope, data) {
    const { room, participant } = joined(scope);
    const share = room.records.currentShareFor(participant);
    room.records.requestPresenter(participant, data.recordId, share ? room.participants.get(share.presenter) : undefined);
    return EMPTY;
  },

  async grantPresenter(scope, data) {
    const { room, participant } = joined(scope);
    room.records.grantPresenter(participant, data.recordId, room.participants.get(data.identity));
    return EMPTY;
  },

  async pointer(scope, data) {
    const { room, participant } = joined(scope);
    room.records.pointer(participant, data.recordId, data.page, data.x, data.y);
    return EMPTY;
  },

  async annotate(scope, data) {
    const { room, participant } = joined(scope);
    const { mark } = data;
    return {
      mark: room.records.annotate(participant, data.recordId, {
        kind: mark.kind,
        page: mark.page,
        points: mark.points,
        ...(mark.text !== undefined ? { text: mark.text } : {}),
        ...(mark.color !== undefined ? { color: mark.color } : {}),
      }),
    };
  },

  async undoAnnotation(scope, data) {
    const { room, participant } = joined(scope);
    return { markId: room.records.undo(participant, data.recordId) };
  },

  async ping() {
    return EMPTY;
  },

  async leave(scope) {
    const session = scope.session;
    if (!session) throw invalidState('There is no session to leave.');
    session.room.leave(session.participant, 'left');
    scope.detach();
    return EMPTY;
  },
};
