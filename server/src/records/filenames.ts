import { ErrorCode } from '@huizhen/protocol';
import { HuizhenError } from '../errors.js';

/**
 * File names from uploads are shown to people, never used as paths.
 */

/** Names that try to reach outside (../x, a/b, C:\x) are refused outright rather than guessed at. */
export function checkFileName(raw: string | undefined): void {
  if (raw === undefined) return;
  // Control characters are exactly what this rejects.
  // eslint-disable-next-line no-control-regex
  if (raw.length > 255 || /[\\/]|^\.\.?$|\.\.[\\/]|[\u0000-\u001f]/.test(raw)) {
    throw new HuizhenError(
      ErrorCode.INVALID_REQUEST,
      'The file name must be a plain name without folders, "..", or control characters.',
    );
  }
}

/** Keeps letters (any script), digits and ordinary punctuation; drops what could mislead or inject. */
export function sanitizeFileName(raw: string | undefined, fallback: string): string {
  const base = raw ?? '';
  const cleaned = base
    .normalize('NFC')
    // Control characters, bidi overrides and characters that are special in paths or HTML.
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069<>:"|?*`$]/g, '')
    .replace(/^[.\s]+/, '')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, 120);
  return cleaned || fallback;
}
