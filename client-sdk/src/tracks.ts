/**
 * Tracks: one published (LocalTrack) or received (RemoteTrack) audio or video
 * stream; the shared base is Track. This module gathers them for importers.
 */
export { Track, type VideoLayers, type MediaKind, type TrackSource } from './Track.js';
export { LocalTrack, type LocalTrackHost, type HostMute, type PublishSettings } from './LocalTrack.js';
export { RemoteTrack } from './RemoteTrack.js';
