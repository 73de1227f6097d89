/** The room a `<HuizhenRoom>` provides, and `useRoom()` to read it. */
import { createContext, useContext } from 'react';
import { ErrorCode, HuizhenError, type Room } from '@huizhen/client-sdk';

/** Marks "no provider above" apart from "a provider whose room is not made yet". */
const NO_PROVIDER = Symbol('no HuizhenRoom');

/**
 * The React context holding the current Room. `<HuizhenRoom>` provides it;
 * provide it yourself (`<RoomContext.Provider value={room}>`) to use the hooks
 * and components with a Room your code creates and connects.
 */
export const RoomContext = createContext<Room | undefined | typeof NO_PROVIDER>(NO_PROVIDER);

/**
 * The Room of the nearest `<HuizhenRoom>`: undefined until the provider has
 * made it (its first effect) and after it left. Its `state` says whether it
 * is connected yet; the other hooks follow it.
 *
 * @throws HuizhenError INVALID_STATE when used outside `<HuizhenRoom>` / `RoomContext`.
 */
export function useRoom(): Room | undefined {
  const room = useContext(RoomContext);
  if (room === NO_PROVIDER) {
    throw new HuizhenError(
      ErrorCode.INVALID_STATE,
      'useRoom() and the Huizhen components need a <HuizhenRoom> (or RoomContext.Provider) above them',
    );
  }
  return room;
}
