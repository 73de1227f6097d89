/**
 * The recordings API on a real server: a recording stored (encrypted) the way
 * the composition job leaves it, listed to the room's clinicians and to
 * recordings:read services with a URL bound to the caller; the URL refused to
 * patients, to another room's clinicians, to another caller, altered, and
 * after expiry; downloads stream the decrypted file; everything audited.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshGet } from '../testing/freshGet.js';
import { serviceToken, startTestServer, type TestServer } from '../testing/testServer.js';
import type { RecordingMeta } from '../recording/storage/metadata.js';

let t: TestServer;
let composed: Buffer;

const httpGet = (path: string, token?: string) => freshGet(`${t.url}${path}`, token);

const service = (scope: string) => serviceToken(scope, 'his-archive');

interface Listed {
  recordings: {
    id: string;
    url: string | null;
    durationSec: number;
    state: string;
    tracks: number;
    consent: unknown[];
  }[];
}

beforeAll(async () => {
  t = await startTestServer({ recording: { enabled: true, urlTtlSec: 10 } });
  const dir = mkdtempSync(join(tmpdir(), 'huizhen-recapi-'));
  const file = join(dir, 'c.webm');
  execFileSync('ffmpeg', [
    ...['-hide_banner', '-nostdin', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=160x120:rate=10'],
    ...['-f', 'lavfi', '-i', 'sine=frequency=500', '-t', '2', '-c:v', 'libvpx', '-c:a', 'libopus', '-f', 'webm', file],
  ]);
  composed = readFileSync(file);
  const store = t.server.recording!.store;
  const start = Date.now() - 10_000;
  const meta: RecordingMeta = {
    version: 1,
    id: 'rec-a',
    room: 'ward-1',
    requestedBy: 'dr-1',
    startedAt: new Date(start).toISOString(),
    finishedAt: new Date().toISOString(),
    state: 'ready',
    spans: [{ startedAt: start, endedAt: start + 2000 }],
    segments: [
      {
        id: 's0-1',
        span: 0,
        track: 'v1',
        identity: 'pt-1',
        source: 'camera',
        kind: 'video',
        codec: 'vp8',
        startedAt: start,
        endedAt: start + 2000,
        bytes: 10,
      },
    ],
    consent: [
      { time: new Date(start).toISOString(), identity: 'dr-1', event: 'requested' },
      { time: new Date(start).toISOString(), identity: 'pt-1', event: 'consented' },
    ],
    failures: 0,
    attempts: 1,
    composed: { bytes: composed.length, durationSec: 2 },
  };
  await store.putStream('ward-1', 'rec-a', 's0-1', Readable.from([Buffer.from('segment')]));
  await store.putComposed('ward-1', 'rec-a', file);
  await store.writeMeta(meta);
  // One still composing: listed, without a URL.
  await store.writeMeta({ ...meta, id: 'rec-b', state: 'composing', composed: undefined as never });
}, 60_000);
afterAll(() => t?.close());

describe('GET /api/rooms/:id/recordings', () => {
  it("lists the room's recordings to its clinician, with a URL only that clinician can use", async () => {
    const doctor = t.token('dr-1', 'doctor', 'ward-1');
    const res = await httpGet('/api/rooms/ward-1/recordings', doctor);
    expect(res.status).toBe(200);
    const { recordings } = res.json() as Listed;
    expect(recordings.map((r) => [r.id, r.state])).toEqual([
      ['rec-a', 'ready'],
      ['rec-b', 'composing'],
    ]);
    const ready = recordings[0]!;
    expect(ready).toMatchObject({ durationSec: 2, tracks: 1 });
    expect(ready.consent).toHaveLength(2);
    expect(recordings[1]!.url).toBeNull();

    const download = await httpGet(ready.url!, doctor);
    expect(download.status).toBe(200);
    expect(download.header('content-type')).toBe('video/webm');
    expect(download.body.equals(composed)).toBe(true);

    // The URL alone is useless: without the token, with a nurse's token of the same room, altered.
    expect((await httpGet(ready.url!)).status).toBe(401);
    const nurse = await httpGet(ready.url!, t.token('nurse-1', 'nurse', 'ward-1'));
    expect((nurse.json() as { error: { code: string } }).error.code).toBe('URL_INVALID');
    const altered = await httpGet(ready.url!.replace('rec-a', 'rec-b'), doctor);
    expect((altered.json() as { error: { code: string } }).error.code).toBe('URL_INVALID');

    const audit = readFileSync(join(t.scratch, 'audit', 'audit.jsonl'), 'utf8');
    expect(audit).toMatch(/"event":"recording_url_issued","room":"ward-1"/);
    expect(audit).toMatch(/"event":"recording_downloaded","room":"ward-1"/);
  });

  it('refuses patients, family and another room’s clinicians', async () => {
    for (const token of [t.token('pt-1', 'patient', 'ward-1'), t.token('fam-1', 'family', 'ward-1')]) {
      const res = await httpGet('/api/rooms/ward-1/recordings', token);
      expect(res.status).toBe(403);
      expect((res.json() as { error: { code: string } }).error.code).toBe('PERMISSION_DENIED');
    }
    const other = t.token('dr-2', 'doctor', 'ward-2');
    const res = await httpGet('/api/rooms/ward-1/recordings', other);
    expect(res.status).toBe(403);
    expect((res.json() as { error: { code: string } }).error.code).toBe('TOKEN_ROOM_MISMATCH');
    // Nor can they use a URL issued to the room's doctor.
    const { recordings } = (
      await httpGet('/api/rooms/ward-1/recordings', t.token('dr-1', 'doctor', 'ward-1'))
    ).json() as Listed;
    expect((await httpGet(recordings[0]!.url!, other)).status).toBe(403);
    expect((await httpGet(recordings[0]!.url!, t.token('pt-1', 'patient', 'ward-1'))).status).toBe(403);
  });

  it('serves a recordings:read service, not one without the scope', async () => {
    const archive = service('recordings:read');
    const res = await httpGet('/api/rooms/ward-1/recordings', archive);
    expect(res.status).toBe(200);
    const url = (res.json() as Listed).recordings[0]!.url!;
    expect((await httpGet(url, archive)).body.equals(composed)).toBe(true);
    expect((await httpGet('/api/rooms/ward-1/recordings', service('vitals:read'))).status).toBe(403);
  });

  it('refuses a URL after it expired', async () => {
    const doctor = t.token('dr-1', 'doctor', 'ward-1');
    const url = ((await httpGet('/api/rooms/ward-1/recordings', doctor)).json() as Listed).recordings[0]!.url!;
    const exp = Number(new URL(url, t.url).searchParams.get('exp'));
    await new Promise((r) => setTimeout(r, Math.max(0, exp * 1000 - Date.now()) + 1100));
    const res = await httpGet(url, doctor);
    expect((res.json() as { error: { code: string; message: string } }).error).toMatchObject({ code: 'URL_INVALID' });
    expect((res.json() as { error: { message: string } }).error.message).toMatch(/expired/);
  }, 30_000);

  it('shows the recording metrics', async () => {
    const text = (await httpGet('/metrics')).body.toString('utf8');
    for (const name of [
      'huizhen_recording_active_captures',
      'huizhen_recording_ffmpeg_restarts_total',
      'huizhen_recording_compositions_pending',
      'huizhen_recording_compositions_total',
    ])
      expect(text).toContain(name);
  });
});
