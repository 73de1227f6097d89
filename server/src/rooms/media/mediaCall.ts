import { ErrorCode } from '@huizhen/protocol';
import { HuizhenError, invalidState } from '../../errors.js';

/** Runs a mediasoup call; mediasoup rejects bad parameters with TypeError, and those are the client's fault. */
export async function mediaCall<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof HuizhenError) throw err;
    if (err instanceof TypeError || (err as Error).name === 'UnsupportedError') {
      throw new HuizhenError(
        ErrorCode.INVALID_REQUEST,
        `The media parameters were rejected: ${(err as Error).message}`,
      );
    }
    if ((err as Error).name === 'InvalidStateError') throw invalidState((err as Error).message);
    throw new HuizhenError(ErrorCode.MEDIA_ERROR, `The media server could not do that: ${(err as Error).message}`);
  }
}
