/**
 * The patient's evaluation of a consult over HTTP (the room has ended, so
 * there is no signaling session to carry it).
 *
 *   POST /api/rooms/:id/evaluation   Bearer access token of a patient or family member for that room
 *                                    → 201 { evaluation }
 *   GET  /api/rooms/:id/evaluations  Bearer service token (scope rooms:read), or a clinician's
 *                                    access token for that room → { evaluations }
 *   GET  /api/evaluations?host=<identity>[&issuer=<iss>]
 *                                    Bearer service token (scope rooms:read): any host;
 *                                    or the host's own clinician token (any room) → { aggregate }
 *
 * Who may do what, and why, is in evaluation/EvaluationService.ts.
 */
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import jwt from 'jsonwebtoken';
import { ErrorCode, EVALUATION_HOST, evaluationInput, parseWith, str } from '@huizhen/protocol';
import * as z from 'zod/mini';
import type { TrustedIssuer } from '../auth/issuers.js';
import { verifyAccessToken, verifyServiceToken } from '../auth/tokens.js';
import type { HuizhenConfig } from '../config.js';
import { HuizhenError } from '../errors.js';
import type { EvaluationService } from '../evaluation/EvaluationService.js';
import { isClinician } from '../rooms/policy.js';
import { bearer } from './bearer.js';
import { declaredBodyLimit } from './frontDoor.js';

export interface EvaluationApiDeps {
  config: HuizhenConfig;
  issuers: ReadonlyMap<string, TrustedIssuer>;
  evaluations: EvaluationService;
}

const ROOM_ID = /^[A-Za-z0-9_-]{1,64}$/;

const aggregateQuery = z.strictObject({
  host: EVALUATION_HOST,
  issuer: z.optional(str({ min: 1, max: 256 })),
});

export function createEvaluationApi(deps: EvaluationApiDeps): Router {
  const router = express.Router();
  const verifyOptions = {
    clockToleranceSec: deps.config.auth.clockToleranceSec,
    maxTokenLifetimeSec: deps.config.auth.maxTokenLifetimeSec,
  };

  const roomId = (req: Request): string => {
    const id = String(req.params.id);
    if (!ROOM_ID.test(id)) throw new HuizhenError(ErrorCode.INVALID_REQUEST, 'The room id is malformed.');
    return id;
  };

  // Who is asking is settled before the body is read: a stranger's request costs no parsing.
  const patientAuth = (req: Request, res: Response, next: NextFunction): void => {
    const id = roomId(req);
    const token = bearer(req);
    if (isServiceToken(token))
      throw new HuizhenError(ErrorCode.PERMISSION_DENIED, 'Evaluations come from patients, not from systems.');
    const claims = verifyAccessToken(token, deps.issuers, verifyOptions);
    if (claims.room !== id)
      throw new HuizhenError(ErrorCode.TOKEN_ROOM_MISMATCH, `This token is for room '${claims.room}'.`);
    res.locals.claims = claims;
    next();
  };

  // A comment of 1000 CJK characters, JSON-escaped, stays well under this.
  router.post(
    '/api/rooms/:id/evaluation',
    patientAuth,
    declaredBodyLimit(16 * 1024),
    express.json({ limit: '16kb' }),
    async (req, res) => {
      const claims = res.locals.claims as ReturnType<typeof verifyAccessToken>;
      const input = parseWith(evaluationInput, req.body, 'body');
      const evaluation = await deps.evaluations.submit(roomId(req), claims, input);
      res.status(201).set('Cache-Control', 'no-store').json({ evaluation });
    },
  );

  router.get('/api/rooms/:id/evaluations', async (req, res) => {
    const id = roomId(req);
    const token = bearer(req);
    if (isServiceToken(token)) {
      verifyServiceToken(token, deps.issuers, verifyOptions, 'rooms:read');
    } else {
      const claims = verifyAccessToken(token, deps.issuers, verifyOptions);
      if (claims.room !== id)
        throw new HuizhenError(ErrorCode.TOKEN_ROOM_MISMATCH, `This token is for room '${claims.room}'.`);
      if (!isClinician(claims.role))
        throw new HuizhenError(
          ErrorCode.PERMISSION_DENIED,
          "Only the consult's clinical team may read its evaluations.",
        );
    }
    const evaluations = await deps.evaluations.list(id);
    res.set('Cache-Control', 'no-store, private').json({ evaluations });
  });

  router.get('/api/evaluations', async (req, res) => {
    const token = bearer(req);
    const query = parseWith(aggregateQuery, req.query, 'query');
    let issuer: string | null;
    if (isServiceToken(token)) {
      verifyServiceToken(token, deps.issuers, verifyOptions, 'rooms:read');
      issuer = query.issuer ?? null;
    } else {
      const claims = verifyAccessToken(token, deps.issuers, verifyOptions);
      if (!isClinician(claims.role) || claims.identity !== query.host)
        throw new HuizhenError(ErrorCode.PERMISSION_DENIED, 'A doctor may read their own evaluation figures only.');
      if (query.issuer !== undefined && query.issuer !== claims.issuer)
        throw new HuizhenError(ErrorCode.PERMISSION_DENIED, 'A doctor may read their own evaluation figures only.');
      // Only consults hosted under the same issuer: the same name from another hospital is another person.
      issuer = claims.issuer;
    }
    const aggregate = await deps.evaluations.aggregate(query.host, issuer);
    res.set('Cache-Control', 'no-store, private').json({ aggregate });
  });

  return router;
}

/** Service tokens carry a `scope` claim (unverified here: it only chooses which verification applies). */
function isServiceToken(token: string): boolean {
  const decoded = jwt.decode(token);
  return !!decoded && typeof decoded === 'object' && typeof decoded.scope === 'string';
}
