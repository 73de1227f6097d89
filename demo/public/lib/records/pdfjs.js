/**
 * PDF records through Mozilla's pdf.js (`pdfjs-dist`, served same-origin from
 * node_modules under /vendor/pdfjs/): a maintained, fuzzed parser with
 * embedded fonts, CJK CMaps, shadings and JPEG 2000. Records come from other
 * hospitals, so each document gets its own worker, no eval, no WebAssembly
 * (the CSP allows neither), image and canvas size limits, and time limits:
 * a file that keeps the worker busy is cut off by destroying that worker,
 * and the viewer says so instead of hanging.
 */
import { GlobalWorkerOptions, getDocument } from '/vendor/pdfjs/build/pdf.min.mjs';

GlobalWorkerOptions.workerSrc = '/vendor/pdfjs/build/pdf.worker.min.mjs';

/** Pages a record may have in this viewer (each is parsed for its size on open). */
export const MAX_PAGES = 500;
/** Decoded image pixels pdf.js accepts per image; larger ones are left out. */
const MAX_IMAGE_PIXELS = 40_000_000;
const OPEN_TIMEOUT_MS = 15_000;
const RENDER_TIMEOUT_MS = 15_000;

export class PdfError extends Error {
  constructor(message) {
    super(message);
    this.name = 'PdfError';
  }
}

/** Resolves `promise`, or runs `onTimeout` and rejects with `message` after `ms`. */
function within(promise, ms, message, onTimeout) {
  let timer;
  const timeout = new Promise((_resolve, reject) => {
    timer = setTimeout(() => {
      onTimeout();
      reject(new PdfError(message));
    }, ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * @param {Uint8Array} bytes
 * @returns {Promise<{ pageCount: number, totalPages: number, pageSize(page: number): { width: number, height: number },
 *   render(page: number, canvas: HTMLCanvasElement, scale: number, stale: () => boolean): Promise<boolean>, close(): void }>}
 */
export async function openPdf(bytes) {
  const origin = location.origin;
  const task = getDocument({
    data: bytes,
    isEvalSupported: false,
    useWasm: false,
    enableXfa: false,
    useSystemFonts: false,
    disableAutoFetch: true,
    maxImageSize: MAX_IMAGE_PIXELS,
    canvasMaxAreaInBytes: 24_000_000 * 4,
    cMapUrl: `${origin}/vendor/pdfjs/cmaps/`,
    cMapPacked: true,
    standardFontDataUrl: `${origin}/vendor/pdfjs/standard_fonts/`,
    verbosity: 0,
  });
  let doc;
  try {
    doc = await within(task.promise, OPEN_TIMEOUT_MS, 'the PDF took too long to open.', () => void task.destroy());
  } catch (err) {
    void task.destroy();
    if (err instanceof PdfError) throw err;
    const name = /** @type {{ name?: string }} */ (err)?.name;
    throw new PdfError(
      name === 'PasswordException'
        ? 'the PDF is password-protected.'
        : `the file is not a readable PDF (${err instanceof Error ? err.message : String(err)}).`,
    );
  }
  const totalPages = doc.numPages;
  const pageCount = Math.min(totalPages, MAX_PAGES);
  /** @type {{ width: number, height: number }[]} */
  let sizes;
  try {
    sizes = await within(
      Promise.all(
        Array.from({ length: pageCount }, async (_, i) => {
          const viewport = (await doc.getPage(i + 1)).getViewport({ scale: 1 });
          return { width: Math.max(1, viewport.width), height: Math.max(1, viewport.height) };
        }),
      ),
      OPEN_TIMEOUT_MS,
      'the PDF took too long to open.',
      () => void task.destroy(),
    );
  } catch (err) {
    void task.destroy();
    throw err instanceof PdfError ? err : new PdfError(`its pages cannot be read (${err?.message ?? err}).`);
  }
  let destroyed = false;
  return {
    pageCount,
    totalPages,
    pageSize: (page) => sizes[Math.min(Math.max(page, 1), pageCount) - 1],
    async render(page, canvas, scale, stale) {
      if (destroyed) throw new PdfError('this PDF was cut off after it kept the viewer busy too long.');
      const pdfPage = await doc.getPage(page);
      const viewport = pdfPage.getViewport({ scale });
      const renderTask = pdfPage.render({ canvas, viewport, background: '#ffffff' });
      const poll = setInterval(() => stale() && renderTask.cancel(), 100);
      try {
        await within(renderTask.promise, RENDER_TIMEOUT_MS, 'drawing this page took too long.', () => {
          renderTask.cancel();
          // A worker stuck in one operation does not hear the cancel: end it.
          destroyed = true;
          void task.destroy();
        });
        return true;
      } catch (err) {
        if (/** @type {{ name?: string }} */ (err)?.name === 'RenderingCancelledException') return false;
        throw err;
      } finally {
        clearInterval(poll);
      }
    },
    close() {
      destroyed = true;
      void task.destroy();
    },
  };
}
