/**
 * The one error base of Huizhen's server, SDK and tools: a stable `code` from
 * `ErrorCode` and a sentence a person can act on. The server sends `toWire()`
 * to clients; the SDK raises the same class (and subclasses) to apps.
 */
import { type ErrorCode, type WireError } from './errors.js';

/** The error every Huizhen component throws or emits: a stable `code` (`ErrorCode`) and a sentence that says what happened. */
export class HuizhenError extends Error {
  /** Stable, machine-readable code (see `ErrorCode`). */
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'HuizhenError';
    this.code = code;
  }

  /** What a failed response carries: the code and the sentence, never a stack or a cause. */
  toWire(): WireError {
    return { code: this.code, message: this.message };
  }
}
