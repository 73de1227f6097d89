import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'huizhen-config-'));

describe('config', () => {
  it('loads the embedded single-node default', () => {
    const config = loadConfig({ env: {} });
    expect(config.server.host).toBe('127.0.0.1');
    expect(config.server.port).toBe(3000);
    expect(config.redis.url).toBeNull();
    expect(config.devTokens.enabled).toBe(true);
  });

  it('applies environment overrides', () => {
    const config = loadConfig({
      env: { PORT: '4100', HUIZHEN_RTC_PORT: '0', HUIZHEN_DEV_TOKENS: 'false', HUIZHEN_LOG_LEVEL: 'warn' },
    });
    expect(config.server.port).toBe(4100);
    expect(config.media.rtcPort).toBe(0);
    expect(config.devTokens.enabled).toBe(false);
    expect(config.log.level).toBe('warn');
  });

  it('refuses a wildcard media address in cluster mode with node links unless an announced address is set', () => {
    const cluster = {
      REDIS_URL: 'redis://127.0.0.1:6379',
      HUIZHEN_CLUSTER_SECRET: 'x'.repeat(40),
      HUIZHEN_RTC_LISTEN_IP: '0.0.0.0',
    };
    expect(() => loadConfig({ env: cluster })).toThrow(/media.rtcAnnouncedAddress/);
    expect(loadConfig({ env: { ...cluster, HUIZHEN_ANNOUNCED_ADDRESS: '10.0.0.5' } }).media.rtcAnnouncedAddress).toBe(
      '10.0.0.5',
    );
  });

  it('names the environment variable that is wrong', () => {
    expect(() => loadConfig({ env: { PORT: 'eighty' } })).toThrow(/PORT='eighty' must be a whole number/);
    expect(() => loadConfig({ env: { HUIZHEN_DEV_TOKENS: 'maybe' } })).toThrow(/HUIZHEN_DEV_TOKENS/);
  });

  it('names the bad key and why', () => {
    expect(() => loadConfig({ env: {}, overrides: { server: { port: 70000 } } })).toThrow(
      /server\.port: must be <= 65535/,
    );
    expect(() => loadConfig({ env: {}, overrides: { media: { logLevel: 'loud' } } })).toThrow(
      /media\.logLevel: must be one of/,
    );
    expect(() => loadConfig({ env: {}, overrides: { rooms: { maxParticipants: '10' } } })).toThrow(
      /rooms\.maxParticipants: expected finite number, got string/,
    );
    expect(() => loadConfig({ env: {}, overrides: { sever: {} } })).toThrow(/sever: is not a known field/);
  });

  it('merges a HUIZHEN_CONFIG file over the default', () => {
    const dir = tmp();
    const file = join(dir, 'site.json');
    writeFileSync(file, JSON.stringify({ server: { port: 4555 }, devTokens: { enabled: false } }));
    const config = loadConfig({ env: { HUIZHEN_CONFIG: file } });
    expect(config.server.port).toBe(4555);
    expect(config.server.host).toBe('127.0.0.1');
    expect(config.devTokens.enabled).toBe(false);
  });

  it('reports a missing or broken config file clearly', () => {
    expect(() => loadConfig({ env: { HUIZHEN_CONFIG: '/nonexistent/huizhen.json' } })).toThrow(ConfigError);
    const file = join(tmp(), 'broken.json');
    writeFileSync(file, '{ "server": ');
    expect(() => loadConfig({ env: { HUIZHEN_CONFIG: file } })).toThrow(/is not valid JSON/);
  });

  it('rejects an HMAC issuer with a public key, or an RSA issuer with a secret', () => {
    const issuer = { iss: 'h', audience: 'a', algorithm: 'RS256', secret: 'x'.repeat(40), roles: ['doctor'] };
    expect(() =>
      loadConfig({ env: {}, overrides: { auth: { issuers: [issuer] }, devTokens: { enabled: false } } }),
    ).toThrow(/RS256 needs exactly one of publicKey/);
    const hs = { iss: 'h', audience: 'a', algorithm: 'HS256', publicKey: 'pem', roles: ['doctor'] };
    expect(() =>
      loadConfig({ env: {}, overrides: { auth: { issuers: [hs] }, devTokens: { enabled: false } } }),
    ).toThrow(/HS256 needs exactly one of secret/);
  });

  it('refuses dev tokens signed by an issuer that does not exist', () => {
    expect(() => loadConfig({ env: {}, overrides: { devTokens: { enabled: true, issuer: 'nobody' } } })).toThrow(
      /devTokens\.issuer 'nobody'/,
    );
  });

  it('keeps dev tokens off in the production example', () => {
    const config = loadConfig({
      env: { HUIZHEN_CONFIG: join(import.meta.dirname, '../../config/production.example.json') },
    });
    expect(config.devTokens.enabled).toBe(false);
    expect(config.auth.issuers.every((i) => !i.algorithm.startsWith('HS'))).toBe(true);
  });
});
