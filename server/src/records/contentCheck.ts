/**
 * Decides what an uploaded file really is from its bytes, never from the
 * declared type or name, and refuses damaged files and active content.
 */
import { constants, inflateSync } from 'node:zlib';
import { ErrorCode, type RecordType } from '@huizhen/protocol';
import { HuizhenError } from '../errors.js';

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

export function detectRecordType(data: Buffer): RecordType {
  if (data.length >= 132 && data.toString('latin1', 128, 132) === 'DICM') {
    checkDicom(data);
    return 'application/dicom';
  }
  if (data.subarray(0, 5).toString('latin1') === '%PDF-') {
    checkPdf(data);
    return 'application/pdf';
  }
  if (data.subarray(0, 8).equals(PNG_SIGNATURE)) {
    checkPng(data);
    return 'image/png';
  }
  if (data.length >= 4 && data[0] === 0xff && data[1] === 0xd8 && data[2] === 0xff) {
    checkJpeg(data);
    return 'image/jpeg';
  }
  throw new HuizhenError(
    ErrorCode.UNSUPPORTED_MEDIA_TYPE,
    'Only PDF, PNG, JPEG and DICOM files can be shared; this file is none of them.',
  );
}

const corrupt = (what: string) =>
  new HuizhenError(ErrorCode.CORRUPT_FILE, `The file is damaged or incomplete: ${what}.`);

function checkPng(data: Buffer): void {
  // IHDR must come first; IEND must close the file.
  if (data.length < 33 || data.toString('latin1', 12, 16) !== 'IHDR') throw corrupt('the PNG header is missing');
  if (data.toString('latin1', data.length - 8, data.length - 4) !== 'IEND') throw corrupt('the PNG is cut short');
}

function checkJpeg(data: Buffer): void {
  if (!(data[data.length - 2] === 0xff && data[data.length - 1] === 0xd9)) throw corrupt('the JPEG is cut short');
}

/** Names that make a PDF run code, submit data or open other things when viewed. */
const ACTIVE_PDF_NAMES = [
  '/JavaScript',
  '/JS',
  '/Launch',
  '/EmbeddedFile',
  '/RichMedia',
  '/XFA',
  '/SubmitForm',
  '/ImportData',
  '/GoToR',
  '/GoToE',
];
/** Compressed object streams are inflated and scanned too, within this budget. */
const MAX_INFLATED_BYTES = 64 * 1024 * 1024;

function checkPdf(data: Buffer): void {
  const text = data.toString('latin1');
  if (!/%%EOF\s*$/.test(text.slice(-1024))) throw corrupt('the PDF is cut short');
  scanPdfText(text);
  // Objects (and so actions) may sit compressed inside object streams.
  let budget = MAX_INFLATED_BYTES;
  for (const stream of objectStreams(text)) {
    if (!/\/Filter\s*\/FlateDecode(?![A-Za-z])/.test(stream.dict) || /\/Filter\s*\[/.test(stream.dict)) {
      throw new HuizhenError(
        ErrorCode.UNSAFE_CONTENT,
        'PDFs with object streams in unusual encodings are not accepted; print it to a plain PDF first.',
      );
    }
    let inflated: Buffer;
    try {
      inflated = inflateSync(data.subarray(stream.start, stream.end), {
        finishFlush: constants.Z_SYNC_FLUSH,
        maxOutputLength: budget,
      });
    } catch {
      throw corrupt('a compressed object stream cannot be read');
    }
    budget -= inflated.length;
    scanPdfText(inflated.toString('latin1'));
  }
}

function scanPdfText(text: string): void {
  // PDF names may hide letters as #xx escapes (/J#61vaScript); undo them first.
  const names = text.replace(/\/[^\s/<>[\]()]+/g, (name) =>
    name.replace(/#([0-9a-fA-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16))),
  );
  for (const active of ACTIVE_PDF_NAMES) {
    const re = new RegExp(`${active.replace('/', '\\/')}(?![A-Za-z])`);
    if (re.test(names))
      throw new HuizhenError(
        ErrorCode.UNSAFE_CONTENT,
        `PDFs with active content (${active.slice(1)}) are not accepted; print it to a plain PDF first.`,
      );
  }
}

/** The object streams (/Type /ObjStm) of a PDF: their dictionary and where their bytes are. */
function* objectStreams(text: string): Generator<{ dict: string; start: number; end: number }> {
  let at = 0;
  for (;;) {
    const keyword = text.indexOf('stream', at);
    if (keyword < 0) return;
    at = keyword + 6;
    if (text.startsWith('end', keyword - 3)) continue;
    // The stream's dictionary ends just before the keyword; look back a bounded distance.
    const before = text.slice(Math.max(0, keyword - 4096), keyword);
    const objStart = before.lastIndexOf(' obj');
    const dict = objStart >= 0 ? before.slice(objStart) : before;
    if (!/\/Type\s*\/ObjStm(?![A-Za-z])/.test(dict)) continue;
    let start = at;
    if (text[start] === '\r') start++;
    if (text[start] === '\n') start++;
    const end = text.indexOf('endstream', start);
    if (end < 0) throw corrupt('a stream is not terminated');
    at = end + 9;
    yield { dict, start, end };
  }
}

/**
 * Walks a DICOM Part 10 file element by element and refuses one whose
 * declared lengths run past its end (a truncated transfer).
 */
function checkDicom(data: Buffer): void {
  let offset = 132;
  let explicitVr = true;
  let littleEndian = true;
  let metaEnd = Infinity;
  let sawPixelDataOrContent = false;
  while (offset < data.length) {
    if (offset >= metaEnd) {
      metaEnd = Infinity;
    }
    if (offset + 8 > data.length) throw corrupt('a DICOM element header is cut short');
    const inMeta = offset < metaEnd && data.readUInt16LE(offset) === 0x0002;
    const le = inMeta || littleEndian;
    const group = le ? data.readUInt16LE(offset) : data.readUInt16BE(offset);
    const element = le ? data.readUInt16LE(offset + 2) : data.readUInt16BE(offset + 2);
    const explicit = inMeta || explicitVr;
    let length: number;
    let headerLength: number;
    let vr: string;
    if (group === 0xfffe) {
      // Item / delimiters: tag + 4-byte length, no VR.
      length = le ? data.readUInt32LE(offset + 4) : data.readUInt32BE(offset + 4);
      headerLength = 8;
      offset += headerLength;
      if (element === 0xe000 && length !== 0xffffffff) {
        if (offset + length > data.length) throw corrupt('a DICOM item runs past the end of the file');
        offset += length;
      }
      continue;
    }
    if (explicit) {
      vr = data.toString('latin1', offset + 4, offset + 6);
      if (!/^[A-Z]{2}$/.test(vr)) throw corrupt('a DICOM element has an invalid value representation');
      if (['OB', 'OD', 'OF', 'OL', 'OW', 'SQ', 'UC', 'UR', 'UT', 'UN', 'OV', 'SV', 'UV'].includes(vr)) {
        if (offset + 12 > data.length) throw corrupt('a DICOM element header is cut short');
        length = le ? data.readUInt32LE(offset + 8) : data.readUInt32BE(offset + 8);
        headerLength = 12;
      } else {
        length = le ? data.readUInt16LE(offset + 6) : data.readUInt16BE(offset + 6);
        headerLength = 8;
      }
    } else {
      length = le ? data.readUInt32LE(offset + 4) : data.readUInt32BE(offset + 4);
      headerLength = 8;
    }
    const valueStart = offset + headerLength;
    if (length === 0xffffffff) {
      // Undefined length (sequence or encapsulated pixel data): its items follow.
      if (group === 0x7fe0 && element === 0x0010) sawPixelDataOrContent = true;
      offset = valueStart;
      continue;
    }
    if (valueStart + length > data.length)
      throw corrupt(`DICOM element (${hex(group)},${hex(element)}) runs past the end of the file`);
    if (group === 0x0002 && element === 0x0000 && length === 4)
      metaEnd = valueStart + 4 + data.readUInt32LE(valueStart);
    if (group === 0x0002 && element === 0x0010) {
      const syntax = data
        .toString('latin1', valueStart, valueStart + length)
        .replace(/\0/g, '')
        .trim();
      explicitVr = syntax !== '1.2.840.10008.1.2';
      littleEndian = syntax !== '1.2.840.10008.1.2.2';
    }
    if (group > 0x0002) sawPixelDataOrContent = true;
    offset = valueStart + length;
  }
  if (!sawPixelDataOrContent) throw corrupt('the DICOM file has no dataset after its header');
}

function hex(n: number): string {
  return n.toString(16).padStart(4, '0');
}
