import type { ConnectOptions } from './options.js';
import { Room } from './Room.js';

/**
 * Joins a consult room.
 *
 * ```ts
 * const room = await connect('https://consult.example.org', token);
 * room.on('trackSubscribed', (track) => tiles.append(track.attach()));
 * await room.localParticipant.setCameraEnabled(true);
 * await room.localParticipant.setMicrophoneEnabled(true);
 * ```
 *
 * @param serverUrl The Huizhen server's http(s) origin (a ws(s) URL is used as the signaling endpoint as is).
 * @param token A join token issued for this participant and room.
 * @returns The connected room. Tracks of participants already present arrive
 *   as `trackSubscribed` events right after this resolves.
 * @throws ConnectionError (a HuizhenError) whose `code` says why, e.g.
 *   TOKEN_EXPIRED, TOKEN_INVALID, ROOM_NOT_FOUND, ROOM_FULL, CONNECTION_FAILED, TIMEOUT.
 */
export async function connect(serverUrl: string, token: string, options: ConnectOptions = {}): Promise<Room> {
  const room = new Room(options);
  await room.connect(serverUrl, token);
  return room;
}
