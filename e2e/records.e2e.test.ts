/**
 * Issue 4 in real browsers: a doctor uploads a PDF and a PNG (made here) into
 * a clinic and shares them; the specialist's page follows page and zoom,
 * sees the doctor's pointer and marks (and the doctor the specialist's);
 * presenting is handed over on request and a viewer can look around and
 * follow again; a late joiner gets the current page and marks; a
 * clinicians-only record never reaches the patient, whose requests for it are
 * refused. Everyone joins with camera and microphone off: this is about the
 * records, and it keeps the machine free for drawing.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { makeDicom, makePdf, makePng } from '../server/src/records/testFiles.js';
import {
  answerDialog,
  demoEvents,
  demoState,
  describePage,
  joinViaUi,
  launchChromium,
  openDemo,
  openTab,
  reportFailure,
  setJoinMedia,
  waitInCall,
  type Chromium,
  type DemoPage,
  type ViewerState,
} from './helpers/browser.js';
import { devToken, startServer, type HuizhenServer } from './helpers/server.js';
import { waitFor } from './helpers/wait.js';

const QUIET = { camera: false, mic: false } as const;

describe('shared medical records in a clinic', () => {
  let server: HuizhenServer | undefined;
  let chromium: Chromium | undefined;
  let files: string;
  let doctor: DemoPage;
  let specialist: DemoPage;
  const pages: DemoPage[] = [];
  const room = `e2e-records-${Date.now().toString(36)}`;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    files = await mkdtemp(path.join(os.tmpdir(), 'huizhen-e2e-records-'));
    await writeFile(path.join(files, 'lab-report.pdf'), makePdf(3));
    await writeFile(path.join(files, 'wound-photo.png'), makePng(320, 200));
    await writeFile(path.join(files, 'psych-assessment.png'), makePng(64, 64));
    await writeFile(path.join(files, 'ct-slice.dcm'), makeDicom(64, 64));
    server = await startServer();
    chromium = await launchChromium();
    doctor = await openDemo(chromium, server.url, 'doctor');
    specialist = await openDemo(chromium, server.url, 'specialist');
    pages.push(doctor, specialist);
    await joinViaUi(doctor, { name: 'Dr Zhang Wei', role: 'doctor', room, kind: 'clinic', ...QUIET });
    await joinViaUi(specialist, { name: 'Prof Li Na', role: 'specialist', room, ...QUIET });
  });

  afterEach(async (ctx) => {
    if (ctx.task.result?.state !== 'fail') return;
    const viewers = await Promise.all(
      pages.map(async (p) => `${p.label}: ${JSON.stringify((await demoState(p).catch(() => null))?.viewer)}`),
    );
    await reportFailure(pages, server, { viewers: viewers.join('\n') });
  });

  afterAll(async () => {
    await chromium?.close();
    await server?.stop();
    if (files) await rm(files, { recursive: true, force: true });
  });

  async function upload(demo: DemoPage, file: string, visibility: 'everyone' | 'clinicians'): Promise<string> {
    await openTab(demo, 'records');
    const input = await demo.page.waitForSelector('input[type="file"][data-testid="record-file"]');
    await input!.uploadFile(path.join(files, file));
    await demo.page.select('[data-testid="record-visibility"]', visibility);
    await demo.page.click('[data-testid="record-upload"]');
    const id = await waitFor(
      `${demo.label} to list ${file}`,
      async () => {
        const records = (await demoState(demo))?.records ?? [];
        return records.find((r) => r.name === file)?.id;
      },
      { describe: () => describePage(demo) },
    );
    ids[file] = id;
    return id;
  }

  async function share(demo: DemoPage, id: string): Promise<void> {
    await openTab(demo, 'records');
    await demo.page.click(`[data-testid="record-item"][data-record-id="${id}"] [data-testid="record-share"]`);
  }

  /** Waits until the page's viewer shows and has drawn what `want` says. */
  async function viewerShows(demo: DemoPage, what: string, want: (v: ViewerState) => boolean): Promise<ViewerState> {
    return waitFor(
      `${demo.label}'s viewer to show ${what}`,
      async () => {
        const v = (await demoState(demo))?.viewer;
        return v && want(v) ? v : undefined;
      },
      { timeoutMs: 20_000, describe: async () => (await demoState(demo))?.viewer ?? describePage(demo) },
    );
  }

  /** The toolbar as the user reads it. */
  function readouts(demo: DemoPage) {
    return demo.page.evaluate(() => ({
      page: document.querySelector('[data-testid="viewer-page"]')?.textContent,
      zoom: document.querySelector('[data-testid="viewer-zoom"]')?.textContent,
      name: document.querySelector('[data-testid="viewer-name"]')?.textContent,
      presenter: document.querySelector('[data-testid="viewer-presenter"]')?.textContent,
      visible: !document.querySelector<HTMLElement>('[data-testid="viewer"]')?.hidden,
    }));
  }

  /** Where the dark (ink) pixels of the drawn page are, as fractions of the page: proves what was drawn, not just that something was. */
  function inkBox(demo: DemoPage) {
    return demo.page.evaluate(() => {
      const canvas = document.querySelector<HTMLCanvasElement>('[data-testid="viewer-canvas"]')!;
      const { width, height } = canvas;
      const data = canvas.getContext('2d')!.getImageData(0, 0, width, height).data;
      let minX = width,
        minY = height,
        maxX = -1,
        maxY = -1,
        ink = 0;
      for (let y = 0; y < height; y++) {
        for (let x = 0; x < width; x++) {
          const o = (y * width + x) * 4;
          if (data[o]! + data[o + 1]! + data[o + 2]! < 384) {
            ink++;
            minX = Math.min(minX, x);
            maxX = Math.max(maxX, x);
            minY = Math.min(minY, y);
            maxY = Math.max(maxY, y);
          }
        }
      }
      return { ink, box: ink ? [minX / width, minY / height, maxX / width, maxY / height] : null, width, height };
    });
  }

  /** The overlay's pixel at record coordinates (x, y): [r, g, b, a]. */
  function overlayPixel(demo: DemoPage, x: number, y: number) {
    return demo.page.evaluate(
      (x, y) => {
        const overlay = document.querySelector<HTMLCanvasElement>('[data-testid="viewer-overlay"]')!;
        // The strongest pixel in a small neighbourhood: a 3 px line need not cross the exact point.
        const cx = Math.round(x * overlay.width);
        const cy = Math.round(y * overlay.height);
        const data = overlay.getContext('2d')!.getImageData(cx - 3, cy - 3, 7, 7).data;
        let best = [0, 0, 0, 0];
        for (let i = 0; i < data.length; i += 4)
          if (data[i + 3]! > best[3]!) best = [data[i]!, data[i + 1]!, data[i + 2]!, data[i + 3]!];
        return best;
      },
      x,
      y,
    );
  }

  /** Client coordinates of record point (x, y) on the page box (no rotation). */
  async function onPage(demo: DemoPage, x: number, y: number) {
    const r = await demo.page.$eval('[data-testid="viewer-box"]', (b) => {
      const rect = b.getBoundingClientRect();
      return { left: rect.left, top: rect.top, width: rect.width, height: rect.height };
    });
    return { x: r.left + x * r.width, y: r.top + y * r.height };
  }

  async function drag(demo: DemoPage, from: [number, number], to: [number, number], steps = 8) {
    const a = await onPage(demo, ...from);
    const b = await onPage(demo, ...to);
    await demo.page.mouse.move(a.x, a.y);
    await demo.page.mouse.down();
    await demo.page.mouse.move(b.x, b.y, { steps });
    await demo.page.mouse.up();
  }

  it('uploads a PDF and a PNG, and the specialist sees them listed', async () => {
    await upload(doctor, 'lab-report.pdf', 'everyone');
    await upload(doctor, 'wound-photo.png', 'everyone');
    await openTab(specialist, 'records');
    const listed = await waitFor(
      'the specialist to list both records',
      async () => {
        const records = (await demoState(specialist))?.records ?? [];
        return records.length === 2 ? records : undefined;
      },
      { describe: () => describePage(specialist) },
    );
    expect(listed.map((r) => [r.name, r.type]).sort()).toEqual([
      ['lab-report.pdf', 'application/pdf'],
      ['wound-photo.png', 'image/png'],
    ]);
  });

  it("shows the shared PDF on the specialist's page at the doctor's page and zoom", async () => {
    await share(doctor, ids['lab-report.pdf']!);
    await viewerShows(
      specialist,
      'page 1 of the PDF',
      (v) => v.recordId === ids['lab-report.pdf'] && v.rendered?.page === 1 && v.pageCount === 3,
    );
    const page1 = await inkBox(specialist);
    expect(page1.ink, 'the PDF page was drawn').toBeGreaterThan(50);

    await viewerShows(doctor, 'the PDF, presenting', (v) => v.presenting && v.rendered?.page === 1);
    await doctor.page.click('[data-testid="viewer-next"]');
    await doctor.page.click('[data-testid="viewer-zoom-in"]');
    await doctor.page.click('[data-testid="viewer-zoom-in"]');
    await viewerShows(doctor, 'page 2 at 150 %', (v) => v.rendered?.page === 2 && v.rendered.zoom === 1.5);

    const seen = await viewerShows(
      specialist,
      'page 2 at 150 %',
      (v) => v.rendered?.page === 2 && v.rendered.zoom === 1.5,
    );
    expect(seen).toMatchObject({ following: true, presenting: false, view: { page: 2, zoom: 1.5 } });
    expect(await readouts(specialist)).toMatchObject({
      page: 'Page 2 / 3',
      zoom: '150%',
      name: 'lab-report.pdf',
      presenter: 'Presented by Dr Zhang Wei',
      visible: true,
    });
    expect(await readouts(doctor)).toMatchObject({ page: 'Page 2 / 3', zoom: '150%', presenter: 'You are presenting' });

    // The same page content, in the same place of the page, on both screens.
    const [mine, theirs] = [await inkBox(doctor), await inkBox(specialist)];
    expect(theirs.ink).toBeGreaterThan(50);
    for (let i = 0; i < 4; i++)
      expect(Math.abs(mine.box![i]! - theirs.box![i]!), `ink box edge ${i}`).toBeLessThan(0.02);
    // And not page 1's drawing kept from before.
    expect(theirs.width / page1.width, 'drawn at the higher zoom').toBeGreaterThan(1.3);
  });

  it("mirrors the doctor's pointer and marks on the specialist's page, and the specialist's on the doctor's", async () => {
    // Pointer: the doctor moves the mouse over the page with the pointer tool.
    await doctor.page.click('[data-testid="viewer-tool-point"]');
    const at = await onPage(doctor, 0.7, 0.2);
    await doctor.page.mouse.move(at.x - 20, at.y, { steps: 2 });
    await doctor.page.mouse.move(at.x, at.y, { steps: 4 });
    await waitFor(
      "the doctor's pointer on the specialist's page",
      async () => ((await overlayPixel(specialist, 0.7, 0.2))[3]! > 200 ? true : undefined),
      { timeoutMs: 5_000 },
    );

    // An arrow from the doctor.
    await doctor.page.click('[data-testid="viewer-tool-arrow"]');
    await drag(doctor, [0.2, 0.3], [0.6, 0.5]);
    await viewerShows(specialist, "the doctor's arrow", (v) => v.marksOnPage === 1);
    const arrow = await waitFor("the arrow to be drawn on the specialist's overlay", async () => {
      const px = await overlayPixel(specialist, 0.4, 0.4);
      return px[3]! > 200 ? px : undefined;
    });
    expect(arrow[3]).toBeGreaterThan(200);
    expect((await overlayPixel(specialist, 0.4, 0.7))[3], 'nothing drawn where there is no mark').toBe(0);

    // A freehand stroke from the specialist reaches the doctor; then the specialist undoes it.
    await specialist.page.click('[data-testid="viewer-tool-pen"]');
    await drag(specialist, [0.2, 0.8], [0.8, 0.8], 12);
    await viewerShows(doctor, "the specialist's stroke", (v) => v.marksOnPage === 2);
    await waitFor("the stroke on the doctor's overlay", async () =>
      (await overlayPixel(doctor, 0.5, 0.8))[3]! > 200 ? true : undefined,
    );
    await specialist.page.click('[data-testid="viewer-undo"]');
    await viewerShows(doctor, 'only the arrow again', (v) => v.marksOnPage === 1);
    await waitFor("the stroke to go from the doctor's overlay", async () =>
      (await overlayPixel(doctor, 0.5, 0.8))[3] === 0 ? true : undefined,
    );
    expect((await overlayPixel(doctor, 0.4, 0.4))[3], "the doctor's own arrow stays").toBeGreaterThan(200);
  });

  it('hands presenting over on request; a viewer who looks around follows the presenter again', async () => {
    await specialist.page.click('[data-testid="viewer-request"]');
    await answerDialog(doctor, 'handover-dialog');
    await viewerShows(specialist, 'itself presenting', (v) => v.presenting);
    await viewerShows(doctor, 'the specialist presenting', (v) => !v.presenting && v.presenter === specialist.identity);

    // The doctor, now a viewer, zooms out on their own and stops following.
    await doctor.page.click('[data-testid="viewer-zoom-out"]');
    await viewerShows(doctor, 'its own zoom', (v) => !v.following && v.rendered?.zoom === 1.25);
    expect(await doctor.page.$eval('[data-testid="viewer-follow"]', (b) => !(b as HTMLElement).hidden)).toBe(true);

    // The specialist moves to page 3; the doctor stays where they were until they follow again.
    await specialist.page.click('[data-testid="viewer-next"]');
    await viewerShows(specialist, 'page 3', (v) => v.rendered?.page === 3);
    await viewerShows(doctor, 'still page 2, its own zoom', (v) => v.rendered?.page === 2 && v.view.zoom === 1.25);
    await doctor.page.click('[data-testid="viewer-follow"]');
    await viewerShows(
      doctor,
      "the presenter's page 3 at 150 %",
      (v) => v.following && v.rendered?.page === 3 && v.rendered.zoom === 1.5,
    );

    // Back to page 2 (where the arrow is), and presenting back to the doctor (a host may take over).
    await specialist.page.click('[data-testid="viewer-prev"]');
    await viewerShows(doctor, 'the presenter back on page 2', (v) => v.rendered?.page === 2);
    await doctor.page.click('[data-testid="viewer-take-over"]');
    await viewerShows(doctor, 'itself presenting on page 2', (v) => v.presenting && v.rendered?.page === 2);
  });

  it('gives a late joiner the current page, zoom and marks', async () => {
    const nurse = await openDemo(chromium!, server!.url, 'late nurse');
    pages.push(nurse);
    await joinViaUi(nurse, { name: 'Nurse Chen Yu', role: 'nurse', room, ...QUIET });
    const seen = await viewerShows(
      nurse,
      'page 2 at 150 % with the arrow',
      (v) => v.rendered?.page === 2 && v.rendered.zoom === 1.5 && v.marksOnPage === 1,
    );
    expect(seen).toMatchObject({ recordId: ids['lab-report.pdf'], following: true, presenter: doctor.identity });
    expect(await readouts(nurse)).toMatchObject({ page: 'Page 2 / 3', zoom: '150%' });
    const arrow = await waitFor("the arrow on the late joiner's overlay", async () => {
      const px = await overlayPixel(nurse, 0.4, 0.4);
      return px[3]! > 200 ? px : undefined;
    });
    expect(arrow[3]).toBeGreaterThan(200);
    await nurse.page.close();
    pages.splice(pages.indexOf(nurse), 1);
  });

  it('shows the shared PNG as an image', async () => {
    await share(doctor, ids['wound-photo.png']!);
    await viewerShows(
      specialist,
      'the PNG',
      (v) => v.recordId === ids['wound-photo.png'] && v.rendered?.page === 1 && v.view.zoom === 1,
    );
    // The generated PNG is a gradient: red grows to the right, green downwards, blue fixed at 128.
    const pixels = await specialist.page.evaluate(() => {
      const canvas = document.querySelector<HTMLCanvasElement>('[data-testid="viewer-canvas"]')!;
      const ctx = canvas.getContext('2d')!;
      const at = (x: number, y: number) => [
        ...ctx.getImageData(Math.floor(x * canvas.width), Math.floor(y * canvas.height), 1, 1).data,
      ];
      return { left: at(0.1, 0.5), right: at(0.9, 0.5), top: at(0.5, 0.1), bottom: at(0.5, 0.9) };
    });
    expect(pixels.right[0]! - pixels.left[0]!, 'red grows to the right').toBeGreaterThan(150);
    expect(pixels.bottom[1]! - pixels.top[1]!, 'green grows downwards').toBeGreaterThan(150);
    expect(Math.abs(pixels.left[2]! - 128)).toBeLessThan(4);
  });

  it("shows a DICOM image with the presenter's window and level", async () => {
    const id = await upload(doctor, 'ct-slice.dcm', 'everyone');
    await share(doctor, id);
    await viewerShows(
      specialist,
      'the DICOM image',
      (v) => v.recordId === id && v.type === 'application/dicom' && v.rendered !== null,
    );
    const gray = (demo: DemoPage) =>
      demo.page.evaluate(() => {
        const canvas = document.querySelector<HTMLCanvasElement>('[data-testid="viewer-canvas"]')!;
        const ctx = canvas.getContext('2d')!;
        const at = (x: number, y: number) =>
          ctx.getImageData(Math.floor(x * canvas.width), Math.floor(y * canvas.height), 1, 1).data[0]!;
        return { corner: at(0.1, 0.1), centre: at(0.5, 0.5), far: at(0.9, 0.9) };
      });
    // The generated slice ramps from 0 (top left) to ~3900 (bottom right); the default window spans it all.
    const before = await gray(specialist);
    expect(before.corner).toBeLessThan(before.centre);
    expect(before.centre).toBeLessThan(before.far);
    expect(Math.abs(before.centre - 128)).toBeLessThan(30);

    // The doctor narrows the window around 1000: below is black, above is white.
    await viewerShows(doctor, 'the DICOM image', (v) => v.recordId === id && v.presenting);
    await doctor.page.evaluate(() => {
      const set = (testid: string, value: number) => {
        const input = document.querySelector<HTMLInputElement>(`[data-testid="${testid}"]`)!;
        input.value = String(value);
        input.dispatchEvent(new Event('input', { bubbles: true }));
      };
      set('viewer-window-width', 100);
      set('viewer-window-center', 1000);
    });
    await viewerShows(
      specialist,
      'window 1000 / 100',
      (v) => v.view.windowCenter === 1000 && v.view.windowWidth === 100,
    );
    const after = await waitFor("the specialist's image to be redrawn with the new window", async () => {
      const g = await gray(specialist);
      return g.centre > 240 ? g : undefined;
    });
    expect(after).toMatchObject({ corner: 0, far: 255 });
  });

  it('keeps a clinicians-only record from the patient: not listed, not shown, its URL refused', async () => {
    await share(doctor, ids['wound-photo.png']!);
    const secret = await upload(doctor, 'psych-assessment.png', 'clinicians');
    const patientToken = await devToken(server!, {
      identity: 'pt-wang-fang',
      name: 'Wang Fang',
      role: 'patient',
      room,
    });
    const patient = await openDemo(chromium!, server!.url, 'patient', `/#token=${encodeURIComponent(patientToken)}`);
    pages.push(patient);
    await setJoinMedia(patient, QUIET);
    await patient.page.click('[data-testid="join-button"]');
    await waitInCall(patient, { admission: 'waiting', what: 'wait to be admitted' });
    await openTab(doctor, 'people');
    await (await doctor.page.waitForSelector(
      '[data-testid="waiting-entry"][data-identity="pt-wang-fang"] [data-testid="admit-button"]',
      { visible: true },
    ))!.click();
    await waitInCall(patient, { ...QUIET, what: 'be admitted' });

    // The PNG everyone may see is on screen for the patient too; the list lacks the clinicians' record.
    await viewerShows(patient, 'the shared PNG', (v) => v.recordId === ids['wound-photo.png'] && v.rendered !== null);
    await openTab(patient, 'records');
    const listed = await waitFor(
      "the patient's list",
      async () => {
        const records = (await demoState(patient))?.records ?? [];
        return records.length >= 3 ? records : undefined;
      },
      { describe: () => describePage(patient) },
    );
    expect(listed.map((r) => r.name).sort()).toEqual(['ct-slice.dcm', 'lab-report.pdf', 'wound-photo.png']);
    expect(await patient.page.$(`[data-testid="record-item"][data-record-id="${secret}"]`)).toBeNull();
    expect((await demoState(specialist))?.records.map((r) => r.id)).toContain(secret);

    // Sharing it takes the PNG off the patient's screen without showing the secret one.
    await share(doctor, secret);
    await viewerShows(specialist, 'the clinicians-only record', (v) => v.recordId === secret && v.rendered !== null);
    await waitFor("the patient's viewer to close", async () =>
      (await demoState(patient))?.viewer === null ? true : undefined,
    );
    const patientEvents = await demoEvents(patient);
    expect(patientEvents.filter((e) => e.type === 'recordShared' && e.detail === secret)).toEqual([]);

    // Asking the server for it from the patient's page: refused.
    const refused = await patient.page.evaluate(async (id) => {
      const room = (window as unknown as { huizhen: { room: { records: { fetch(id: string): Promise<Blob> } } } })
        .huizhen.room;
      try {
        await room.records.fetch(id);
        return 'downloaded';
      } catch (err) {
        return (err as { code?: string }).code ?? String(err);
      }
    }, secret);
    expect(refused).toBe('NOT_FOUND');
    // A URL issued to the doctor, presented with the patient's own token: refused.
    const doctorUrl = await doctor.page.evaluate(async (id) => {
      const room = (
        window as unknown as { huizhen: { room: { records: { urlFor(id: string): Promise<{ url: string }> } } } }
      ).huizhen.room;
      return (await room.records.urlFor(id)).url;
    }, secret);
    const stolen = await fetch(doctorUrl, { headers: { authorization: `Bearer ${patientToken}` } });
    expect(stolen.status).toBe(400);
    expect(await stolen.json()).toMatchObject({ error: { code: 'URL_INVALID' } });
    // The same URL does work for the doctor's own session (so the refusal above is about who asks).
    const own = await doctor.page.evaluate(async (id) => {
      const room = (window as unknown as { huizhen: { room: { records: { fetch(id: string): Promise<Blob> } } } })
        .huizhen.room;
      return (await room.records.fetch(id)).size;
    }, secret);
    expect(own).toBeGreaterThan(0);
  });
});
