/**
 * The signaling methods of the pre-call check. `startPreflight` is a first
 * message like `join`, verified exactly like it (issuer, audience, expiry,
 * algorithm), but it enters no room: the token's room claim is ignored, and
 * nothing is ever sent to, or visible in, any room.
 */
import type { types } from 'mediasoup';
import { ErrorCode, PROTOCOL_VERSION, type RequestData, type ResponseData } from '@huizhen/protocol';
import { HuizhenError } from '../errors.js';
import type { TokenClaims } from '../auth/tokens.js';
import type { PreflightHost } from './PreflightService.js';
import type { PreflightSession } from './PreflightSession.js';
import type { SignalingContext } from '../signaling/SignalingContext.js';

/** What these handlers need from the connection's handler scope. */
export interface PreflightScope {
  ctx: SignalingContext;
  remoteIp: string | undefined;
  /** Whether the connection already has a room session. */
  inRoom: boolean;
  preflight: PreflightSession | undefined;
  setPreflight(session: PreflightSession | undefined): void;
  preflightHost: PreflightHost;
  verify(token: string): TokenClaims;
}

type PreflightMethod =
  | 'startPreflight'
  | 'preflightConnectTransport'
  | 'preflightProduce'
  | 'preflightResumeConsumer'
  | 'preflightStats'
  | 'endPreflight';

type PreflightHandlers = {
  [M in PreflightMethod]: (scope: PreflightScope, data: RequestData<M>) => Promise<ResponseData[M]>;
};

function running(scope: PreflightScope): PreflightSession {
  const session = scope.preflight;
  if (!session || session.ended)
    throw new HuizhenError(ErrorCode.INVALID_STATE, 'No connection check is running; send startPreflight first.');
  return session;
}

function transportOptions(t: types.WebRtcTransport): ResponseData['startPreflight']['sendTransport'] {
  return { id: t.id, iceParameters: t.iceParameters, iceCandidates: t.iceCandidates, dtlsParameters: t.dtlsParameters };
}

export const preflightHandlers: PreflightHandlers = {
  async startPreflight(scope, data) {
    if (scope.inRoom || scope.preflight)
      throw new HuizhenError(
        ErrorCode.ALREADY_JOINED,
        'This connection is already in use; open a new one for the check.',
      );
    if (data.protocolVersion !== PROTOCOL_VERSION) {
      throw new HuizhenError(
        ErrorCode.UNSUPPORTED_PROTOCOL,
        `This server speaks protocol version ${PROTOCOL_VERSION}; the client sent ${data.protocolVersion}.`,
      );
    }
    const service = scope.ctx.preflight;
    service.admitIp(scope.remoteIp);
    const claims = scope.verify(data.token);
    const { session, iceServers } = await service.start(claims, scope.remoteIp, scope.preflightHost);
    scope.setPreflight(session);
    const { maxDurationMs, maxBitrate } = scope.ctx.config.preflight;
    return {
      protocolVersion: PROTOCOL_VERSION,
      preflightId: session.id,
      routerRtpCapabilities: session.router.rtpCapabilities,
      sendTransport: transportOptions(session.send),
      recvTransport: transportOptions(session.recv),
      maxDurationMs,
      maxBitrate,
      ...(iceServers ? { iceServers } : {}),
    };
  },

  async preflightConnectTransport(scope, data) {
    await running(scope).connect(data.transportId, data.dtlsParameters);
    return {};
  },

  async preflightProduce(scope, data) {
    return running(scope).produce({
      transportId: data.transportId,
      kind: data.kind,
      // mediasoup checks these blobs in depth itself (see serverRtp in signaling/handlers.ts).
      rtpParameters: data.rtpParameters as types.RtpParameters,
      rtpCapabilities: data.rtpCapabilities as types.RtpCapabilities,
    });
  },

  async preflightResumeConsumer(scope, data) {
    await running(scope).resumeConsumer(data.consumerId);
    return {};
  },

  async preflightStats(scope) {
    return running(scope).stats();
  },

  async endPreflight(scope) {
    const session = running(scope);
    const durationMs = session.durationMs;
    session.end('ended');
    scope.setPreflight(undefined);
    return { durationMs };
  },
};
