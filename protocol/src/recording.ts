/**
 * Recording a consult, only with everyone's consent: the requests, the state
 * everyone sees, and its notification.
 *
 * The rule the server keeps: once a participant with the `record` permission
 * asks (their request counts as their own consent), the recording runs only
 * while every participant admitted to the room *now* has agreed. Anyone may
 * withdraw at any time (the recording pauses); someone who joins or is
 * admitted from the waiting room is asked and pauses it until they agree; a
 * participant who declines keeps it paused for as long as they are present,
 * and when they leave, everyone present has agreed again, so it resumes.
 * A reconnect of the same person keeps their answer; someone who leaves and
 * comes back later is asked again. `stopRecording` (needs `record`) or the
 * end of the consult ends the recording for good.
 */
import * as z from 'zod/mini';
import { oneOf } from './schema.js';

/**
 * off: nothing requested (or stopped);
 * awaiting-consent: requested, not yet recorded anything, someone present has not agreed;
 * recording: everyone present has agreed, capture runs;
 * paused: it had recorded, and now someone present has not agreed (withdrew, declined, or newly joined).
 */
export const RECORDING_STATES = ['off', 'awaiting-consent', 'recording', 'paused'] as const;
/** Where the consult's recording stands (see `RECORDING_STATES`). */
export type RecordingState = (typeof RECORDING_STATES)[number];

export const recordingRequestSchemas = {
  /** Ask to record the consult (needs `record`); counts as the asker's own consent. */
  requestRecording: z.strictObject({}),
  /** This participant's answer, for themselves only: agree, or decline / withdraw. */
  recordingConsent: z.strictObject({ agree: z.boolean() }),
  /** End the recording for good (needs `record`); the capture is closed and composed. */
  stopRecording: z.strictObject({}),
};

/**
 * What everyone in the room sees of the recording. `missingConsent`: the
 * identities of participants present who have not agreed (not answered,
 * declined or withdrawn), in the order they came in.
 */
export const recordingStatus = z.object({
  /** off, awaiting-consent, recording or paused. */
  state: oneOf(RECORDING_STATES),
  /** Identities of participants present who have not agreed, in the order they came in. */
  missingConsent: z.array(z.string()),
  /** Who asked, while a recording exists (absent when off). */
  requestedBy: z.optional(z.string()),
  /** The recording's id, while one exists (absent when off). */
  recordingId: z.optional(z.string()),
  /**
   * Counts the room's recording changes, from 1. A client keeps the highest it has seen and
   * ignores an older one (a notification replayed after a reconnect, once the join answer has
   * told it the current state).
   */
  version: z.number(),
});
/** What everyone in the room sees of the recording. */
export type RecordingStatus = z.infer<typeof recordingStatus>;

export const recordingResponseSchemas = {
  requestRecording: z.object({ recording: recordingStatus }),
  recordingConsent: z.object({ recording: recordingStatus }),
  /** `recordingId`: the recording just stopped. */
  stopRecording: z.object({ recording: recordingStatus, recordingId: z.string() }),
};

export const recordingNotificationSchemas = {
  /** To everyone admitted: the recording's state or who has not consented changed. */
  recordingStateChanged: recordingStatus,
};
