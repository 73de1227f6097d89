import { describe, expect, it } from 'vitest';
import {
  CloseCode,
  ConnectionError,
  ConnectionErrorReason,
  DisconnectReason,
  ErrorCode,
  HuizhenError,
  disconnectFromCloseCode,
  disconnectReasonForCode,
  fromWireError,
  isErrorCode,
  isHuizhenError,
} from './errors.js';
import { toHttpBase, toSignalUrl } from './url.js';

describe('fromWireError', () => {
  it('keeps every protocol code and the server message', () => {
    for (const code of Object.values(ErrorCode)) {
      const error = fromWireError({ code, message: `because ${code}` });
      expect(error).toBeInstanceOf(HuizhenError);
      expect(error).toBeInstanceOf(Error);
      expect(error.code).toBe(code);
      expect(error.message).toBe(`because ${code}`);
      expect(error.name).toBe('HuizhenError');
    }
  });

  it('turns a code this SDK does not know into INTERNAL, keeping the code in the message', () => {
    const error = fromWireError({ code: 'FUTURE_THING', message: 'Something new' });
    expect(error.code).toBe(ErrorCode.INTERNAL);
    expect(error.message).toContain('FUTURE_THING');
    expect(error.message).toContain('Something new');
  });

  it('survives a missing or malformed error object', () => {
    expect(fromWireError(undefined).code).toBe(ErrorCode.INTERNAL);
    expect(fromWireError('oops').code).toBe(ErrorCode.INTERNAL);
    expect(fromWireError({ code: ErrorCode.ROOM_FULL }).message).toMatch(/server reported an error/);
  });
});

describe('error classes', () => {
  it('makes ConnectionError a HuizhenError with a reason and CONNECTION_FAILED by default', () => {
    const error = new ConnectionError(ConnectionErrorReason.ServerUnreachable, 'no route');
    expect(error).toBeInstanceOf(HuizhenError);
    expect(error.code).toBe(ErrorCode.CONNECTION_FAILED);
    expect(error.reason).toBe('serverUnreachable');
    expect(error.name).toBe('ConnectionError');
    const rejected = new ConnectionError(ConnectionErrorReason.Rejected, 'expired', ErrorCode.TOKEN_EXPIRED);
    expect(rejected.code).toBe(ErrorCode.TOKEN_EXPIRED);
  });

  it('narrows with isHuizhenError and isErrorCode', () => {
    const error = new HuizhenError(ErrorCode.NOT_FOUND, 'gone');
    expect(isHuizhenError(error)).toBe(true);
    expect(isHuizhenError(error, ErrorCode.NOT_FOUND)).toBe(true);
    expect(isHuizhenError(error, ErrorCode.TIMEOUT)).toBe(false);
    expect(isHuizhenError(new Error('x'))).toBe(false);
    expect(isErrorCode('TOKEN_INVALID')).toBe(true);
    expect(isErrorCode('token_invalid')).toBe(false);
    expect(isErrorCode(42)).toBe(false);
  });
});

describe('disconnect reasons', () => {
  it('maps sessionClosed codes', () => {
    expect(disconnectReasonForCode(ErrorCode.DUPLICATE_IDENTITY)).toBe(DisconnectReason.DuplicateIdentity);
    expect(disconnectReasonForCode(ErrorCode.TOKEN_EXPIRED)).toBe(DisconnectReason.TokenExpired);
    expect(disconnectReasonForCode(ErrorCode.SERVER_SHUTTING_DOWN)).toBe(DisconnectReason.ServerShutdown);
    expect(disconnectReasonForCode(ErrorCode.ROOM_NOT_FOUND)).toBe(DisconnectReason.RoomClosed);
    expect(disconnectReasonForCode(ErrorCode.ROOM_ENDED)).toBe(DisconnectReason.RoomEnded);
    expect(disconnectReasonForCode(ErrorCode.REMOVED)).toBe(DisconnectReason.Removed);
    expect(disconnectReasonForCode(ErrorCode.ADMISSION_DENIED)).toBe(DisconnectReason.AdmissionDenied);
    expect(disconnectReasonForCode(ErrorCode.PERMISSION_DENIED)).toBe(DisconnectReason.ServerClosed);
  });

  it('maps WebSocket close codes to a reason and a coded error', () => {
    expect(disconnectFromCloseCode(CloseCode.DUPLICATE_IDENTITY, '')).toMatchObject({
      reason: DisconnectReason.DuplicateIdentity,
      error: { code: ErrorCode.DUPLICATE_IDENTITY },
    });
    expect(disconnectFromCloseCode(CloseCode.ROOM_CLOSED, 'ended')).toMatchObject({
      reason: DisconnectReason.RoomClosed,
      error: { code: ErrorCode.ROOM_NOT_FOUND },
    });
    expect(disconnectFromCloseCode(CloseCode.TOKEN_EXPIRED, '').reason).toBe(DisconnectReason.TokenExpired);
    expect(disconnectFromCloseCode(CloseCode.SERVER_SHUTTING_DOWN, '').reason).toBe(DisconnectReason.ServerShutdown);
    expect(disconnectFromCloseCode(CloseCode.ROOM_ENDED, '')).toMatchObject({
      reason: 'roomEnded',
      error: { code: 'ROOM_ENDED' },
    });
    expect(disconnectFromCloseCode(CloseCode.REMOVED, '')).toMatchObject({
      reason: 'removed',
      error: { code: 'REMOVED' },
    });
    expect(disconnectFromCloseCode(CloseCode.ADMISSION_DENIED, '')).toMatchObject({
      reason: 'admissionDenied',
      error: { code: 'ADMISSION_DENIED' },
    });
    const lost = disconnectFromCloseCode(1006, '');
    expect(lost.reason).toBe(DisconnectReason.ConnectionLost);
    expect(lost.error).toBeInstanceOf(ConnectionError);
    expect(lost.error.code).toBe(ErrorCode.CONNECTION_FAILED);
  });
});

describe('toSignalUrl', () => {
  it('turns an http(s) origin into the ws(s) /ws endpoint', () => {
    expect(toSignalUrl('http://localhost:3000')).toBe('ws://localhost:3000/ws');
    expect(toSignalUrl('https://consult.example.org/')).toBe('wss://consult.example.org/ws');
  });

  it('keeps a path prefix and drops query and fragment', () => {
    expect(toSignalUrl('https://h.example/huizhen/?x=1#y')).toBe('wss://h.example/huizhen/ws');
  });

  it('uses a ws(s) URL as the endpoint as given', () => {
    expect(toSignalUrl('wss://h.example/custom/socket')).toBe('wss://h.example/custom/socket');
  });

  it('rejects what is not a server URL with a ConnectionError', () => {
    expect(() => toSignalUrl('not a url')).toThrow(ConnectionError);
    expect(() => toSignalUrl('ftp://h.example')).toThrow(/http\(s\) or ws\(s\)/);
  });
});

describe('toHttpBase', () => {
  it('keeps an http(s) base, without trailing slash, query or fragment', () => {
    expect(toHttpBase('http://localhost:3000')).toBe('http://localhost:3000');
    expect(toHttpBase('https://h.example/huizhen/?x=1#y')).toBe('https://h.example/huizhen');
  });

  it('derives it from a ws(s) signaling URL', () => {
    expect(toHttpBase('ws://localhost:3000/ws')).toBe('http://localhost:3000');
    expect(toHttpBase('wss://h.example/huizhen/ws')).toBe('https://h.example/huizhen');
  });

  it('rejects what is not a server URL', () => {
    expect(() => toHttpBase('ftp://h.example')).toThrow(ConnectionError);
  });
});
