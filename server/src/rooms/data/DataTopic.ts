/**
 * Who may publish and receive on a data-channel topic, and what the server
 * does with each message. Restricted topics (e.g. `vitals`) are registered by
 * the module that owns them; the relay asks the policy when a participant
 * opens a DataProducer (mayPublish), for every message (inspect) and for
 * every receiver of a message (mayReceive).
 */
import type { Role } from '@huizhen/protocol';
import type { MediaPeer } from '../media/MediaPeer.js';

/** What a topic policy sees of a participant: the media view plus who they are (Participant satisfies it). */
export interface DataPeer extends MediaPeer {
  readonly name: string;
  readonly role: Role;
}

/** A message's payload: text (sent as a string) or bytes (sent as binary). */
export type DataPayload = string | Uint8Array;

export interface DataTopicPolicy {
  readonly topic: string;
  /** Checked when the participant opens a DataProducer on this topic. */
  mayPublish(p: DataPeer): boolean;
  /** Checked for every receiver of every message; false: the message is not sent to them. */
  mayReceive(p: DataPeer): boolean;
  /**
   * Checks one message from `from`. Throw a HuizhenError to refuse it; return
   * `forward` to send that payload on to the receivers, no `forward` to keep
   * it on the server. `now` is the server's receive time (ms since the epoch).
   */
  inspect(from: DataPeer, payload: DataPayload, now: number): { forward?: DataPayload };
}
