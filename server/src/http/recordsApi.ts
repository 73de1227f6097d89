/**
 * Record upload and download over HTTP.
 *
 *   POST /api/rooms/:room/records?visibility=everyone|clinicians&name=<file name>
 *        Authorization: Bearer <the uploader's room token>; body: the file bytes.
 *        Only participants who are in the room now and may share records.
 *   GET  /api/rooms/:room/records/:id/content?p=&exp=&sig=
 *        A signed URL from `getRecordUrl`, plus Authorization: Bearer <the same
 *        participant's token>. Expired, altered or someone else's URLs are refused.
 */
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { ErrorCode, RECORD_VISIBILITIES, type RecordVisibility } from '@huizhen/protocol';
import { actorOf, type AuditSink } from '../audit/AuditLog.js';
import type { TrustedIssuer } from '../auth/issuers.js';
import { verifyAccessToken, type TokenClaims } from '../auth/tokens.js';
import type { HuizhenConfig } from '../config.js';
import { HuizhenError } from '../errors.js';
import { canSee } from '../records/RoomRecords.js';
import type { UrlSigner } from '../records/signedUrls.js';
import type { Participant } from '../rooms/Participant.js';
import type { Room } from '../rooms/Room.js';
import type { RoomManager } from '../rooms/RoomManager.js';
import { bearer } from './bearer.js';
import { declaredBodyLimit } from './frontDoor.js';

export interface RecordsApiDeps {
  config: HuizhenConfig;
  issuers: ReadonlyMap<string, TrustedIssuer>;
  rooms: RoomManager;
  signer: UrlSigner;
  audit: AuditSink;
}

const ID = /^[A-Za-z0-9_-]{1,64}$/;

export function createRecordsApi(deps: RecordsApiDeps): Router {
  const router = express.Router();
  const verifyOptions = {
    clockToleranceSec: deps.config.auth.clockToleranceSec,
    maxTokenLifetimeSec: deps.config.auth.maxTokenLifetimeSec,
  };

  const authenticate = (req: Request): TokenClaims => {
    const room = String(req.params.room);
    if (!ID.test(room)) throw new HuizhenError(ErrorCode.INVALID_REQUEST, 'The room id is malformed.');
    const claims = verifyAccessToken(bearer(req), deps.issuers, verifyOptions);
    if (claims.room !== room)
      throw new HuizhenError(ErrorCode.TOKEN_ROOM_MISMATCH, `This token is for room '${claims.room}'.`);
    return claims;
  };

  // Authenticate before reading the body, so strangers cannot make the server buffer uploads.
  const uploadAuth = (req: Request, res: Response, next: NextFunction) => {
    const claims = authenticate(req);
    const room = deps.rooms.rooms.get(claims.room);
    const participant = room?.admittedMember(claims);
    if (!room || !participant)
      throw new HuizhenError(ErrorCode.NOT_JOINED, 'Join the room before sharing records into it.');
    res.locals.room = room;
    res.locals.participant = participant;
    next();
  };

  router.post(
    '/api/rooms/:room/records',
    uploadAuth,
    declaredBodyLimit(deps.config.records.maxBytes),
    express.raw({ type: () => true, limit: deps.config.records.maxBytes }),
    async (req, res) => {
      const visibility = (req.query.visibility ?? 'everyone') as RecordVisibility;
      if (!RECORD_VISIBILITIES.includes(visibility))
        throw new HuizhenError(ErrorCode.INVALID_REQUEST, 'visibility must be everyone or clinicians.');
      const name = typeof req.query.name === 'string' ? req.query.name : undefined;
      const data = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const room = res.locals.room as Room;
      const participant = res.locals.participant as Participant;
      // The body took time to arrive: the uploader may have been removed, or the consult ended, meanwhile.
      if (room.admittedMember(participant) !== participant || room.consult.ended) {
        throw new HuizhenError(ErrorCode.NOT_JOINED, 'You are no longer in this consult; the file was not stored.');
      }
      // Encrypted and written off the control thread; the record is listed once it is wholly on disk.
      const record = await room.records.add(participant, { data, fileName: name, visibility });
      res.status(201).json({ record });
    },
  );

  router.get('/api/rooms/:room/records/:id/content', async (req, res) => {
    const claims = authenticate(req);
    const recordId = String(req.params.id);
    if (!ID.test(recordId)) throw new HuizhenError(ErrorCode.INVALID_REQUEST, 'The record id is malformed.');
    deps.signer.verify(claims.room, recordId, req.query as Record<string, unknown>, claims.identity);
    const room = deps.rooms.rooms.get(claims.room);
    if (!room)
      throw new HuizhenError(ErrorCode.ROOM_NOT_FOUND, 'The room is not open now; records are served while it is.');
    // Only someone in the room now, with the permissions they have there (not just what their token says).
    const participant = room?.admittedMember(claims);
    if (!participant) throw new HuizhenError(ErrorCode.NOT_JOINED, 'Records are served only to people in the consult.');
    const info = room.records.info(recordId);
    // A record the requester may not see is answered as if it did not exist.
    if (!info || !canSee(participant, info)) throw new HuizhenError(ErrorCode.NOT_FOUND, 'No such record.');
    const body = await room.records.content(recordId);
    // Reading took time: someone removed meanwhile is not served.
    if (room?.admittedMember(claims) !== participant)
      throw new HuizhenError(ErrorCode.NOT_JOINED, 'Records are served only to people in the consult.');
    deps.audit.append({ event: 'record_downloaded', room: claims.room, actor: actorOf(claims), target: recordId });
    res.set({
      'Content-Type': info.type,
      'Content-Length': String(body.length),
      'Content-Disposition': `inline; filename="record"; filename*=UTF-8''${encodeURIComponent(info.name)}`,
      'Cache-Control': 'no-store, private',
      // Served bytes can never run script in the page's origin.
      'Content-Security-Policy': "sandbox; default-src 'none'",
    });
    res.end(body);
  });

  return router;
}
