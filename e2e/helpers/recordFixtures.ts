/**
 * Record files for the viewer's browser tests, made at test time: DICOM
 * (uncompressed multi-frame, and JPEG baseline wrapping frames from Debian's
 * ffmpeg) through a tiny Part 10 writer, a real-world PDF printed by
 * Chromium with embedded TrueType Latin and CJK fonts, and crafted hostile PDFs.
 */
import { execFileSync } from 'node:child_process';
import { deflateSync } from 'node:zlib';
import type { Browser } from 'puppeteer';

// --- DICOM
function element(group: number, el: number, vr: string, value: Buffer): Buffer {
  const long = ['OB', 'OW', 'SQ', 'UN', 'UT'].includes(vr);
  const head = Buffer.alloc(long ? 12 : 8);
  head.writeUInt16LE(group, 0);
  head.writeUInt16LE(el, 2);
  head.write(vr, 4, 'latin1');
  if (long) head.writeUInt32LE(value.length, 8);
  else head.writeUInt16LE(value.length, 6);
  return Buffer.concat([head, value]);
}
const even = (b: Buffer, pad = 0x20) => (b.length % 2 ? Buffer.concat([b, Buffer.from([pad])]) : b);
const text = (s: string) => even(Buffer.from(s, 'latin1'));
const uid = (s: string) => even(Buffer.from(s, 'latin1'), 0);
const u16 = (n: number) => {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(n);
  return b;
};
function item(group: number, el: number, value: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt16LE(group, 0);
  head.writeUInt16LE(el, 2);
  head.writeUInt32LE(value.length, 4);
  return Buffer.concat([head, value]);
}

function part10(syntax: string, dataset: Buffer[]): Buffer {
  const meta = Buffer.concat([
    element(0x0002, 0x0001, 'OB', Buffer.from([0, 1])),
    element(0x0002, 0x0002, 'UI', uid('1.2.840.10008.5.1.4.1.1.7')),
    element(0x0002, 0x0003, 'UI', uid('1.2.826.0.1.3680043.8.498.2')),
    element(0x0002, 0x0010, 'UI', uid(syntax)),
  ]);
  const groupLength = Buffer.alloc(4);
  groupLength.writeUInt32LE(meta.length);
  return Buffer.concat([
    Buffer.alloc(128),
    Buffer.from('DICM', 'latin1'),
    element(0x0002, 0x0000, 'UL', groupLength),
    meta,
    ...dataset,
  ]);
}

function imageModule(width: number, height: number, bits: 8 | 16, frames: number): Buffer[] {
  return [
    element(0x0008, 0x0060, 'CS', text('OT')),
    element(0x0028, 0x0002, 'US', u16(1)),
    element(0x0028, 0x0004, 'CS', text('MONOCHROME2')),
    ...(frames > 1 ? [element(0x0028, 0x0008, 'IS', text(String(frames)))] : []),
    element(0x0028, 0x0010, 'US', u16(height)),
    element(0x0028, 0x0011, 'US', u16(width)),
    element(0x0028, 0x0100, 'US', u16(bits)),
    element(0x0028, 0x0101, 'US', u16(bits === 16 ? 12 : 8)),
    element(0x0028, 0x0102, 'US', u16(bits === 16 ? 11 : 7)),
    element(0x0028, 0x0103, 'US', u16(0)),
  ];
}

/**
 * Uncompressed 16-bit frames: frame f (1-based) is flat at `value(f)` but for its top row, a ramp
 * 0…3000 that gives the image a range a window can move in.
 */
export function makeMultiFrameDicom(width: number, height: number, frames: number, value: (f: number) => number) {
  const pixels = Buffer.alloc(width * height * 2 * frames);
  for (let f = 0; f < frames; f++)
    for (let i = 0; i < width * height; i++)
      pixels.writeUInt16LE(
        i < width ? Math.round((i * 3000) / (width - 1)) : value(f + 1),
        (f * width * height + i) * 2,
      );
  return part10('1.2.840.10008.1.2.1', [
    ...imageModule(width, height, 16, frames),
    element(0x7fe0, 0x0010, 'OW', pixels),
  ]);
}

/** A grayscale baseline JPEG made by Debian's ffmpeg from 8-bit pixels. */
export function ffmpegJpeg(width: number, height: number, pixel: (x: number, y: number) => number): Buffer {
  const raw = Buffer.alloc(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) raw[y * width + x] = pixel(x, y);
  // Keep only the image: no comment, so the stream is a plain baseline JPEG (SOF0).
  return execFileSync(
    'ffmpeg',
    ['-v', 'error', '-f', 'rawvideo', '-pix_fmt', 'gray', '-s', `${width}x${height}`, '-i', '-'].concat([
      '-frames:v',
      '1',
      '-c:v',
      'mjpeg',
      '-pix_fmt',
      'gray',
      '-q:v',
      '2',
      '-f',
      'mjpeg',
      '-',
    ]),
    { input: raw },
  );
}

/** JPEG baseline (1.2.840.10008.1.2.4.50): one encapsulated fragment per frame, with a basic offset table. */
export function makeJpegDicom(width: number, height: number, jpegs: Buffer[]): Buffer {
  const fragments = jpegs.map((j) => item(0xfffe, 0xe000, even(j, 0)));
  const table = Buffer.alloc(4 * jpegs.length);
  let offset = 0;
  fragments.forEach((f, i) => {
    table.writeUInt32LE(offset, i * 4);
    offset += f.length;
  });
  const head = Buffer.alloc(12);
  head.writeUInt16LE(0x7fe0, 0);
  head.writeUInt16LE(0x0010, 2);
  head.write('OB', 4, 'latin1');
  head.writeUInt32LE(0xffffffff, 8);
  return part10('1.2.840.10008.1.2.4.50', [
    ...imageModule(width, height, 8, jpegs.length),
    head,
    item(0xfffe, 0xe000, table),
    ...fragments,
    item(0xfffe, 0xe0dd, Buffer.alloc(0)),
  ]);
}

// --- PDF
/**
 * Text blocks of the real-world PDF, where Chromium lays them out (CSS px at 96 per inch, from the page's
 * top left). Each fits the page (Chromium shrinks a printout whose content is wider than the page),
 * and each sits inside one row of the INK grid (rows are 39.7 px), so no cell holds a sliver of a line.
 */
export const PRINTED_TEXT = [
  { text: 'Hémoglobine 13.2 g/dL — résultat validé', font: 'DejaVu Sans', left: 40, top: 90, size: 20 },
  { text: '会诊意见：血红蛋白正常，肌酐正常', font: 'WenQuanYi Micro Hei', left: 40, top: 249, size: 20 },
  { text: 'Créatinine 88 µmol/L (Ωmega test)', font: 'DejaVu Serif', left: 40, top: 407, size: 20 },
  { text: 'Na⁺ 140 mmol/L', font: 'DejaVu Sans Mono', left: 300, top: 645, size: 20 },
] as const;
/** The printed page: A5 portrait, 559 × 794 CSS px. */
export const PRINTED_PAGE = { widthPx: 559, heightPx: 794 };

export interface PrintedPdf {
  pdf: Buffer;
  /** Ink cells of the same page as Chromium shows it on screen: the reference rendering. */
  inkGrid: boolean[];
}

/** Which cells of a grid over the canvas hold dark pixels (more than `share` of a cell); runs in the browser. */
export function inkGridIn(
  canvas: HTMLCanvasElement,
  grid: { columns: number; rows: number },
  share: number,
): boolean[] {
  const { width, height } = canvas;
  const data = canvas.getContext('2d')!.getImageData(0, 0, width, height).data;
  const counts = new Array<number>(grid.columns * grid.rows).fill(0);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 4;
      if (data[o]! + data[o + 1]! + data[o + 2]! < 384)
        counts[Math.floor((y * grid.rows) / height) * grid.columns + Math.floor((x * grid.columns) / width)]!++;
    }
  const cell = (width / grid.columns) * (height / grid.rows);
  return counts.map((c) => c / cell > share);
}

/** The grid and threshold the PDF text test compares on. */
export const INK = { grid: { columns: 8, rows: 20 }, share: 0.004 };

/**
 * A lab report printed to PDF by Chromium (its fonts are embedded TrueType subsets, FontFile2),
 * with the ink grid of the same page rendered on screen by Chromium as the reference.
 */
export async function printedPdf(browser: Browser): Promise<PrintedPdf> {
  const page = await browser.newPage();
  try {
    const blocks = PRINTED_TEXT.map(
      (b) =>
        `<div style="position:absolute;left:${b.left}px;top:${b.top}px;font:${b.size}px '${b.font}';white-space:nowrap;line-height:1">${b.text}</div>`,
    ).join('');
    await page.setViewport({ width: PRINTED_PAGE.widthPx, height: PRINTED_PAGE.heightPx });
    await page.setContent(
      `<!doctype html><meta charset="utf-8"><body style="margin:0;background:#fff">${blocks}</body>`,
    );
    const pdf = Buffer.from(
      await page.pdf({ width: `${PRINTED_PAGE.widthPx}px`, height: `${PRINTED_PAGE.heightPx}px`, pageRanges: '1' }),
    );
    const png = await page.screenshot({ encoding: 'base64' });
    const inkGrid = (await page.evaluate(
      `(async () => {
        const img = new Image();
        img.src = 'data:image/png;base64,${png}';
        await img.decode();
        const canvas = document.createElement('canvas');
        canvas.width = img.naturalWidth;
        canvas.height = img.naturalHeight;
        canvas.getContext('2d').drawImage(img, 0, 0);
        return (${inkGridIn.toString()})(canvas, ${JSON.stringify(INK.grid)}, ${INK.share});
      })()`,
    )) as boolean[];
    return { pdf, inkGrid };
  } finally {
    await page.close();
  }
}

/** A PDF from numbered objects (`objects[i]` is object i + 1; object 1 is the catalog), with a correct xref. */
export function pdfOf(objects: (string | Buffer)[]): Buffer {
  const parts: Buffer[] = [Buffer.from('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n', 'latin1')];
  let length = parts[0]!.length;
  const offsets: number[] = [];
  objects.forEach((body, i) => {
    offsets.push(length);
    const chunk = Buffer.concat([
      Buffer.from(`${i + 1} 0 obj\n`, 'latin1'),
      typeof body === 'string' ? Buffer.from(body, 'latin1') : body,
      Buffer.from('\nendobj\n', 'latin1'),
    ]);
    parts.push(chunk);
    length += chunk.length;
  });
  const xref =
    `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n` +
    offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('') +
    `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${length}\n%%EOF\n`;
  parts.push(Buffer.from(xref, 'latin1'));
  return Buffer.concat(parts);
}

function stream(dict: string, data: Buffer): Buffer {
  return Buffer.concat([
    Buffer.from(`<< ${dict} /Length ${data.length} >>\nstream\n`, 'latin1'),
    data,
    Buffer.from('\nendstream', 'latin1'),
  ]);
}

const CATALOG = '<< /Type /Catalog /Pages 2 0 R >>';
const onePage = (page: string) => [CATALOG, '<< /Type /Pages /Kids [3 0 R] /Count 1 >>', page];

/** Crafted PDFs, each aimed at a parser's weak spot. */
export function hostilePdfs(): Record<string, Buffer> {
  const visible = Buffer.from('0 0 0 rg 50 50 200 100 re f', 'latin1');
  return {
    // A PNG predictor over absurd columns: the row buffer must not be allocated.
    'predictor-loop.pdf': pdfOf([
      ...onePage('<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 300] /Contents 4 0 R >>'),
      stream(
        '/Filter /FlateDecode /DecodeParms << /Predictor 15 /Colors 255 /BitsPerComponent 16 /Columns 2147483647 >>',
        deflateSync(Buffer.alloc(4096, 2)),
      ),
    ]),
    // A form that draws itself: recursion must stop.
    'self-form.pdf': pdfOf([
      ...onePage(
        '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 300] /Resources << /XObject << /F 4 0 R >> >> /Contents 5 0 R >>',
      ),
      stream(
        '/Type /XObject /Subtype /Form /BBox [0 0 300 300] /Resources << /XObject << /F 4 0 R >> >>',
        Buffer.from('/F Do', 'latin1'),
      ),
      stream('', Buffer.concat([visible, Buffer.from(' /F Do', 'latin1')])),
    ]),
    // 144 megapixels of image from 140 kB of deflate: a decompression bomb.
    'image-bomb.pdf': pdfOf([
      ...onePage(
        '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 300] /Resources << /XObject << /I 4 0 R >> >> /Contents 5 0 R >>',
      ),
      stream(
        '/Type /XObject /Subtype /Image /Width 12000 /Height 12000 /ColorSpace /DeviceGray /BitsPerComponent 8 /Filter /FlateDecode',
        deflateSync(Buffer.alloc(12000 * 12000), { level: 9 }),
      ),
      stream('', Buffer.concat([visible, Buffer.from(' q 300 0 0 300 0 0 cm /I Do Q', 'latin1')])),
    ]),
    // 100 MB of page content (blanks) from 100 kB of deflate: the content parser's bomb.
    'content-bomb.pdf': pdfOf([
      ...onePage('<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 300] /Contents 4 0 R >>'),
      stream(
        '/Filter /FlateDecode',
        deflateSync(Buffer.concat([visible, Buffer.alloc(100 * 1024 * 1024, 0x20)]), { level: 9 }),
      ),
    ]),
    // A page tree that contains itself and claims a million pages.
    'page-cycle.pdf': pdfOf([CATALOG, '<< /Type /Pages /Kids [2 0 R 2 0 R] /Count 1000000 >>']),
    // A page a kilometre wide: the canvas stays within its cap.
    'huge-page.pdf': pdfOf([
      ...onePage('<< /Type /Page /Parent 2 0 R /MediaBox [0 0 2000000 2000000] /Contents 4 0 R >>'),
      stream('', Buffer.from('0 0 0 rg 0 0 1000000 1000000 re f', 'latin1')),
    ]),
    // Not a PDF at all, but for its first and last line (what the upload check reads).
    'not-a-pdf.pdf': Buffer.from('%PDF-1.4\n' + 'garbage '.repeat(1000) + '\n%%EOF\n', 'latin1'),
  };
}
