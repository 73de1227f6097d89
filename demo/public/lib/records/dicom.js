/**
 * DICOM Part 10 images for the record viewer: the dataset is read here (no
 * library), for uncompressed grayscale pixel data (explicit or implicit VR
 * little endian, 8 or 16 bits, signed or not, MONOCHROME1/2, several frames),
 * and drawn with a window/level (VOI LUT) like a radiology viewer. Compressed
 * transfer syntaxes (JPEG, JPEG 2000, RLE) and colour images are refused with
 * a sentence saying so.
 */

export class DicomError extends Error {
  constructor(message) {
    super(message);
    this.name = 'DicomError';
  }
}

const EXPLICIT_LE = '1.2.840.10008.1.2.1';
const IMPLICIT_LE = '1.2.840.10008.1.2';
const DEFLATED = '1.2.840.10008.1.2.1.99';
/** VRs with a 2-byte reserved field and a 4-byte length in explicit VR. */
const LONG_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV']);

const tag = (group, element) => ((group << 16) | element) >>> 0;
const T = {
  transferSyntax: tag(0x0002, 0x0010),
  modality: tag(0x0008, 0x0060),
  studyDescription: tag(0x0008, 0x1030),
  seriesDescription: tag(0x0008, 0x103e),
  samplesPerPixel: tag(0x0028, 0x0002),
  photometric: tag(0x0028, 0x0004),
  frames: tag(0x0028, 0x0008),
  rows: tag(0x0028, 0x0010),
  columns: tag(0x0028, 0x0011),
  pixelSpacing: tag(0x0028, 0x0030),
  bitsAllocated: tag(0x0028, 0x0100),
  bitsStored: tag(0x0028, 0x0101),
  pixelRepresentation: tag(0x0028, 0x0103),
  windowCenter: tag(0x0028, 0x1050),
  windowWidth: tag(0x0028, 0x1051),
  rescaleIntercept: tag(0x0028, 0x1052),
  rescaleSlope: tag(0x0028, 0x1053),
  pixelData: tag(0x7fe0, 0x0010),
};
/** VRs of the elements read here, for implicit VR files (which do not carry them). */
const IMPLICIT_VR = new Map([
  [T.transferSyntax, 'UI'],
  [T.modality, 'CS'],
  [T.studyDescription, 'LO'],
  [T.seriesDescription, 'LO'],
  [T.samplesPerPixel, 'US'],
  [T.photometric, 'CS'],
  [T.frames, 'IS'],
  [T.rows, 'US'],
  [T.columns, 'US'],
  [T.pixelSpacing, 'DS'],
  [T.bitsAllocated, 'US'],
  [T.bitsStored, 'US'],
  [T.pixelRepresentation, 'US'],
  [T.windowCenter, 'DS'],
  [T.windowWidth, 'DS'],
  [T.rescaleIntercept, 'DS'],
  [T.rescaleSlope, 'DS'],
  [T.pixelData, 'OW'],
]);

/**
 * @typedef {{ rows: number, columns: number, frames: number, modality: string, description: string,
 *   monochrome1: boolean, slope: number, intercept: number, defaultWindow: { center: number, width: number },
 *   range: { min: number, max: number }, frame(n: number): Float32Array }} DicomImage
 */

/**
 * Parses a Part 10 file.
 * @param {ArrayBuffer} buffer
 * @returns {DicomImage}
 */
export function parseDicom(buffer) {
  const bytes = new Uint8Array(buffer);
  const view = new DataView(buffer);
  if (bytes.length < 132 || String.fromCharCode(...bytes.subarray(128, 132)) !== 'DICM') {
    throw new DicomError('This is not a DICOM Part 10 file (no DICM marker).');
  }
  /** @type {Map<number, { vr: string, offset: number, length: number }>} */
  const elements = new Map();
  let pos = 132;
  // File meta information: always explicit VR little endian.
  while (pos + 8 <= bytes.length && view.getUint16(pos, true) === 0x0002) {
    pos = readElement(bytes, view, pos, true, elements);
  }
  const syntax = text(bytes, elements.get(T.transferSyntax)).replace(/\0/g, '').trim() || EXPLICIT_LE;
  if (syntax === DEFLATED) throw new DicomError('Deflated DICOM files are not supported by this viewer.');
  if (syntax !== EXPLICIT_LE && syntax !== IMPLICIT_LE) {
    throw new DicomError(
      `This DICOM image is compressed (transfer syntax ${syntax}); this viewer shows uncompressed images only.`,
    );
  }
  const explicit = syntax === EXPLICIT_LE;
  while (pos + 8 <= bytes.length) {
    const next = readElement(bytes, view, pos, explicit, elements);
    if (next <= pos) break;
    pos = next;
    if (elements.has(T.pixelData)) break;
  }

  const us = (t, fallback) => {
    const e = elements.get(t);
    return e && e.length >= 2 ? view.getUint16(e.offset, true) : fallback;
  };
  const ds = (t) =>
    text(bytes, elements.get(t))
      .split('\\')
      .map((v) => Number.parseFloat(v))
      .filter(Number.isFinite);
  const rows = us(T.rows, 0);
  const columns = us(T.columns, 0);
  const samples = us(T.samplesPerPixel, 1);
  const bitsAllocated = us(T.bitsAllocated, 16);
  const bitsStored = us(T.bitsStored, bitsAllocated);
  const signed = us(T.pixelRepresentation, 0) === 1;
  const photometric = text(bytes, elements.get(T.photometric)).trim() || 'MONOCHROME2';
  const frames = Math.max(1, Math.round(ds(T.frames)[0] ?? 1));
  const pixel = elements.get(T.pixelData);
  if (!pixel) throw new DicomError('This DICOM file has no image (no pixel data).');
  if (!rows || !columns) throw new DicomError('This DICOM image has no size (rows / columns missing).');
  if (samples !== 1 || !photometric.startsWith('MONOCHROME')) {
    throw new DicomError(`This viewer shows grayscale DICOM images only (this one is ${photometric}).`);
  }
  if (bitsAllocated !== 8 && bitsAllocated !== 16)
    throw new DicomError(`${bitsAllocated}-bit DICOM pixels are not supported.`);
  if (pixel.length === 0xffffffff)
    throw new DicomError(
      'This DICOM image is stored encapsulated (compressed); this viewer shows uncompressed images only.',
    );
  const bytesPerPixel = bitsAllocated / 8;
  const frameBytes = rows * columns * bytesPerPixel;
  if (pixel.offset + frameBytes > bytes.length)
    throw new DicomError('The DICOM pixel data is shorter than the image size says.');
  const available = Math.max(
    1,
    Math.min(frames, Math.floor(Math.min(pixel.length, bytes.length - pixel.offset) / frameBytes)),
  );

  const slope = ds(T.rescaleSlope)[0] ?? 1;
  const intercept = ds(T.rescaleIntercept)[0] ?? 0;
  const shift = 32 - bitsStored;
  /** Modality values (stored value × slope + intercept) of frame n (1-based). */
  const frame = (n) => {
    const out = new Float32Array(rows * columns);
    const start = pixel.offset + (Math.min(Math.max(n, 1), available) - 1) * frameBytes;
    for (let i = 0; i < out.length; i++) {
      let v = bitsAllocated === 8 ? bytes[start + i] : view.getUint16(start + i * 2, true);
      // Only bitsStored bits count; the sign bit is the highest of them.
      v = signed ? (v << shift) >> shift : (v << shift) >>> shift;
      out[i] = v * slope + intercept;
    }
    return out;
  };
  const first = frame(1);
  let min = Infinity;
  let max = -Infinity;
  for (const v of first) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const center = ds(T.windowCenter)[0];
  const width = ds(T.windowWidth)[0];
  const defaultWindow =
    Number.isFinite(center) && Number.isFinite(width) && width > 0
      ? { center, width }
      : { center: (min + max) / 2, width: Math.max(1, max - min) };
  return {
    rows,
    columns,
    frames: available,
    modality: text(bytes, elements.get(T.modality)).trim(),
    description: (
      text(bytes, elements.get(T.seriesDescription)) || text(bytes, elements.get(T.studyDescription))
    ).trim(),
    monochrome1: photometric === 'MONOCHROME1',
    slope,
    intercept,
    defaultWindow,
    range: { min, max },
    frame: (n) => (n === 1 ? first : frame(n)),
  };
}

/**
 * Reads one element at `pos`, records it if it is one we use, and returns the
 * position after it (sequences and their items are skipped).
 */
function readElement(bytes, view, pos, explicit, elements) {
  const group = view.getUint16(pos, true);
  const element = view.getUint16(pos + 2, true);
  const t = tag(group, element);
  let vr;
  let length;
  let offset;
  if (explicit && group !== 0xfffe) {
    vr = String.fromCharCode(bytes[pos + 4], bytes[pos + 5]);
    if (LONG_VRS.has(vr)) {
      length = view.getUint32(pos + 8, true);
      offset = pos + 12;
    } else if (/^[A-Z]{2}$/.test(vr)) {
      length = view.getUint16(pos + 6, true);
      offset = pos + 8;
    } else {
      throw new DicomError('The DICOM dataset is damaged (unreadable value representation).');
    }
  } else {
    vr = IMPLICIT_VR.get(t) ?? 'UN';
    length = view.getUint32(pos + 4, true);
    offset = pos + 8;
  }
  if (t === T.pixelData) {
    elements.set(t, { vr, offset, length });
    return length === 0xffffffff ? bytes.length : offset + length;
  }
  if (length === 0xffffffff) return skipUndefined(bytes, view, offset, explicit);
  if (IMPLICIT_VR.has(t)) elements.set(t, { vr, offset, length: Math.min(length, bytes.length - offset) });
  return offset + length;
}

/** Skips a sequence (or item) of undefined length: to just past its delimiter. */
function skipUndefined(bytes, view, pos, explicit) {
  while (pos + 8 <= bytes.length) {
    const group = view.getUint16(pos, true);
    const element = view.getUint16(pos + 2, true);
    if (group === 0xfffe && element === 0xe0dd) return pos + 8; // sequence delimiter
    if (group === 0xfffe && element === 0xe000) {
      const length = view.getUint32(pos + 4, true);
      if (length === 0xffffffff) {
        pos += 8;
        // An item of undefined length: its elements until the item delimiter.
        while (pos + 8 <= bytes.length) {
          if (view.getUint16(pos, true) === 0xfffe && view.getUint16(pos + 2, true) === 0xe00d) {
            pos += 8;
            break;
          }
          pos = readElement(bytes, view, pos, explicit, new Map());
        }
      } else {
        pos += 8 + length;
      }
      continue;
    }
    if (group === 0xfffe && element === 0xe00d) return pos + 8;
    pos = readElement(bytes, view, pos, explicit, new Map());
  }
  return bytes.length;
}

function text(bytes, el) {
  if (!el) return '';
  let out = '';
  for (let i = el.offset; i < el.offset + el.length && i < bytes.length; i++) out += String.fromCharCode(bytes[i]);
  return out.replace(/\0+$/, '');
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
