/** The per-test life of the scripted server and the room connected to it, shared by the Room tests. */
import { afterEach, beforeEach, vi } from 'vitest';
import type { ConnectOptions } from '../src/options.js';
import type { Room } from '../src/Room.js';
import { FakeHuizhenServer, mediasoupDevice, webSocketFactory } from './fakeServer.js';

/** What a test of a `describe` that called {@link useFakeServer} works with. */
export class FakeServerTest {
  /** This test's server, new for each test (set before the test runs); a test that closed it starts another here. */
  server!: FakeHuizhenServer;
  /** The room under test: what a test leaves here is disconnected after it. */
  room: Room | undefined;
}

/**
 * Starts a scripted server before each test of the enclosing `describe`; after each, disconnects the room left in
 * `room` and closes the server.
 */
export function useFakeServer(): FakeServerTest {
  const test = new FakeServerTest();
  beforeEach(async () => {
    test.server = await FakeHuizhenServer.start();
  });
  afterEach(async () => {
    // A test may have faked the timers; the disconnect and the close need real ones.
    vi.useRealTimers();
    await test.room?.disconnect();
    test.room = undefined;
    await test.server.close();
  });
  return test;
}

/** Connects through a real WebSocket and mediasoup's fake device, with requests that fail fast. */
export const connectOptions = (): ConnectOptions => ({ webSocketFactory, mediasoupDevice, requestTimeoutMs: 2000 });
