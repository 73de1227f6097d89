/** `<HuizhenRoom>`: joins a consult room for as long as it is mounted and provides it to the hooks below. */
import { useEffect, useRef, useState, useSyncExternalStore, type ReactNode } from 'react';
import type { ConnectOptions, DisconnectReason, HuizhenError, Room } from '@huizhen/client-sdk';
import { RoomContext } from './context.js';
import { RoomConnector } from './RoomConnector.js';

/** Props of `<HuizhenRoom>`. */
export interface HuizhenRoomProps {
  /** The Huizhen server's http(s) origin, e.g. `https://consult.example-hospital.cn`. */
  serverUrl: string;
  /** A join token for this participant and room. A different token leaves and joins again. */
  token: string;
  /**
   * The SDK's connect options (`tokenProvider`, `reconnectPolicy`, `logLevel`, ...). Read when
   * a room is created (a new `serverUrl` or `token`); changing the object alone does not rejoin.
   */
  options?: ConnectOptions;
  /** Whether to be in the room; false leaves (and makes no room). Default true. */
  connect?: boolean;
  /** The room joined. */
  onConnected?: (room: Room) => void;
  /** Joining failed; a `ConnectionError` whose `code` and `reason` say why. Not called for a cancelled join. */
  onError?: (error: Error) => void;
  /** The session ended: left, removed, denied at the lobby, the consult ended, the connection lost for good, ... */
  onDisconnected?: (reason: DisconnectReason, error: HuizhenError | undefined) => void;
  /** What is shown inside the room: the hooks and components of this package work anywhere below. */
  children?: ReactNode;
}

/**
 * Creates a `Room`, joins it with `token`, provides it to everything below
 * (`useRoom()` and the other hooks), and leaves when unmounted, when
 * `connect` turns false or when `serverUrl` / `token` change.
 *
 * StrictMode-safe: the development double mount joins once. Leaving is put
 * off by one macrotask, and a remount within it keeps the same room.
 *
 * ```tsx
 * <HuizhenRoom serverUrl={url} token={token} onDisconnected={(reason) => setEnded(reason)}>
 *   <Stage />
 *   <ControlBar />
 * </HuizhenRoom>
 * ```
 */
export function HuizhenRoom(props: HuizhenRoomProps): ReactNode {
  const { serverUrl, token, options, connect = true, children } = props;
  // The connector is side-effect free until acquire(): StrictMode may build a second one and drop it.
  const [connector] = useState(() => new RoomConnector());
  useEffect(() => {
    connector.setCallbacks({
      ...(props.onConnected ? { onConnected: props.onConnected } : {}),
      ...(props.onError ? { onError: props.onError } : {}),
      ...(props.onDisconnected ? { onDisconnected: props.onDisconnected } : {}),
    });
  });
  // Options are read when a room is made, not a reason to make one.
  const optionsRef = useRef(options);
  useEffect(() => {
    optionsRef.current = options;
  });

  useEffect(() => {
    if (!connect) return;
    connector.acquire({ serverUrl, token, ...(optionsRef.current ? { options: optionsRef.current } : {}) });
    return () => connector.release();
  }, [connector, serverUrl, token, connect]);

  const room = useSyncExternalStore(connector.subscribe, connector.getRoom, noRoom);
  return <RoomContext.Provider value={room}>{children}</RoomContext.Provider>;
}

function noRoom(): undefined {
  return undefined;
}
