/** `useChat()`: the room's chat, kept current, and sending. */
import { useCallback } from 'react';
import { ErrorCode, HuizhenError, type ChatMessage, type Room } from '@huizhen/client-sdk';
import { useRoom } from './context.js';
import { onRoomEvents, sameItems, useRoomState } from './store.js';

/** Who a chat message is for: everyone, or the clinicians only (clinicians may send those). */
export type ChatAudience = 'everyone' | 'clinicians';

/** What `useChat()` returns. */
export interface Chat {
  /** The chat so far in server order, this client's own messages included. */
  readonly messages: readonly ChatMessage[];
  /** Whether this participant may chat now (the `chat` permission, admitted to the room). */
  readonly canSend: boolean;
  /**
   * Sends `text` (at most 2000 characters). Resolves with the message as the
   * server ordered it (it is also in `messages`); rejects with a `HuizhenError`
   * (RATE_LIMITED, PERMISSION_DENIED, NOT_ADMITTED, ...).
   */
  send(text: string, options?: { to?: ChatAudience }): Promise<ChatMessage>;
}

const events = onRoomEvents(['chat', 'connectionStateChanged', 'admitted', 'reconnected']);
const NONE: readonly ChatMessage[] = [];
const readMessages = (room: Room): readonly ChatMessage[] => room.chatHistory;
const readCanSend = (room: Room): boolean =>
  room.state === 'connected' && room.admission === 'admitted' && room.can('chat');

/** The room's chat messages and a `send` function. */
export function useChat(): Chat {
  const room = useRoom();
  const messages = useRoomState(room, events, readMessages, sameItems, NONE);
  const canSend = useRoomState(room, events, readCanSend, Object.is, false);
  const send = useCallback(
    (text: string, options?: { to?: ChatAudience }) =>
      room
        ? room.sendChat(text, options)
        : Promise.reject(new HuizhenError(ErrorCode.NOT_JOINED, 'The room is not connected')),
    [room],
  );
  return { messages, canSend, send };
}
