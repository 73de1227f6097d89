/**
 * Vitals counters for /metrics: samples by outcome (accepted or why not),
 * alerts by type and state, observations dropped at the per-room bound.
 * Created before the rooms (which count into them) and registered into the
 * node's registry once that exists.
 */
import { Counter, type Registry } from 'prom-client';
import type { VitalsCounters } from './RoomVitals.js';

export interface VitalsMetrics {
  counters: VitalsCounters;
  register(registry: Registry): void;
}

export function createVitalsMetrics(): VitalsMetrics {
  const samples = new Counter({
    name: 'huizhen_vitals_samples_total',
    help: 'Vitals samples received, by result (accepted, or the refusal: shape, unit, range, future, stale, rate_limited, device_limit, forbidden)',
    labelNames: ['result'],
    registers: [],
  });
  const alerts = new Counter({
    name: 'huizhen_vitals_alerts_total',
    help: 'Vitals threshold alerts, by vital type and state (raised, cleared)',
    labelNames: ['type', 'state'],
    registers: [],
  });
  const dropped = new Counter({
    name: 'huizhen_vitals_observations_dropped_total',
    help: 'Vitals observations not stored because the consult reached vitals.storage.maxObservationsPerRoom',
    registers: [],
  });
  return {
    counters: {
      samples: (result, n = 1) => samples.inc({ result }, n),
      alerts: (type, state) => alerts.inc({ type, state }),
      dropped: (n) => dropped.inc(n),
    },
    register(registry) {
      registry.registerMetric(samples);
      registry.registerMetric(alerts);
      registry.registerMetric(dropped);
    },
  };
}
