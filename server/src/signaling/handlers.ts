/**
 * One function per protocol method: each translates a request (already
 * validated against the shared protocol) into a domain call and its result
 * back into a response. Every in-room request first passes the room's one
 * authorization point (`room.authorize`); the rules live in rooms/.
 */
import { randomUUID } from 'node:crypto';
import type { types } from 'mediasoup';
import { ErrorCode, PROTOCOL_VERSION, type Method, type RequestData, type ResponseData } from '@huizhen/protocol';
import { actorOf } from '../audit/AuditLog.js';
import { verifyAccessToken, type TokenClaims } from '../auth/tokens.js';
import type { Permission } from '../auth/permissions.js';
import { HuizhenError, invalidState } from '../errors.js';
import { Participant } from '../rooms/Participant.js';
import { createPlainTransport, connectPlainTransport } from '../rooms/media/LoadTestTransports.js';
import { permissionsIn, roomOpening, settleIfProvisional } from '../rooms/JoinPolicy.js';
import type { Room } from '../rooms/Room.js';
import type { SignalingContext } from './SignalingContext.js';
import { preflightHandlers, type PreflightScope } from '../preflight/handlers.js';
import type { PreflightHost } from '../preflight/PreflightService.js';
import type { PreflightSession } from '../preflight/PreflightSession.js';
import type { EdgeSession } from '../cluster/relay/EdgeSession.js';
import type { EdgeConnection } from '../cluster/relay/EdgeRooms.js';
import { HomeUnreachableError } from '../cluster/relay/EdgeRoom.js';

/** How often a join looks again for a room whose home does not answer. */
const HOME_RETRY_MS = 200;

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
  // --- pre-call check: a connection runs either a room session or a preflight loopback
  preflight: PreflightSession | undefined;
  setPreflight(session: PreflightSession | undefined): void;
  preflightHost: PreflightHost;
  // --- cluster
  /** Set when the request was relayed from another node (the edge): it is never relayed on. */
  relayedFrom?: string;
  /** A client connection of this node: takes an edge session (room homed elsewhere) for its requests. */
  attachEdge?: (session: EdgeSession) => EdgeConnection;
}

type Handler<M extends Method> = (scope: HandlerScope, data: RequestData<M>) => Promise<ResponseData[M]>;
type Handlers = { [M in Method]: Handler<M> };

const EMPTY = {} as Record<string, never>;

/** A session that has joined (admitted or waiting). */
function present(scope: HandlerScope): Session {
  if (!scope.session) throw new HuizhenError(ErrorCode.NOT_JOINED, 'Join a room first.');
  return scope.session;
}

/** What an action needs beyond being admitted: a permission, named in the refusal. */
type Needs = [permission: Permission, action: string] | [];

/** A session admitted to its room (waiting participants get NOT_ADMITTED), holding `permission` if given. */
function joined(scope: HandlerScope, ...[permission, action]: Needs): Session {
  const session = present(scope);
  session.room.authorize(session.participant, permission, action);
  return session;
}

type InRoom<M extends Method, R> = (room: Room, participant: Participant, data: RequestData<M>) => R;

/** A request of an admitted participant that the room answers. */
function ask<M extends Method>(fn: InRoom<M, ResponseData[M] | Promise<ResponseData[M]>>, ...needs: Needs): Handler<M> {
  return async (scope, data) => {
    const { room, participant } = joined(scope, ...needs);
    return fn(room, participant, data);
  };
}

/** Methods whose response is empty. */
type EmptyMethod = { [M in Method]: ResponseData[M] extends Record<string, never> ? M : never }[Method];

/** A request of an admitted participant that the room carries out; the response is empty. */
function act<M extends EmptyMethod>(fn: InRoom<M, void | Promise<void>>, ...needs: Needs): Handler<M> {
  return async (scope, data) => {
    const { room, participant } = joined(scope, ...needs);
    await fn(room, participant, data);
    return EMPTY as ResponseData[M];
  };
}

/**
 * The protocol types RTP blobs with mediasoup-client's types; mediasoup checks
 * them in depth itself. The two libraries' types differ only in which header
 * extension URIs they list, so this is a type-level hand-over, not a conversion.
 */
function serverRtp(value: RequestData<'produce'>['rtpParameters']): types.RtpParameters;
function serverRtp(value: RequestData<'setRtpCapabilities'>['rtpCapabilities']): types.RtpCapabilities;
function serverRtp(value: object): object {
  return value;
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

async function joinResponse(
  ctx: SignalingContext,
  room: Room,
  p: Participant,
  expiresAt: number,
  resumed: boolean,
): Promise<ResponseData['join']> {
  // Where to reconnect if this node dies; a cluster that cannot be asked now tells none.
  const clusterNodes = ctx.otherNodes ? await ctx.otherNodes().catch(() => []) : [];
  const common = {
    clusterNodes,
    protocolVersion: PROTOCOL_VERSION,
    sessionId: p.sessionId,
    resumed,
    // --- cluster: a session restored on this node after its home died (Room.restore) has no media here yet
    ...(resumed && p.restored ? { mediaMoved: true } : {}),
    participant: p.info(),
    permissions: [...p.permissions],
    tokenExpiresIn: secondsUntil(expiresAt),
    // --- TURN: credentials end with the token (p.tokenExpiresAt is this join's)
    ...room.media.iceServersFor(p),
  };
  if (p.admission === 'waiting')
    return { ...common, admission: 'waiting', room: { id: room.id, kind: room.consult.kind } };
  return { ...common, admission: 'admitted', ...room.view(p) };
}

// --- pre-call check
function preflightScope(scope: HandlerScope): PreflightScope {
  return {
    ctx: scope.ctx,
    remoteIp: scope.remoteIp,
    inRoom: scope.session !== undefined,
    preflight: scope.preflight,
    setPreflight: (session) => scope.setPreflight(session),
    preflightHost: scope.preflightHost,
    verify: (token) => verify(scope, token),
  };
}

export const handlers: Handlers = {
  async join(scope, data) {
    if (scope.session || scope.preflight)
      throw new HuizhenError(ErrorCode.ALREADY_JOINED, 'This connection has already joined a room.');
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
    // --- cluster: a draining node takes no one new (the SDK tries the next node)
    if (data.resumeSessionId === undefined && !scope.relayedFrom && ctx.draining?.())
      throw new HuizhenError(
        ErrorCode.SERVER_SHUTTING_DOWN,
        'This node is leaving the cluster and takes no new participants; please connect to another node.',
      );
    const opening = roomOpening(
      claims,
      ctx.issuers.get(claims.issuer)?.config.roles ?? [],
      ctx.config.rooms.maxParticipants,
    );
    let room: Room;
    // --- cluster: a home that does not answer has died or is cut off; its lease lapses within roomLeaseMs
    const takeoverBy = Date.now() + ctx.config.cluster.roomLeaseMs + 1000;
    for (;;) {
      try {
        room = await ctx.rooms.getOrCreate(claims.room, opening.fallback);
        break;
      } catch (err) {
        // --- cluster: a room homed on another node is joined through this one (media here, workflow there)
        const home = scope.attachEdge && !scope.relayedFrom ? await ctx.edge?.homeFor(err, claims.room) : undefined;
        if (!home || !ctx.edge || !scope.attachEdge) throw err;
        try {
          return await ctx.edge.rooms.join(
            data,
            { ...claims, loadTest: claims.loadTest && ctx.config.loadTest.enabled },
            home,
            scope.remoteIp,
            scope.attachEdge,
          );
        } catch (relayError) {
          // Waiting here beats the client's backoff: the room opens on a live node as soon as the lease lapses.
          if (!(relayError instanceof HomeUnreachableError) || Date.now() > takeoverBy) throw relayError;
          await new Promise((resolve) => setTimeout(resolve, HOME_RETRY_MS));
        }
      }
    }
    settleIfProvisional(room, opening);

    if (data.resumeSessionId !== undefined) {
      const found = room.findSession(claims.identity, data.resumeSessionId);
      // Resuming needs the same person with the same role; anything else joins afresh.
      const previous = found && found.issuer === claims.issuer && found.role === claims.role ? found : undefined;
      if (!previous || !previous.canResume(data.resumeFromSeq)) {
        throw new HuizhenError(ErrorCode.SESSION_EXPIRED, 'The previous session is gone; join again as a new session.');
      }
      room.refreshToken(previous, claims.expiresAt);
      // --- cluster: media that terminated at another node is gone with that node's connection
      const mediaMoved = previous.remoteMedia !== undefined || scope.relayedFrom !== undefined;
      // Replay what was missed only after the client has this response.
      scope.attach(
        { room, participant: previous },
        { resume: true, ...(data.resumeFromSeq !== undefined ? { fromSeq: data.resumeFromSeq } : {}) },
      );
      const response = await joinResponse(ctx, room, previous, claims.expiresAt, true);
      return mediaMoved ? { ...response, mediaMoved: true } : response;
    }

    const participant = new Participant({
      identity: claims.identity,
      name: claims.name,
      role: claims.role,
      permissions: permissionsIn(room, claims),
      issuer: claims.issuer,
      sessionId: randomUUID(),
      tokenExpiresAt: claims.expiresAt,
      loadTest: claims.loadTest && ctx.config.loadTest.enabled,
      ...(scope.remoteIp ? { remoteIp: scope.remoteIp } : {}),
    });
    // Attach first so the participant's own notifications have a sink.
    scope.attach({ room, participant });
    try {
      await room.enter(participant);
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
    return joinResponse(ctx, room, participant, claims.expiresAt, false);
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
    return { tokenExpiresIn: secondsUntil(claims.expiresAt), ...room.media.iceServersFor(participant) };
  },

  // --- TURN
  async getIceServers(scope) {
    const { room, participant } = present(scope);
    const issued = room.media.iceServersFor(participant);
    return {
      iceServers: issued.iceServers ?? [],
      ...(issued.iceServersExpireIn !== undefined ? { iceServersExpireIn: issued.iceServersExpireIn } : {}),
    };
  },

  admit: act((room, p, data) => room.admit(p, data.identity), 'admit', 'admit people from the waiting room'),
  deny: act(
    (room, p, data) => room.deny(p, data.identity, data.reason),
    'admit',
    'turn people away from the waiting room',
  ),
  muteParticipant: act(
    (room, p, data) => room.host.mute(p, room.admittedTarget(data.identity), data.source, data.allowUnmute ?? false),
    'muteOthers',
    'mute other participants',
  ),
  removeParticipant: act(
    (room, p, data) => room.host.remove(p, data.identity, data.reason),
    'remove',
    'remove participants',
  ),
  setLocked: ask(async (room, p, data) => {
    room.authorize(p, 'lock', data.locked ? 'lock the room' : 'unlock the room');
    return { room: await room.host.setLocked(p, data.locked) };
  }),
  endRoom: ask((room, p, data) => ({ summary: room.host.end(p, data.reason) }), 'end', 'end the consult'),
  getSummary: ask((room, p) => ({ summary: room.summary(p) })),

  sendChat: ask(
    async (room, p, data) => ({ message: await room.conversation.sendChat(p, data.text, data.to ?? 'everyone') }),
    'chat',
    'chat',
  ),
  setOpinion: ask(
    async (room, p, data) => ({ opinion: await room.conversation.setOpinion(p, data.text) }),
    'writeOpinion',
    'write a consult opinion',
  ),
  getOpinions: ask((room, p) => ({ opinions: room.conversation.opinions(p) })),

  setRtpCapabilities: act((room, p, data) => room.setRtpCapabilities(p, serverRtp(data.rtpCapabilities))),
  createTransport: ask((room, p, data) =>
    room.media.createTransport(p, data.direction, room.data.enabled ? data.sctpCapabilities : undefined),
  ),
  connectTransport: act((room, p, data) => room.media.connectTransport(p, data.transportId, data.dtlsParameters)),
  restartIce: ask((room, p, data) => room.media.restartIce(p, data.transportId)),
  produce: ask(async (room, p, data) => {
    const trackId = await room.produce(p, {
      transportId: data.transportId,
      kind: data.kind,
      source: data.source,
      rtpParameters: serverRtp(data.rtpParameters),
      ...(data.paused !== undefined ? { paused: data.paused } : {}),
    });
    return { trackId };
  }),
  closeProducer: act((room, p, data) => room.media.closeProducer(p, data.producerId)),
  setProducerPaused: act((room, p, data) => room.setProducerPaused(p, data.producerId, data.paused)),
  resumeConsumer: act((room, p, data) => room.media.subscriptions.resume(p, data.consumerId)),
  setConsumerVideoSize: ask(async (room, p, data) => ({
    spatialLayer: await room.media.subscriptions.setVideoSize(p, data.consumerId, data.width, data.height),
  })),
  setConsumerPaused: act((room, p, data) => room.media.subscriptions.setPaused(p, data.consumerId, data.paused)),
  requestKeyFrame: act((room, p, data) => room.media.subscriptions.requestKeyFrame(p, data.consumerId)),
  getStats: ask((room, p) => room.media.getStats(p)),
  createPlainTransport: ask((room, p, data) =>
    createPlainTransport(room.media, p, data.direction, data.srtp ?? false, data.srtpCryptoSuite),
  ),
  connectPlainTransport: act((room, p, data) =>
    connectPlainTransport(room.media, p, data.transportId, data.ip, data.port, data.srtpParameters),
  ),

  // --- data channels
  produceData: ask((room, p, data) => room.data.produceData(p, data), 'data', 'publish data'),
  closeDataProducer: act((room, p, data) => room.data.closeDataProducer(p, data.dataProducerId)),
  subscribeData: ask((room, p) => room.data.subscribe(p)),

  listRecords: ask((room, p) => ({ records: room.records.list(p) })),
  getRecordUrl: ask((room, p, data) => room.records.urlFor(p, data.recordId)),
  deleteRecord: act((room, p, data) => room.records.delete(p, data.recordId)),
  shareRecord: ask(async (room, p, data) => ({ share: await room.records.share(p, data.recordId) })),
  stopShare: act((room, p, data) => room.records.stopShare(p, data.recordId)),
  setViewState: ask(async (room, p, data) => ({
    view: await room.records.setViewState(p, data.recordId, data.view),
  })),
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

  // --- pre-call check (preflight/handlers.ts): outside every room
  startPreflight: (scope, data) => preflightHandlers.startPreflight(preflightScope(scope), data),
  preflightConnectTransport: (scope, data) => preflightHandlers.preflightConnectTransport(preflightScope(scope), data),
  preflightProduce: (scope, data) => preflightHandlers.preflightProduce(preflightScope(scope), data),
  preflightResumeConsumer: (scope, data) => preflightHandlers.preflightResumeConsumer(preflightScope(scope), data),
  preflightStats: (scope, data) => preflightHandlers.preflightStats(preflightScope(scope), data),
  endPreflight: (scope, data) => preflightHandlers.endPreflight(preflightScope(scope), data),
  // --- recording with consent: asking and stopping need `record`; everyone answers for themselves only
  requestRecording: ask((room, p) => ({ recording: room.recording.request(p) }), 'record', 'record the consult'),
  recordingConsent: ask((room, p, data) => ({ recording: room.recording.consent(p, data.agree) })),
  stopRecording: ask((room, p) => room.recording.stop(p), 'record', 'stop the recording'),
  // --- connection quality
  reportQuality: act((room, p, data) => {
    room.media.links.report(p, data);
  }),

  async leave(scope) {
    const session = scope.session;
    if (!session) throw invalidState('There is no session to leave.');
    session.room.leave(session.participant, 'left');
    scope.detach();
    return EMPTY;
  },
};
