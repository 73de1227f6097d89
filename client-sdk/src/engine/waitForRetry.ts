/**
 * Waits `ms` before the next reconnect attempt, or less if the browser says
 * it is back online or the caller wakes it (the room was left).
 * `onWake` receives the function that cuts the wait short.
 */
export function waitForRetry(ms: number, onWake: (wake: (() => void) | undefined) => void): Promise<void> {
  return new Promise((resolve) => {
    const target = globalThis as {
      addEventListener?: (type: string, fn: () => void) => void;
      removeEventListener?: (type: string, fn: () => void) => void;
    };
    let current = true;
    const done = (): void => {
      clearTimeout(timer);
      target.removeEventListener?.('online', done);
      if (current) {
        current = false;
        onWake(undefined);
      }
      resolve();
    };
    const timer = setTimeout(done, ms);
    target.addEventListener?.('online', done);
    onWake(done);
  });
}
