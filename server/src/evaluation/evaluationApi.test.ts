/**
 * The patient's evaluation through a real node: consults held over
 * signaling and ended by their doctor, then rated over HTTP with the
 * patients' own room tokens; read back by the room's clinicians and by
 * rooms:read services; aggregated per doctor; kept across a restart.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import jwt from 'jsonwebtoken';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EvaluationAggregate, StoredEvaluation } from '@huizhen/protocol';
import { startTestServer, TEST_SECRET, type TestServer } from '../testing/testServer.js';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
}, 60_000);
afterAll(() => t?.close());

const service = (scope: string) =>
  jwt.sign({ scope }, TEST_SECRET, {
    algorithm: 'HS256',
    issuer: 'huizhen-test',
    audience: 'huizhen',
    subject: 'satisfaction-report',
    expiresIn: 60,
  });

interface Reply {
  status: number;
  body: { error?: { code: string; message: string } } & Record<string, unknown>;
}

/** One request on a fresh connection (no keep-alive to race on a loaded machine). */
function http(
  server: TestServer,
  method: 'GET' | 'POST',
  path: string,
  token?: string,
  body?: unknown,
  raw?: string,
): Promise<Reply> {
  const payload = raw ?? (body === undefined ? undefined : JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const req = request(
      `${server.url}${path}`,
      {
        method,
        agent: false,
        headers: {
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(payload !== undefined ? { 'content-type': 'application/json' } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, body: text ? (JSON.parse(text) as Reply['body']) : {} });
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

const evaluate = (room: string, token: string | undefined, body: unknown, server = t) =>
  http(server, 'POST', `/api/rooms/${room}/evaluation`, token, body);
const outcome = (r: Reply) => [r.status, r.body.error?.code ?? 'ok'];

/**
 * A consult of `doctor` with the given patients and family admitted from the
 * lobby; `waiting` stay in the lobby. Ended by the doctor unless `end: false`.
 */
async function consult(
  room: string,
  options: { doctor?: string; admitted?: [string, 'patient' | 'family'][]; waiting?: string[]; end?: boolean } = {},
  server = t,
) {
  const doctorId = options.doctor ?? `dr-${room}`;
  const doctor = await server.connect();
  await doctor.join(server.token(doctorId, 'doctor', room, { name: 'Dr Li' }));
  const people = options.admitted ?? [[`pt-${room}`, 'patient']];
  const clients = [];
  for (const [identity, role] of people) {
    const c = await server.connect();
    await c.join(server.token(identity, role, room, { name: `Name of ${identity}` }));
    await doctor.notification('waitingRoomChanged', (d) => d.waiting.some((w) => w.identity === identity));
    await doctor.request('admit', { identity });
    await c.notification('admitted');
    clients.push(c);
  }
  for (const identity of options.waiting ?? []) {
    const c = await server.connect();
    await c.join(server.token(identity, 'patient', room));
    await doctor.notification('waitingRoomChanged', (d) => d.waiting.some((w) => w.identity === identity));
    clients.push(c);
  }
  if (options.end !== false) {
    await doctor.request('endRoom', {});
    await doctor.waitClosed();
    await expect.poll(() => server.server.rooms.rooms.has(room)).toBe(false);
  }
  return {
    doctor,
    clients,
    token: (identity: string, role: 'patient' | 'family' = 'patient') => server.token(identity, role, room),
  };
}

describe('submitting an evaluation', () => {
  it('is accepted once from an admitted patient after the end, and read by the right people only', async () => {
    await consult('ev-1', {
      admitted: [
        ['pt-ev-1', 'patient'],
        ['fam-ev-1', 'family'],
      ],
    });
    const comment = '王医生讲得很清楚 — very clear, thank you.\nThe sound dropped once.';
    const first = await evaluate('ev-1', t.token('pt-ev-1', 'patient', 'ev-1'), {
      overall: 5,
      audioVideo: 3,
      communication: 5,
      waitingTime: 4,
      comment,
    });
    expect(first.status).toBe(201);
    const stored = first.body.evaluation as StoredEvaluation;
    expect(stored).toMatchObject({
      room: 'ev-1',
      by: { identity: 'pt-ev-1', name: 'Name of pt-ev-1', role: 'patient', issuer: 'huizhen-test' },
      overall: 5,
      audioVideo: 3,
      communication: 5,
      waitingTime: 4,
      comment,
    });
    expect(stored.id).toMatch(/^ev_/);

    // Twice from the same person is refused, whatever the ratings; the family member rates on their own.
    expect(outcome(await evaluate('ev-1', t.token('pt-ev-1', 'patient', 'ev-1'), { overall: 1 }))).toEqual([
      409,
      'ALREADY_EVALUATED',
    ]);
    expect(outcome(await evaluate('ev-1', t.token('fam-ev-1', 'family', 'ev-1'), { overall: 4 }))).toEqual([201, 'ok']);

    // The room's clinicians and rooms:read services read both, oldest first.
    const read = async (token: string | undefined, room = 'ev-1') =>
      http(t, 'GET', `/api/rooms/${room}/evaluations`, token);
    const byDoctor = await read(t.token('dr-ev-1', 'doctor', 'ev-1'));
    expect(byDoctor.status).toBe(200);
    const list = byDoctor.body.evaluations as StoredEvaluation[];
    expect(list.map((e) => [e.by.identity, e.overall])).toEqual([
      ['pt-ev-1', 5],
      ['fam-ev-1', 4],
    ]);
    expect(list[0]!.comment).toBe(comment);
    expect(outcome(await read(t.token('sp-x', 'specialist', 'ev-1')))).toEqual([200, 'ok']);
    expect(outcome(await read(service('rooms:read')))).toEqual([200, 'ok']);
    expect((await read(service('rooms:read'))).body.evaluations).toHaveLength(2);
    // Not the patients, not another room's clinician, not a service without rooms:read, not without a token.
    expect(outcome(await read(t.token('pt-ev-1', 'patient', 'ev-1')))).toEqual([403, 'PERMISSION_DENIED']);
    expect(outcome(await read(t.token('int-x', 'interpreter', 'ev-1')))).toEqual([403, 'PERMISSION_DENIED']);
    expect(outcome(await read(t.token('dr-elsewhere', 'doctor', 'ev-other')))).toEqual([403, 'TOKEN_ROOM_MISMATCH']);
    expect(outcome(await read(service('vitals:read')))).toEqual([403, 'PERMISSION_DENIED']);
    expect(outcome(await read(undefined))).toEqual([401, 'TOKEN_INVALID']);
    expect(outcome(await read(service('rooms:read'), 'no-such-consult'))).toEqual([404, 'ROOM_NOT_FOUND']);

    // The consult summary says the consult has evaluations.
    const summary = await http(t, 'GET', '/api/rooms/ev-1/summary', t.token('dr-ev-1', 'doctor', 'ev-1'));
    expect((summary.body.summary as { evaluations: number }).evaluations).toBe(2);

    // The audit trail has each submission with the overall rating only; neither it nor the log has the comment.
    const audit = readFileSync(join(t.scratch, 'audit', 'audit.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { event: string; room?: string; actor?: { identity: string }; details?: unknown });
    const submitted = audit.filter((e) => e.event === 'evaluation_submitted' && e.room === 'ev-1');
    expect(submitted.map((e) => [e.actor?.identity, e.details])).toEqual([
      ['pt-ev-1', { overall: 5 }],
      ['fam-ev-1', { overall: 4 }],
    ]);
    const everything = readFileSync(join(t.scratch, 'audit', 'audit.jsonl'), 'utf8') + t.logs.join('\n');
    expect(everything).not.toContain('very clear');
    expect(everything).not.toContain('王医生');
    // At rest the comment is encrypted.
    const dir = join(t.scratch, 'data', 'evaluations', 'ev-1');
    const onDisk = readdirSync(dir).map((f) => readFileSync(join(dir, f)));
    expect(onDisk.length).toBeGreaterThan(0);
    for (const bytes of onDisk) {
      expect(bytes.includes(Buffer.from('very clear'))).toBe(false);
      expect(bytes.includes(Buffer.from('pt-ev-1'))).toBe(false);
    }
  }, 60_000);

  it('takes one of two concurrent submissions by the same person', async () => {
    await consult('ev-race');
    const token = t.token('pt-ev-race', 'patient', 'ev-race');
    const replies = await Promise.all([
      evaluate('ev-race', token, { overall: 2 }),
      evaluate('ev-race', token, { overall: 5 }),
      evaluate('ev-race', token, { overall: 3 }),
    ]);
    expect(replies.map(outcome).sort()).toEqual([
      [201, 'ok'],
      [409, 'ALREADY_EVALUATED'],
      [409, 'ALREADY_EVALUATED'],
    ]);
    const list = (await http(t, 'GET', '/api/rooms/ev-race/evaluations', service('rooms:read'))).body
      .evaluations as StoredEvaluation[];
    expect(list).toHaveLength(1);
    const accepted = replies.find((r) => r.status === 201)!.body.evaluation as StoredEvaluation;
    expect(list[0]!.overall).toBe(accepted.overall);
  }, 60_000);

  it('is refused before the end, to clinicians and other roles, to people never admitted, and for another room', async () => {
    const live = await consult('ev-live', { end: false });
    expect(outcome(await evaluate('ev-live', t.token('pt-ev-live', 'patient', 'ev-live'), { overall: 5 }))).toEqual([
      409,
      'INVALID_STATE',
    ]);
    await live.doctor.request('endRoom', {});
    await live.doctor.waitClosed();

    const { doctor } = await consult('ev-roles', {
      admitted: [
        ['pt-ev-roles', 'patient'],
        ['pt-removed', 'patient'],
      ],
      waiting: ['pt-lobby'],
      end: false,
    });
    await doctor.request('removeParticipant', { identity: 'pt-removed' });
    await doctor.request('endRoom', {});
    await doctor.waitClosed();
    const refused = async (token: string, room = 'ev-roles') => outcome(await evaluate(room, token, { overall: 1 }));
    // Clinicians and the other roles do not rate, even if they were in the consult.
    expect(await refused(t.token('dr-ev-roles', 'doctor', 'ev-roles'))).toEqual([403, 'PERMISSION_DENIED']);
    expect(await refused(t.token('rn-x', 'nurse', 'ev-roles'))).toEqual([403, 'PERMISSION_DENIED']);
    expect(await refused(t.token('int-x', 'interpreter', 'ev-roles'))).toEqual([403, 'PERMISSION_DENIED']);
    expect(await refused(t.token('obs-x', 'observer', 'ev-roles'))).toEqual([403, 'PERMISSION_DENIED']);
    // A patient who only waited in the lobby, one who never came, one the host removed.
    expect(await refused(t.token('pt-lobby', 'patient', 'ev-roles'))).toEqual([403, 'PERMISSION_DENIED']);
    expect(await refused(t.token('pt-stranger', 'patient', 'ev-roles'))).toEqual([403, 'PERMISSION_DENIED']);
    expect(await refused(t.token('pt-removed', 'patient', 'ev-roles'))).toEqual([403, 'PERMISSION_DENIED']);
    // The admitted patient's token for another room, and a token for this room used on another.
    expect(await refused(t.token('pt-ev-roles', 'patient', 'ev-1'))).toEqual([403, 'TOKEN_ROOM_MISMATCH']);
    expect(await refused(t.token('pt-ev-roles', 'patient', 'ev-roles'), 'ev-1')).toEqual([403, 'TOKEN_ROOM_MISMATCH']);
    // Systems do not rate; no token, a forged token, an unknown consult.
    expect(await refused(service('rooms:read rooms:write'))).toEqual([403, 'PERMISSION_DENIED']);
    expect(outcome(await evaluate('ev-roles', undefined, { overall: 1 }))).toEqual([401, 'TOKEN_INVALID']);
    const forged = jwt.sign({ sub: 'pt-ev-roles', role: 'patient', room: 'ev-roles' }, 'y'.repeat(40), {
      issuer: 'huizhen-test',
      audience: 'huizhen',
      expiresIn: 60,
    });
    expect(await refused(forged)).toEqual([401, 'TOKEN_INVALID']);
    expect(await refused(t.token('pt-x', 'patient', 'never-held'), 'never-held')).toEqual([404, 'ROOM_NOT_FOUND']);
    // Malformed room ids never reach the store.
    expect(outcome(await evaluate('..%2Fetc', t.token('pt-x', 'patient', 'ev-roles'), { overall: 1 }))).toEqual([
      400,
      'INVALID_REQUEST',
    ]);
    // The one who may, still can.
    expect(await refused(t.token('pt-ev-roles', 'patient', 'ev-roles'))).toEqual([201, 'ok']);
  }, 90_000);

  it('validates the body: bounded plain-text comment, known fields, whole stars, size', async () => {
    await consult('ev-body');
    const token = t.token('pt-ev-body', 'patient', 'ev-body');
    const refusal = async (body: unknown, raw?: string) => {
      const r = await http(t, 'POST', '/api/rooms/ev-body/evaluation', token, body, raw);
      return [r.status, r.body.error?.code, r.body.error?.message];
    };
    expect(await refusal({ overall: 5, comment: 'x'.repeat(1001) })).toEqual([
      400,
      'INVALID_REQUEST',
      'body.comment: must be at most 1000 characters',
    ]);
    expect(await refusal({ overall: 5, comment: 'ok\u0000hidden' })).toEqual([
      400,
      'INVALID_REQUEST',
      'body.comment: must be plain text without control characters',
    ]);
    expect(await refusal({ overall: 5, comment: 'abc\u202Efed' })).toEqual([
      400,
      'INVALID_REQUEST',
      expect.any(String),
    ]);
    expect(await refusal({ overall: 0 })).toEqual([400, 'INVALID_REQUEST', 'body.overall: must be >= 1']);
    expect(await refusal({ overall: 3.5 })).toEqual([400, 'INVALID_REQUEST', 'body.overall: must be an integer']);
    expect(await refusal({ audioVideo: 3 })).toEqual([400, 'INVALID_REQUEST', 'body.overall: is required']);
    expect(await refusal({ overall: 5, by: 'someone-else' })).toEqual([
      400,
      'INVALID_REQUEST',
      'body.by: is not a known field',
    ]);
    expect(await refusal(undefined, '{"overall": 5')).toEqual([400, 'MALFORMED_MESSAGE', expect.any(String)]);
    expect(await refusal(undefined, JSON.stringify({ overall: 5, comment: '好'.repeat(20_000) }))).toEqual([
      413,
      'MESSAGE_TOO_LARGE',
      expect.any(String),
    ]);
    // Nothing refused was kept: the longest allowed comment is still accepted as the one evaluation.
    const ok = await evaluate('ev-body', token, { overall: 5, comment: '好'.repeat(1000) });
    expect(ok.status).toBe(201);
    expect((ok.body.evaluation as StoredEvaluation).comment).toHaveLength(1000);
  }, 60_000);
});

describe('the aggregate per doctor', () => {
  it('counts, averages and spreads the ratings of the consults that doctor hosted', async () => {
    await consult('agg-1', {
      doctor: 'dr-agg',
      admitted: [
        ['pt-agg-1', 'patient'],
        ['fam-agg-1', 'family'],
      ],
    });
    await consult('agg-2', { doctor: 'dr-agg', admitted: [['pt-agg-2', 'patient']] });
    await consult('agg-3', { doctor: 'dr-agg', admitted: [['pt-agg-3', 'patient']] });
    await consult('agg-other', { doctor: 'dr-other', admitted: [['pt-agg-o', 'patient']] });
    const submit = async (room: string, identity: string, role: 'patient' | 'family', body: unknown) =>
      expect((await evaluate(room, t.token(identity, role, room), body)).status).toBe(201);
    await submit('agg-1', 'pt-agg-1', 'patient', { overall: 5, audioVideo: 4, communication: 5, waitingTime: 2 });
    await submit('agg-1', 'fam-agg-1', 'family', { overall: 4, communication: 4 });
    await submit('agg-2', 'pt-agg-2', 'patient', { overall: 2, audioVideo: 1, waitingTime: 5, comment: 'Long wait.' });
    // agg-3 was not rated; dr-other's consult does not count for dr-agg.
    await submit('agg-other', 'pt-agg-o', 'patient', { overall: 1, audioVideo: 1, communication: 1, waitingTime: 1 });

    const expected: EvaluationAggregate = {
      host: 'dr-agg',
      issuer: null,
      consults: 2,
      count: 3,
      dimensions: {
        overall: { count: 3, mean: 3.67 },
        audioVideo: { count: 2, mean: 2.5 },
        communication: { count: 2, mean: 4.5 },
        waitingTime: { count: 2, mean: 3.5 },
      },
      overallDistribution: { '1': 0, '2': 1, '3': 0, '4': 1, '5': 1 },
    };
    const get = (token: string | undefined, query = 'host=dr-agg') =>
      http(t, 'GET', `/api/evaluations?${query}`, token);
    const viaService = await get(service('rooms:read'));
    expect(viaService.status).toBe(200);
    expect(viaService.body.aggregate).toEqual(expected);
    expect(JSON.stringify(viaService.body)).not.toContain('Long wait');
    // The doctor, with a token of theirs for any room, sees their own figures (narrowed to their issuer).
    const own = await get(t.token('dr-agg', 'doctor', 'agg-1'));
    expect(own.body.aggregate).toEqual({ ...expected, issuer: 'huizhen-test' });
    expect((await get(t.token('dr-agg', 'doctor', 'some-later-room'))).status).toBe(200);
    // A service may narrow to an issuer; an issuer nobody hosted under has nothing.
    expect((await get(service('rooms:read'), 'host=dr-agg&issuer=huizhen-test')).body.aggregate).toEqual({
      ...expected,
      issuer: 'huizhen-test',
    });
    expect(
      ((await get(service('rooms:read'), 'host=dr-agg&issuer=elsewhere')).body.aggregate as EvaluationAggregate).count,
    ).toBe(0);
    // The other doctor's own figures are theirs only.
    const other = (await get(t.token('dr-other', 'doctor', 'agg-other'), 'host=dr-other')).body
      .aggregate as EvaluationAggregate;
    expect([other.count, other.dimensions.overall.mean]).toEqual([1, 1]);
    // Nobody else: a colleague, the patient, a service without rooms:read, a doctor asking about another issuer.
    expect(outcome(await get(t.token('dr-other', 'doctor', 'agg-other')))).toEqual([403, 'PERMISSION_DENIED']);
    expect(outcome(await get(t.token('pt-agg-1', 'patient', 'agg-1')))).toEqual([403, 'PERMISSION_DENIED']);
    expect(outcome(await get(service('vitals:read')))).toEqual([403, 'PERMISSION_DENIED']);
    expect(outcome(await get(t.token('dr-agg', 'doctor', 'agg-1'), 'host=dr-agg&issuer=elsewhere'))).toEqual([
      403,
      'PERMISSION_DENIED',
    ]);
    expect(outcome(await get(service('rooms:read'), 'host=bad%20host'))).toEqual([400, 'INVALID_REQUEST']);
    expect(outcome(await get(service('rooms:read'), ''))).toEqual([400, 'INVALID_REQUEST']);
    // A new evaluation shows at once.
    await consult('agg-4', { doctor: 'dr-agg' });
    await submit('agg-4', 'pt-agg-4', 'patient', { overall: 1 });
    const after = (await get(service('rooms:read'))).body.aggregate as EvaluationAggregate;
    expect([after.consults, after.count, after.dimensions.overall.mean, after.overallDistribution['1']]).toEqual([
      3, 4, 3, 1,
    ]);
  }, 120_000);
});

describe('the evaluation window and durability', () => {
  let w: TestServer | undefined;
  afterAll(() => w?.close());

  it('refuses after evaluation.windowSec, and keeps what was stored across a restart', async () => {
    w = await startTestServer({ evaluation: { windowSec: 1 } });
    await consult('win-1', {}, w);
    const ended = (await http(w, 'GET', '/api/rooms/win-1/summary', service('rooms:read'))).body.summary as {
      room: { endedAt: number };
    };
    // Let the one-second window pass (measured from the consult's end, on the server's clock).
    await new Promise((r) => setTimeout(r, Math.max(0, ended.room.endedAt + 1200 - Date.now())));
    expect(outcome(await evaluate('win-1', w.token('pt-win-1', 'patient', 'win-1'), { overall: 5 }, w))).toEqual([
      409,
      'EVALUATION_CLOSED',
    ]);

    // What the main node stored is there after it restarts on the same data.
    const data = join(t.scratch, 'data');
    const audit = join(t.scratch, 'audit');
    await t.close();
    t = await startTestServer({ storage: { dir: data }, audit: { dir: audit, maxFileBytes: 10 * 1024 * 1024 } });
    const list = (await http(t, 'GET', '/api/rooms/ev-1/evaluations', service('rooms:read'))).body
      .evaluations as StoredEvaluation[];
    expect(list.map((e) => e.by.identity)).toEqual(['pt-ev-1', 'fam-ev-1']);
    expect(outcome(await evaluate('ev-1', t.token('pt-ev-1', 'patient', 'ev-1'), { overall: 1 }))).toEqual([
      409,
      'ALREADY_EVALUATED',
    ]);
    const agg = (await http(t, 'GET', '/api/evaluations?host=dr-agg', service('rooms:read'))).body
      .aggregate as EvaluationAggregate;
    expect(agg.count).toBe(4);
  }, 90_000);
});
