/**
 * The seam between a room's recording consent (who agreed, so whether the
 * recording may run now) and its capture (mediasoup → ffmpeg → encrypted
 * segment files → one composed file after the consult). The consent side
 * drives; the capture never decides by itself whether to record, and the
 * consent side never touches media. Keeping them apart lets the capture be
 * tested with real media alone, and the consent rules without media.
 */

/** One line of a recording's consent history, kept with the recording. */
export interface ConsentEntry {
  /** ISO time. */
  time: string;
  identity: string;
  event: 'requested' | 'consented' | 'declined' | 'withdrawn' | 'joined' | 'left' | 'stopped';
}

/** One recording of one room: from the first request until stop() or the room's end. */
export interface RecordingCapture {
  /** Everyone present has consented: capture every current and future track until pause(). Idempotent. */
  resume(): void;
  /** Someone present has not consented (withdrew, or joined and has not answered): stop writing now. Idempotent. */
  pause(): void;
  /**
   * The recording is over (stopped, or the room ended): close the capture and queue the composition
   * in the background. Never waits on the composition. Returns the recording's id if anything was
   * captured at all.
   */
  finish(consentHistory: readonly ConsentEntry[]): Promise<string | undefined>;
}

/** What the capture is told about the room it records. */
export interface RecordingCaptureContext {
  roomId: string;
  /** Chosen by the consent side when the recording is first requested. */
  recordingId: string;
  /** Who asked (an identity), for the recording's metadata. */
  requestedBy: string;
  /**
   * The capture reached its maximum consented duration and stopped writing for
   * good: the consent side ends the recording, so nobody is shown "recording"
   * while nothing is written.
   */
  limitReached?: () => void;
}

/**
 * Makes a capture for a room. Supplied to rooms by the server (RoomOptions.recording);
 * the capture finds the room's producers through the media room it is given.
 */
export type RecordingCaptureFactory<Media> = (media: Media, context: RecordingCaptureContext) => RecordingCapture;
