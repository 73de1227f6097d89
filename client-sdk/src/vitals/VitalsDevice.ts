/**
 * What every vitals source in the SDK is (a Bluetooth sensor, the simulated
 * device, manual entry): something that starts, emits validated samples and
 * says when it is gone. `room.vitals.connect(device)` takes any of them.
 */
import {
  ErrorCode,
  HuizhenError,
  TypedEmitter,
  VitalsError,
  parseVitalsSample,
  type VitalsDeviceInfo,
  type VitalsSample,
} from '@huizhen/protocol';

export type VitalsDeviceState = 'idle' | 'starting' | 'running' | 'stopped';

export interface VitalsDeviceEvents {
  /** A reading, already checked against the protocol schema (units, plausible range). */
  sample: (sample: VitalsSample) => void;
  /**
   * The device produced a reading Huizhen refuses (implausible value, garbled
   * bytes). The error's message names the rule, not the value.
   */
  readingRejected: (error: HuizhenError) => void;
  /** The device moved to another state. */
  stateChanged: (state: VitalsDeviceState) => void;
  /** The device stopped: `error` is null after `stop()`, a VitalsDeviceError when it was lost. */
  disconnected: (error: VitalsDeviceError | null) => void;
}

export interface VitalsDevice {
  /** Identity carried in every sample; known once started (Bluetooth learns it from the chooser). */
  readonly info: VitalsDeviceInfo | undefined;
  /** idle, starting, running or stopped. */
  readonly state: VitalsDeviceState;
  /** Starts reading (Bluetooth: opens the chooser, so call it from a user gesture). */
  start(): Promise<void>;
  /** Stops reading and releases the device; emits `disconnected(null)`. */
  stop(): Promise<void>;
  /** Listens to a device event. */
  on<E extends keyof VitalsDeviceEvents>(event: E, listener: VitalsDeviceEvents[E]): unknown;
  /** Stops listening. */
  off<E extends keyof VitalsDeviceEvents>(event: E, listener: VitalsDeviceEvents[E]): unknown;
}

/** Why a device could not be used. */
export type VitalsDeviceFailure =
  /** No Web Bluetooth in this browser (or not a secure context). */
  | 'unsupported'
  /** The person closed the device chooser without picking one. */
  | 'cancelled'
  /** The device offers none of the health services Huizhen reads. */
  | 'noService'
  /** Connecting to the device (GATT) failed. */
  | 'connectFailed'
  /** The device went away (out of range, switched off) and did not come back. */
  | 'lost';

export class VitalsDeviceError extends HuizhenError {
  /** Why the device could not be used. */
  readonly reason: VitalsDeviceFailure;
  constructor(reason: VitalsDeviceFailure, message: string, options?: { cause?: unknown }) {
    super(ErrorCode.VITALS_DEVICE_FAILED, message, options);
    this.name = 'VitalsDeviceError';
    this.reason = reason;
  }
}

/** State and validation shared by the device implementations. */
export abstract class VitalsDeviceBase extends TypedEmitter<VitalsDeviceEvents> implements VitalsDevice {
  #state: VitalsDeviceState = 'idle';
  abstract readonly info: VitalsDeviceInfo | undefined;

  /** idle, starting, running or stopped. */
  get state(): VitalsDeviceState {
    return this.#state;
  }

  abstract start(): Promise<void>;
  abstract stop(): Promise<void>;

  protected setState(state: VitalsDeviceState): void {
    if (state === this.#state) return;
    this.#state = state;
    this.emit('stateChanged', state);
  }

  /** Validates a reading and emits `sample`, or `readingRejected`; returns whether it was emitted. */
  protected emitSample(candidate: VitalsSample): boolean {
    let sample: VitalsSample;
    try {
      sample = parseVitalsSample(candidate);
    } catch (err) {
      if (!(err instanceof VitalsError)) throw err;
      this.emit('readingRejected', err);
      return false;
    }
    this.emit('sample', sample);
    return true;
  }

  /** Moves to `stopped` and emits `disconnected` once. */
  protected finish(error: VitalsDeviceError | null): void {
    if (this.#state === 'stopped') return;
    this.setState('stopped');
    this.emit('disconnected', error);
  }
}
