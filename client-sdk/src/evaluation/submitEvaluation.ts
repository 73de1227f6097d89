/**
 * The patient's evaluation of a consult (在线评价), sent once the consult has
 * ended: an HTTP call, since the room's signaling session is over by then.
 * The evaluation is checked with the protocol's own schema before anything is
 * sent, so a form learns of a bad comment at once and in the server's words.
 */
import {
  evaluationSubmitted,
  parseEvaluation,
  parseWith,
  type EvaluationInput,
  type StoredEvaluation,
} from '@huizhen/protocol';
import { ConnectionError, ConnectionErrorReason, ErrorCode, HuizhenError } from '../errors.js';
import { defaultFetch, httpError } from '../recordsHttp.js';
import { toHttpBase } from '../url.js';

const ROOM_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** Options of `submitEvaluation`. */
export interface SubmitEvaluationOptions {
  /** The `fetch` to use; the global one by default. */
  fetch?: typeof fetch;
  /** Cancels the request. */
  signal?: AbortSignal;
}

/**
 * Rates an ended consult as the holder of `token` (a patient's or family
 * member's access token for `roomId`, as used to join it). Resolves with the
 * evaluation as stored.
 *
 * @throws HuizhenError INVALID_REQUEST (checked before sending), ALREADY_EVALUATED,
 *   EVALUATION_CLOSED, INVALID_STATE (not ended yet), PERMISSION_DENIED, TOKEN_*,
 *   ROOM_NOT_FOUND; ConnectionError when the server cannot be reached.
 */
export async function submitEvaluation(
  serverUrl: string,
  token: string,
  roomId: string,
  evaluation: EvaluationInput,
  options: SubmitEvaluationOptions = {},
): Promise<StoredEvaluation> {
  const body = parseEvaluation(evaluation);
  if (!ROOM_ID.test(roomId)) throw new HuizhenError(ErrorCode.INVALID_REQUEST, 'The room id is malformed');
  const f = options.fetch ?? defaultFetch();
  const url = `${toHttpBase(serverUrl)}/api/rooms/${encodeURIComponent(roomId)}/evaluation`;
  let response: Response;
  try {
    response = await f(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
      credentials: 'omit',
      cache: 'no-store',
      ...(options.signal ? { signal: options.signal } : {}),
    });
  } catch (cause) {
    if ((cause as { name?: unknown })?.name === 'AbortError') throw cause;
    throw new ConnectionError(
      ConnectionErrorReason.ServerUnreachable,
      `Could not reach the server to send the evaluation (${cause instanceof Error ? cause.message : String(cause)})`,
      undefined,
      { cause },
    );
  }
  if (!response.ok) throw await httpError(response);
  const payload: unknown = await response.json().catch(() => undefined);
  try {
    return parseWith(evaluationSubmitted, payload).evaluation;
  } catch (cause) {
    throw new HuizhenError(ErrorCode.PROTOCOL_ERROR, 'The server answered the evaluation unexpectedly', { cause });
  }
}
