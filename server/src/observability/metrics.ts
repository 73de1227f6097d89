/**
 * Prometheus metrics. Each server instance has its own registry (tests run
 * several servers in one process); gauges read live state when scraped.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { WorkerPool } from '../media/WorkerPool.js';
import type { RoomManager } from '../rooms/RoomManager.js';

export interface Metrics {
  registry: Registry;
  joinDuration: Histogram<'outcome'>;
  signalingRequests: Counter<'method' | 'outcome'>;
  tokenRejections: Counter<'code'>;
  workerDeaths: Counter;
  connections: Gauge;
  // --- data channels
  dataMessages: Counter<'outcome'>;
}

/** A gauge read at each scrape, so it never goes stale between events. */
export function registerLiveGauge(registry: Registry, name: string, help: string, read: () => number): Gauge {
  return new Gauge({
    name,
    help,
    registers: [registry],
    collect() {
      this.set(read());
    },
  });
}

export function createMetrics(rooms: RoomManager, pool: WorkerPool): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'huizhen_' });

  const liveGauge = (name: string, help: string, read: () => number) => registerLiveGauge(registry, name, help, read);
  liveGauge('huizhen_rooms', 'Open rooms on this node', () => rooms.counts().rooms);
  liveGauge('huizhen_participants', 'Participants in rooms on this node', () => rooms.counts().participants);
  liveGauge('huizhen_producers', 'Published tracks (mediasoup producers)', () => rooms.counts().producers);
  liveGauge('huizhen_consumers', 'Subscribed tracks (mediasoup consumers)', () => rooms.counts().consumers);
  liveGauge('huizhen_media_workers', 'Live mediasoup workers', () => pool.workers.length);

  new Gauge({
    name: 'huizhen_worker_cpu_seconds_total',
    help: 'CPU time (user + system) used by each mediasoup worker process',
    labelNames: ['worker'],
    registers: [registry],
    async collect() {
      await pool.sampleCpu();
      this.reset();
      for (const w of pool.workers) this.set({ worker: String(w.index) }, w.cpuSeconds);
    },
  });
  new Gauge({
    name: 'huizhen_worker_routers',
    help: 'Routers (rooms) placed on each mediasoup worker',
    labelNames: ['worker'],
    registers: [registry],
    collect() {
      this.reset();
      for (const w of pool.workers) this.set({ worker: String(w.index) }, w.routers);
    },
  });

  return {
    registry,
    joinDuration: new Histogram({
      name: 'huizhen_join_duration_seconds',
      help: 'Time from the join request to the joined response',
      labelNames: ['outcome'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    signalingRequests: new Counter({
      name: 'huizhen_signaling_requests_total',
      help: 'Signaling requests by method and outcome (ok or error code)',
      labelNames: ['method', 'outcome'],
      registers: [registry],
    }),
    tokenRejections: new Counter({
      name: 'huizhen_token_rejections_total',
      help: 'Access tokens rejected, by error code',
      labelNames: ['code'],
      registers: [registry],
    }),
    workerDeaths: new Counter({
      name: 'huizhen_worker_deaths_total',
      help: 'mediasoup workers that died',
      registers: [registry],
    }),
    connections: new Gauge({
      name: 'huizhen_signaling_connections',
      help: 'Open signaling WebSocket connections',
      registers: [registry],
    }),
    // --- data channels
    dataMessages: new Counter({
      name: 'huizhen_data_messages_total',
      help: 'Data-channel messages by outcome: forwarded, kept, no_receivers, or the refusal code',
      labelNames: ['outcome'],
      registers: [registry],
    }),
  };
}
