/**
 * The data relay's policy for topic `vitals`: patients and family publish,
 * the clinical team receives (see vitalsAccess.ts). Every message is parsed
 * and each sample goes through RoomVitals.ingest; only the accepted samples
 * are forwarded, re-serialised from their parsed form, so receivers never
 * get garbage, out-of-range or too-frequent readings. A message with no
 * acceptable sample is refused with the first sample's typed error.
 */
import { VITALS_LIMITS, VITALS_TOPIC, VitalsError } from '@huizhen/protocol';
import type { DataPayload, DataPeer, DataTopicPolicy } from '../rooms/data/DataTopic.js';
import type { RoomVitals } from './RoomVitals.js';
import { mayPublishVitals, maySeeVitals } from './vitalsAccess.js';

/** The `samples` of a `{ samples: [...] }` message, each still unchecked. */
export function vitalsEnvelope(payload: DataPayload): unknown[] {
  const text = typeof payload === 'string' ? payload : new TextDecoder('utf-8').decode(payload);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new VitalsError('shape', '', 'is not JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new VitalsError('shape', '', 'must be an object { samples }');
  const keys = Object.keys(value);
  const extra = keys.find((k) => k !== 'samples');
  if (extra !== undefined) throw new VitalsError('shape', '', `has unknown field ${JSON.stringify(extra)}`);
  const samples = (value as { samples?: unknown }).samples;
  if (!Array.isArray(samples)) throw new VitalsError('shape', 'samples', 'must be an array');
  if (samples.length < 1 || samples.length > VITALS_LIMITS.maxSamplesPerMessage)
    throw new VitalsError('shape', 'samples', `must have 1 to ${VITALS_LIMITS.maxSamplesPerMessage} items`);
  let points = 0;
  for (const s of samples) {
    const w = (s as { waveform?: { samples?: unknown } } | null)?.waveform?.samples;
    if (Array.isArray(w)) points += w.length;
  }
  if (points > VITALS_LIMITS.maxWaveformPoints)
    throw new VitalsError(
      'shape',
      'samples',
      `carries more than ${VITALS_LIMITS.maxWaveformPoints} waveform points in total`,
    );
  return samples;
}

export function vitalsTopic(vitals: RoomVitals): DataTopicPolicy {
  return {
    topic: VITALS_TOPIC,
    mayPublish: (p: DataPeer) => mayPublishVitals(p.role),
    mayReceive: (p: DataPeer) => maySeeVitals(p),
    inspect(from: DataPeer, payload: DataPayload, now: number) {
      const samples = vitalsEnvelope(payload);
      // A person is their issuer and identity together; the relay's peers are Participants, which carry it.
      const issuer = (from as Partial<{ issuer: string }>).issuer;
      const { accepted, rejected } = vitals.ingest(
        { identity: from.identity, role: from.role, name: from.name, ...(issuer ? { issuer } : {}) },
        samples,
        now,
      );
      if (accepted.length === 0) throw rejected[0]!.error;
      const text = JSON.stringify({ samples: accepted });
      return { forward: typeof payload === 'string' ? text : new TextEncoder().encode(text) };
    },
  };
}
