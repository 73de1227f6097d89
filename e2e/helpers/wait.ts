/** Polling helpers shared by the browser tests. */

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Thrown from a waitFor check to stop waiting at once: the awaited thing can no longer happen. */
export class GiveUp extends Error {
  override name = 'GiveUp';
}

/**
 * Polls `check` until it returns a value other than undefined/false, or throws
 * after `timeoutMs` with `what` and the last observed value, so a failing test
 * says what it was waiting for and what it saw instead.
 */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | false> | T | undefined | false,
  {
    timeoutMs = 20_000,
    intervalMs = 200,
    describe,
  }: { timeoutMs?: number; intervalMs?: number; describe?: () => Promise<unknown> | unknown } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      if (err instanceof GiveUp) throw err;
      lastError = err;
    }
    if (Date.now() >= deadline) {
      const seen = describe
        ? await Promise.resolve(describe()).catch((e: unknown) => `(could not describe: ${String(e)})`)
        : undefined;
      const parts = [`Timed out after ${timeoutMs} ms waiting for ${what}`];
      if (seen !== undefined) parts.push(`last seen: ${typeof seen === 'string' ? seen : JSON.stringify(seen)}`);
      if (lastError) parts.push(`last error: ${lastError instanceof Error ? lastError.message : String(lastError)}`);
      throw new Error(parts.join('; '));
    }
    await sleep(intervalMs);
  }
}
