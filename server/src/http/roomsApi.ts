/**
 * Server-side room API for the systems around Huizhen. An appointment system
 * books a consult ahead (kind, capacity, host) with a service token; clinicians
 * of the room (or the service) read its summary and opinions afterwards.
 *
 *   POST /api/rooms                  Bearer service token (scope rooms:write)
 *   GET  /api/rooms/:id/summary      Bearer service token (scope rooms:read), or a clinician's access token for that room
 *   GET  /api/rooms/:id/opinions     likewise
 */
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import jwt from 'jsonwebtoken';
import { ErrorCode, bookRoomRequest, parseWith } from '@huizhen/protocol';
import type { AuditSink } from '../audit/AuditLog.js';
import type { TrustedIssuer } from '../auth/issuers.js';
import { verifyAccessToken, verifyServiceToken } from '../auth/tokens.js';
import type { HuizhenConfig } from '../config.js';
import { HuizhenError } from '../errors.js';
import { summaryOf } from '../rooms/Consult.js';
import type { ConsultStore } from '../rooms/ConsultStore.js';
import { DEFAULT_CAPACITY, isClinician } from '../rooms/policy.js';
import type { RoomManager } from '../rooms/RoomManager.js';
import { bearer } from './bearer.js';
import { declaredBodyLimit } from './frontDoor.js';
import type { EvaluationService } from '../evaluation/EvaluationService.js';

export interface RoomsApiDeps {
  config: HuizhenConfig;
  issuers: ReadonlyMap<string, TrustedIssuer>;
  rooms: RoomManager;
  store: ConsultStore;
  audit: AuditSink;
  // --- evaluation: the summary says how many patients and family rated the consult
  evaluations?: Pick<EvaluationService, 'count'>;
}

const ROOM_ID = /^[A-Za-z0-9_-]{1,64}$/;
/** A booking is forgotten if nobody joins within this time. */
const BOOKING_TTL_MS = 7 * 24 * 3600 * 1000;

export function createRoomsApi(deps: RoomsApiDeps): Router {
  const router = express.Router();
  const verifyOptions = {
    clockToleranceSec: deps.config.auth.clockToleranceSec,
    maxTokenLifetimeSec: deps.config.auth.maxTokenLifetimeSec,
  };

  // The service token is checked before the body is read: a stranger's request costs no parsing.
  const bookingAuth = (req: Request, res: Response, next: NextFunction): void => {
    res.locals.service = verifyServiceToken(bearer(req), deps.issuers, verifyOptions, 'rooms:write');
    next();
  };
  router.post('/api/rooms', bookingAuth, declaredBodyLimit(4096), express.json({ limit: '4kb' }), async (req, res) => {
    const service = res.locals.service as ReturnType<typeof verifyServiceToken>;
    const body = parseWith(bookRoomRequest, req.body, 'body');
    const room = await deps.rooms.schedule({
      id: body.room,
      kind: body.kind,
      capacity: Math.min(body.capacity ?? DEFAULT_CAPACITY[body.kind], deps.config.rooms.maxParticipants),
      host: body.host ?? null,
      bookedBy: `${service.issuer}/${service.service}`,
      expiresAt: Date.now() + BOOKING_TTL_MS,
    });
    res.status(201).json({ room });
  });

  const readable = (req: Request): string => {
    const id = String(req.params.id);
    if (!ROOM_ID.test(id)) throw new HuizhenError(ErrorCode.INVALID_REQUEST, 'The room id is malformed.');
    const token = bearer(req);
    // A service token (scope rooms:read), else a clinician's access token for this room.
    const payload = decodeScope(token);
    if (payload !== undefined) {
      verifyServiceToken(token, deps.issuers, verifyOptions, 'rooms:read');
      return id;
    }
    const claims = verifyAccessToken(token, deps.issuers, verifyOptions);
    if (claims.room !== id)
      throw new HuizhenError(ErrorCode.TOKEN_ROOM_MISMATCH, `This token is for room '${claims.room}'.`);
    if (!isClinician(claims.role))
      throw new HuizhenError(ErrorCode.PERMISSION_DENIED, 'Only the clinical team may read this.');
    return id;
  };

  router.get('/api/rooms/:id/summary', async (req, res) => {
    const id = readable(req);
    const live = deps.rooms.rooms.get(id);
    const summary = live ? live.consult.summary() : undefined;
    const stored = summary ?? (await storedSummary(deps.store, id));
    const evaluations = deps.evaluations ? { evaluations: await deps.evaluations.count(id) } : {};
    res.set('Cache-Control', 'no-store').json({ summary: { ...stored, ...evaluations } });
  });

  router.get('/api/rooms/:id/opinions', async (req, res) => {
    const id = readable(req);
    const record = await deps.store.load(id);
    if (!record) throw new HuizhenError(ErrorCode.ROOM_NOT_FOUND, `No consult '${id}' is known.`);
    res.set('Cache-Control', 'no-store').json({ opinions: record.opinions });
  });

  return router;
}

async function storedSummary(store: ConsultStore, id: string) {
  const record = await store.load(id);
  if (!record) throw new HuizhenError(ErrorCode.ROOM_NOT_FOUND, `No consult '${id}' is known.`);
  return summaryOf(record);
}

/** The unverified `scope` claim, only to choose which verification applies. */
function decodeScope(token: string): string | undefined {
  const decoded = jwt.decode(token);
  return decoded && typeof decoded === 'object' && typeof decoded.scope === 'string' ? decoded.scope : undefined;
}
