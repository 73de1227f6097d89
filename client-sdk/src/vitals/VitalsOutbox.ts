/**
 * Batches outgoing vitals samples into `{ samples }` messages on the data
 * channel: at most `maxMessagesPerSec` messages (default 4), each within the
 * protocol's bounds (samples per message, waveform points) and the data
 * channel's byte limit, one message in flight at a time. Samples wait in a
 * bounded queue while the room reconnects; when it overflows, the oldest
 * waveform windows go first, then the oldest numbers.
 */
import { ErrorCode, HuizhenError, VITALS_LIMITS, type VitalsSample } from '@huizhen/protocol';

/** Errors after which the same message may succeed later (the room is reconnecting, or was busy). */
const RETRYABLE: ReadonlySet<string> = new Set([
  ErrorCode.NOT_JOINED,
  ErrorCode.NOT_ADMITTED,
  ErrorCode.CONNECTION_FAILED,
  ErrorCode.TIMEOUT,
  ErrorCode.INVALID_STATE,
  ErrorCode.RATE_LIMITED,
]);

export interface VitalsOutboxOptions {
  /** Sends one message (JSON text); rejects with a HuizhenError. */
  send(text: string): Promise<void>;
  /** Called when a message could not be sent; `dropped` says whether its samples were given up. */
  onError(error: HuizhenError, dropped: number): void;
  maxMessagesPerSec?: number;
  /** Byte limit of one message (the data channel's maxMessageBytes; default 16 KiB). */
  maxMessageBytes?: number;
  /** Samples kept waiting at most (default 600: 2.5 minutes of four vitals at 1 Hz). */
  maxQueued?: number;
  /** Delay before retrying after a retryable failure (default 1000 ms). */
  retryDelayMs?: number;
}

/** Counts of outbound vitals. */
export interface VitalsOutboxStats {
  /** Messages published. */
  sentMessages: number;
  /** Samples in those messages. */
  sentSamples: number;
  /** Samples given up: queue overflow, too large for one message, or refused by the server. */
  dropped: number;
  /** Samples waiting to be sent. */
  queued: number;
}

const encoder = new TextEncoder();
const bytes = (text: string): number => encoder.encode(text).length;

export class VitalsOutbox {
  readonly #o: Required<Omit<VitalsOutboxOptions, 'send' | 'onError'>> & Pick<VitalsOutboxOptions, 'send' | 'onError'>;
  #queue: VitalsSample[] = [];
  #timer: ReturnType<typeof setTimeout> | null = null;
  #inFlight = false;
  #lastSentAt = Number.NEGATIVE_INFINITY;
  #closed = false;
  readonly stats: VitalsOutboxStats = { sentMessages: 0, sentSamples: 0, dropped: 0, queued: 0 };

  constructor(options: VitalsOutboxOptions) {
    this.#o = {
      maxMessagesPerSec: 4,
      maxMessageBytes: 16 * 1024,
      maxQueued: 600,
      retryDelayMs: 1000,
      ...options,
    };
  }

  /** Byte limit learned from the data channel (e.g. `produceData`'s maxMessageBytes). */
  set maxMessageBytes(value: number) {
    this.#o.maxMessageBytes = value;
  }

  /** Queues an already-validated sample; it goes out in the next batch. */
  push(sample: VitalsSample): void {
    if (this.#closed) return;
    this.#queue.push(sample);
    this.#trim();
    this.stats.queued = this.#queue.length;
    this.#schedule(0);
  }

  /** Drops everything queued and stops sending. */
  close(): void {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#queue = [];
    this.stats.queued = 0;
  }

  #trim(): void {
    while (this.#queue.length > this.#o.maxQueued) {
      const wave = this.#queue.findIndex((s) => s.type === 'waveform');
      this.#queue.splice(wave >= 0 ? wave : 0, 1);
      this.stats.dropped++;
    }
  }

  #schedule(minDelay: number): void {
    if (this.#timer || this.#inFlight || this.#queue.length === 0 || this.#closed) return;
    const interval = 1000 / this.#o.maxMessagesPerSec;
    const wait = Math.max(minDelay, this.#lastSentAt + interval - Date.now(), 0);
    this.#timer = setTimeout(() => {
      this.#timer = null;
      void this.#flush();
    }, wait);
  }

  /** Removes and returns the longest prefix of the queue that fits one message. */
  #take(): { text: string; samples: VitalsSample[] } | null {
    const limit = this.#o.maxMessageBytes;
    const parts: string[] = [];
    let size = bytes('{"samples":[]}');
    let points = 0;
    let count = 0;
    while (count < this.#queue.length && count < VITALS_LIMITS.maxSamplesPerMessage) {
      const sample = this.#queue[count]!;
      const wavePoints = sample.type === 'waveform' ? sample.waveform.samples.length : 0;
      const json = JSON.stringify(sample);
      const add = bytes(json) + (count > 0 ? 1 : 0);
      if (points + wavePoints > VITALS_LIMITS.maxWaveformPoints || size + add > limit) {
        if (count === 0) {
          // A single sample larger than a message can never be sent.
          this.#queue.shift();
          this.stats.dropped++;
          this.#o.onError(
            new HuizhenError(ErrorCode.MESSAGE_TOO_LARGE, `A vitals sample is larger than ${limit} bytes`),
            1,
          );
          continue;
        }
        break;
      }
      parts.push(json);
      size += add;
      points += wavePoints;
      count++;
    }
    return count === 0 ? null : { text: `{"samples":[${parts.join(',')}]}`, samples: this.#queue.splice(0, count) };
  }

  async #flush(): Promise<void> {
    if (this.#closed || this.#inFlight) return;
    const batch = this.#take();
    this.stats.queued = this.#queue.length;
    if (!batch) return;
    this.#inFlight = true;
    this.#lastSentAt = Date.now();
    let retryIn = 0;
    try {
      await this.#o.send(batch.text);
      this.stats.sentMessages++;
      this.stats.sentSamples += batch.samples.length;
    } catch (err) {
      const error =
        err instanceof HuizhenError
          ? err
          : new HuizhenError(ErrorCode.INTERNAL, 'Sending vitals failed', { cause: err });
      if (RETRYABLE.has(error.code)) {
        retryIn = this.#o.retryDelayMs;
        if (!this.#closed) {
          this.#queue.unshift(...batch.samples);
          this.#trim();
        }
        this.#o.onError(error, 0);
      } else {
        this.stats.dropped += batch.samples.length;
        this.#o.onError(error, batch.samples.length);
      }
    } finally {
      this.#inFlight = false;
      this.stats.queued = this.#queue.length;
    }
    this.#schedule(retryIn);
  }
}
