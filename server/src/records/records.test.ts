/**
 * Shared records over real HTTP and signaling: upload with content checks,
 * encryption at rest, visibility, signed URLs, synchronized viewing and
 * annotations, and hostile uploads that must leave nothing behind.
 */
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../testing/testServer.js';
import { makeDicom, makePdf, makePdfWithObjectStream, makePng } from './testFiles.js';
import { UrlSigner } from './signedUrls.js';

let t: TestServer;
const connect = () => t.connect();

beforeAll(async () => {
  t = await startTestServer({ records: { maxBytes: 256 * 1024 } });
});
afterAll(() => t.close());

async function upload(room: string, token: string, data: Buffer, query: Record<string, string> = {}) {
  const q = new URLSearchParams(query).toString();
  const res = await fetch(`${t.url}/api/rooms/${room}/records${q ? `?${q}` : ''}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' },
    body: new Uint8Array(data),
  });
  return {
    status: res.status,
    body: (await res.json()) as { record?: { id: string; name: string; type: string }; error?: { code: string } },
  };
}

const recordsDir = (room: string) => join(t.scratch, 'data', 'records', room);
const filesFor = (room: string) => (existsSync(recordsDir(room)) ? readdirSync(recordsDir(room)) : []);

async function clinic(room: string) {
  const doctorToken = t.token(`dr-${room}`, 'doctor', room);
  const doctor = await connect();
  await doctor.join(doctorToken);
  const specialistToken = t.token(`sp-${room}`, 'specialist', room);
  const specialist = await connect();
  await specialist.join(specialistToken);
  return { doctor, doctorToken, specialist, specialistToken };
}

describe('records', () => {
  it('uploads a PDF and a PNG, detected by content and encrypted at rest', async () => {
    const { doctor, doctorToken, specialist } = await clinic('rec-1');
    const pdf = await upload('rec-1', doctorToken, makePdf(3), { name: '化验单 lab.pdf' });
    expect(pdf.status).toBe(201);
    expect(pdf.body.record).toMatchObject({ type: 'application/pdf', name: '化验单 lab.pdf' });
    // Declared as a PDF by name, but it is a PNG: the bytes decide.
    const png = await upload('rec-1', doctorToken, makePng(), { name: 'scan.pdf', visibility: 'clinicians' });
    expect(png.body.record?.type).toBe('image/png');
    expect((await specialist.notification('recordAdded')).record.id).toBe(pdf.body.record!.id);
    const listed = await doctor.request('listRecords', {});
    expect(listed.records.map((r) => r.type).sort()).toEqual(['application/pdf', 'image/png']);
    // On disk the bytes are not readable.
    const stored = readFileSync(join(recordsDir('rec-1'), `${pdf.body.record!.id}.rec`));
    expect(stored.includes(Buffer.from('%PDF'))).toBe(false);
    expect(stored.includes(Buffer.from('Lab report'))).toBe(false);
  });

  it('shares a record: the server owns the view, annotations travel, late joiners catch up', async () => {
    const { doctor, doctorToken, specialist } = await clinic('rec-2');
    const pdf = await upload('rec-2', doctorToken, makePdf(4), { name: 'history.pdf' });
    const id = pdf.body.record!.id;
    const { share } = await doctor.request('shareRecord', { recordId: id });
    expect(share).toMatchObject({ presenter: 'dr-rec-2', view: { page: 1, zoom: 1, version: 1 } });
    expect((await specialist.notification('recordShared')).share.record.id).toBe(id);

    await doctor.request('setViewState', { recordId: id, view: { page: 3, zoom: 1.5 } });
    const moved = await specialist.notification('viewStateChanged');
    expect(moved.view).toMatchObject({ page: 3, zoom: 1.5, version: 2 });
    expect(await specialist.call('setViewState', { recordId: id, view: { page: 1 } })).toMatchObject({
      ok: false,
      error: { code: 'PERMISSION_DENIED' },
    });

    const { mark } = await doctor.request('annotate', {
      recordId: id,
      mark: {
        kind: 'arrow',
        page: 3,
        points: [
          { x: 0.1, y: 0.2 },
          { x: 0.4, y: 0.5 },
        ],
        color: '#e11d48',
      },
    });
    expect((await specialist.notification('annotationAdded')).mark.id).toBe(mark.id);
    await specialist.request('annotate', {
      recordId: id,
      mark: { kind: 'text', page: 3, points: [{ x: 0.5, y: 0.5 }], text: 'eGFR low' },
    });
    await doctor.request('pointer', { recordId: id, page: 3, x: 0.3, y: 0.3 });
    expect((await specialist.notification('pointer')).identity).toBe('dr-rec-2');

    // Hand-off: the specialist asks, the doctor grants.
    await specialist.request('requestPresenter', { recordId: id });
    expect((await doctor.notification('presenterRequested')).from.identity).toBe('sp-rec-2');
    await doctor.request('grantPresenter', { recordId: id, identity: 'sp-rec-2' });
    expect((await specialist.notification('presenterChanged')).presenter).toBe('sp-rec-2');
    await specialist.request('setViewState', { recordId: id, view: { page: 4 } });

    const late = await connect();
    const joined = await late.join(t.token('rn-late', 'nurse', 'rec-2'));
    expect(joined.admission === 'admitted' && joined.share).toMatchObject({
      presenter: 'sp-rec-2',
      view: { page: 4, zoom: 1.5 },
      record: { id },
    });
    expect(joined.admission === 'admitted' && joined.share?.marks.map((m) => m.kind)).toEqual(['arrow', 'text']);

    // Undo removes only the caller's own latest mark.
    expect((await doctor.request('undoAnnotation', { recordId: id })).markId).toBe(mark.id);
    expect((await late.notification('annotationRemoved')).markId).toBe(mark.id);
  });

  it('hides clinician-only records from the patient, and refuses their URL to anyone else', async () => {
    const { doctor, doctorToken } = await clinic('rec-3');
    const secret = await upload('rec-3', doctorToken, makePng(), { name: 'psych-eval.png', visibility: 'clinicians' });
    const open = await upload('rec-3', doctorToken, makePdf(1), { name: 'discharge.pdf' });
    const patientToken = t.token('pt-rec-3', 'patient', 'rec-3');
    const patient = await connect();
    await patient.join(patientToken);
    await doctor.request('admit', { identity: 'pt-rec-3' });
    await patient.notification('admitted');

    expect((await patient.request('listRecords', {})).records.map((r) => r.id)).toEqual([open.body.record!.id]);
    expect(await patient.call('getRecordUrl', { recordId: secret.body.record!.id })).toMatchObject({
      ok: false,
      error: { code: 'NOT_FOUND' },
    });
    await doctor.request('shareRecord', { recordId: secret.body.record!.id });
    await expect(patient.notification('recordShared', undefined, 300)).rejects.toThrow(/timed out/);

    // The doctor's URL works for the doctor...
    const { url } = await doctor.request('getRecordUrl', { recordId: secret.body.record!.id });
    const mine = await fetch(`${t.url}${url}`, { headers: { authorization: `Bearer ${doctorToken}` } });
    expect(mine.status).toBe(200);
    expect(mine.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await mine.arrayBuffer()).equals(makePng())).toBe(true);
    // ...but not for the patient holding it, nor without a token.
    const stolen = await fetch(`${t.url}${url}`, { headers: { authorization: `Bearer ${patientToken}` } });
    expect(stolen.status).toBe(400);
    expect(await stolen.json()).toMatchObject({ error: { code: 'URL_INVALID' } });
    expect((await fetch(`${t.url}${url}`)).status).toBe(401);

    // Tampered: another record id or a later expiry under the same signature.
    const tampered = url.replace(/exp=(\d+)/, (_, e: string) => `exp=${Number(e) + 3600}`);
    expect(
      await (await fetch(`${t.url}${tampered}`, { headers: { authorization: `Bearer ${doctorToken}` } })).json(),
    ).toMatchObject({ error: { code: 'URL_INVALID' } });
    const swapped = url.replace(secret.body.record!.id, open.body.record!.id);
    expect(
      await (await fetch(`${t.url}${swapped}`, { headers: { authorization: `Bearer ${doctorToken}` } })).json(),
    ).toMatchObject({ error: { code: 'URL_INVALID' } });
  });

  it('stops serving a removed participant at once, even with a valid URL', async () => {
    const { doctor, doctorToken, specialist, specialistToken } = await clinic('rec-7');
    const png = await upload('rec-7', doctorToken, makePng());
    const { url } = await specialist.request('getRecordUrl', { recordId: png.body.record!.id });
    expect((await fetch(`${t.url}${url}`, { headers: { authorization: `Bearer ${specialistToken}` } })).status).toBe(
      200,
    );
    await doctor.request('removeParticipant', { identity: 'sp-rec-7' });
    await specialist.waitClosed();
    const after = await fetch(`${t.url}${url}`, { headers: { authorization: `Bearer ${specialistToken}` } });
    expect(after.status).toBe(400);
    expect(await after.json()).toMatchObject({ error: { code: 'NOT_JOINED' } });
  });

  it('keeps the marks of a room closed right after annotating: the reopened room sees them', async () => {
    const { doctor, doctorToken } = await clinic('rec-8');
    const png = await upload('rec-8', doctorToken, makePng());
    const id = png.body.record!.id;
    await doctor.request('annotate', {
      recordId: id,
      mark: { kind: 'text', page: 1, points: [{ x: 0.5, y: 0.5 }], text: 'last' },
    });
    // Closed before the coalesced mark write is due: closing flushes it, reopening waits for it.
    t.server.rooms.rooms.get('rec-8')!.close('test');
    const again = await connect();
    await again.join(t.token('dr2-rec-8', 'doctor', 'rec-8'));
    const { share } = await again.request('shareRecord', { recordId: id });
    expect(share.marks.map((m) => m.text)).toEqual(['last']);
  });

  it('refuses expired URLs', () => {
    const signer = new UrlSigner(Buffer.alloc(32, 7));
    const url = signer.sign({ room: 'r', recordId: 'x', identity: 'dr', expiresAt: 1000 });
    const query = Object.fromEntries(new URL(`http://h${url}`).searchParams);
    expect(() => signer.verify('r', 'x', query, 'dr', 999)).not.toThrow();
    expect(() => signer.verify('r', 'x', query, 'dr', 1001)).toThrow(/expired/);
  });

  it('only participants with the share permission upload, and only while in the room', async () => {
    const { doctor } = await clinic('rec-4');
    const observerToken = t.token('obs-4', 'observer', 'rec-4');
    const observer = await connect();
    await observer.join(observerToken);
    expect((await upload('rec-4', observerToken, makePng())).body.error?.code).toBe('PERMISSION_DENIED');
    const absent = t.token('dr-absent', 'doctor', 'rec-4');
    expect((await upload('rec-4', absent, makePng())).body.error?.code).toBe('NOT_JOINED');
    const otherRoom = t.token('dr-rec-4', 'doctor', 'elsewhere');
    expect((await upload('rec-4', otherRoom, makePng())).body.error?.code).toBe('TOKEN_ROOM_MISMATCH');
    doctor.close();
  });

  it('refuses hostile uploads with clear codes and leaves nothing on disk', async () => {
    const { doctorToken } = await clinic('rec-5');
    const before = filesFor('rec-5');
    const cases: [string, Buffer, Record<string, string>, string][] = [
      [
        'wrong magic bytes',
        Buffer.from('MZ\x90\x00 this is an executable pretending to be a PDF'),
        { name: 'report.pdf' },
        'UNSUPPORTED_MEDIA_TYPE',
      ],
      ['over the size limit', Buffer.concat([makePng(), Buffer.alloc(300 * 1024)]), {}, 'MESSAGE_TOO_LARGE'],
      ['a ../ name', makePng(), { name: '../../etc/passwd' }, 'INVALID_REQUEST'],
      ['a truncated DICOM', makeDicom().subarray(0, makeDicom().length - 100), { name: 'ct.dcm' }, 'CORRUPT_FILE'],
      [
        'a PDF with JavaScript',
        makePdf(1, '/OpenAction << /S /JavaScript /JS (app.alert(1)) >>'),
        { name: 'lab.pdf' },
        'UNSAFE_CONTENT',
      ],
      [
        'a PDF hiding JavaScript behind name escapes',
        makePdf(1, '/OpenAction << /S /J#61vaScript /J#53 (app.alert(1)) >>'),
        {},
        'UNSAFE_CONTENT',
      ],
      ['a truncated PDF', makePdf(2).subarray(0, 200), {}, 'CORRUPT_FILE'],
      [
        'a PDF hiding JavaScript in a compressed object stream',
        makePdfWithObjectStream('<< /S /JavaScript /JS (app.alert(1)) >>'),
        {},
        'UNSAFE_CONTENT',
      ],
      ['an empty body', Buffer.alloc(0), {}, 'INVALID_REQUEST'],
      ['a bad visibility', makePng(), { visibility: 'public' }, 'INVALID_REQUEST'],
    ];
    for (const [what, data, query, code] of cases) {
      const res = await upload('rec-5', doctorToken, data, query);
      expect(res.body.error?.code, what).toBe(code);
      expect(res.status, what).toBeGreaterThanOrEqual(400);
    }
    expect(filesFor('rec-5')).toEqual(before);
    // An object stream with nothing active in it is fine.
    expect(
      (await upload('rec-5', doctorToken, makePdfWithObjectStream('<< /Type /Annot /Subtype /Text >>'))).body.record
        ?.type,
    ).toBe('application/pdf');
    // And a whole DICOM is accepted.
    expect((await upload('rec-5', doctorToken, makeDicom(), { name: 'ct.dcm' })).body.record?.type).toBe(
      'application/dicom',
    );
  });

  it('writes audit entries for the records trail without contents', async () => {
    const { doctor, doctorToken } = await clinic('rec-6');
    const pdf = await upload('rec-6', doctorToken, makePdf(1), { name: 'secret-name.pdf' });
    await doctor.request('shareRecord', { recordId: pdf.body.record!.id });
    const { url } = await doctor.request('getRecordUrl', { recordId: pdf.body.record!.id });
    await fetch(`${t.url}${url}`, { headers: { authorization: `Bearer ${doctorToken}` } });
    await doctor.request('annotate', {
      recordId: pdf.body.record!.id,
      mark: {
        kind: 'stroke',
        page: 1,
        points: [
          { x: 0, y: 0 },
          { x: 1, y: 1 },
        ],
      },
    });
    await doctor.request('stopShare', { recordId: pdf.body.record!.id });
    await doctor.request('deleteRecord', { recordId: pdf.body.record!.id });
    const log = readFileSync(join(t.scratch, 'audit', 'audit.jsonl'), 'utf8');
    const events = log
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { event: string; room?: string })
      .filter((e) => e.room === 'rec-6')
      .map((e) => e.event);
    expect(events).toEqual(
      expect.arrayContaining([
        'record_uploaded',
        'record_shared',
        'record_url_issued',
        'record_downloaded',
        'record_annotated',
        'record_share_stopped',
        'record_deleted',
      ]),
    );
    expect(log).not.toContain('Lab report');
    expect(filesFor('rec-6')).toEqual([]);
  });
});
