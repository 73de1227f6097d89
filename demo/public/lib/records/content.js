/**
 * The content of a shared record, ready to draw: PDF pages (Mozilla's pdf.js,
 * see pdfjs.js), PNG / JPEG images, and grayscale DICOM frames with window/level.
 * The bytes come through the SDK (`room.records.fetch`), which signs the
 * download for this participant; nothing is cached beyond the consult.
 */
import { parseDicom, windowed } from './dicom.js';
import { openPdf } from './pdfjs.js';

/** Largest canvas the viewer draws into (pixels per side, and in all). */
const MAX_SIDE = 8192;
const MAX_AREA = 24_000_000;

/**
 * @typedef {{ page: number, zoom: number, rotation: number, windowCenter: number | null, windowWidth: number | null }} View
 * @typedef {{
 *   kind: 'pdf' | 'image' | 'dicom',
 *   pageCount: number,
 *   describe: string,
 *   size(page: number): { width: number, height: number },
 *   draw(canvas: HTMLCanvasElement, page: number, scale: number, view: View, stale: () => boolean): Promise<{ skipped: string[] } | null>,
 *   window?: { center: number, width: number, min: number, max: number },
 *   close(): void,
 * }} Content
 */

/**
 * @param {any} room  @param {{ id: string, type: string, name: string }} record
 * @returns {Promise<Content>}
 */
export async function loadContent(room, record) {
  const blob = await room.records.fetch(record.id);
  switch (record.type) {
    case 'application/pdf':
      return pdfContent(new Uint8Array(await blob.arrayBuffer()));
    case 'image/png':
    case 'image/jpeg':
      return imageContent(await createImageBitmap(blob), record.type);
    case 'application/dicom':
      return dicomContent(await blob.arrayBuffer());
    default:
      throw new Error(`This viewer cannot show ${record.type} records.`);
  }
}

/** Sizes a canvas for `width` × `height` units at `scale` px per unit, within the limits; returns the scale used. */
function fit(canvas, width, height, scale) {
  let s = scale;
  s = Math.min(s, MAX_SIDE / width, MAX_SIDE / height, Math.sqrt(MAX_AREA / (width * height)));
  canvas.width = Math.max(1, Math.round(width * s));
  canvas.height = Math.max(1, Math.round(height * s));
  return s;
}

async function pdfContent(bytes) {
  const doc = await openPdf(bytes);
  const pages = `${doc.totalPages} page${doc.totalPages === 1 ? '' : 's'}`;
  const cut = doc.totalPages > doc.pageCount ? ` (the first ${doc.pageCount} shown)` : '';
  return {
    kind: 'pdf',
    pageCount: doc.pageCount,
    describe: `PDF · ${pages}${cut}`,
    size: (page) => doc.pageSize(page),
    async draw(canvas, page, scale, _view, stale) {
      const size = doc.pageSize(page);
      // Drawn off screen first, so a slow page never shows half-drawn.
      const scratch = document.createElement('canvas');
      const used = fit(scratch, size.width, size.height, scale);
      const drawn = await doc.render(page, scratch, used, stale);
      if (!drawn || stale()) return null;
      canvas.width = scratch.width;
      canvas.height = scratch.height;
      canvas.getContext('2d').drawImage(scratch, 0, 0);
      return { skipped: [] };
    },
    close() {
      doc.close();
    },
  };
}

function imageContent(bitmap, type) {
  return {
    kind: 'image',
    pageCount: 1,
    describe: `${type === 'image/png' ? 'PNG' : 'JPEG'} image · ${bitmap.width}×${bitmap.height}`,
    size: () => ({ width: bitmap.width, height: bitmap.height }),
    async draw(canvas, _page, scale) {
      fit(canvas, bitmap.width, bitmap.height, scale);
      const ctx = canvas.getContext('2d');
      ctx.imageSmoothingEnabled = scale < 4;
      ctx.imageSmoothingQuality = 'high';
      ctx.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
      return { skipped: [] };
    },
    close() {
      bitmap.close();
    },
  };
}

async function dicomContent(buffer) {
  const image = await parseDicom(buffer);
  /** @type {{ key: string, bitmap: ImageBitmap } | null} */
  let cached = null;
  const title = [image.modality, image.description].filter(Boolean).join(' · ');
  return {
    kind: 'dicom',
    pageCount: image.frames,
    describe: `DICOM${title ? ` · ${title}` : ''} · ${image.columns}×${image.rows}${image.frames > 1 ? ` · ${image.frames} frames` : ''}`,
    window: { ...image.defaultWindow, min: image.range.min, max: image.range.max },
    size: () => ({ width: image.columns, height: image.rows }),
    async draw(canvas, page, scale, view, stale) {
      const center = view.windowCenter ?? image.defaultWindow.center;
      const width = view.windowWidth ?? image.defaultWindow.width;
      const key = `${page}|${center}|${width}`;
      if (cached?.key !== key) {
        const rgba = windowed(image, await image.frame(page), center, width);
        const bitmap = await createImageBitmap(new ImageData(rgba, image.columns, image.rows));
        if (stale()) {
          bitmap.close();
          return null;
        }
        cached?.bitmap.close();
        cached = { key, bitmap };
      }
      fit(canvas, image.columns, image.rows, scale);
      const ctx = canvas.getContext('2d');
      // Enlarged pixels stay crisp squares: a radiologist wants to see them.
      ctx.imageSmoothingEnabled = scale < 1;
      ctx.drawImage(cached.bitmap, 0, 0, canvas.width, canvas.height);
      return { skipped: [] };
    },
    close() {
      cached?.bitmap.close();
    },
  };
}
