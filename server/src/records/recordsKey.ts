/** Loads (or, in dev, creates) the AES-256 key that encrypts records at rest. */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { randomBytes } from 'node:crypto';
import { ConfigError, type HuizhenConfig } from '../config.js';

export function loadRecordsKey(
  config: HuizhenConfig['records'],
  env: Record<string, string | undefined> = process.env,
): Buffer {
  let text: string | undefined;
  if (config.keyEnv) {
    text = env[config.keyEnv];
    if (!text)
      throw new ConfigError(`records: environment variable ${config.keyEnv} is not set (a base64 32-byte key)`);
  } else {
    const file = config.keyFile!;
    if (!existsSync(file)) {
      if (!config.generateKeyIfMissing) throw new ConfigError(`records: key file '${file}' does not exist`);
      mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
      try {
        writeFileSync(file, randomBytes(32).toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
    }
    text = readFileSync(file, 'utf8');
  }
  const key = Buffer.from(text.trim(), 'base64');
  if (key.length !== 32) throw new ConfigError('records: the key must be 32 bytes, base64-encoded');
  return key;
}
