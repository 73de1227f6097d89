/**
 * Errors that cross the wire carry a stable code from the shared protocol and
 * a sentence a person can act on. Anything else thrown inside a handler is
 * reported to the client as INTERNAL and logged in full on the server.
 */
import { ErrorCode, HuizhenError } from '@huizhen/protocol';

export { HuizhenError };

export const permissionDenied = (action: string): HuizhenError =>
  new HuizhenError(ErrorCode.PERMISSION_DENIED, `Your role does not allow you to ${action}.`);

export const notFound = (what: string, id: string): HuizhenError =>
  new HuizhenError(ErrorCode.NOT_FOUND, `No ${what} with id '${id}' belongs to this session.`);

export const invalidState = (message: string): HuizhenError => new HuizhenError(ErrorCode.INVALID_STATE, message);
