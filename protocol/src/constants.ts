/** Names and limits of the Huizhen protocol, version 1: roles, permissions, room kinds, sources. */
export const PROTOCOL_VERSION = 1;

/** Largest inbound frame the server accepts (bytes). Chat and records come over HTTP or later methods. */
export const MAX_MESSAGE_BYTES = 64 * 1024;

export const ROLES = ['doctor', 'specialist', 'nurse', 'patient', 'family', 'interpreter', 'observer'] as const;
export type Role = (typeof ROLES)[number];

/** What a participant may do; each role has a fixed set (server table), a token may narrow it. */
export const PERMISSIONS = [
  'publishAudio',
  'publishVideo',
  'publishScreen',
  'subscribe',
  'subscribeVideo',
  'admit',
  'muteOthers',
  'remove',
  'lock',
  'end',
  'viewRecords',
  'shareRecords',
  'annotate',
  'chat',
  'writeOpinion',
  // --- data channels: publish app data (room.data); receiving is up to each topic's policy
  'data',
  // --- recording: ask to record the consult (it runs only while everyone present consents)
  'record',
] as const;
export type Permission = (typeof PERMISSIONS)[number];

/** Roles that run the clinical side of a room (see the server's permission table). */
export const CLINICIAN_ROLES: readonly Role[] = ['doctor', 'specialist', 'nurse'];

/**
 * consult: a 1:1 (or small) consult; patients and family wait in the lobby.
 * clinic: a multi-party clinic across hospitals.
 * rounds: a few presenters to many viewers.
 */
export const ROOM_KINDS = ['consult', 'clinic', 'rounds'] as const;
export type RoomKind = (typeof ROOM_KINDS)[number];

export const ROOM_STATES = ['created', 'waiting', 'active', 'ended'] as const;
export type RoomState = (typeof ROOM_STATES)[number];

export const TRACK_SOURCES = ['camera', 'microphone', 'screen', 'screenAudio'] as const;
export type TrackSource = (typeof TRACK_SOURCES)[number];

export type MediaKind = 'audio' | 'video';

export const RECORD_VISIBILITIES = ['everyone', 'clinicians'] as const;
export type RecordVisibility = (typeof RECORD_VISIBILITIES)[number];
export const RECORD_TYPES = ['application/pdf', 'image/png', 'image/jpeg', 'application/dicom'] as const;
export type RecordType = (typeof RECORD_TYPES)[number];

/** Longest chat message, in characters. */
export const MAX_CHAT_LENGTH = 2000;
/** Longest written opinion, in characters. */
export const MAX_OPINION_LENGTH = 20000;
