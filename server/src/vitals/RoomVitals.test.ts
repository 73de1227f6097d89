/**
 * A room's vitals without the network: what is accepted or refused (and
 * with which code), what is counted, stored (down-sampled, encrypted, bounded,
 * surviving a restart), alerted, audited and logged.
 */
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { ErrorCode, VitalsError, type NotificationData, type Role } from '@huizhen/protocol';
import type { AuditInput } from '../audit/AuditLog.js';
import { permissionsFor, type Permission } from '../auth/permissions.js';
import { loadConfig } from '../config.js';
import { createLogger } from '../observability/logger.js';
import { EncryptedFileStore } from '../records/RecordStore.js';
import { MAX_DEVICES_PER_PARTICIPANT } from './DeviceTracker.js';
import { RoomVitals, type VitalsResult, type VitalsViewer } from './RoomVitals.js';
import { vitalsConfigSchema, type VitalsConfig } from './vitalsConfig.js';
import { EncryptedVitalsStore } from './VitalsStore.js';
import { vitalsEnvelope } from './vitalsTopic.js';

const NOW = Date.UTC(2026, 11, 2, 6, 0, 0);
const KEY = Buffer.alloc(32, 7);

function config(over: Partial<VitalsConfig> = {}, storage: Partial<VitalsConfig['storage']> = {}): VitalsConfig {
  return vitalsConfigSchema.parse({
    maxFutureSec: 60,
    maxAgeSec: 3600,
    ratePerSec: 5,
    rateBurst: 10,
    deviceTimeoutSec: 30,
    storage: {
      numericIntervalMs: 1000,
      waveformWindowSec: 4,
      waveformEverySec: 60,
      maxObservationsPerRoom: 10_000,
      flushSec: 60,
      ...storage,
    },
    alerts: [{ type: 'spo2', below: 90, forSec: 10, clearMargin: 2 }],
    ...over,
  });
}

class Viewer implements VitalsViewer {
  readonly alerts: NotificationData['vitalsAlert'][] = [];
  readonly #permissions: ReadonlySet<Permission>;
  constructor(
    readonly identity: string,
    readonly role: Role,
    grants?: string[],
  ) {
    this.#permissions = permissionsFor(role, grants);
  }
  can(p: Permission): boolean {
    return this.#permissions.has(p);
  }
  notify(_name: 'vitalsAlert', data: NotificationData['vitalsAlert']): void {
    this.alerts.push(data);
  }
}

let dir: string;
let audit: AuditInput[];
let logs: string[];
let counted: Record<string, number>;
let viewers: Viewer[];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'huizhen-vitals-'));
  audit = [];
  logs = [];
  counted = {};
  viewers = [];
});

function setup(cfg: VitalsConfig = config(), roomId = 'room-v') {
  const store = new EncryptedVitalsStore(new EncryptedFileStore(dir, KEY));
  const vitals = new RoomVitals({
    roomId,
    config: cfg,
    store,
    audit: { append: (e) => audit.push(e) },
    logger: createLogger({ level: 'debug', write: (l) => logs.push(l) }),
    counters: {
      samples: (result: VitalsResult, n = 1) => (counted[result] = (counted[result] ?? 0) + n),
      alerts: (type, state) => (counted[`alert:${type}:${state}`] = (counted[`alert:${type}:${state}`] ?? 0) + 1),
      dropped: (n) => (counted.dropped = (counted.dropped ?? 0) + n),
    },
    participants: () => viewers,
    now: () => NOW,
  });
  return { vitals, store };
}

const patient = { identity: 'pt-wang', role: 'patient' as const, issuer: 'huizhen-test', name: 'Wang Fang' };
const device = { id: 'ble-01', name: 'Nonin 3230', kind: 'bluetooth' as const };
const hr = (value: number, at: number | string = NOW) => ({ type: 'heartRate', value, unit: '/min', at, device });
const spo2 = (value: number, at: number) => ({ type: 'spo2', value, unit: '%', at, device });

describe('RoomVitals.ingest', () => {
  it('accepts plausible readings and refuses bad ones, each with a stable code and reason, and counts them', () => {
    const { vitals } = setup();
    const { accepted, rejected } = vitals.ingest(
      patient,
      [
        hr(72),
        { type: 'heartRate', value: 400, unit: '/min', at: NOW }, // out of range
        { type: 'bodyTemperature', value: 98.6, unit: '[degF]', at: NOW }, // wrong unit
        { type: 'spo2', value: 97, unit: '%', at: NOW + 5 * 60_000 }, // future-dated
        { type: 'spo2', value: 97, unit: '%', at: NOW - 2 * 3600_000 }, // too old for this consult
        { type: 'spo2', value: 'ninety', unit: '%', at: NOW }, // malformed
        { type: 'bloodPressure', systolic: 120, diastolic: 80, unit: 'mm[Hg]', at: new Date(NOW).toISOString() },
      ],
      NOW,
    );
    expect(accepted.map((s) => s.type)).toEqual(['heartRate', 'bloodPressure']);
    const why = rejected.map((r) => [r.index, r.error.code, (r.error as VitalsError).reason]);
    expect(why).toEqual([
      [1, ErrorCode.VITALS_INVALID, 'range'],
      [2, ErrorCode.VITALS_INVALID, 'unit'],
      [3, ErrorCode.VITALS_INVALID, 'future'],
      [4, ErrorCode.VITALS_INVALID, 'stale'],
      [5, ErrorCode.VITALS_INVALID, 'shape'],
    ]);
    expect(rejected[0]!.error.message).toMatch(/^samples\[1\]\.value: /);
    expect(counted).toMatchObject({ accepted: 2, range: 1, unit: 1, future: 1, stale: 1, shape: 1 });
    // The refusal sentences and the log name fields and rules, never the readings.
    for (const r of rejected) expect(r.error.message).not.toMatch(/400|98\.6|ninety/);
    expect(logs.join('\n')).not.toMatch(/\b(72|400|98\.6)\b/);
  });

  it('refuses readings that come too often, per participant and type', () => {
    const { vitals } = setup(config({ ratePerSec: 1, rateBurst: 3 }));
    const batch = [0, 1, 2, 3, 4].map((i) => hr(70 + i, NOW - 5000 + i * 1000));
    const first = vitals.ingest(patient, batch, NOW);
    expect(first.accepted).toHaveLength(3);
    expect(first.rejected.map((r) => r.error.code)).toEqual([ErrorCode.RATE_LIMITED, ErrorCode.RATE_LIMITED]);
    // Another type has its own budget; so has another patient.
    expect(vitals.ingest(patient, [spo2(97, NOW)], NOW).accepted).toHaveLength(1);
    expect(vitals.ingest({ ...patient, identity: 'pt-li' }, [hr(80)], NOW).accepted).toHaveLength(1);
    // The bucket refills with time.
    expect(vitals.ingest(patient, [hr(71)], NOW + 100).accepted).toHaveLength(0);
    expect(vitals.ingest(patient, [hr(71)], NOW + 1100).accepted).toHaveLength(1);
    expect(counted.rate_limited).toBe(3);
  });

  it('only patients and family publish their own vitals', () => {
    const { vitals } = setup();
    expect(vitals.ingest({ identity: 'fam-1', role: 'family' }, [hr(80)], NOW).accepted).toHaveLength(1);
    for (const role of ['doctor', 'specialist', 'nurse', 'interpreter', 'observer'] as const) {
      expect(() => vitals.ingest({ identity: `x-${role}`, role }, [hr(80)], NOW)).toThrow(
        expect.objectContaining({ code: ErrorCode.PERMISSION_DENIED }),
      );
    }
    expect(counted.forbidden).toBe(5);
  });

  it('keeps the latest reading per participant and type for late joiners, shown by who may see it', () => {
    const { vitals } = setup();
    vitals.ingest(patient, [hr(70, NOW - 2000), hr(75, NOW - 1000), spo2(96, NOW - 1000)], NOW);
    // An older reading arriving later does not replace the latest one.
    vitals.ingest(patient, [hr(60, NOW - 10_000)], NOW + 1000);
    vitals.ingest({ identity: 'pt-li', role: 'patient' }, [hr(88)], NOW);
    const values = (list: { type: string; value?: number }[]) => list.map((s) => `${s.type}=${s.value}`).sort();
    const seen = (viewer: Viewer) => values(vitals.latestFor(viewer).flatMap((e) => e.samples));
    expect(values(vitals.latest('pt-wang'))).toEqual(['heartRate=75', 'spo2=96']);
    expect(vitals.latestFor(new Viewer('dr-1', 'doctor')).map((e) => e.identity)).toEqual(['pt-wang', 'pt-li']);
    expect(seen(new Viewer('dr-1', 'doctor'))).toEqual(['heartRate=75', 'heartRate=88', 'spo2=96']);
    expect(seen(new Viewer('pt-li', 'patient'))).toEqual(['heartRate=88']);
    expect(vitals.latestFor(new Viewer('int-1', 'interpreter'))).toEqual([]);
    expect(vitals.latestFor(new Viewer('obs-1', 'observer'))).toEqual([]);
    vitals.participantLeft('pt-wang');
    expect(vitals.latest('pt-wang')).toEqual([]);
  });

  it('parses a data-channel message envelope before the samples', () => {
    expect(vitalsEnvelope(JSON.stringify({ samples: [hr(70)] }))).toHaveLength(1);
    expect(vitalsEnvelope(new TextEncoder().encode(JSON.stringify({ samples: [hr(70)] })))).toHaveLength(1);
    for (const bad of ['nope', '[]', '{"samples":[]}', '{"samples":[{}],"x":1}', JSON.stringify({ samples: 'x' })])
      expect(() => vitalsEnvelope(bad)).toThrow(expect.objectContaining({ code: ErrorCode.VITALS_INVALID }));
    const many = { samples: Array.from({ length: 65 }, () => hr(70)) };
    expect(() => vitalsEnvelope(JSON.stringify(many))).toThrow(VitalsError);
    // The same bound when ingest is called directly.
    expect(() => setup().vitals.ingest(patient, many.samples, NOW)).toThrow(VitalsError);
  });
});

describe('RoomVitals storage', () => {
  it('stores numbers at most once per second per type, as FHIR, encrypted on disk, readable after a restart', async () => {
    const { vitals } = setup(config({ ratePerSec: 100, rateBurst: 100 }));
    // 4 Hz heart rate for 3 s (12 readings) and one blood pressure.
    const readings = Array.from({ length: 12 }, (_, i) => hr(70 + (i % 3), NOW - 3000 + i * 250));
    const bp = { type: 'bloodPressure', systolic: 131, diastolic: 84, unit: 'mm[Hg]', at: NOW - 100, device };
    expect(vitals.ingest(patient, [...readings, bp], NOW).accepted).toHaveLength(13);
    await vitals.flush();

    // A new store over the same folder (a restarted server) reads what the first one wrote.
    const reread = await new EncryptedVitalsStore(new EncryptedFileStore(dir, KEY)).read('room-v');
    const hrs = reread.filter((o) => o.code.coding[0]!.code === '8867-4');
    expect(hrs.map((o) => o.effectiveDateTime)).toEqual([
      new Date(NOW - 3000).toISOString(),
      new Date(NOW - 2000).toISOString(),
      new Date(NOW - 1000).toISOString(),
    ]);
    expect(hrs[0]).toMatchObject({
      resourceType: 'Observation',
      status: 'final',
      valueQuantity: { value: 70, system: 'http://unitsofmeasure.org', code: '/min' },
      subject: { identifier: { value: 'pt-wang' } },
      encounter: { identifier: { value: 'room-v' } },
      issued: new Date(NOW).toISOString(),
    });
    expect(reread.filter((o) => o.code.coding[0]!.code === '85354-9')).toHaveLength(1);

    // At rest the chunk is ciphertext: no LOINC code, no identity, no value in the bytes.
    const files = readdirSync(join(dir, 'room-v'));
    expect(files).toHaveLength(1);
    const bytes = readFileSync(join(dir, 'room-v', files[0]!)).toString('latin1');
    expect(bytes).not.toMatch(/8867-4|pt-wang|Observation/);
    // Another room's store holds nothing of it.
    expect(await new EncryptedVitalsStore(new EncryptedFileStore(dir, KEY)).read('room-w')).toEqual([]);
  });

  it('keeps waveforms only as short windows: one routine strip per period, plus the strip before an alert', async () => {
    const { vitals, store } = setup(config({ ratePerSec: 100, rateBurst: 100 }));
    // PPG at 50 Hz in 0.5 s batches (25 points) for 20 s, contiguous.
    const ppg = (i: number) => ({
      type: 'waveform',
      unit: '1',
      at: NOW - 60_000 + i * 500,
      device,
      waveform: { kind: 'ppg', sampleRateHz: 50, unit: '1', samples: Array.from({ length: 25 }, (_, k) => 500 + k) },
    });
    for (let i = 0; i < 40; i++) vitals.ingest(patient, [ppg(i)], NOW);
    await vitals.flush();
    let waves = (await store.read('room-v')).filter((o) => o.valueSampledData);
    // 20 s of stream, a 4 s window once per 60 s: exactly one strip, 200 points, starting at the first batch.
    expect(waves).toHaveLength(1);
    expect(waves[0]!.valueSampledData!.data.split(' ')).toHaveLength(200);
    expect(waves[0]!.valueSampledData!.period).toBe(20);
    expect(waves[0]!.effectiveDateTime).toBe(new Date(NOW - 60_000).toISOString());

    // An SpO2 alert stores the strip leading up to it (the batches since the last stored window, up to 4 s).
    for (let s = 0; s <= 10; s++) vitals.ingest(patient, [spo2(85, NOW - 40_000 + s * 1000 + 1)], NOW);
    await vitals.flush();
    waves = (await store.read('room-v')).filter((o) => o.valueSampledData);
    expect(waves).toHaveLength(2);
    expect(waves[1]!.valueSampledData!.data.split(' ').length).toBeLessThanOrEqual(200);
    expect(waves[1]!.effectiveDateTime >= waves[0]!.effectiveDateTime).toBe(true);
  });

  it('bounds what one consult stores and counts what it dropped', async () => {
    const { vitals, store } = setup(config({ ratePerSec: 100, rateBurst: 100 }, { maxObservationsPerRoom: 10 }));
    vitals.ingest(
      patient,
      Array.from({ length: 15 }, (_, i) => hr(70, NOW - 20_000 + i * 1000)),
      NOW,
    );
    await vitals.flush();
    vitals.ingest(patient, [hr(70, NOW)], NOW);
    await vitals.flush();
    expect(await store.read('room-v')).toHaveLength(10);
    expect(counted.dropped).toBe(6);
    // The bound holds across a restart: a new store counts what is on disk from the chunk names.
    const restarted = new EncryptedVitalsStore(new EncryptedFileStore(dir, KEY));
    const more = (await store.read('room-v')).slice(0, 3);
    expect(await restarted.append('room-v', more, 10)).toBe(0);
    expect(await restarted.append('room-v', more, 12)).toBe(2);
    expect(await restarted.read('room-v')).toHaveLength(12);
    expect(logs.some((l) => l.includes('storage bound reached'))).toBe(true);
  });
});

describe('RoomVitals alerts and audit', () => {
  it('raises vitalsAlert to the clinical team only, once per episode, clears with hysteresis, audits without values', async () => {
    const doctor = new Viewer('dr-1', 'doctor');
    const nurse = new Viewer('rn-1', 'nurse');
    const narrowed = new Viewer('dr-2', 'doctor', ['subscribe', 'chat']);
    const interpreter = new Viewer('int-1', 'interpreter');
    const observer = new Viewer('obs-1', 'observer');
    const me = new Viewer('pt-wang', 'patient');
    viewers.push(doctor, nurse, narrowed, interpreter, observer, me);
    const { vitals } = setup();
    const t0 = NOW - 30_000;
    // 12 s of 86 %, then 91 % (inside the margin), then 93 %.
    for (let s = 0; s < 12; s++) vitals.ingest(patient, [spo2(86, t0 + s * 1000)], t0 + s * 1000 + 100);
    // While raised, a clinician joining now sees it in the room view; the patient does not.
    expect(vitals.latestFor(doctor)[0]!.alerts).toEqual([doctor.alerts[0]]);
    expect(vitals.latestFor(me)[0]).not.toHaveProperty('alerts');
    vitals.ingest(patient, [spo2(91, t0 + 12_000)], t0 + 12_100);
    vitals.ingest(patient, [spo2(93, t0 + 13_000)], t0 + 13_100);

    expect(doctor.alerts).toEqual([
      {
        identity: 'pt-wang',
        type: 'spo2',
        state: 'raised',
        value: 86,
        threshold: 90,
        direction: 'below',
        message: 'SpO2 below 90 % for 10 s',
        at: t0 + 10_000,
      },
      expect.objectContaining({ state: 'cleared', value: 93, at: t0 + 13_000 }),
    ]);
    expect(nurse.alerts).toHaveLength(2);
    // Cleared: nothing active for a late joiner any more.
    expect(vitals.latestFor(doctor)[0]).not.toHaveProperty('alerts');
    for (const v of [narrowed, interpreter, observer, me]) expect(v.alerts).toEqual([]);
    expect(counted).toMatchObject({ 'alert:spo2:raised': 1, 'alert:spo2:cleared': 1 });

    const alerts = audit.filter((e) => e.event.startsWith('vitals_alert'));
    expect(alerts.map((e) => e.event)).toEqual(['vitals_alert_raised', 'vitals_alert_cleared']);
    expect(alerts[0]).toMatchObject({
      room: 'room-v',
      actor: { identity: 'pt-wang', role: 'patient', issuer: 'huizhen-test' },
      details: { type: 'spo2', direction: 'below', threshold: 90, forSec: 10 },
    });
    // Neither the audit trail nor the log carries a reading.
    const trail = JSON.stringify(audit) + logs.join('\n');
    expect(trail).not.toMatch(/\b(86|91|93)\b/);
  });

  it('audits a device when first seen and when it goes silent or its patient leaves', () => {
    const { vitals } = setup();
    vitals.ingest(patient, [hr(70, NOW)], NOW);
    vitals.ingest(patient, [hr(71, NOW + 1000)], NOW + 1000);
    const cuff = { id: 'ble-cuff', kind: 'bluetooth' as const, name: 'Omron' };
    vitals.ingest(
      patient,
      [{ type: 'bloodPressure', systolic: 120, diastolic: 80, unit: 'mm[Hg]', at: NOW, device: cuff }],
      NOW,
    );
    const devices = () =>
      audit.filter((e) => e.event.startsWith('vitals_device')).map((e) => [e.event, e.target, e.details?.reason]);
    expect(devices()).toEqual([
      ['vitals_device_connected', 'ble-01', undefined],
      ['vitals_device_connected', 'ble-cuff', undefined],
    ]);
    vitals.ingest(patient, [hr(72, NOW + 20_000)], NOW + 20_000);
    // 31 s after the cuff was last heard: it is disconnected; the oximeter (heard 11 s ago) is not.
    vitals.sweep(NOW + 31_000);
    expect(devices().slice(2)).toEqual([['vitals_device_disconnected', 'ble-cuff', 'timeout']]);
    vitals.participantLeft('pt-wang');
    expect(devices().slice(3)).toEqual([['vitals_device_disconnected', 'ble-01', 'left']]);
    for (const e of audit) expect(JSON.stringify(e)).not.toMatch(/\b(70|71|72|120)\b/);
  });

  it('refuses samples from more devices than one participant may connect, without auditing them', () => {
    const { vitals } = setup(config({ ratePerSec: 100, rateBurst: 100 }));
    const from = (i: number) => ({ ...hr(70 + i), device: { id: `spoofed-${i}`, kind: 'bluetooth' as const } });
    const flood = Array.from({ length: MAX_DEVICES_PER_PARTICIPANT + 4 }, (_, i) => from(i));
    const { accepted, rejected } = vitals.ingest(patient, flood, NOW);
    expect(accepted).toHaveLength(MAX_DEVICES_PER_PARTICIPANT);
    expect(rejected.map((r) => [r.index, r.error.code])).toEqual(
      [0, 1, 2, 3].map((i) => [MAX_DEVICES_PER_PARTICIPANT + i, ErrorCode.VITALS_DEVICE_LIMIT]),
    );
    expect(counted).toMatchObject({ accepted: MAX_DEVICES_PER_PARTICIPANT, device_limit: 4 });
    expect(audit.filter((e) => e.event === 'vitals_device_connected')).toHaveLength(MAX_DEVICES_PER_PARTICIPANT);
    // A device already connected still gets through; so does another patient's.
    expect(vitals.ingest(patient, [from(0)], NOW).accepted).toHaveLength(1);
    expect(vitals.ingest({ ...patient, identity: 'pt-li' }, [from(99)], NOW).accepted).toHaveLength(1);
  });

  it('a closed room refuses samples and writes what it had', async () => {
    const { vitals, store } = setup();
    vitals.ingest(patient, [hr(70)], NOW);
    await vitals.close();
    expect(await store.read('room-v')).toHaveLength(1);
    expect(audit.at(-1)).toMatchObject({ event: 'vitals_device_disconnected', details: { reason: 'closed' } });
    expect(() => vitals.ingest(patient, [hr(70)], NOW)).toThrow(expect.objectContaining({ code: 'ROOM_NOT_FOUND' }));
  });

  it('config refuses a bad alert rule at start, naming the key', () => {
    const refused = (alerts: unknown[]) => {
      try {
        loadConfig({ env: {}, overrides: { vitals: { alerts } } });
      } catch (err) {
        return (err as Error).message;
      }
      return 'accepted';
    };
    expect(refused([{ type: 'spo2', below: 88, forSec: 5 }])).toBe('accepted');
    expect(refused([{ type: 'spo2', forSec: 10 }])).toBe(
      'invalid config: vitals.alerts[0]: needs exactly one of below, above',
    );
    expect(refused([{ type: 'spo2', below: 90, above: 99, forSec: 10 }])).toMatch(
      /vitals\.alerts\[0\]: needs exactly one/,
    );
    expect(refused([{ type: 'bloodPressure', above: 180, forSec: 0 }])).toMatch(/needs a component/);
    expect(refused([{ type: 'heartRate', component: 'systolic', above: 1, forSec: 0 }])).toMatch(/bloodPressure only/);
    expect(refused([{ type: 'waveform', above: 1, forSec: 0 }])).toMatch(/vitals\.alerts\[0\]\.type/);
    expect(refused([{ type: 'spo2', below: 90, forSec: -1 }])).toMatch(/vitals\.alerts\[0\]\.forSec: must be >= 0/);
  });
});
