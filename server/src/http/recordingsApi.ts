/**
 * A consult's recordings over HTTP.
 *
 *   GET /api/rooms/:id/recordings
 *       Bearer: the access token of a clinician of that room who may view
 *       records (doctor, specialist, nurse), or a service token with scope
 *       recordings:read. → { recordings: [{ id, startedAt, durationSec, url,
 *       state, consent, tracks }] }; `url` (ready recordings only) is a
 *       short-lived signed link bound to the caller.
 *   GET /api/rooms/:id/recordings/:rid/content?p=&exp=&sig=
 *       The signed link plus the same caller's token: the composed file,
 *       decrypted as it streams (video/webm).
 *
 * Patients, family, interpreters and observers are refused; another room's
 * token never reads this room. Every URL issued and every download is audited.
 */
import express, { type Router } from 'express';
import jwt from 'jsonwebtoken';
import { ErrorCode } from '@huizhen/protocol';
import type { AuditActor, AuditSink } from '../audit/AuditLog.js';
import type { TrustedIssuer } from '../auth/issuers.js';
import { permissionsFor } from '../auth/permissions.js';
import { verifyAccessToken, verifyServiceToken } from '../auth/tokens.js';
import type { HuizhenConfig } from '../config.js';
import { HuizhenError } from '../errors.js';
import type { RecordingService } from '../recording/RecordingService.js';
import type { RecordingUrlSigner } from '../recording/recordingUrls.js';
import { recordedMs } from '../recording/storage/metadata.js';
import { isClinician } from '../rooms/policy.js';
import { bearer } from './bearer.js';

export interface RecordingsApiDeps {
  config: HuizhenConfig;
  issuers: ReadonlyMap<string, TrustedIssuer>;
  recording: RecordingService | undefined;
  recordingUrls: RecordingUrlSigner;
  audit: AuditSink;
}

const ID = /^[A-Za-z0-9_-]{1,64}$/;

export function createRecordingsApi(deps: RecordingsApiDeps): Router {
  const router = express.Router();
  const verifyOptions = {
    clockToleranceSec: deps.config.auth.clockToleranceSec,
    maxTokenLifetimeSec: deps.config.auth.maxTokenLifetimeSec,
  };

  /** Who is asking, once they may read this room's recordings; `caller` is what URLs are bound to. */
  const reader = (room: string, token: string): { actor: AuditActor; caller: string } => {
    if (isServiceToken(token)) {
      const service = verifyServiceToken(token, deps.issuers, verifyOptions, 'recordings:read');
      const identity = `${service.issuer}/${service.service}`;
      return { actor: { identity, role: 'service', issuer: service.issuer }, caller: `service:${identity}` };
    }
    const claims = verifyAccessToken(token, deps.issuers, verifyOptions);
    if (claims.room !== room)
      throw new HuizhenError(ErrorCode.TOKEN_ROOM_MISMATCH, `This token is for room '${claims.room}'.`);
    const permissions = permissionsFor(claims.role, claims.grants);
    if (!isClinician(claims.role) || !permissions.has('viewRecords'))
      throw new HuizhenError(ErrorCode.PERMISSION_DENIED, "Only the consult's clinical team may read its recordings.");
    return {
      actor: { identity: claims.identity, role: claims.role, issuer: claims.issuer },
      caller: `${claims.issuer}|${claims.identity}`,
    };
  };

  const service = (): RecordingService => {
    if (!deps.recording)
      throw new HuizhenError(ErrorCode.RECORDING_UNAVAILABLE, 'This server does not record consults.');
    return deps.recording;
  };

  const roomParam = (value: unknown): string => {
    const room = String(value);
    if (!ID.test(room)) throw new HuizhenError(ErrorCode.INVALID_REQUEST, 'The room id is malformed.');
    return room;
  };

  router.get('/api/rooms/:id/recordings', async (req, res) => {
    const room = roomParam(req.params.id);
    const { actor, caller } = reader(room, bearer(req));
    const recordings = service();
    const expiresAt = Math.floor(Date.now() / 1000) + recordings.config.urlTtlSec;
    const list = (await recordings.store.list(room)).map((meta) => {
      const url =
        meta.state === 'ready' ? deps.recordingUrls.sign({ room, recordingId: meta.id, caller, expiresAt }) : null;
      if (url)
        deps.audit.append({ event: 'recording_url_issued', room, actor, target: meta.id, details: { expiresAt } });
      return {
        id: meta.id,
        startedAt: meta.startedAt,
        durationSec: Math.round((meta.composed?.durationSec ?? recordedMs(meta) / 1000) * 10) / 10,
        url,
        urlExpiresAt: url ? expiresAt : null,
        state: meta.state,
        requestedBy: meta.requestedBy,
        consent: meta.consent,
        tracks: new Set(meta.segments.map((s) => s.track)).size,
      };
    });
    res.status(200).set('Cache-Control', 'no-store, private').json({ recordings: list });
  });

  router.get('/api/rooms/:id/recordings/:rid/content', async (req, res) => {
    const room = roomParam(req.params.id);
    const id = String(req.params.rid);
    if (!ID.test(id)) throw new HuizhenError(ErrorCode.INVALID_REQUEST, 'The recording id is malformed.');
    const { actor, caller } = reader(room, bearer(req));
    deps.recordingUrls.verify(room, id, req.query as Record<string, unknown>, caller);
    const recordings = service();
    const meta = await recordings.store.readMeta(room, id);
    if (!meta || meta.state !== 'ready') throw new HuizhenError(ErrorCode.NOT_FOUND, 'No such recording.');
    const body = await recordings.store.composedStream(room, id);
    deps.audit.append({ event: 'recording_downloaded', room, actor, target: id });
    res.status(200).set({
      'Content-Type': 'video/webm',
      'Content-Disposition': `attachment; filename="recording-${id}.webm"`,
      'Cache-Control': 'no-store, private',
      'Content-Security-Policy': "sandbox; default-src 'none'",
    });
    body.on('error', (err) => {
      // The tag check failed at the end (a tampered file) or the disk failed: cut the response off.
      res.destroy(err);
    });
    body.pipe(res);
  });

  return router;
}

/** Service tokens carry a `scope` claim (unverified here: it only chooses which verification applies). */
function isServiceToken(token: string): boolean {
  const decoded = jwt.decode(token);
  return !!decoded && typeof decoded === 'object' && typeof decoded.scope === 'string';
}
