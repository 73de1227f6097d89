/**
 * Who may publish and receive on a data-channel topic, and what the server
 * does with each message. Free app topics get the default policy; restricted
 * topics (e.g. `vitals`) are registered by the module that owns them, and an
 * unregistered restricted topic is refused. The relay (DataRelay.ts) asks the
 * policy at produceData time (mayPublish), for every message (inspect) and for
 * every receiver of a message (mayReceive).
 */
import { DATA_TOPIC_PATTERN, ErrorCode, type Role } from '@huizhen/protocol';
import { HuizhenError } from '../../errors.js';
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
   * Checks one message from `from` (already within the size and rate limits).
   * Throw a HuizhenError to refuse it (its code and sentence go back to the
   * sender as `dataRefused`). Return `forward` to send that payload on to the
   * receivers; return no `forward` to keep the message on the server.
   * `now` is the server's receive time (ms since the epoch).
   */
  inspect(from: DataPeer, payload: DataPayload, now: number): { forward?: DataPayload };
}

/** App topics anyone with the `data` permission publishes and every admitted participant receives. */
export function freeTopicPolicy(topic: string): DataTopicPolicy {
  return {
    topic,
    mayPublish: (p) => p.can('data'),
    mayReceive: () => true,
    inspect: (_from, payload) => ({ forward: payload }),
  };
}

/**
 * The topics of one room. `restricted` holds exact names and prefixes (ending
 * in '.'): such a topic is only usable once a module registered a policy for it.
 */
export class DataTopicRegistry {
  readonly #restricted: readonly string[];
  readonly #policies = new Map<string, DataTopicPolicy>();

  constructor(restricted: readonly string[]) {
    this.#restricted = restricted;
  }

  /** Registers the policy of a restricted (or any) topic; one policy per topic. */
  register(policy: DataTopicPolicy): void {
    if (!DATA_TOPIC_PATTERN.test(policy.topic)) throw new Error(`'${policy.topic}' is not a valid data topic name`);
    if (this.#policies.has(policy.topic)) throw new Error(`data topic '${policy.topic}' already has a policy`);
    this.#policies.set(policy.topic, policy);
  }

  unregister(topic: string): void {
    this.#policies.delete(topic);
  }

  isRestricted(topic: string): boolean {
    return this.#restricted.some((r) => (r.endsWith('.') ? topic.startsWith(r) : topic === r));
  }

  /** The policy for `topic`; throws INVALID_REQUEST for a bad name, PERMISSION_DENIED for an unregistered restricted topic. */
  resolve(topic: string): DataTopicPolicy {
    if (!DATA_TOPIC_PATTERN.test(topic)) {
      throw new HuizhenError(
        ErrorCode.INVALID_REQUEST,
        `'${topic.slice(0, 64)}' is not a topic name (lower case letters, digits, '.', '_', '-'; up to 64).`,
      );
    }
    const registered = this.#policies.get(topic);
    if (registered) return registered;
    if (this.isRestricted(topic)) {
      throw new HuizhenError(ErrorCode.PERMISSION_DENIED, `The topic '${topic}' is reserved on this server.`);
    }
    return freeTopicPolicy(topic);
  }
}
