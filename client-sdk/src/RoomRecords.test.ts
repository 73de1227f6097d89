/**
 * room.records against the scripted server: uploads and downloads over real
 * HTTP (node:http, same origin), and the shared view, presenter, annotations
 * and follow mode kept up to date from notifications.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { resolveObjectURL } from 'node:buffer';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeHuizhenServer, mediasoupDevice, webSocketFactory } from '../test-support/fakeServer.js';
import { nextEvent, recordEvents, sleep } from '../test-support/roomHelpers.js';
import { connect } from './connect.js';
import { ErrorCode, HuizhenError } from './errors.js';
import type { ConnectOptions } from './options.js';
import type { Mark, PersonRef, RecordInfo, SharedRecord, ViewState } from '@huizhen/protocol';
import type { Room } from './Room.js';

const doctor: PersonRef = { identity: 'dr-zhang', name: 'Dr Zhang', role: 'doctor' };
const record = (id: string, name = `${id}.pdf`): RecordInfo => ({
  id,
  name,
  type: 'application/pdf',
  size: 4,
  visibility: 'everyone',
  uploadedBy: doctor,
  uploadedAt: 1_700_000_000_000,
});
const view = (patch: Partial<ViewState> = {}): ViewState => ({
  page: 1,
  zoom: 1,
  panX: 0,
  panY: 0,
  rotation: 0,
  windowCenter: null,
  windowWidth: null,
  version: 1,
  ...patch,
});
const mark = (seq: number, author: PersonRef = doctor): Mark => ({
  id: `mark-${seq}`,
  seq,
  author,
  kind: 'arrow',
  page: 1,
  points: [
    { x: 0.1, y: 0.1 },
    { x: 0.5, y: 0.5 },
  ],
  createdAt: 1_700_000_000_000 + seq,
});
const shared = (id: string, patch: Partial<SharedRecord> = {}): SharedRecord => ({
  record: record(id),
  presenter: 'dr-zhang',
  view: view(),
  marks: [],
  ...patch,
});

interface HttpCall {
  method: string;
  url: string;
  authorization: string | undefined;
  body: Buffer;
}

describe('room.records', () => {
  let server: FakeHuizhenServer;
  let room: Room | undefined;
  const http: HttpCall[] = [];
  let respond: (call: HttpCall, res: ServerResponse) => void;
  const options = (): ConnectOptions => ({ webSocketFactory, mediasoupDevice, requestTimeoutMs: 2000 });
  const stored = Buffer.from('%PDF-1.7 lab report');

  beforeEach(async () => {
    http.length = 0;
    respond = (call, res) => {
      if (call.method === 'POST') {
        res
          .writeHead(201, { 'content-type': 'application/json' })
          .end(JSON.stringify({ record: { ...record('rec-new'), size: call.body.length } }));
      } else {
        res.writeHead(200, { 'content-type': 'application/pdf' }).end(stored);
      }
    };
    server = await FakeHuizhenServer.start({
      http: (req: IncomingMessage, res: ServerResponse) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          const call = {
            method: req.method ?? '',
            url: req.url ?? '',
            authorization: req.headers.authorization,
            body: Buffer.concat(chunks),
          };
          http.push(call);
          respond(call, res);
        });
      },
    });
    server.handlers.getRecordUrl = (data) => ({
      url: `/api/rooms/consult-42/records/${String(data.recordId)}/content?p=me&exp=1700000300&sig=abc`,
      expiresAt: 1_700_000_300,
    });
  });

  afterEach(async () => {
    await room?.disconnect();
    room = undefined;
    await server.close();
  });

  it('uploads with the room token and the chosen visibility, and tells the app', async () => {
    room = await connect(server.url, 'the-token', options());
    const added = nextEvent(room, 'recordAdded');
    const bytes = new Uint8Array([0x25, 0x50, 0x44, 0x46, 0x2d]);
    const info = await room.records.upload(new Blob([bytes]), { visibility: 'clinicians', name: '化验单 lab.pdf' });
    expect(info).toMatchObject({ id: 'rec-new', size: 5 });
    expect((await added)[0]).toEqual(info);
    const [call] = http;
    expect(call?.method).toBe('POST');
    expect(call?.authorization).toBe('Bearer the-token');
    const url = new URL(call!.url, server.url);
    expect(url.pathname).toBe('/api/rooms/consult-42/records');
    expect(Object.fromEntries(url.searchParams)).toEqual({ visibility: 'clinicians', name: '化验单 lab.pdf' });
    expect([...call!.body]).toEqual([...bytes]);

    // A File brings its own name; raw bytes work too.
    await room.records.upload(new File([bytes], 'scan.png'), { visibility: 'everyone' });
    expect(new URL(http[1]!.url, server.url).searchParams.get('name')).toBe('scan.png');
    await room.records.upload(bytes.buffer, { visibility: 'everyone' });
    expect(new URL(http[2]!.url, server.url).searchParams.has('name')).toBe(false);
    expect(http[2]?.body.length).toBe(5);
  });

  it('turns the server’s JSON errors into HuizhenErrors with its code, and others by status', async () => {
    room = await connect(server.url, 't', options());
    respond = (_call, res) => {
      res.writeHead(415, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          error: { code: 'UNSUPPORTED_MEDIA_TYPE', message: 'Records must be PDF, PNG, JPEG or DICOM.' },
        }),
      );
    };
    const error = await room.records
      .upload(new Uint8Array([1, 2, 3]), { visibility: 'everyone' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HuizhenError);
    expect(error).toMatchObject({
      code: ErrorCode.UNSUPPORTED_MEDIA_TYPE,
      message: 'Records must be PDF, PNG, JPEG or DICOM.',
    });
    respond = (_call, res) => {
      res.writeHead(413, { 'content-type': 'text/html' }).end('<h1>too big</h1>');
    };
    await expect(room.records.upload(new Uint8Array([1]), { visibility: 'everyone' })).rejects.toMatchObject({
      code: ErrorCode.MESSAGE_TOO_LARGE,
    });
    respond = (_call, res) => {
      res.writeHead(403, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          error: { code: 'URL_INVALID', message: 'This download link is not valid: it has expired.' },
        }),
      );
    };
    await expect(room.records.fetch('rec-1')).rejects.toMatchObject({ code: ErrorCode.URL_INVALID });
  });

  it('lists, issues absolute signed URLs, and downloads with the token', async () => {
    room = await connect(server.url, 'the-token', options());
    server.handlers.listRecords = () => ({ records: [record('rec-1'), record('rec-2')] });
    expect((await room.records.list()).map((r) => r.id)).toEqual(['rec-1', 'rec-2']);

    const { url, expiresAt } = await room.records.urlFor('rec-1');
    expect(url).toBe(`${server.url}/api/rooms/consult-42/records/rec-1/content?p=me&exp=1700000300&sig=abc`);
    expect(expiresAt).toBe(1_700_000_300_000);

    const blob = await room.records.fetch('rec-1');
    expect(Buffer.from(await blob.arrayBuffer()).equals(stored)).toBe(true);
    expect(http.at(-1)).toMatchObject({
      method: 'GET',
      url: '/api/rooms/consult-42/records/rec-1/content?p=me&exp=1700000300&sig=abc',
      authorization: 'Bearer the-token',
    });

    // A blob: URL for <img>/<iframe>, revoked when the room disconnects.
    const objectUrl = await room.records.objectUrlFor('rec-1');
    expect(objectUrl).toMatch(/^blob:/);
    expect(resolveObjectURL(objectUrl)).toBeDefined();
    await room.disconnect();
    expect(resolveObjectURL(objectUrl)).toBeUndefined();
  });

  it('deletes a record, stopping its share locally', async () => {
    server.view = { share: shared('rec-1') };
    room = await connect(server.url, 't', options());
    const events = recordEvents(room, ['recordShareStopped', 'recordDeleted']);
    await room.records.delete('rec-1');
    expect(server.requests.at(-1)).toMatchObject({ method: 'deleteRecord', data: { recordId: 'rec-1' } });
    expect(events).toEqual(['recordShareStopped:rec-1', 'recordDeleted:rec-1']);
    expect(room.records.current).toBeUndefined();
  });

  it('gives a late joiner the current share, then follows view, presenter and marks from notifications', async () => {
    server.view = {
      share: shared('rec-1', { view: view({ page: 3, zoom: 1.5, version: 4 }), marks: [mark(2), mark(1)] }),
    };
    room = await connect(server.url, 't', options());
    const records = room.records;
    expect(records.current).toMatchObject({
      record: { id: 'rec-1' },
      presenter: 'dr-zhang',
      view: { page: 3, zoom: 1.5, version: 4 },
    });
    expect(records.current?.marks.map((m) => m.seq)).toEqual([1, 2]);
    expect(records.follow).toBe(true);
    expect(records.localView).toMatchObject({ page: 3 });
    expect(records.isPresenter).toBe(false);
    const events = recordEvents(room, [
      'viewStateChanged',
      'presenterChanged',
      'presenterRequested',
      'annotationAdded',
      'annotationRemoved',
      'pointer',
      'localViewChanged',
      'recordShared',
      'recordShareStopped',
      'recordAdded',
      'recordDeleted',
    ]);

    server.notify('viewStateChanged', {
      recordId: 'rec-1',
      view: view({ page: 4, zoom: 2, version: 5 }),
      by: 'dr-zhang',
    });
    // An older version (a replay) is ignored.
    server.notify('viewStateChanged', { recordId: 'rec-1', view: view({ page: 2, version: 3 }), by: 'dr-zhang' });
    server.notify('annotationAdded', { recordId: 'rec-1', mark: mark(3) });
    server.notify('annotationAdded', { recordId: 'rec-1', mark: mark(3) });
    server.notify('annotationRemoved', { recordId: 'rec-1', markId: 'mark-1' });
    server.notify('pointer', { recordId: 'rec-1', identity: 'dr-zhang', page: 4, x: 0.3, y: 0.6 });
    server.notify('presenterRequested', {
      recordId: 'rec-1',
      from: { identity: 'nurse-wu', name: 'Nurse Wu', role: 'nurse' },
    });
    server.notify('presenterChanged', { recordId: 'rec-1', presenter: 'me' });
    server.notify('recordAdded', { record: record('rec-2') });
    const stopped = nextEvent(room, 'recordShareStopped');
    server.notify('recordShareStopped', { recordId: 'rec-1' });
    await stopped;

    expect(events).toEqual([
      'viewStateChanged:rec-1',
      'localViewChanged',
      'annotationAdded:rec-1',
      'annotationRemoved:rec-1',
      'pointer:dr-zhang',
      'presenterRequested:rec-1',
      'presenterChanged:rec-1',
      'recordAdded',
      'recordShareStopped:rec-1',
    ]);
    expect(records.current).toBeUndefined();
    expect(records.localView).toBeUndefined();
  });

  it('keeps current in step before it stops: view, marks, presenter', async () => {
    room = await connect(server.url, 't', options());
    const records = room.records;
    const sharedEvent = nextEvent(room, 'recordShared');
    server.notify('recordShared', { share: shared('rec-1', { marks: [mark(1)] }) });
    await sharedEvent;
    const moved = nextEvent(room, 'viewStateChanged');
    server.notify('viewStateChanged', {
      recordId: 'rec-1',
      view: view({ page: 2, rotation: 90, version: 2 }),
      by: 'dr-zhang',
    });
    server.notify('annotationAdded', { recordId: 'rec-1', mark: mark(2) });
    server.notify('annotationRemoved', { recordId: 'rec-1', markId: 'mark-1' });
    const presenter = nextEvent(room, 'presenterChanged');
    server.notify('presenterChanged', { recordId: 'rec-1', presenter: 'nurse-wu' });
    expect(await moved).toEqual(['rec-1', expect.objectContaining({ page: 2, rotation: 90 }), 'dr-zhang']);
    await presenter;
    expect(records.current?.view).toMatchObject({ page: 2, rotation: 90, version: 2 });
    expect(records.current?.marks.map((m) => m.id)).toEqual(['mark-2']);
    expect(records.current?.presenter).toBe('nurse-wu');
  });

  it('presents: share, move the view, annotate, undo, stop, each reflected locally', async () => {
    room = await connect(server.url, 't', options());
    const records = room.records;
    server.handlers.shareRecord = (data) => ({ share: shared(String(data.recordId), { presenter: 'me' }) });
    let version = 1;
    server.handlers.setViewState = (data) => ({
      view: view({ ...(data.view as Partial<ViewState>), version: ++version }),
    });
    server.handlers.annotate = (data) => ({
      mark: { ...mark(7, { identity: 'me', name: 'Me', role: 'specialist' }), ...(data.mark as object) },
    });
    server.handlers.undoAnnotation = () => ({ markId: 'mark-7' });
    const events = recordEvents(room, [
      'recordShared',
      'viewStateChanged',
      'localViewChanged',
      'annotationAdded',
      'annotationRemoved',
      'recordShareStopped',
    ]);

    await expect(records.setViewState({ page: 2 })).rejects.toMatchObject({ code: ErrorCode.INVALID_STATE });
    const share = await records.share('rec-1');
    expect(share.presenter).toBe('me');
    expect(records.isPresenter).toBe(true);
    const v = await records.setViewState({ page: 2, zoom: 1.25 });
    expect(server.requests.at(-1)?.data).toEqual({ recordId: 'rec-1', view: { page: 2, zoom: 1.25 } });
    expect(v).toMatchObject({ page: 2, zoom: 1.25, version: 2 });
    expect(records.current?.view.page).toBe(2);
    // For the presenter, setLocalView moves the shared view.
    await records.setLocalView({ page: 3 });
    expect(server.requests.at(-1)).toMatchObject({ method: 'setViewState', data: { view: { page: 3 } } });
    const stroke = { kind: 'text' as const, page: 2, points: [{ x: 0.5, y: 0.5 }], text: 'eGFR low', color: '#e11d48' };
    const m = await records.annotate(stroke);
    expect(server.requests.at(-1)?.data).toEqual({ recordId: 'rec-1', mark: stroke });
    expect(records.current?.marks.map((x) => x.id)).toEqual([m.id]);
    expect(await records.undo()).toBe('mark-7');
    expect(records.current?.marks).toEqual([]);
    await records.stopShare();
    expect(server.requests.at(-1)).toMatchObject({ method: 'stopShare', data: { recordId: 'rec-1' } });
    expect(records.current).toBeUndefined();
    expect(events).toEqual([
      'recordShared',
      'localViewChanged',
      'viewStateChanged:rec-1',
      'localViewChanged',
      'viewStateChanged:rec-1',
      'localViewChanged',
      'annotationAdded:rec-1',
      'annotationRemoved:rec-1',
      'recordShareStopped:rec-1',
    ]);
  });

  it('lets a viewer look around alone, then follow the presenter again', async () => {
    server.view = { share: shared('rec-1', { view: view({ page: 2, version: 2 }) }) };
    room = await connect(server.url, 't', options());
    const records = room.records;
    const localViews: [number, boolean][] = [];
    room.on('localViewChanged', (v, following) => localViews.push([v.page, following]));

    const mine = await records.setLocalView({ page: 5, zoom: 3 });
    expect(mine).toMatchObject({ page: 5, zoom: 3 });
    expect(records.follow).toBe(false);
    expect(server.methods()).not.toContain('setViewState');
    // The presenter moves on: the shared view changes, this viewer's does not.
    const moved = nextEvent(room, 'viewStateChanged');
    server.notify('viewStateChanged', { recordId: 'rec-1', view: view({ page: 3, version: 3 }), by: 'dr-zhang' });
    await moved;
    expect(records.current?.view.page).toBe(3);
    expect(records.localView).toMatchObject({ page: 5, zoom: 3 });
    records.followPresenter();
    expect(records.follow).toBe(true);
    expect(records.localView).toMatchObject({ page: 3, zoom: 1 });
    const again = nextEvent(room, 'localViewChanged');
    server.notify('viewStateChanged', { recordId: 'rec-1', view: view({ page: 4, version: 4 }), by: 'dr-zhang' });
    await again;
    expect(localViews).toEqual([
      [5, false],
      [3, true],
      [4, true],
    ]);
    server.handlers.setViewState = (data) => ({ view: view({ ...(data.view as Partial<ViewState>), version: 10 }) });
    // Becoming presenter always means seeing the shared view.
    await records.setLocalView({ page: 9 });
    const granted = nextEvent(room, 'presenterChanged');
    server.notify('presenterChanged', { recordId: 'rec-1', presenter: 'me' });
    await granted;
    expect(records.follow).toBe(true);
    expect(records.localView?.page).toBe(4);
    // As presenter, looking elsewhere moves everyone.
    await records.setLocalView({ page: 7 });
    expect(server.requests.at(-1)).toMatchObject({ method: 'setViewState', data: { view: { page: 7 } } });
    expect(records.localView?.page).toBe(7);
    // A new share by someone else starts followed, at its own view.
    const next = nextEvent(room, 'recordShared');
    server.notify('recordShared', { share: shared('rec-2', { view: view({ page: 1, version: 1 }) }) });
    await next;
    expect(records.follow).toBe(true);
    expect(records.localView?.page).toBe(1);
  });

  it('throttles the pointer, always sending the latest position', async () => {
    server.view = { share: shared('rec-1') };
    room = await connect(server.url, 't', options());
    for (let i = 1; i <= 20; i++) room.records.pointer(2, i / 20, 1.5);
    await sleep(150);
    const sent = server.requests.filter((q) => q.method === 'pointer').map((q) => q.data);
    expect(sent).toEqual([
      { recordId: 'rec-1', page: 2, x: 0.05, y: 1 },
      { recordId: 'rec-1', page: 2, x: 1, y: 1 },
    ]);
    // Over time: about one per 50 ms, not one per call.
    const start = Date.now();
    while (Date.now() - start < 300) {
      room.records.pointer(1, 0.5, 0.5);
      await sleep(5);
    }
    await sleep(60);
    const count = server.requests.filter((q) => q.method === 'pointer').length - 2;
    expect(count).toBeGreaterThanOrEqual(4);
    expect(count).toBeLessThanOrEqual(8);
  });

  it('brings the share up to date after a reconnect, telling the app what changed', async () => {
    server.view = { share: shared('rec-1', { marks: [mark(1), mark(2)] }) };
    room = await connect(server.url, 't', { ...options(), reconnectPolicy: { nextRetryDelayMs: () => 10 } });
    const events = recordEvents(room, [
      'viewStateChanged',
      'presenterChanged',
      'annotationAdded',
      'annotationRemoved',
      'recordShared',
      'recordShareStopped',
    ]);
    server.view = {
      share: shared('rec-1', { presenter: 'nurse-wu', view: view({ page: 6, version: 9 }), marks: [mark(2), mark(3)] }),
    };
    const reconnected = nextEvent(room, 'reconnected');
    server.drop();
    await reconnected;
    expect(events).toEqual([
      'presenterChanged:rec-1',
      'viewStateChanged:rec-1',
      'annotationRemoved:rec-1',
      'annotationAdded:rec-1',
    ]);
    expect(room.records.current).toMatchObject({ presenter: 'nurse-wu', view: { page: 6 } });
    expect(room.records.current?.marks.map((m) => m.seq)).toEqual([2, 3]);

    server.view = {};
    const again = nextEvent(room, 'reconnected');
    server.drop();
    await again;
    expect(events.at(-1)).toBe('recordShareStopped:rec-1');
    expect(room.records.current).toBeUndefined();
  });
});
