/**
 * A consult's stored vitals as a FHIR R4 Bundle of Observations.
 *
 *   GET /api/rooms/:id/vitals   Bearer service token (scope vitals:read), or the
 *                               access token of a clinician of that room who may
 *                               view records (doctor, specialist, nurse)
 *
 * Served while the consult runs (what was buffered is written first) and after
 * it ended, from the encrypted store. Patients, family, interpreters and
 * observers are refused: the Bundle is the clinical record; patients see their
 * own readings live on their own device. Every read is audited.
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
import type { ConsultStore } from '../rooms/ConsultStore.js';
import type { RoomManager } from '../rooms/RoomManager.js';
import { FHIR_JSON, vitalsBundle } from '../vitals/fhir.js';
import { maySeeVitals } from '../vitals/vitalsAccess.js';
import type { VitalsStore } from '../vitals/VitalsStore.js';
import { bearer } from './bearer.js';

export interface VitalsApiDeps {
  config: HuizhenConfig;
  issuers: ReadonlyMap<string, TrustedIssuer>;
  rooms: RoomManager;
  store: ConsultStore;
  vitalsStore: VitalsStore;
  audit: AuditSink;
}

const ROOM_ID = /^[A-Za-z0-9_-]{1,64}$/;

export function createVitalsApi(deps: VitalsApiDeps): Router {
  const router = express.Router();
  const verifyOptions = {
    clockToleranceSec: deps.config.auth.clockToleranceSec,
    maxTokenLifetimeSec: deps.config.auth.maxTokenLifetimeSec,
  };

  /** Who is asking, once they are allowed to read this room's vitals. */
  const reader = (id: string, token: string): AuditActor => {
    if (isServiceToken(token)) {
      const service = verifyServiceToken(token, deps.issuers, verifyOptions, 'vitals:read');
      return { identity: `${service.issuer}/${service.service}`, role: 'service', issuer: service.issuer };
    }
    const claims = verifyAccessToken(token, deps.issuers, verifyOptions);
    // Another room's token never reads this room, whatever its role.
    if (claims.room !== id)
      throw new HuizhenError(ErrorCode.TOKEN_ROOM_MISMATCH, `This token is for room '${claims.room}'.`);
    const permissions = permissionsFor(claims.role, claims.grants);
    if (!maySeeVitals({ role: claims.role, can: (p) => permissions.has(p) }))
      throw new HuizhenError(ErrorCode.PERMISSION_DENIED, "Only the consult's clinical team may read its vitals.");
    return { identity: claims.identity, role: claims.role, issuer: claims.issuer };
  };

  router.get('/api/rooms/:id/vitals', async (req, res) => {
    const id = String(req.params.id);
    if (!ROOM_ID.test(id)) throw new HuizhenError(ErrorCode.INVALID_REQUEST, 'The room id is malformed.');
    const actor = reader(id, bearer(req));
    const live = deps.rooms.rooms.get(id);
    if (live) await live.vitals.flush();
    else if (!(await deps.store.load(id)))
      throw new HuizhenError(ErrorCode.ROOM_NOT_FOUND, `No consult '${id}' is known.`);
    const observations = await deps.vitalsStore.read(id);
    deps.audit.append({ event: 'vitals_read', room: id, actor, details: { observations: observations.length } });
    res
      .status(200)
      .set({ 'Content-Type': `${FHIR_JSON}; charset=utf-8`, 'Cache-Control': 'no-store, private' })
      .send(JSON.stringify(vitalsBundle(observations, Date.now())));
  });

  return router;
}

/** Service tokens carry a `scope` claim (unverified here: it only chooses which verification applies). */
function isServiceToken(token: string): boolean {
  const decoded = jwt.decode(token);
  return !!decoded && typeof decoded === 'object' && typeof decoded.scope === 'string';
}
