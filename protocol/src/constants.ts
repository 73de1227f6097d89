/** Names and limits of the Huizhen protocol, version 1: roles, permissions, room kinds, sources. */
export const PROTOCOL_VERSION = 1;

/** Largest inbound frame the server accepts (bytes). Chat and records come over HTTP or later methods. */
export const MAX_MESSAGE_BYTES = 64 * 1024;

/** Every role a join token may carry. */
export const ROLES = ['doctor', 'specialist', 'nurse', 'patient', 'family', 'interpreter', 'observer'] as const;
/** A participant's role, from their join token. */
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
/** One thing a participant may do (see `PERMISSIONS`). */
export type Permission = (typeof PERMISSIONS)[number];

/** Roles that run the clinical side of a room (see the server's permission table). */
export const CLINICIAN_ROLES: readonly Role[] = ['doctor', 'specialist', 'nurse'];

/**
 * consult: a 1:1 (or small) consult; patients and family wait in the lobby.
 * clinic: a multi-party clinic across hospitals.
 * rounds: a few presenters to many viewers.
 */
export const ROOM_KINDS = ['consult', 'clinic', 'rounds'] as const;
/** consult, clinic or rounds (see `ROOM_KINDS`). */
export type RoomKind = (typeof ROOM_KINDS)[number];

export const ROOM_STATES = ['created', 'waiting', 'active', 'ended'] as const;
/** A consult's lifecycle state. */
export type RoomState = (typeof ROOM_STATES)[number];

/** What a track can carry. */
export const TRACK_SOURCES = ['camera', 'microphone', 'screen', 'screenAudio'] as const;
/** camera, microphone, screen or screenAudio. */
export type TrackSource = (typeof TRACK_SOURCES)[number];

/** audio or video. */
export type MediaKind = 'audio' | 'video';

/** Who may see a record. */
export const RECORD_VISIBILITIES = ['everyone', 'clinicians'] as const;
/** everyone, or clinicians only (hidden from patients, family and interpreters). */
export type RecordVisibility = (typeof RECORD_VISIBILITIES)[number];
/** The record formats the server accepts (detected from the content). */
export const RECORD_TYPES = ['application/pdf', 'image/png', 'image/jpeg', 'application/dicom'] as const;
/** A record format (MIME type). */
export type RecordType = (typeof RECORD_TYPES)[number];

/** Longest chat message, in characters. */
export const MAX_CHAT_LENGTH = 2000;
/** Longest written opinion, in characters. */
export const MAX_OPINION_LENGTH = 20000;
