/**
 * A topic the server restricts on the data relay: who may publish on it,
 * who receives it, and what is forwarded (the policy may validate, rewrite or
 * drop a message; throwing a HuizhenError refuses it with that code).
 */
import type { Participant } from '../Participant.js';

export type DataPayload = Uint8Array | string;

export interface DataTopicPolicy {
  readonly topic: string;
  mayPublish(p: Participant): boolean;
  mayReceive(p: Participant): boolean;
  /** What to forward for this message (nothing when `forward` is absent); throws HuizhenError to refuse it. */
  inspect(from: Participant, payload: DataPayload): { forward?: DataPayload };
}
