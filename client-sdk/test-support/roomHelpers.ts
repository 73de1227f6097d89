/** Small helpers shared by the Room tests. */
import { FakeMediaStreamTrack } from 'fake-mediastreamtrack';
import type { RoomEventCallbacks } from '../src/events.js';
import type { ReconnectPolicy } from '../src/ReconnectPolicy.js';
import type { Room } from '../src/Room.js';

/** Resolves with the arguments of the next `event`, or rejects after `timeoutMs`. */
export function nextEvent<E extends keyof RoomEventCallbacks>(
  room: Room,
  event: E,
  timeoutMs = 3000,
): Promise<Parameters<RoomEventCallbacks[E]>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no '${event}' event within ${timeoutMs} ms`)), timeoutMs);
    const listener = ((...args: Parameters<RoomEventCallbacks[E]>) => {
      clearTimeout(timer);
      resolve(args);
    }) as RoomEventCallbacks[E];
    room.once(event, listener);
  });
}

/** Records every emission of the given room events as `name` or `name:detail`. */
export function recordEvents(room: Room, events: (keyof RoomEventCallbacks)[]): string[] {
  const seen: string[] = [];
  for (const event of events) {
    room.on(event, ((...args: unknown[]) => {
      const first = args[0] as { identity?: string; trackId?: string } | string | boolean | undefined;
      const detail =
        typeof first === 'object' && first !== null
          ? (first.trackId ?? first.identity)
          : first === undefined
            ? undefined
            : String(first);
      seen.push(detail === undefined ? event : `${event}:${detail}`);
    }) as never);
  }
  return seen;
}

export const fakeTrack = (kind: 'audio' | 'video'): MediaStreamTrack =>
  new FakeMediaStreamTrack({ kind }) as unknown as MediaStreamTrack;

/** Retries every `delayMs`, `attempts` times, then gives up. */
export function fastPolicy(
  delayMs = 20,
  attempts = 50,
): ReconnectPolicy & { contexts: { retryCount: number; closeCode: number }[] } {
  const contexts: { retryCount: number; closeCode: number }[] = [];
  return {
    contexts,
    nextRetryDelayMs: (context) => {
      contexts.push({ retryCount: context.retryCount, closeCode: context.closeCode });
      return context.retryCount < attempts ? delayMs : null;
    },
  };
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
