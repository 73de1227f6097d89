/** Recording counters and gauges for /metrics: active captures, ffmpeg restarts, compositions. */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { RecorderCounters } from './capture/RoomRecorder.js';
import type { CompositionCounters } from './compose/CompositionQueue.js';

export interface RecordingMetrics {
  recorder: RecorderCounters;
  composition: CompositionCounters;
  register(registry: Registry): void;
}

export function createRecordingMetrics(): RecordingMetrics {
  const active = new Gauge({
    name: 'huizhen_recording_active_captures',
    help: 'Recordings being captured now (running or paused, not yet finished)',
    registers: [],
  });
  const restarts = new Counter({
    name: 'huizhen_recording_ffmpeg_restarts_total',
    help: 'Capture ffmpeg processes restarted after they failed',
    registers: [],
  });
  const pending = new Gauge({
    name: 'huizhen_recording_compositions_pending',
    help: 'Finished recordings waiting to be composed',
    registers: [],
  });
  const compositions = new Counter({
    name: 'huizhen_recording_compositions_total',
    help: 'Composition attempts by result (done, failed, retry)',
    labelNames: ['result'],
    registers: [],
  });
  return {
    recorder: { active: (d) => active.inc(d), restart: () => restarts.inc() },
    composition: { pending: (n) => pending.set(n), outcome: (result) => compositions.inc({ result }) },
    register(registry) {
      for (const m of [active, restarts, pending, compositions]) registry.registerMetric(m);
    },
  };
}
