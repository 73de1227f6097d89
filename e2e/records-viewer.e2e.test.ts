/**
 * The demo's records viewer on pdf.js and dicom-parser, in real Chromium: a
 * PDF printed by Chromium with embedded TrueType Latin and CJK fonts shows its text where
 * the printing page put it (ink compared cell by cell with that page's own
 * screenshot); DICOM images render (uncompressed multi-frame, JPEG baseline
 * single and multi-frame decoded by the browser's JPEG decoder) and the
 * window/level changes their pixels; crafted hostile PDFs end quickly with a
 * drawn page or a clear message. The doctor is alone in a clinic with camera
 * and microphone off: this is about drawing records.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  INK,
  PRINTED_PAGE,
  PRINTED_TEXT,
  ffmpegJpeg,
  hostilePdfs,
  inkGridIn,
  makeJpegDicom,
  makeMultiFrameDicom,
  printedPdf,
  type PrintedPdf,
} from './helpers/recordFixtures.js';
import {
  demoState,
  describePage,
  joinViaUi,
  launchChromium,
  openDemo,
  openTab,
  reportFailure,
  type Chromium,
  type DemoPage,
  type ViewerState,
} from './helpers/browser.js';
import { startServer, type HuizhenServer } from './helpers/server.js';
import { waitFor } from './helpers/wait.js';

describe('the records viewer on pdf.js and dicom-parser', () => {
  let server: HuizhenServer | undefined;
  let chromium: Chromium | undefined;
  let files: string;
  let doctor: DemoPage;
  let printed: PrintedPdf;
  const room = `e2e-viewer-${Date.now().toString(36)}`;

  beforeAll(async () => {
    files = await mkdtemp(path.join(os.tmpdir(), 'huizhen-e2e-viewer-'));
    server = await startServer();
    chromium = await launchChromium();
    printed = await printedPdf(chromium.browser);
    await writeFile(path.join(files, 'printed-report.pdf'), printed.pdf);
    // A horizontal ramp, and a vertical one: which frame is drawn shows in the pixels.
    const across = ffmpegJpeg(64, 48, (x) => x * 4);
    const down = ffmpegJpeg(64, 48, (_x, y) => y * 5);
    await writeFile(path.join(files, 'us-jpeg.dcm'), makeJpegDicom(64, 48, [across]));
    await writeFile(path.join(files, 'us-cine-jpeg.dcm'), makeJpegDicom(64, 48, [across, down]));
    await writeFile(
      path.join(files, 'ct-frames.dcm'),
      makeMultiFrameDicom(32, 32, 3, (f) => f * 1000 - 500),
    );
    for (const [name, bytes] of Object.entries(hostilePdfs())) await writeFile(path.join(files, name), bytes);
    doctor = await openDemo(chromium, server.url, 'doctor');
    await joinViaUi(doctor, { name: 'Dr Zhang Wei', role: 'doctor', room, kind: 'clinic', camera: false, mic: false });
  });

  afterEach(async (ctx) => {
    if (ctx.task.result?.state !== 'fail') return;
    const viewer = JSON.stringify((await demoState(doctor).catch(() => null))?.viewer);
    await reportFailure([doctor], server, { viewer });
  });

  afterAll(async () => {
    await chromium?.close();
    await server?.stop();
    if (files) await rm(files, { recursive: true, force: true });
  });

  /** Uploads a file, shares it, and returns its record id. */
  async function shareFile(file: string): Promise<string> {
    await openTab(doctor, 'records');
    const input = await doctor.page.waitForSelector('input[type="file"][data-testid="record-file"]');
    await input!.uploadFile(path.join(files, file));
    await doctor.page.select('[data-testid="record-visibility"]', 'everyone');
    await doctor.page.click('[data-testid="record-upload"]');
    const id = await waitFor(
      `the doctor to list ${file}`,
      async () => ((await demoState(doctor))?.records ?? []).find((r) => r.name === file)?.id,
      { describe: () => describePage(doctor) },
    );
    await doctor.page.click(`[data-testid="record-item"][data-record-id="${id}"] [data-testid="record-share"]`);
    return id;
  }

  async function viewerShows(what: string, want: (v: ViewerState) => boolean, timeoutMs = 30_000) {
    return waitFor(
      `the viewer to show ${what}`,
      async () => {
        const v = (await demoState(doctor))?.viewer;
        return v && want(v) ? v : undefined;
      },
      { timeoutMs, describe: async () => (await demoState(doctor))?.viewer ?? describePage(doctor) },
    );
  }

  /** The drawn canvas's gray value at fractions (x, y). */
  function grayAt(points: [number, number][]) {
    return doctor.page.evaluate((points) => {
      const canvas = document.querySelector<HTMLCanvasElement>('[data-testid="viewer-canvas"]')!;
      const ctx = canvas.getContext('2d')!;
      return points.map(
        ([x, y]) => ctx.getImageData(Math.floor(x * canvas.width), Math.floor(y * canvas.height), 1, 1).data[0]!,
      );
    }, points);
  }

  async function setWindow(center: number, width: number) {
    await doctor.page.evaluate(
      (center, width) => {
        const set = (testid: string, value: number) => {
          const input = document.querySelector<HTMLInputElement>(`[data-testid="${testid}"]`)!;
          input.value = String(value);
          input.dispatchEvent(new Event('input', { bubbles: true }));
        };
        set('viewer-window-width', width);
        set('viewer-window-center', center);
      },
      center,
      width,
    );
    await viewerShows(
      `window ${center} / ${width}`,
      (v) => v.view.windowCenter === center && v.view.windowWidth === width,
    );
  }

  it('shows the glyphs of a PDF with embedded TrueType Latin and CJK fonts where the printing page put them', async () => {
    expect(printed.pdf.includes('/FontFile2'), 'the fixture embeds TrueType fonts').toBe(true);
    expect(printed.pdf.includes('WenQuanYi'), 'the fixture embeds the CJK font').toBe(true);
    const id = await shareFile('printed-report.pdf');
    await viewerShows('the printed PDF', (v) => v.recordId === id && v.rendered?.page === 1);
    const drawn = await doctor.page.evaluate(
      `(${inkGridIn.toString()})(document.querySelector('[data-testid="viewer-canvas"]'), ${JSON.stringify(INK.grid)}, ${INK.share})`,
    );
    const reference = printed.inkGrid;
    const inked = reference.filter(Boolean).length;
    expect(inked, 'the reference has text cells').toBeGreaterThan(6);
    const agree = (drawn as boolean[]).filter((d, i) => d === reference[i]).length;
    const show = (g: boolean[]) =>
      Array.from({ length: INK.grid.rows }, (_, r) =>
        g
          .slice(r * INK.grid.columns, (r + 1) * INK.grid.columns)
          .map((c) => (c ? '#' : '.'))
          .join(''),
      ).join('\n');
    const grids = `reference:\n${show(reference)}\ndrawn:\n${show(drawn as boolean[])}`;
    // Antialiasing at cell borders may flip a cell or two; the text lines must be where the printing page put them.
    expect(agree / reference.length, grids).toBeGreaterThan(0.95);
    const textCellsDrawn = reference.filter((r, i) => r && (drawn as boolean[])[i]).length;
    expect(textCellsDrawn / inked, grids).toBeGreaterThan(0.9);
    // Each line, the CJK one included, has its own ink in its row.
    for (const block of PRINTED_TEXT) {
      const row = Math.floor((block.top * INK.grid.rows) / PRINTED_PAGE.heightPx);
      const cells = (drawn as boolean[]).slice(row * INK.grid.columns, (row + 1) * INK.grid.columns);
      expect(cells.filter(Boolean).length, `${block.font}: ${block.text}\n${grids}`).toBeGreaterThanOrEqual(2);
    }
  });

  it('shows a JPEG baseline DICOM image decoded by the browser, and the window/level changes its pixels', async () => {
    const id = await shareFile('us-jpeg.dcm');
    const v = await viewerShows('the JPEG DICOM', (v) => v.recordId === id && v.rendered !== null);
    expect(v.pageCount).toBe(1);
    const [left, middle, right] = await grayAt([
      [0.05, 0.5],
      [0.5, 0.5],
      [0.95, 0.5],
    ]);
    // The ramp 0…252 across: the default window spans it.
    expect(left!).toBeLessThan(40);
    expect(Math.abs(middle! - 128)).toBeLessThan(30);
    expect(right!).toBeGreaterThan(215);
    // A narrow window around 128: the left half black, the right half white.
    await setWindow(128, 8);
    const after = await waitFor('the JPEG image redrawn with the narrow window', async () => {
      const g = await grayAt([
        [0.25, 0.5],
        [0.75, 0.5],
      ]);
      return g[0] === 0 && g[1] === 255 ? g : undefined;
    });
    expect(after).toEqual([0, 255]);
  });

  it('steps through the frames of a multi-frame JPEG DICOM', async () => {
    const id = await shareFile('us-cine-jpeg.dcm');
    const v = await viewerShows('the cine DICOM', (v) => v.recordId === id && v.rendered?.page === 1);
    expect(v.pageCount).toBe(2);
    const first = await grayAt([
      [0.1, 0.1],
      [0.9, 0.1],
    ]);
    expect(first[1]! - first[0]!, 'frame 1 ramps across').toBeGreaterThan(150);
    await doctor.page.click('[data-testid="viewer-next"]');
    await viewerShows('frame 2', (v) => v.recordId === id && v.rendered?.page === 2);
    const second = await grayAt([
      [0.9, 0.1],
      [0.9, 0.9],
    ]);
    expect(second[1]! - second[0]!, 'frame 2 ramps down').toBeGreaterThan(150);
  });

  it('steps through an uncompressed multi-frame DICOM under one window', async () => {
    const id = await shareFile('ct-frames.dcm');
    const v = await viewerShows('the CT frames', (v) => v.recordId === id && v.rendered?.page === 1);
    expect(v.pageCount).toBe(3);
    await setWindow(1500, 1000);
    const seen: number[] = [];
    for (const page of [1, 2, 3]) {
      if (page > 1) await doctor.page.click('[data-testid="viewer-next"]');
      await viewerShows(`frame ${page}`, (v) => v.rendered?.page === page && v.view.windowCenter === 1500);
      seen.push(
        await waitFor(`frame ${page} drawn with the window`, async () => {
          const [g] = await grayAt([[0.5, 0.5]]);
          const want = [0, 128, 255][page - 1]!;
          return Math.abs(g! - want) <= 2 ? g : undefined;
        }),
      );
    }
    expect(seen[0]).toBe(0);
    expect(Math.abs(seen[1]! - 128)).toBeLessThanOrEqual(2);
    expect(seen[2]).toBe(255);
  });

  it('ends every crafted hostile PDF quickly with a drawn page or a clear message', async () => {
    const outcomes: Record<string, string> = {};
    for (const name of Object.keys(hostilePdfs())) {
      const started = Date.now();
      const id = await shareFile(name);
      // Drawn (the viewer says which page it finished) or refused (a sentence in place of the page).
      const message = await waitFor(
        `${name} drawn or refused`,
        async () => {
          const v = (await demoState(doctor))?.viewer;
          if (v?.recordId !== id) return undefined;
          const text = await doctor.page.evaluate(() => {
            const m = document.querySelector<HTMLElement>('[data-testid="viewer-message"]');
            return m && !m.hidden ? (m.textContent ?? '') : '';
          });
          if (text && !text.startsWith('Opening')) return { text };
          return v.rendered !== null ? { text: '' } : undefined;
        },
        { timeoutMs: 45_000, describe: async () => (await demoState(doctor))?.viewer ?? describePage(doctor) },
      );
      const ink = message.text
        ? 0
        : await doctor.page.evaluate(() => {
            const canvas = document.querySelector<HTMLCanvasElement>('[data-testid="viewer-canvas"]')!;
            const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
            let dark = 0;
            for (let i = 0; i < data.length; i += 4) if (data[i]! + data[i + 1]! + data[i + 2]! < 384) dark++;
            return dark;
          });
      outcomes[name] = `${message.text || (ink ? 'drawn with ink' : 'drawn blank')} (${Date.now() - started} ms)`;
      // The page stays usable: the demo still answers.
      expect(await doctor.page.evaluate(() => document.readyState)).toBe('complete');
    }
    console.log('hostile PDFs:', outcomes);
    expect(outcomes['not-a-pdf.pdf']).toMatch(/cannot be shown here: .*PDF/);
    expect(outcomes['page-cycle.pdf']).toMatch(/cannot be shown here/);
    // Their black rectangle is drawn around what is refused (the loop, the oversized image).
    for (const name of ['self-form.pdf', 'image-bomb.pdf', 'content-bomb.pdf', 'huge-page.pdf'])
      expect(outcomes[name], name).toMatch(/^drawn with ink/);
    expect(outcomes['predictor-loop.pdf']).toMatch(/^(drawn|This page cannot be drawn)/);
  });
});
