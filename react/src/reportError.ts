/** @internal Where a component's failure goes when the app gave no `onError`: reported like an uncaught error. */
export function reportFailure(error: unknown, onError?: (error: Error) => void): void {
  const failure = error instanceof Error ? error : new Error(String(error));
  if (onError) {
    onError(failure);
    return;
  }
  const report = (globalThis as { reportError?: (error: unknown) => void }).reportError;
  if (typeof report === 'function') report(failure);
  else console.error(failure);
}
