/**
 * One function per protocol method. Each receives data already validated
 * against the shared protocol and the caller's session; permission checks
 * happen in the room.
 */
import { randomUUID } from 'node:crypto';
import type { types } from 'mediasoup';
import { ErrorCode, PROTOCOL_VERSION, type Method, type RequestData, type ResponseData } from '@huizhen/protocol';
import { actorOf } from '../audit/AuditLog.js';
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

type InRoom<M extends Method, R> = (room: Room, participant: Participant, data: RequestData<M>) => R;

/** A request of an admitted participant that the room answers. */
function ask<M extends Method>(fn: InRoom<M, ResponseData[M] | Promise<ResponseData[M]>>): Handler<M> {
  return async (scope, data) => {
    const { room, participant } = joined(scope);
    return fn(room, participant, data);
  };
}

/** Methods whose response is empty. */
type EmptyMethod = { [M in Method]: ResponseData[M] extends Record<string, never> ? M : never }[Method];

/** A request of an admitted participant that the room carries out; the response is empty. */
function act<M extends EmptyMethod>(fn: InRoom<M, void | Promise<void>>): Handler<M> {
  return async (scope, data) => {
    const { room, participant } = joined(scope);
    await fn(room, participant, data);
    return EMPTY as ResponseData[M];
  };
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
  if (p.admission === 'waiting')
    return { ...common, admission: 'waiting', room: { id: room.id, kind: room.consult.kind } };
  return { ...common, admission: 'admitted', ...room.view(p) };
}

export const handlers: Handlers = {
  async join(scope, data) {
    if (scope.session) throw new HuizhenError(ErrorCode.ALREADY_JOINED, 'This connection has already joined a room.');
    if (data.protocolVersion !== PROTOCOL_VERSION) {
      throw new HuizhenError(
        ErrorCode.UNSUPPORTED_PROTOCOL,
        `This server speaks protocol version ${PROTOCOL_VERSION}; the client sent ${data.protocolVersion}.`,
      );
    }
    const { ctx } = scope;
    const claims = verify(scope, data.token);
    if (data.room !== undefined && data.room !== claims.room) {
      reject(scope, ErrorCode.TOKEN_ROOM_MISMATCH);
      throw new HuizhenError(
        ErrorCode.TOKEN_ROOM_MISMATCH,
        `This token is for room '${claims.room}', not '${data.room}'.`,
      );
    }
    // Kind and capacity come from a booking, else from the token of a clinician opening the room.
    // Only doctors vouched for by an issuer that may grant `doctor` choose how a room runs.
    const decides = claims.role === 'doctor' && (ctx.issuers.get(claims.issuer)?.config.roles ?? []).includes('doctor');
    const kind = (decides && claims.roomKind) || 'consult';
    const capacity = Math.min((decides && claims.capacity) || DEFAULT_CAPACITY[kind], ctx.config.rooms.maxParticipants);
    const room = await ctx.rooms.getOrCreate(claims.room, { kind, capacity, host: null, provisional: !decides });
    // A patient who arrived first opened the room with defaults; the doctor's token settles it,
    // unless that would change the rules for people already waiting.
    if (
      decides &&
      room.consult.provisional &&
      room.participants.size === 0 &&
      (room.lobby.size === 0 || kind !== 'rounds')
    ) {
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
      scope.attach(
        { room, participant: previous },
        { resume: true, ...(data.resumeFromSeq !== undefined ? { fromSeq: data.resumeFromSeq } : {}) },
      );
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
        ctx.audit.append({
          event: 'token_rejected',
          room: room.id,
          actor: actorOf(claims),
          details: { code: err.code },
        });
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
      throw new HuizhenError(
        ErrorCode.PERMISSION_DENIED,
        'The new token carries a different role; rejoin to take it up.',
      );
    }
    room.refreshToken(participant, claims.expiresAt);
    return { tokenExpiresIn: secondsUntil(claims.expiresAt) };
  },

  admit: act((room, p, data) => room.admit(p, data.identity)),
  deny: act((room, p, data) => room.deny(p, data.identity, data.reason)),
  muteParticipant: act((room, p, data) =>
    room.muteParticipant(p, data.identity, data.source, data.allowUnmute ?? false),
  ),
  removeParticipant: act((room, p, data) => room.removeParticipant(p, data.identity, data.reason)),
  setLocked: ask((room, p, data) => ({ room: room.setLocked(p, data.locked) })),
  endRoom: ask((room, p, data) => ({ summary: room.end(p, data.reason) })),
  getSummary: ask((room, p) => ({ summary: room.summary(p) })),

  sendChat: ask((room, p, data) => ({ message: room.sendChat(p, data.text, data.to ?? 'everyone') })),
  setOpinion: ask((room, p, data) => ({ opinion: room.setOpinion(p, data.text) })),
  getOpinions: ask((room, p) => ({ opinions: room.opinions(p) })),

  setRtpCapabilities: act((room, p, data) =>
    room.setRtpCapabilities(p, data.rtpCapabilities as unknown as types.RtpCapabilities),
  ),
  createTransport: ask((room, p, data) => room.createTransport(p, data.direction)),
  connectTransport: act((room, p, data) =>
    room.connectTransport(p, data.transportId, data.dtlsParameters as types.DtlsParameters),
  ),
  restartIce: ask((room, p, data) => room.restartIce(p, data.transportId)),
  produce: ask(async (room, p, data) => {
    const trackId = await room.produce(p, {
      transportId: data.transportId,
      kind: data.kind,
      source: data.source,
      rtpParameters: data.rtpParameters as unknown as types.RtpParameters,
      ...(data.paused !== undefined ? { paused: data.paused } : {}),
    });
    return { trackId };
  }),
  closeProducer: act((room, p, data) => room.closeProducer(p, data.producerId)),
  setProducerPaused: act((room, p, data) => room.setProducerPaused(p, data.producerId, data.paused)),
  resumeConsumer: act((room, p, data) => room.resumeConsumer(p, data.consumerId)),
  setConsumerVideoSize: ask(async (room, p, data) => ({
    spatialLayer: await room.setConsumerVideoSize(p, data.consumerId, data.width, data.height),
  })),
  setConsumerPaused: act((room, p, data) => room.setConsumerPaused(p, data.consumerId, data.paused)),
  requestKeyFrame: act((room, p, data) => room.requestKeyFrame(p, data.consumerId)),
  getStats: ask((room, p) => room.getStats(p)),
  createPlainTransport: ask((room, p, data) => room.createPlainTransport(p, data.direction, data.srtp ?? false)),
  connectPlainTransport: act((room, p, data) =>
    room.connectPlainTransport(p, data.transportId, data.ip, data.port, data.srtpParameters),
  ),

  listRecords: ask((room, p) => ({ records: room.records.list(p) })),
  getRecordUrl: ask((room, p, data) => room.records.urlFor(p, data.recordId)),
  deleteRecord: act((room, p, data) => room.records.delete(p, data.recordId)),
  shareRecord: ask((room, p, data) => ({ share: room.records.share(p, data.recordId) })),
  stopShare: act((room, p, data) => room.records.stopShare(p, data.recordId)),
  setViewState: ask((room, p, data) => ({ view: room.records.setViewState(p, data.recordId, data.view) })),
  requestPresenter: act((room, p, data) => room.records.requestPresenter(p, data.recordId)),
  grantPresenter: act((room, p, data) =>
    room.records.grantPresenter(p, data.recordId, room.participants.get(data.identity)),
  ),
  pointer: act((room, p, data) => room.records.pointer(p, data.recordId, data.page, data.x, data.y)),
  annotate: ask((room, p, { recordId, mark }) => ({
    mark: room.records.annotate(p, recordId, {
      kind: mark.kind,
      page: mark.page,
      points: mark.points,
      ...(mark.text !== undefined ? { text: mark.text } : {}),
      ...(mark.color !== undefined ? { color: mark.color } : {}),
    }),
  })),
  undoAnnotation: ask((room, p, data) => ({ markId: room.records.undo(p, data.recordId) })),

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
