/**
 * Setup shared by the load tester's smoke tests: a scratch folder holding the
 * test server's token secret, a real Huizhen test server per describe block,
 * and the arguments of a short `run` against it.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { TEST_SECRET, startTestServer, type TestServer } from '../../server/src/testing/testServer.js';

/** A log line sink that drops the run's progress. */
export const quiet = (): void => undefined;

export interface Scratch {
  dir: string;
  secretFile: string;
  /** The CLI options that mint HMAC tokens the test server accepts. */
  credentials: string[];
}

/** A scratch folder with the test server's token secret in it, removed after the test file's tests. */
export function scratchWithSecret(prefix: string): Scratch {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const secretFile = join(dir, 'secret');
  writeFileSync(secretFile, TEST_SECRET);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return { dir, secretFile, credentials: ['--token-secret-file', secretFile, '--issuer', 'huizhen-test'] };
}

/** A Huizhen test server, started before the enclosing block's tests and closed after them. */
export function useTestServer(): () => TestServer {
  let server: TestServer | undefined;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server?.close();
  });
  return () => {
    if (!server) throw new Error('the test server is only there inside the tests of its block');
    return server;
  };
}

/** A short `run` of consult rooms against `url` with the scratch credentials; `extra` adds options. */
export function consultRunArgs(
  url: string,
  scratch: Scratch,
  o: { rooms: number; window: number; out: string },
  ...extra: string[]
): string[] {
  return [
    '--url',
    url,
    '--scenario',
    'consults',
    '--rooms',
    String(o.rooms),
    '--warmup',
    '1',
    '--window',
    String(o.window),
    ...extra,
    ...scratch.credentials,
    '--out',
    o.out,
  ];
}
