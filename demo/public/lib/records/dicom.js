/**
 * DICOM Part 10 images for the record viewer, read with Cornerstone's
 * `dicom-parser` (served same-origin under /vendor/dicom-parser/): the
 * parser every Cornerstone-based medical viewer uses, small, with no
 * dependencies (dcmjs would bring a writer and structured reports we do not
 * need). Grayscale images, uncompressed (explicit or implicit VR little
 * endian, 8 or 16 bits, signed or not, MONOCHROME1/2) or JPEG baseline
 * (whose frames the browser's own JPEG decoder opens), one or several frames,
 * drawn with a window/level (VOI LUT) like a radiology viewer. Other
 * transfer syntaxes and colour images are refused with a sentence saying so.
 */

export class DicomError extends Error {
  constructor(message) {
    super(message);
    this.name = 'DicomError';
  }
}

const EXPLICIT_LE = '1.2.840.10008.1.2.1';
const IMPLICIT_LE = '1.2.840.10008.1.2';
const JPEG_BASELINE = '1.2.840.10008.1.2.4.50';
/** Largest frame (pixels) and number of frames this viewer opens. */
const MAX_PIXELS = 40_000_000;
const MAX_FRAMES = 2000;

/** @type {Promise<any> | null} */
let library = null;

/** dicom-parser is a UMD script, not a module: loaded once as a classic script (allowed by script-src 'self'). */
function dicomParser() {
  library ??= new Promise((resolve, reject) => {
    const script = document.createElement('script');
    script.src = '/vendor/dicom-parser/dicomParser.min.js';
    script.onload = () => resolve(/** @type {any} */ (window).dicomParser);
    script.onerror = () => {
      library = null;
      reject(new DicomError('The DICOM reader could not be loaded.'));
    };
    document.head.append(script);
  });
  return library;
}

/**
 * @typedef {{ rows: number, columns: number, frames: number, modality: string, description: string,
 *   monochrome1: boolean, slope: number, intercept: number, defaultWindow: { center: number, width: number },
 *   range: { min: number, max: number }, frame(n: number): Promise<Float32Array> }} DicomImage
 */

/**
 * Parses a Part 10 file.
 * @param {ArrayBuffer} buffer
 * @returns {Promise<DicomImage>}
 */
export async function parseDicom(buffer) {
  const parser = await dicomParser();
  const bytes = new Uint8Array(buffer);
  if (bytes.length < 132 || String.fromCharCode(...bytes.subarray(128, 132)) !== 'DICM') {
    throw new DicomError('This is not a DICOM Part 10 file (no DICM marker).');
  }
  let data;
  try {
    data = parser.parseDicom(bytes);
  } catch (err) {
    // dicom-parser throws strings, or { exception, dataSet } for a file cut short.
    const reason = typeof err === 'string' ? err : (err?.exception ?? err?.message ?? String(err));
    if (err?.dataSet?.elements?.x7fe00010) data = err.dataSet;
    else throw new DicomError(`The DICOM dataset is damaged (${String(reason).replace(/^dicomParser\.\w+: /, '')}).`);
  }
  const str = (t) => (data.string(t) ?? '').trim();
  const us = (t, fallback) => (data.elements[t] && data.elements[t].length >= 2 ? data.uint16(t) : fallback);
  const ds = (t) => {
    const v = data.floatString(t);
    return Number.isFinite(v) ? v : undefined;
  };
  const syntax = str('x00020010') || EXPLICIT_LE;
  if (syntax !== EXPLICIT_LE && syntax !== IMPLICIT_LE && syntax !== JPEG_BASELINE) {
    throw new DicomError(
      `This DICOM image uses transfer syntax ${syntax}; this viewer shows uncompressed and JPEG baseline images.`,
    );
  }
  const rows = us('x00280010', 0);
  const columns = us('x00280011', 0);
  const samples = us('x00280002', 1);
  const bitsAllocated = us('x00280100', 16);
  const bitsStored = us('x00280101', bitsAllocated);
  const signed = us('x00280103', 0) === 1;
  const photometric = str('x00280004') || 'MONOCHROME2';
  const declaredFrames = Math.max(1, Math.round(ds('x00280008') ?? 1));
  const pixel = data.elements.x7fe00010;
  if (!pixel) throw new DicomError('This DICOM file has no image (no pixel data).');
  if (!rows || !columns) throw new DicomError('This DICOM image has no size (rows / columns missing).');
  if (rows * columns > MAX_PIXELS) throw new DicomError(`This DICOM image is too large to show (${columns}×${rows}).`);
  if (samples !== 1 || !photometric.startsWith('MONOCHROME')) {
    throw new DicomError(`This viewer shows grayscale DICOM images only (this one is ${photometric}).`);
  }
  if (bitsAllocated !== 8 && bitsAllocated !== 16)
    throw new DicomError(`${bitsAllocated}-bit DICOM pixels are not supported.`);
  const slope = ds('x00281053') ?? 1;
  const intercept = ds('x00281052') ?? 0;

  /** @type {(n: number) => Promise<Float32Array>} modality values (stored value × slope + intercept) of frame n (1-based) */
  let frame;
  let available;
  if (syntax === JPEG_BASELINE) {
    if (!pixel.encapsulatedPixelData || !pixel.fragments?.length)
      throw new DicomError('This JPEG DICOM image has no encapsulated frames.');
    available = Math.min(declaredFrames, MAX_FRAMES, pixel.fragments.length);
    let table = null;
    const jpegOf = (n) => {
      if (available === 1) return parser.readEncapsulatedPixelDataFromFragments(data, pixel, 0, pixel.fragments.length);
      table ??= pixel.basicOffsetTable?.length
        ? pixel.basicOffsetTable
        : parser.createJPEGBasicOffsetTable(data, pixel);
      return parser.readEncapsulatedImageFrame(data, pixel, n - 1, table);
    };
    frame = async (n) => {
      let jpeg;
      try {
        jpeg = jpegOf(Math.min(Math.max(n, 1), available));
      } catch (err) {
        throw new DicomError(`This JPEG DICOM frame cannot be read (${String(err?.message ?? err)}).`);
      }
      const gray = await decodeJpeg(jpeg, columns, rows);
      const out = new Float32Array(rows * columns);
      for (let i = 0; i < out.length; i++) out[i] = gray[i] * slope + intercept;
      return out;
    };
  } else {
    if (pixel.encapsulatedPixelData)
      throw new DicomError('This DICOM image is stored encapsulated, which its transfer syntax does not allow.');
    const bytesPerPixel = bitsAllocated / 8;
    const frameBytes = rows * columns * bytesPerPixel;
    const length = Math.min(pixel.length, bytes.length - pixel.dataOffset);
    if (length < frameBytes) throw new DicomError('The DICOM pixel data is shorter than the image size says.');
    available = Math.max(1, Math.min(declaredFrames, MAX_FRAMES, Math.floor(length / frameBytes)));
    const view = new DataView(buffer);
    const shift = 32 - bitsStored;
    frame = async (n) => {
      const out = new Float32Array(rows * columns);
      const start = pixel.dataOffset + (Math.min(Math.max(n, 1), available) - 1) * frameBytes;
      for (let i = 0; i < out.length; i++) {
        let v = bitsAllocated === 8 ? bytes[start + i] : view.getUint16(start + i * 2, true);
        // Only bitsStored bits count; the sign bit is the highest of them.
        v = signed ? (v << shift) >> shift : (v << shift) >>> shift;
        out[i] = v * slope + intercept;
      }
      return out;
    };
  }
  const first = await frame(1);
  let min = Infinity;
  let max = -Infinity;
  for (const v of first) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const center = ds('x00281050');
  const width = ds('x00281051');
  const defaultWindow =
    center !== undefined && width !== undefined && width > 0
      ? { center, width }
      : { center: (min + max) / 2, width: Math.max(1, max - min) };
  return {
    rows,
    columns,
    frames: available,
    modality: str('x00080060'),
    description: str('x0008103e') || str('x00081030'),
    monochrome1: photometric === 'MONOCHROME1',
    slope,
    intercept,
    defaultWindow,
    range: { min, max },
    frame: (n) => (n === 1 ? Promise.resolve(first) : frame(n)),
  };
}

/** One grayscale JPEG frame through the browser's decoder: its luminance, one byte per pixel. */
async function decodeJpeg(jpeg, columns, rows) {
  let bitmap;
  try {
    bitmap = await createImageBitmap(new Blob([jpeg], { type: 'image/jpeg' }));
  } catch {
    throw new DicomError('This DICOM frame is not a readable JPEG image.');
  }
  try {
    if (bitmap.width !== columns || bitmap.height !== rows)
      throw new DicomError(`This DICOM frame is ${bitmap.width}×${bitmap.height}, not ${columns}×${rows} as declared.`);
    const canvas = new OffscreenCanvas(columns, rows);
    const ctx = /** @type {OffscreenCanvasRenderingContext2D} */ (canvas.getContext('2d'));
    ctx.drawImage(bitmap, 0, 0);
    const rgba = ctx.getImageData(0, 0, columns, rows).data;
    const gray = new Uint8Array(columns * rows);
    for (let i = 0; i < gray.length; i++) gray[i] = rgba[i * 4];
    return gray;
  } finally {
    bitmap.close();
  }
}

/**
 * Grayscale RGBA for a frame through a linear window (DICOM's VOI LUT function).
 * @param {DicomImage} image  @param {Float32Array} values  @param {number} center  @param {number} width
 */
export function windowed(image, values, center, width) {
  const out = new Uint8ClampedArray(values.length * 4);
  const w = Math.max(1, width);
  const low = center - 0.5 - (w - 1) / 2;
  const high = center - 0.5 + (w - 1) / 2;
  for (let i = 0; i < values.length; i++) {
    const x = values[i];
    let y = x <= low ? 0 : x > high ? 255 : ((x - (center - 0.5)) / (w - 1) + 0.5) * 255;
    if (image.monochrome1) y = 255 - y;
    const o = i * 4;
    out[o] = out[o + 1] = out[o + 2] = y;
    out[o + 3] = 255;
  }
  return out;
}
