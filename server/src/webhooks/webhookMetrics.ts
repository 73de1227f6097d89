/**
 * Webhook metrics for /metrics, labelled by endpoint id only (never the URL,
 * whose query may carry a key): events pending, delivered, given up, and
 * every attempt by outcome. Created with the service, registered into the
 * node's registry once that exists.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { AttemptOutcome, DeliveryCounters } from './EndpointDelivery.js';

export interface WebhookMetrics {
  countersFor(endpoint: string): DeliveryCounters;
  register(registry: Registry): void;
}

export function createWebhookMetrics(pending: () => ReadonlyMap<string, number>): WebhookMetrics {
  const pendingGauge = new Gauge({
    name: 'huizhen_webhook_pending',
    help: 'Webhook events queued on disk and not yet delivered or given up, per endpoint',
    labelNames: ['endpoint'],
    registers: [],
    collect() {
      for (const [endpoint, n] of pending()) this.set({ endpoint }, n);
    },
  });
  const delivered = new Counter({
    name: 'huizhen_webhook_delivered_total',
    help: 'Webhook events an endpoint acknowledged with a 2xx',
    labelNames: ['endpoint'],
    registers: [],
  });
  const failed = new Counter({
    name: 'huizhen_webhook_failed_total',
    help: 'Webhook events given up after retrying for retryForSec',
    labelNames: ['endpoint'],
    registers: [],
  });
  const attempts = new Counter({
    name: 'huizhen_webhook_attempts_total',
    help: 'Webhook delivery attempts, by outcome (ok, http_error, redirect, timeout, network)',
    labelNames: ['endpoint', 'outcome'],
    registers: [],
  });
  return {
    countersFor(endpoint) {
      // Present (at 0) from the start, so a dashboard sees the endpoint before its first event.
      delivered.inc({ endpoint }, 0);
      failed.inc({ endpoint }, 0);
      return {
        attempt: (outcome: AttemptOutcome) => attempts.inc({ endpoint, outcome }),
        delivered: () => delivered.inc({ endpoint }),
        failed: () => failed.inc({ endpoint }),
      };
    },
    register(registry) {
      for (const m of [pendingGauge, delivered, failed, attempts]) registry.registerMetric(m);
    },
  };
}
