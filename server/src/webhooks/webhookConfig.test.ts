import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../config.js';
import { createLogger } from '../observability/logger.js';
import { defaultEndpointId, resolveEndpoint } from './webhookConfig.js';
import { WebhookService } from './WebhookService.js';

const load = (webhooks: unknown) => loadConfig({ env: {}, overrides: { webhooks } });

describe('webhooks config', () => {
  it('is empty by default', () => {
    expect(loadConfig({ env: {} }).webhooks).toEqual([]);
  });

  it('accepts https anywhere, http to loopback, and fills in the defaults', () => {
    const config = load([
      { url: 'https://his.example.org/huizhen?key=abc', secretEnv: 'HIS_WEBHOOK_SECRET', events: ['room.ended'] },
      { id: 'billing', url: 'http://127.0.0.1:8080/hook', secretFile: 'var/billing.secret', retryForSec: 60 },
      { url: 'http://[::1]:8080/hook', secretEnv: 'LOCAL_SECRET' },
      { url: 'http://10.0.0.5/hook', secretEnv: 'LAN_SECRET', allowInsecure: true },
    ]);
    const [his, billing] = config.webhooks.map(resolveEndpoint);
    expect(his!.id).toBe(defaultEndpointId('https://his.example.org/huizhen?key=abc'));
    expect(his!.id).toMatch(/^wh-[0-9a-f]{12}$/);
    expect([...his!.events!]).toEqual(['room.ended']);
    expect(his!.retryForSec).toBe(86_400);
    expect(his!.maxBackoffMs).toBe(600_000);
    expect(billing!.secretFile).toMatch(/^\/.*var\/billing\.secret$/);
    expect(billing!.events).toBeNull();
    expect(billing!.retryForSec).toBe(60);
  });

  it('refuses what would leak or cannot work', () => {
    const bad: [unknown, RegExp][] = [
      [[{ url: 'http://his.example.org/hook', secretEnv: 'S' }], /must be https/],
      [[{ url: 'https://u:p@his.example.org/hook', secretEnv: 'S' }], /must not carry credentials/],
      [[{ url: 'https://his.example.org/hook' }], /exactly one of secretFile, secretEnv/],
      [[{ url: 'https://his.example.org/hook', secretEnv: 'S', secretFile: 'f' }], /exactly one of/],
      [[{ url: 'https://his.example.org/hook', secretEnv: 'S', secret: 'inline' }], /secret/],
      [[{ url: 'ftp://his.example.org/hook', secretEnv: 'S' }], /webhooks\[0\]\.url/],
      [[{ url: 'https://his.example.org/hook', secretEnv: 'S', events: ['room.exploded'] }], /events/],
      [
        [
          { id: 'his', url: 'https://a.example.org/', secretEnv: 'S' },
          { id: 'his', url: 'https://b.example.org/', secretEnv: 'S' },
        ],
        /two webhooks have the id 'his'/,
      ],
      [[{ url: 'https://a.example.org/', secretEnv: 'S', initialBackoffMs: 5000, maxBackoffMs: 1000 }], /maxBackoffMs/],
      [[{ id: '../etc', url: 'https://a.example.org/', secretEnv: 'S' }], /webhooks\[0\]\.id/],
    ];
    for (const [webhooks, message] of bad) {
      expect(() => load(webhooks)).toThrow(ConfigError);
      expect(() => load(webhooks)).toThrow(message);
    }
  });

  it('needs a real secret at start and never prints it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'huizhen-wh-config-'));
    const short = join(dir, 'short.secret');
    writeFileSync(short, 'tooshort\n');
    const logger = createLogger({ level: 'error', write: () => undefined });
    const open = (endpoints: unknown, env: Record<string, string> = {}) =>
      WebhookService.open({ endpoints: load(endpoints).webhooks, dir: join(dir, 'q'), env, logger });
    expect(() => open([{ url: 'https://a.example.org/', secretEnv: 'MISSING_SECRET' }])).toThrow(
      /MISSING_SECRET is not set/,
    );
    expect(() => open([{ url: 'https://a.example.org/', secretFile: short }])).toThrow(/at least 16 bytes/);
    expect(() => open([{ url: 'https://a.example.org/', secretFile: short }])).not.toThrow(/tooshort/);
    expect(() => open([{ url: 'https://a.example.org/', secretFile: join(dir, 'nope') }])).toThrow(/ENOENT/);
    const ok = open([{ id: 'his', url: 'https://a.example.org/', secretEnv: 'GOOD_SECRET' }], {
      GOOD_SECRET: 'a-good-long-webhook-secret',
    });
    expect(ok.endpointCount).toBe(1);
    ok.close();
  });
});
