/** How a room is made and what it tells its owner (RoomManager). */
import type { AuditSink } from '../audit/AuditLog.js';
import type { WorkerPool } from '../media/WorkerPool.js';
import type { Logger } from '../observability/logger.js';
import type { RecordStore } from '../records/RecordStore.js';
import type { UrlSigner } from '../records/signedUrls.js';
import type { ConsultSettings } from './Consult.js';
import type { ConsultStore } from './ConsultStore.js';
import type { DataRelaySettings } from './data/DataRelay.js';
import type { MediaRoom, MediaRoomOptions } from './media/MediaRoom.js';
import type { Participant } from './Participant.js';
import type { LeaveReason } from './RoomContext.js';
import type { RoomStateWriter } from './RoomStateWriter.js';
import type { VitalsCounters } from '../vitals/RoomVitals.js';
import type { VitalsConfig } from '../vitals/vitalsConfig.js';
import type { VitalsStore } from '../vitals/VitalsStore.js';
import type { RecordingCaptureFactory } from '../recording/RecordingPort.js';

export type RoomMediaOptions = MediaRoomOptions;

export interface RoomOptions {
  id: string;
  pool: WorkerPool;
  logger: Logger;
  /** The node-wide ceiling; a room's own capacity may be lower. */
  maxParticipants: number;
  media: RoomMediaOptions;
  settings: ConsultSettings;
  store: ConsultStore;
  audit: AuditSink;
  /** How long a dropped participant keeps their place. */
  reconnectGraceMs: number;
  clockToleranceSec: number;
  records: RoomRecordsSettings;
  // --- data channels
  data: DataRelaySettings;
  // --- vitals
  vitals: RoomVitalsSettings;
  /** Durable workflow state (cluster mode: Redis, fenced by the home lease); absent, nothing is written. */
  durable?: RoomStateWriter | undefined;
  // --- recording: absent, the room cannot record (requests fail with RECORDING_UNAVAILABLE)
  recording?: RoomRecordingSettings | undefined;
}

// --- recording
export interface RoomRecordingSettings {
  /** Makes the capture (mediasoup → ffmpeg) for a recording that was requested here. */
  capture: RecordingCaptureFactory<MediaRoom>;
}

export interface RoomVitalsSettings {
  config: VitalsConfig;
  store: VitalsStore;
  counters?: VitalsCounters;
}

export interface RoomRecordsSettings {
  store: RecordStore;
  signer: UrlSigner;
  maxBytes: number;
  urlTtlSec: number;
  retention: 'keep' | 'delete';
}

export interface RoomEvents {
  /** The room closed; its participants have been told. */
  closed: (reason: string) => void;
  participantJoined: (participant: Participant) => void;
  participantLeft: (participant: Participant, reason: LeaveReason) => void;
}
