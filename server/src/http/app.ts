/**
 * The HTTP side: health, metrics, dev tokens, the SDK bundle and the demo.
 * JSON errors use the same codes as signaling.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import express, { type NextFunction, type Request, type Response } from 'express';
import { ErrorCode, ProtocolValidationError, devTokenRequest, parseWith } from '@huizhen/protocol';
import type { AuditSink } from '../audit/AuditLog.js';
import type { TrustedIssuer } from '../auth/issuers.js';
import { mintAccessToken } from '../auth/tokens.js';
import { PROJECT_ROOT, type HuizhenConfig } from '../config.js';
import { HuizhenError } from '../errors.js';
import type { WorkerPool } from '../media/WorkerPool.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { ConsultStore } from '../rooms/ConsultStore.js';
import type { RoomManager } from '../rooms/RoomManager.js';
import type { UrlSigner } from '../records/signedUrls.js';
import { createRecordsApi } from './recordsApi.js';
import { createRoomsApi } from './roomsApi.js';
import { createVitalsApi } from './vitalsApi.js';
import { apiCors, declaredBodyLimit } from './frontDoor.js';
import { OriginPolicy } from './origins.js';
import { openApiDocument } from './openapi.js';
// --- recording
import type { RecordingService } from '../recording/RecordingService.js';
import type { RecordingUrlSigner } from '../recording/recordingUrls.js';
import { createRecordingsApi } from './recordingsApi.js';
import type { VitalsStore } from '../vitals/VitalsStore.js';
// --- evaluation
import type { EvaluationService } from '../evaluation/EvaluationService.js';
import { createEvaluationApi } from './evaluationApi.js';
// --- cluster
import type { ClusterHealth } from '../cluster/ClusterNode.js';

export interface AppDeps {
  config: HuizhenConfig;
  issuers: ReadonlyMap<string, TrustedIssuer>;
  rooms: RoomManager;
  pool: WorkerPool;
  metrics: Metrics;
  logger: Logger;
  audit: AuditSink;
  store: ConsultStore;
  signer: UrlSigner;
  vitalsStore: VitalsStore;
  // --- evaluation
  evaluations: EvaluationService;
  version: string;
  // --- recording: absent service, the node does not record
  recording: RecordingService | undefined;
  recordingUrls: RecordingUrlSigner;
  // --- cluster: the node's cluster health, undefined in the embedded default
  cluster?: () => ClusterHealth | undefined;
}

const SDK_DIR = join(PROJECT_ROOT, 'client-sdk/dist');
/** The largest body any endpoint takes, but a record upload (whose limit is records.maxBytes). */
const DEFAULT_BODY_LIMIT = 64 * 1024;
const RECORD_UPLOAD = /^\/api\/rooms\/[^/]+\/records$/;
const DEMO_DIR = join(PROJECT_ROOT, 'demo/public');
// --- records viewer
const PDFJS_DIR = join(PROJECT_ROOT, 'node_modules/pdfjs-dist');
const DICOM_PARSER_DIR = join(PROJECT_ROOT, 'node_modules/dicom-parser/dist');

export function createApp(deps: AppDeps): express.Express {
  const { config, logger } = deps;
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', config.server.trustProxy);
  app.use(securityHeaders);
  app.use(apiCors(new OriginPolicy(config.server.allowedOrigins, config.server.trustProxy)));
  app.use(
    declaredBodyLimit((req) =>
      req.method === 'POST' && RECORD_UPLOAD.test(req.path) ? config.records.maxBytes : DEFAULT_BODY_LIMIT,
    ),
  );

  app.get('/healthz', (_req, res) => {
    const workers = deps.pool.workers.length;
    const counts = deps.rooms.counts();
    // --- cluster: Redis away leaves the node serving its calls (200); the body says so
    const cluster = deps.cluster?.();
    res.status(workers > 0 ? 200 : 503).json({
      status: workers > 0 ? (cluster && !cluster.redis.up ? 'degraded' : 'ok') : 'degraded',
      version: deps.version,
      uptimeSec: Math.round(process.uptime()),
      workers,
      rooms: counts.rooms,
      participants: counts.participants,
      ...(cluster ? { cluster } : {}),
    });
  });

  app.get('/metrics', async (_req, res, next) => {
    try {
      res.set('Content-Type', deps.metrics.registry.contentType);
      res.send(await deps.metrics.registry.metrics());
    } catch (err) {
      next(err);
    }
  });

  if (config.devTokens.enabled) {
    const issuer = deps.issuers.get(config.devTokens.issuer!);
    if (!issuer) throw new Error(`dev token issuer '${config.devTokens.issuer}' is not loaded`);
    app.post('/api/dev/token', declaredBodyLimit(4096), express.json({ limit: '4kb' }), (req, res) => {
      const { kind, loadtest, ...body } = parseWith(devTokenRequest, req.body, 'body');
      if (loadtest && !config.loadTest.enabled)
        throw new HuizhenError(ErrorCode.PERMISSION_DENIED, 'Load testing is off on this server (loadTest.enabled).');
      const token = mintAccessToken(issuer, {
        ...body,
        ttlSec: config.devTokens.ttlSec ?? 3600,
        ...(kind ? { roomKind: kind } : {}),
        ...(loadtest ? { loadTest: true } : {}),
      });
      logger.info('dev token issued', { room: body.room, participant: body.identity, role: body.role });
      res.set('Cache-Control', 'no-store').json({ token });
    });
  }

  // The API's description, built once: it changes only with the code.
  const openApi = openApiDocument({ version: deps.version, devTokens: config.devTokens.enabled });
  app.get('/api/openapi.json', (_req, res) => {
    res.set('Cache-Control', 'no-cache').json(openApi);
  });

  app.use(createRoomsApi(deps));
  app.use(createRecordsApi(deps));
  app.use(createVitalsApi(deps));
  // --- evaluation
  app.use(createEvaluationApi(deps));
  // --- recording
  app.use(createRecordingsApi(deps));

  app.get(['/sdk/huizhen-client.js', '/sdk/huizhen-client.js.map'], (req, res, next) => {
    const file = join(SDK_DIR, req.path.slice('/sdk/'.length));
    if (!existsSync(file)) {
      next(new HuizhenError(ErrorCode.NOT_FOUND, 'The SDK bundle has not been built; run npm run build.'));
      return;
    }
    res.sendFile(file, { headers: { 'Content-Type': 'text/javascript; charset=utf-8', 'Cache-Control': 'no-cache' } });
  });

  // --- records viewer
  // pdf.js (its module, worker, CJK CMaps and standard fonts) and dicom-parser, served
  // same-origin from node_modules so the strict CSP needs no other origin and no eval.
  app.use('/vendor/pdfjs/build', vendorStatic(join(PDFJS_DIR, 'build'), /^\/pdf(\.worker)?\.min\.mjs$/));
  app.use('/vendor/pdfjs/cmaps', vendorStatic(join(PDFJS_DIR, 'cmaps'), /^\/[\w.-]+\.bcmap$/));
  app.use('/vendor/pdfjs/standard_fonts', vendorStatic(join(PDFJS_DIR, 'standard_fonts'), /^\/[\w.-]+\.(pfb|ttf)$/));
  app.use('/vendor/dicom-parser', vendorStatic(DICOM_PARSER_DIR, /^\/dicomParser\.min\.js$/));

  app.use(express.static(DEMO_DIR, { index: 'index.html', extensions: ['html'] }));

  app.use((req, _res, next) =>
    next(new HuizhenError(ErrorCode.NOT_FOUND, `Nothing at ${req.method} ${req.path.slice(0, 200)}.`)),
  );

  // express needs the 4-argument signature to treat this as the error handler.
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const { status, error } = toHttpError(err);
    if (status >= 500) logger.error('http request failed', { error: err as Error });
    res.status(status).json({ error });
  });
  return app;
}

function toHttpError(err: unknown): { status: number; error: { code: string; message: string } } {
  if (err instanceof HuizhenError) {
    const status =
      err.code === ErrorCode.NOT_FOUND || err.code === ErrorCode.ROOM_NOT_FOUND
        ? 404
        : err.code === ErrorCode.PERMISSION_DENIED || err.code === ErrorCode.TOKEN_ROOM_MISMATCH
          ? 403
          : err.code.startsWith('TOKEN') || err.code === ErrorCode.ISSUER_UNKNOWN
            ? 401
            : err.code === ErrorCode.ROOM_ENDED ||
                err.code === ErrorCode.INVALID_STATE ||
                // --- evaluation
                err.code === ErrorCode.ALREADY_EVALUATED ||
                err.code === ErrorCode.EVALUATION_CLOSED
              ? 409
              : // --- cluster: Redis unreachable, try again shortly
                err.code === ErrorCode.CLUSTER_UNAVAILABLE
                ? 503
                : 400;
    return { status, error: err.toWire() };
  }
  if (err instanceof ProtocolValidationError)
    return { status: 400, error: { code: ErrorCode.INVALID_REQUEST, message: err.message } };
  const e = err as { type?: string; status?: number; message?: string };
  // body-parser errors: bad JSON, too large, wrong charset.
  if (e?.type === 'entity.too.large')
    return { status: 413, error: { code: ErrorCode.MESSAGE_TOO_LARGE, message: 'The request body is too large.' } };
  if (e?.type === 'entity.parse.failed')
    return {
      status: 400,
      error: { code: ErrorCode.MALFORMED_MESSAGE, message: 'The request body is not valid JSON.' },
    };
  if (typeof e?.status === 'number' && e.status >= 400 && e.status < 500) {
    return { status: e.status, error: { code: ErrorCode.INVALID_REQUEST, message: e.message ?? 'Bad request.' } };
  }
  return {
    status: 500,
    error: { code: ErrorCode.INTERNAL, message: 'The server failed to handle this request; it has been logged.' },
  };
}

// --- records viewer
/** Only the listed files of a vendored package, with JavaScript MIME types for `.mjs`. */
function vendorStatic(dir: string, allowed: RegExp): express.RequestHandler {
  const files = express.static(dir, {
    index: false,
    fallthrough: false,
    setHeaders: (res, file) => {
      if (/\.m?js$/.test(file)) res.setHeader('Content-Type', 'text/javascript; charset=utf-8');
      res.setHeader('Cache-Control', 'public, max-age=3600');
    },
  });
  return (req, res, next) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return next();
    if (!allowed.test(req.path)) return next();
    files(req, res, (err?: unknown) =>
      next(err ? new HuizhenError(ErrorCode.NOT_FOUND, `Nothing at ${req.path.slice(0, 200)}.`) : undefined),
    );
  };
}

function securityHeaders(_req: Request, res: Response, next: NextFunction): void {
  res.set({
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'X-Frame-Options': 'SAMEORIGIN',
    'Content-Security-Policy':
      "default-src 'self'; script-src 'self'; worker-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; media-src 'self' blob: mediastream:; connect-src 'self' ws: wss:; frame-ancestors 'self'",
  });
  next();
}
