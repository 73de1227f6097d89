/** The token of an `Authorization: Bearer <token>` header. */
import type { Request } from 'express';
import { ErrorCode } from '@huizhen/protocol';
import { HuizhenError } from '../errors.js';

export function bearer(req: Request): string {
  const match = /^Bearer\s+(\S+)$/i.exec(req.get('authorization') ?? '');
  if (!match) throw new HuizhenError(ErrorCode.TOKEN_INVALID, 'Send an Authorization: Bearer <token> header.');
  return match[1]!;
}
