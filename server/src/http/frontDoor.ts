/**
 * What every HTTP request meets before any route: the origin check with CORS
 * for the API, and a body judged by its declared length before a byte of it
 * is read. A body parser that refuses an oversize body still waits for the
 * whole body to arrive before it answers (so as not to reset the connection);
 * a request declaring a petabyte would hold its connection for as long as the
 * sender likes. Here it gets its 413 at once and the connection is closed.
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { ErrorCode } from '@huizhen/protocol';
import type { OriginPolicy } from './origins.js';

/** Headers a page may send to the API: its token and the body's type. */
const ALLOWED_HEADERS = 'Authorization, Content-Type';
const ALLOWED_METHODS = 'GET, POST, PUT, DELETE, OPTIONS';
/** What a page may read of a response besides the CORS-safelisted headers. */
const EXPOSED_HEADERS = 'Content-Disposition, Content-Length, Retry-After';

/**
 * CORS for the API (`/api/*`) and the SDK bundle: an allowed origin gets its own origin back (never
 * `*`; requests carry bearer tokens, not cookies, so no credentials mode); any other origin is refused
 * with ORIGIN_NOT_ALLOWED, preflight included, so a page learns why rather than a bare network error.
 */
export function apiCors(policy: OriginPolicy): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    if (!req.path.startsWith('/api/') && !req.path.startsWith('/sdk/')) return next();
    const origin = req.headers.origin;
    if (origin === undefined) return next();
    res.vary('Origin');
    if (!policy.allows(origin, req)) {
      res.status(403).json({
        error: {
          code: ErrorCode.ORIGIN_NOT_ALLOWED,
          message: `Pages from ${origin.slice(0, 200)} may not use this server; add the origin to server.allowedOrigins.`,
        },
      });
      return;
    }
    res.set('Access-Control-Allow-Origin', origin);
    res.set('Access-Control-Expose-Headers', EXPOSED_HEADERS);
    if (req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined) {
      res.set({
        'Access-Control-Allow-Methods': ALLOWED_METHODS,
        'Access-Control-Allow-Headers': ALLOWED_HEADERS,
        'Access-Control-Max-Age': '600',
      });
      res.status(204).end();
      return;
    }
    next();
  };
}

/**
 * Refuses a body whose declared length is over `maxBytes` (or malformed) before reading it: 413 and
 * the connection closed, so the sender cannot keep it busy with the rest.
 */
export function declaredBodyLimit(maxBytes: number | ((req: Request) => number)): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    const declared = req.headers['content-length'];
    if (declared === undefined) return next();
    const max = typeof maxBytes === 'function' ? maxBytes(req) : maxBytes;
    const valid = /^\d{1,16}$/.test(declared);
    if (valid && Number(declared) <= max) return next();
    res.set('Connection', 'close');
    res.status(valid ? 413 : 400).json({
      error: valid
        ? { code: ErrorCode.MESSAGE_TOO_LARGE, message: `The request body may be at most ${max} bytes.` }
        : { code: ErrorCode.INVALID_REQUEST, message: 'The Content-Length header is malformed.' },
    });
    // Whatever else the sender pushes is not read: the socket goes once the answer is out.
    res.once('finish', () => req.socket.destroySoon());
  };
}
