/**
 * @huizhen/react: React hooks and components for Huizhen consult rooms, built
 * on `@huizhen/client-sdk` only. Wrap a view in `<HuizhenRoom serverUrl token>`;
 * below it the hooks (`useParticipants`, `useTracks`, `useWaitingRoom`, ...)
 * follow the room through `useSyncExternalStore`, and the components
 * (`<VideoTile>`, `<RoomAudio>`, `<WaitingRoomList>`, `<ControlBar>`,
 * `<ChatPanel>`) are ready-made views on them.
 *
 * @module @huizhen/react
 */
export { HuizhenRoom, type HuizhenRoomProps } from './HuizhenRoom.js';
export { RoomContext, useRoom } from './context.js';
export { useConnectionState, useAdmission } from './useConnectionState.js';
export { useParticipants } from './useParticipants.js';
export { useTracks, type TrackReference, type UseTracksOptions } from './useTracks.js';
export { useWaitingRoom, type WaitingRoom } from './useWaitingRoom.js';
export { useChat, type Chat, type ChatAudience } from './useChat.js';
export { useLocalParticipant, type LocalParticipantState } from './useLocalParticipant.js';
export { useRoomEvent } from './useRoomEvent.js';
export { VideoTile, type VideoTileProps } from './components/VideoTile.js';
export { RoomAudio } from './components/RoomAudio.js';
export { WaitingRoomList, type WaitingRoomListProps } from './components/WaitingRoomList.js';
export { ControlBar, type ControlBarProps, type ControlBarControls } from './components/ControlBar.js';
export { ChatPanel, type ChatPanelProps } from './components/ChatPanel.js';
