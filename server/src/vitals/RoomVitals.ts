/**
 * One room's vitals: validates what patients' devices send, keeps the latest
 * reading of each participant and type (for clinicians who join later),
 * thins the stream down for the consult's record and stores it as FHIR
 * Observations, runs the alert thresholds and audits devices and alerts.
 *
 * Independent of the transport: the data-channel policy (vitalsTopic.ts)
 * calls `ingest` and forwards what it accepted. Every refusal is a typed
 * error with a stable code and is counted; neither logs nor audit entries
 * ever carry a reading (alerts name their threshold, not the value).
 */
import {
  ErrorCode,
  HuizhenError,
  VITALS_LIMITS,
  VitalsError,
  checkSampleTime,
  parseVitalsSample,
  type NotificationData,
  type Role,
  type RoomView,
  type VitalsDeviceInfo,
  type VitalsSample,
} from '@huizhen/protocol';
import type { AuditSink } from '../audit/AuditLog.js';
import type { Permission } from '../auth/permissions.js';
import type { Logger } from '../observability/logger.js';
import { RateLimiter } from '../util/RateLimiter.js';
import { AlertEngine, type AlertEvent } from './AlertEngine.js';
import { DeviceTracker, type DeviceEvent } from './DeviceTracker.js';
import { DownSampler, type StoredWindow } from './DownSampler.js';
import {
  bloodPressureObservation,
  numericObservation,
  waveformObservation,
  type FhirObservation,
  type ObservationContext,
} from './fhir.js';
import { mayPublishVitals, maySeeVitals } from './vitalsAccess.js';
import type { VitalsConfig } from './vitalsConfig.js';
import type { VitalsStore } from './VitalsStore.js';

/** The outcome label of `huizhen_vitals_samples_total`. */
export type VitalsResult =
  'accepted' | 'shape' | 'unit' | 'range' | 'future' | 'stale' | 'rate_limited' | 'device_limit' | 'forbidden';

export interface VitalsCounters {
  samples(result: VitalsResult, n?: number): void;
  alerts(type: string, state: 'raised' | 'cleared'): void;
  /** Observations not stored because the room reached its bound. */
  dropped(n: number): void;
}

/** Who sent the samples. */
export interface VitalsPublisher {
  identity: string;
  role: Role;
  issuer?: string;
  name?: string;
}

/** Someone who may be told about alerts. */
export interface VitalsViewer {
  identity: string;
  role: Role;
  can(permission: Permission): boolean;
  notify(name: 'vitalsAlert', data: NotificationData['vitalsAlert']): void;
}

export interface RejectedSample {
  index: number;
  error: HuizhenError;
}

export interface IngestResult {
  accepted: VitalsSample[];
  rejected: RejectedSample[];
}

export interface RoomVitalsOptions {
  roomId: string;
  config: VitalsConfig;
  store: VitalsStore;
  audit: AuditSink;
  logger: Logger;
  counters?: VitalsCounters;
  /** The admitted participants, for alerts. */
  participants: () => Iterable<VitalsViewer>;
  /** Server clock (ms since the epoch) for the device sweep. */
  now?: () => number;
}

/** A refused sample's metrics label. */
function resultOf(err: HuizhenError): VitalsResult {
  if (err instanceof VitalsError) return err.reason;
  if (err.code === ErrorCode.RATE_LIMITED) return 'rate_limited';
  if (err.code === ErrorCode.VITALS_DEVICE_LIMIT) return 'device_limit';
  return 'forbidden';
}

/** What clinicians are told of an alert. */
function alertData(event: AlertEvent): NotificationData['vitalsAlert'] {
  const rule = event.rule;
  return {
    identity: event.identity,
    type: rule.type,
    ...(rule.component ? { component: rule.component } : {}),
    state: event.state,
    value: Math.round(event.value * 100) / 100,
    threshold: event.threshold,
    direction: event.direction,
    message: event.message,
    at: event.at,
  };
}

const NOOP_COUNTERS: VitalsCounters = { samples() {}, alerts() {}, dropped() {} };

export class RoomVitals {
  readonly #o: RoomVitalsOptions;
  readonly #counters: VitalsCounters;
  readonly #now: () => number;
  readonly #alerts: AlertEngine;
  readonly #down: DownSampler;
  readonly #devices: DeviceTracker;
  /** `${identity}\n${type}` → limiter. */
  readonly #limiters = new Map<string, RateLimiter>();
  /** The clock the limiters read: the `now` of the ingest in progress. */
  #clock = 0;
  /** identity → type → latest accepted reading (numbers and blood pressure). */
  readonly #latest = new Map<string, Map<string, VitalsSample>>();
  readonly #publishers = new Map<string, VitalsPublisher>();
  #buffer: FhirObservation[] = [];
  #flushTimer: NodeJS.Timeout | undefined;
  #sweepTimer: NodeJS.Timeout | undefined;
  #writing: Promise<void> = Promise.resolve();
  #droppedLogged = false;
  #closed = false;

  constructor(options: RoomVitalsOptions) {
    this.#o = options;
    this.#counters = options.counters ?? NOOP_COUNTERS;
    this.#now = options.now ?? Date.now;
    this.#alerts = new AlertEngine(options.config.alerts);
    const s = options.config.storage;
    this.#down = new DownSampler({
      numericIntervalMs: s.numericIntervalMs,
      windowSec: s.waveformWindowSec,
      everySec: s.waveformEverySec,
    });
    this.#devices = new DeviceTracker(options.config.deviceTimeoutSec * 1000);
  }

  /**
   * Validates and takes in samples from one participant. Throws
   * PERMISSION_DENIED when the sender may not publish vitals at all; else
   * returns the accepted samples and a typed error for each refused one
   * (VITALS_INVALID with a reason, RATE_LIMITED, or VITALS_DEVICE_LIMIT for a
   * sample from one device too many).
   */
  ingest(from: VitalsPublisher, samples: readonly unknown[], now: number): IngestResult {
    if (this.#closed) throw new HuizhenError(ErrorCode.ROOM_NOT_FOUND, 'This room has closed.');
    if (!mayPublishVitals(from.role)) {
      this.#counters.samples('forbidden', samples.length);
      throw new HuizhenError(ErrorCode.PERMISSION_DENIED, 'Only patients and family share their own vitals.');
    }
    if (samples.length > VITALS_LIMITS.maxSamplesPerMessage) {
      this.#counters.samples('shape', samples.length);
      throw new VitalsError('shape', 'samples', `must have at most ${VITALS_LIMITS.maxSamplesPerMessage} items`);
    }
    this.#publishers.set(from.identity, from);
    this.#clock = now;
    const result: IngestResult = { accepted: [], rejected: [] };
    const timeLimits = { maxFutureMs: this.#o.config.maxFutureSec * 1000, maxAgeMs: this.#o.config.maxAgeSec * 1000 };
    for (const [index, raw] of samples.entries()) {
      let sample: VitalsSample;
      let at: number;
      let connected: DeviceEvent | undefined;
      try {
        sample = parseVitalsSample(raw, `samples[${index}]`);
        at = checkSampleTime(sample, now, timeLimits, `samples[${index}].at`);
        if (!this.#limiter(from.identity, sample.type).take()) {
          throw new HuizhenError(
            ErrorCode.RATE_LIMITED,
            `samples[${index}]: ${sample.type} readings arrive more often than ${this.#o.config.ratePerSec} per second.`,
          );
        }
        // Last: a refused sample never connects a device (nor audits one).
        if (sample.device) connected = this.#devices.seen(from.identity, sample.device, now);
      } catch (err) {
        if (!(err instanceof HuizhenError)) throw err;
        this.#counters.samples(resultOf(err));
        result.rejected.push({ index, error: err });
        continue;
      }
      this.#counters.samples('accepted');
      result.accepted.push(sample);
      if (connected) this.#deviceConnected(connected);
      this.#take(from, sample, at, now);
    }
    if (result.rejected.length > 0) {
      // Codes and paths only: never the readings.
      this.#o.logger.debug('vitals samples refused', {
        participant: from.identity,
        refused: result.rejected.length,
        accepted: result.accepted.length,
        first: result.rejected[0]!.error.message,
      });
    }
    return result;
  }

  /**
   * The latest reading of each type per participant that this viewer may see
   * (the clinical team: everyone's; patients and family: their own), for the
   * room view a late joiner or a returning session gets.
   */
  latestFor(viewer: {
    identity: string;
    role: Role;
    can(permission: Permission): boolean;
  }): NonNullable<RoomView['vitals']> {
    const all = maySeeVitals(viewer);
    const out: NonNullable<RoomView['vitals']> = [];
    for (const [identity, byType] of this.#latest) {
      if (!(all || identity === viewer.identity) || byType.size === 0) continue;
      // Alerts are for the clinical team: a late joiner sees the banner of an episode still going on.
      const alerts = all ? this.#alerts.active(identity).map(alertData) : [];
      out.push({ identity, samples: [...byType.values()], ...(alerts.length > 0 ? { alerts } : {}) });
    }
    return out;
  }

  /** The latest reading of each type per publisher. */
  latest(identity: string): VitalsSample[] {
    return [...(this.#latest.get(identity)?.values() ?? [])];
  }

  /** A participant left: their devices disconnect and their live state is dropped (stored data stays). */
  participantLeft(identity: string): void {
    for (const e of this.#devices.drop(identity, 'left')) this.#deviceEvent(e);
    this.#alerts.forget(identity);
    this.#down.forget(identity);
    this.#latest.delete(identity);
    for (const key of [...this.#limiters.keys()]) if (key.startsWith(`${identity}\n`)) this.#limiters.delete(key);
  }

  /** Devices silent for longer than the timeout are disconnected (also runs on a timer). */
  sweep(now: number = this.#now()): void {
    for (const e of this.#devices.sweep(now)) this.#deviceEvent(e);
    if (this.#devices.size === 0 && this.#sweepTimer) {
      clearInterval(this.#sweepTimer);
      this.#sweepTimer = undefined;
    }
  }

  /** Writes buffered Observations; resolves when they (and any earlier writes) are on disk. */
  flush(): Promise<void> {
    if (this.#flushTimer) {
      clearTimeout(this.#flushTimer);
      this.#flushTimer = undefined;
    }
    if (this.#buffer.length > 0) {
      const batch = this.#buffer;
      this.#buffer = [];
      const max = this.#o.config.storage.maxObservationsPerRoom;
      this.#writing = this.#writing
        .then(() => this.#o.store.append(this.#o.roomId, batch, max))
        .then(
          (stored) => {
            if (stored < batch.length) {
              this.#counters.dropped(batch.length - stored);
              if (!this.#droppedLogged) {
                this.#droppedLogged = true;
                this.#o.logger.warn('vitals storage bound reached; further observations are not stored', {
                  room: this.#o.roomId,
                  max,
                });
              }
            }
          },
          (error: unknown) => {
            // The readings were shown live; losing the record is logged loudly (without values).
            this.#o.logger.error('vitals not stored', {
              room: this.#o.roomId,
              count: batch.length,
              error: error as Error,
            });
          },
        );
    }
    return this.#writing;
  }

  /** The room closed: devices disconnect, timers stop, the last readings are written. */
  close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      for (const e of this.#devices.drop(null, 'closed')) this.#deviceEvent(e);
      if (this.#sweepTimer) clearInterval(this.#sweepTimer);
      this.#sweepTimer = undefined;
    }
    return this.flush();
  }

  // --- internals

  #limiter(identity: string, type: string): RateLimiter {
    const key = `${identity}\n${type}`;
    let limiter = this.#limiters.get(key);
    if (!limiter) {
      limiter = new RateLimiter(this.#o.config.ratePerSec, this.#o.config.rateBurst, () => this.#clock);
      this.#limiters.set(key, limiter);
    }
    return limiter;
  }

  #take(from: VitalsPublisher, sample: VitalsSample, at: number, now: number): void {
    const ctx = (device: VitalsDeviceInfo | undefined, t: number): ObservationContext => ({
      roomId: this.#o.roomId,
      subject: {
        identity: from.identity,
        ...(from.issuer ? { issuer: from.issuer } : {}),
        ...(from.name ? { name: from.name } : {}),
      },
      ...(device ? { device } : {}),
      at: t,
      receivedAt: now,
    });
    if (sample.type === 'waveform') {
      const window = this.#down.addWaveform(from.identity, sample, at);
      if (window) this.#storeWindow(from, window, now);
      return;
    }
    let byType = this.#latest.get(from.identity);
    if (!byType) this.#latest.set(from.identity, (byType = new Map()));
    const previous = byType.get(sample.type);
    if (!previous || at >= this.#timeOf(previous)) byType.set(sample.type, sample);
    if (this.#down.keepNumeric(from.identity, sample.type, at)) {
      this.#store(
        sample.type === 'bloodPressure'
          ? bloodPressureObservation(sample, ctx(sample.device, at))
          : numericObservation(sample, ctx(sample.device, at)),
      );
    }
    for (const event of this.#alerts.observe(from.identity, sample, at)) this.#alert(from, event, now);
  }

  #timeOf(sample: VitalsSample): number {
    return typeof sample.at === 'number' ? sample.at : Date.parse(sample.at);
  }

  #storeWindow(from: VitalsPublisher, w: StoredWindow, now: number): void {
    this.#store(
      waveformObservation(w, {
        roomId: this.#o.roomId,
        subject: {
          identity: from.identity,
          ...(from.issuer ? { issuer: from.issuer } : {}),
          ...(from.name ? { name: from.name } : {}),
        },
        ...(w.device ? { device: w.device } : {}),
        at: w.at,
        receivedAt: now,
      }),
    );
  }

  #store(obs: FhirObservation): void {
    this.#buffer.push(obs);
    if (this.#buffer.length >= 200) {
      void this.flush();
    } else if (!this.#flushTimer) {
      this.#flushTimer = setTimeout(() => void this.flush(), this.#o.config.storage.flushSec * 1000);
      this.#flushTimer.unref();
    }
  }

  #deviceConnected(e: DeviceEvent): void {
    this.#deviceEvent(e);
    if (!this.#sweepTimer && !this.#closed) {
      const everyMs = Math.max(1000, Math.min(5000, (this.#o.config.deviceTimeoutSec * 1000) / 2));
      this.#sweepTimer = setInterval(() => this.sweep(), everyMs);
      this.#sweepTimer.unref();
    }
  }

  #deviceEvent(e: DeviceEvent): void {
    const who = this.#publishers.get(e.identity);
    this.#o.audit.append({
      event: e.state === 'connected' ? 'vitals_device_connected' : 'vitals_device_disconnected',
      room: this.#o.roomId,
      actor: {
        identity: e.identity,
        ...(who?.role ? { role: who.role } : {}),
        ...(who?.issuer ? { issuer: who.issuer } : {}),
      },
      target: e.device.id,
      details: {
        kind: e.device.kind,
        ...(e.device.name ? { name: e.device.name } : {}),
        ...(e.reason ? { reason: e.reason } : {}),
      },
    });
    this.#o.logger.info(`vitals device ${e.state}`, {
      room: this.#o.roomId,
      participant: e.identity,
      kind: e.device.kind,
    });
  }

  #alert(from: VitalsPublisher, event: AlertEvent, now: number): void {
    const rule = event.rule;
    this.#counters.alerts(rule.type, event.state);
    this.#o.audit.append({
      event: event.state === 'raised' ? 'vitals_alert_raised' : 'vitals_alert_cleared',
      room: this.#o.roomId,
      actor: { identity: from.identity, role: from.role, ...(from.issuer ? { issuer: from.issuer } : {}) },
      details: {
        type: rule.type,
        ...(rule.component ? { component: rule.component } : {}),
        direction: event.direction,
        threshold: event.threshold,
        forSec: rule.forSec,
      },
    });
    this.#o.logger.info(`vitals alert ${event.state}`, {
      room: this.#o.roomId,
      participant: from.identity,
      type: rule.type,
      direction: event.direction,
      threshold: event.threshold,
    });
    const data = alertData(event);
    for (const p of this.#o.participants()) if (maySeeVitals(p)) p.notify('vitalsAlert', data);
    // What the waveform looked like leading up to it goes into the record.
    if (event.state === 'raised')
      for (const w of this.#down.alertWindows(from.identity)) this.#storeWindow(from, w, now);
  }
}
