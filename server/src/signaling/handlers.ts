/**
 * One function per protocol method. Each receives data already validated
 * against the shared protocol and the caller's session; permission checks
 * happen in the room.
 */
import { randomUUID } from 'node:crypto';
import type { types } from 'mediasoup';
import { ErrorCode, PROTOCOL_VERSION, type Method, type RequestData, type ResponseData } from '@huizhen/client-sdk/protocol';
import { permissionsFor } from '../auth/permissions.js';
import { verifyAccessToken } from '../auth/tokens.js';
import { HuizhenError, invalidState } from '../errors.js';
import { Participant } from '../rooms/Participant.js';
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
  /** Called by `join` to attach the new session to the connection. */
  attach(session: Session): void;
  /** Called by `leave`. */
  detach(): void;
}

type Handler<M extends Method> = (scope: HandlerScope, data: RequestData<M>) => Promise<ResponseData[M]>;
type Handlers = { [M in Method]: Handler<M> };

const EMPTY = {} as Record<string, never>;

function joined(scope: HandlerScope): Session {
  if (!scope.session) throw new HuizhenError(ErrorCode.NOT_JOINED, 'Join a room first.');
  return scope.session;
}

export const handlers: Handlers = {
  async join(scope, data) {
    if (scope.session) throw new HuizhenError(ErrorCode.ALREADY_JOINED, 'This connection has already joined a room.');
    if (data.protocolVersion !== PROTOCOL_VERSION) {
      throw new HuizhenError(ErrorCode.UNSUPPORTED_PROTOCOL, `This server speaks protocol version ${PROTOCOL_VERSION}; the client sent ${data.protocolVersion}.`);
    }
    const { ctx } = scope;
    let claims;
    try {
      claims = verifyAccessToken(data.token, ctx.issuers, {
        clockToleranceSec: ctx.config.auth.clockToleranceSec,
        maxTokenLifetimeSec: ctx.config.auth.maxTokenLifetimeSec,
      });
    } catch (err) {
      if (err instanceof HuizhenError) ctx.metrics.tokenRejections.inc({ code: err.code });
      throw err;
    }
    if (data.room !== undefined && data.room !== claims.room) {
      ctx.metrics.tokenRejections.inc({ code: ErrorCode.TOKEN_ROOM_MISMATCH });
      throw new HuizhenError(ErrorCode.TOKEN_ROOM_MISMATCH, `This token is for room '${claims.room}', not '${data.room}'.`);
    }
    const room = await ctx.rooms.getOrCreate(claims.room);
    const participant = new Participant({
      identity: claims.identity,
      name: claims.name,
      role: claims.role,
      permissions: permissionsFor(claims.role, claims.grants),
      issuer: claims.issuer,
      sessionId: randomUUID(),
      tokenExpiresAt: claims.expiresAt,
      loadTest: claims.loadTest && ctx.config.loadTest.enabled,
      ...(scope.remoteIp ? { remoteIp: scope.remoteIp } : {}),
    });
    // Attach first so the participant's own notifications have a sink.
    scope.attach({ room, participant });
    try {
      room.join(participant);
    } catch (err) {
      scope.detach();
      throw err;
    }
    return {
      protocolVersion: PROTOCOL_VERSION,
      sessionId: participant.sessionId,
      room: { id: room.id },
      participant: participant.info(),
      participants: room.others(participant).map((p) => p.info()),
      routerRtpCapabilities: room.router.rtpCapabilities as unknown as Record<string, unknown>,
      tokenExpiresIn: Math.max(0, claims.expiresAt - Math.floor(Date.now() / 1000)),
    };
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

  async leave(scope) {
    const session = scope.session;
    if (!session) throw invalidState('There is no session to leave.');
    session.room.leave(session.participant, 'left');
    scope.detach();
    return EMPTY;
  },
};
