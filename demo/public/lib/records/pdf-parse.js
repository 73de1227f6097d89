/**
 * Reading the structure of a PDF file: objects, streams and their filters,
 * the page tree. Written for Huizhen's record viewer (the demo may not pull in
 * a PDF library), so it aims at the documents a clinic shares — lab reports,
 * discharge letters, referral notes — and is tolerant rather than complete:
 * objects are found by scanning for "N G obj" (so a damaged cross-reference
 * table does not matter), compressed object streams are read, encrypted files
 * are refused with a clear message.
 */

export class Name {
  /** @param {string} name */
  constructor(name) {
    this.name = name;
  }
}
export class Ref {
  constructor(num, gen) {
    this.num = num;
    this.gen = gen;
  }
}
export class PdfString {
  /** @param {Uint8Array} bytes */
  constructor(bytes) {
    this.bytes = bytes;
  }
}
export class Cmd {
  /** @param {string} cmd */
  constructor(cmd) {
    this.cmd = cmd;
  }
}
export class Stream {
  /** @param {Map<string, any>} dict  @param {Uint8Array} raw */
  constructor(dict, raw) {
    this.dict = dict;
    this.raw = raw;
  }
}
export class PdfError extends Error {
  constructor(message) {
    super(message);
    this.name = 'PdfError';
  }
}

const WS = new Uint8Array(256);
for (const c of [0x00, 0x09, 0x0a, 0x0c, 0x0d, 0x20]) WS[c] = 1;
const DELIM = new Uint8Array(256);
for (const c of '()<>[]{}/%') DELIM[c.charCodeAt(0)] = 1;

/** Tokenizer + object parser over a byte array. */
export class Lexer {
  /** @param {Uint8Array} data  @param {number} [pos] */
  constructor(data, pos = 0) {
    this.data = data;
    this.pos = pos;
  }

  skipSpace() {
    const d = this.data;
    for (;;) {
      while (this.pos < d.length && WS[d[this.pos]]) this.pos++;
      if (d[this.pos] !== 0x25) return; // %
      while (this.pos < d.length && d[this.pos] !== 0x0a && d[this.pos] !== 0x0d) this.pos++;
    }
  }

  /**
   * The next object, or a Cmd for a keyword / operator, or undefined at the end.
   * `refs`: read "N G R" as a reference (not in content streams).
   */
  read(refs = true) {
    this.skipSpace();
    const d = this.data;
    if (this.pos >= d.length) return undefined;
    const c = d[this.pos];
    if (c === 0x2f) return this.#name();
    if (c === 0x28) return this.#literal();
    if (c === 0x3c) {
      if (d[this.pos + 1] === 0x3c) {
        this.pos += 2;
        return this.#dict(refs);
      }
      return this.#hex();
    }
    if (c === 0x5b) {
      this.pos++;
      const out = [];
      for (;;) {
        this.skipSpace();
        if (this.pos >= d.length) return out;
        if (d[this.pos] === 0x5d) {
          this.pos++;
          return out;
        }
        const v = this.read(refs);
        if (v instanceof Cmd && (v.cmd === ']' || v.cmd === '>>')) return out;
        out.push(v);
      }
    }
    if (c === 0x5d || c === 0x7b || c === 0x7d) {
      this.pos++;
      return new Cmd(String.fromCharCode(c));
    }
    if (c === 0x3e && d[this.pos + 1] === 0x3e) {
      this.pos += 2;
      return new Cmd('>>');
    }
    if ((c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2d || c === 0x2e) {
      const n = this.#number();
      if (refs && Number.isInteger(n) && n >= 0) {
        const save = this.pos;
        this.skipSpace();
        const c2 = d[this.pos];
        if (c2 >= 0x30 && c2 <= 0x39) {
          const gen = this.#number();
          this.skipSpace();
          if (d[this.pos] === 0x52 && (this.pos + 1 >= d.length || WS[d[this.pos + 1]] || DELIM[d[this.pos + 1]])) {
            this.pos++;
            return new Ref(n, gen);
          }
        }
        this.pos = save;
      }
      return n;
    }
    // A keyword: true, false, null, obj, stream, R, or a content operator.
    const start = this.pos;
    while (this.pos < d.length && !WS[d[this.pos]] && !DELIM[d[this.pos]]) this.pos++;
    if (this.pos === start) {
      this.pos++;
      return new Cmd(String.fromCharCode(c));
    }
    const word = latin1(d, start, this.pos);
    if (word === 'true') return true;
    if (word === 'false') return false;
    if (word === 'null') return null;
    return new Cmd(word);
  }

  #number() {
    const d = this.data;
    const start = this.pos;
    this.pos++;
    while (this.pos < d.length) {
      const c = d[this.pos];
      if ((c >= 0x30 && c <= 0x39) || c === 0x2e || c === 0x2d) this.pos++;
      else break;
    }
    const v = Number.parseFloat(latin1(d, start, this.pos));
    return Number.isFinite(v) ? v : 0;
  }

  #name() {
    const d = this.data;
    this.pos++;
    let out = '';
    while (this.pos < d.length && !WS[d[this.pos]] && !DELIM[d[this.pos]]) {
      const c = d[this.pos];
      if (c === 0x23 && this.pos + 2 < d.length) {
        const hex = Number.parseInt(latin1(d, this.pos + 1, this.pos + 3), 16);
        if (!Number.isNaN(hex)) {
          out += String.fromCharCode(hex);
          this.pos += 3;
          continue;
        }
      }
      out += String.fromCharCode(c);
      this.pos++;
    }
    return new Name(out);
  }

  #literal() {
    const d = this.data;
    this.pos++;
    const out = [];
    let depth = 1;
    while (this.pos < d.length) {
      let c = d[this.pos++];
      if (c === 0x28) depth++;
      else if (c === 0x29 && --depth === 0) break;
      if (c === 0x5c) {
        c = d[this.pos++];
        switch (c) {
          case 0x6e:
            out.push(0x0a);
            continue;
          case 0x72:
            out.push(0x0d);
            continue;
          case 0x74:
            out.push(0x09);
            continue;
          case 0x62:
            out.push(0x08);
            continue;
          case 0x66:
            out.push(0x0c);
            continue;
          case 0x0d:
            if (d[this.pos] === 0x0a) this.pos++;
            continue;
          case 0x0a:
            continue;
          default:
            if (c >= 0x30 && c <= 0x37) {
              let v = c - 0x30;
              for (let i = 0; i < 2 && d[this.pos] >= 0x30 && d[this.pos] <= 0x37; i++)
                v = v * 8 + (d[this.pos++] - 0x30);
              out.push(v & 0xff);
              continue;
            }
            out.push(c);
            continue;
        }
      }
      out.push(c);
    }
    return new PdfString(Uint8Array.from(out));
  }

  #hex() {
    const d = this.data;
    this.pos++;
    const out = [];
    let hi = -1;
    while (this.pos < d.length) {
      const c = d[this.pos++];
      if (c === 0x3e) break;
      const v = hexValue(c);
      if (v < 0) continue;
      if (hi < 0) hi = v;
      else {
        out.push(hi * 16 + v);
        hi = -1;
      }
    }
    if (hi >= 0) out.push(hi * 16);
    return new PdfString(Uint8Array.from(out));
  }

  #dict(refs) {
    const dict = new Map();
    for (;;) {
      this.skipSpace();
      if (this.pos >= this.data.length) return dict;
      const key = this.read(refs);
      if (key instanceof Cmd && key.cmd === '>>') return dict;
      if (key === undefined) return dict;
      if (!(key instanceof Name)) continue;
      const value = this.read(refs);
      if (value instanceof Cmd && value.cmd === '>>') {
        dict.set(key.name, null);
        return dict;
      }
      dict.set(key.name, value);
    }
  }
}

function hexValue(c) {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

/** Bytes as a string, one character per byte. */
export function latin1(bytes, start = 0, end = bytes.length) {
  let out = '';
  for (let i = start; i < end; i += 8192)
    out += String.fromCharCode.apply(null, bytes.subarray(i, Math.min(end, i + 8192)));
  return out;
}

// ---------------------------------------------------------------------------

/** Decoded bytes that opening a document, or drawing one page, may produce. */
const MAX_DECODED_BYTES = 128 * 1024 * 1024;
/** Longest filter chain accepted on one stream. */
const MAX_FILTERS = 4;

export class PdfFile {
  /** @type {Map<number, number>} object number → offset of "N G obj" */
  #offsets = new Map();
  /** @type {Map<number, { stream: number, index: number }>} */
  #inStreams = new Map();
  /** @type {Map<number, any>} */
  #cache = new Map();
  /** @type {Map<number, { data: Uint8Array, offsets: number[] }>} decoded object streams */
  #objStreams = new Map();
  /** Objects being resolved now: a reference cycle resolves to null instead of recursing. */
  #resolving = new Set();
  /** Offsets of every `endstream`, found once (a rescan per object is quadratic on hostile files). */
  #endstreams = null;
  /**
   * Bytes that decoding may still produce in the current unit of work. Uploaded
   * files are untrusted: a small file must not be able to inflate into gigabytes.
   */
  budget = MAX_DECODED_BYTES;

  /** @param {Uint8Array} data */
  constructor(data) {
    this.data = data;
    if (latin1(data, 0, Math.min(1024, data.length)).indexOf('%PDF-') < 0)
      throw new PdfError('This is not a PDF file.');
    const text = latin1(data);
    const re = /(\d+)\s+(\d+)\s+obj\b/g;
    for (let m; (m = re.exec(text));) this.#offsets.set(Number(m[1]), m.index); // later definitions (updates) win
    this.text = text;
  }

  /** Finds the catalog, reading object streams first (modern files keep most objects there). */
  async open() {
    for (const num of [...this.#offsets.keys()]) {
      const obj = this.#parseAt(num);
      if (obj instanceof Stream && nameOf(obj.dict.get('Type')) === 'ObjStm') await this.#indexObjStream(num, obj);
    }
    let trailer = null;
    const at = this.text.lastIndexOf('trailer');
    if (at >= 0) {
      const t = new Lexer(this.data, at + 7).read();
      if (t instanceof Map) trailer = t;
    }
    if (!trailer || !trailer.get('Root')) {
      for (const num of this.#offsets.keys()) {
        const obj = this.#parseAt(num);
        if (obj instanceof Stream && nameOf(obj.dict.get('Type')) === 'XRef') trailer = obj.dict;
      }
    }
    if (trailer?.get('Encrypt'))
      throw new PdfError('This PDF is encrypted; download it and open it with a PDF reader.');
    let root = trailer ? this.get(trailer.get('Root')) : null;
    if (!(root instanceof Map)) {
      for (const num of [...this.#offsets.keys(), ...this.#inStreams.keys()]) {
        const obj = this.get(new Ref(num, 0));
        if (obj instanceof Map && nameOf(obj.get('Type')) === 'Catalog') root = obj;
      }
    }
    if (!(root instanceof Map)) throw new PdfError('The PDF has no document catalog.');
    this.catalog = root;
    return this;
  }

  /** Resolves a reference (and leaves anything else as it is). */
  get(value) {
    if (!(value instanceof Ref)) return value;
    const num = value.num;
    if (this.#cache.has(num)) return this.#cache.get(num);
    if (this.#resolving.has(num)) return null;
    this.#resolving.add(num);
    let obj = null;
    try {
      if (this.#offsets.has(num)) obj = this.#parseAt(num);
      else if (this.#inStreams.has(num)) obj = this.#parseInStream(num);
    } finally {
      this.#resolving.delete(num);
    }
    // Not found (yet: object streams are indexed while opening): do not remember the miss.
    if (obj !== null && obj !== undefined) this.#cache.set(num, obj);
    return obj ?? null;
  }

  #parseAt(num) {
    const lexer = new Lexer(this.data, this.#offsets.get(num));
    lexer.read(false); // N
    lexer.read(false); // G
    lexer.read(false); // obj
    const obj = lexer.read();
    if (!(obj instanceof Map)) return obj;
    const save = lexer.pos;
    const next = lexer.read(false);
    if (!(next instanceof Cmd) || next.cmd !== 'stream') {
      lexer.pos = save;
      return obj;
    }
    let start = lexer.pos;
    if (this.data[start] === 0x0d) start++;
    if (this.data[start] === 0x0a) start++;
    let length = obj.get('Length');
    if (length instanceof Ref) {
      // The length may live in an object not read yet; never through the cache of this very object.
      length = length.num === num ? undefined : this.get(length);
    }
    let end = typeof length === 'number' ? start + length : -1;
    if (end < 0 || end > this.data.length || this.#nextEndstream(end) - end > 4) {
      const found = this.#nextEndstream(start);
      end = found < 0 ? this.data.length : found;
      while (end > start && (this.data[end - 1] === 0x0a || this.data[end - 1] === 0x0d)) end--;
    }
    return new Stream(obj, this.data.subarray(start, end));
  }

  /** The first `endstream` at or after `from`, or -1. */
  #nextEndstream(from) {
    if (!this.#endstreams) {
      this.#endstreams = [];
      for (let at = this.text.indexOf('endstream'); at >= 0; at = this.text.indexOf('endstream', at + 9))
        this.#endstreams.push(at);
    }
    const list = this.#endstreams;
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (list[mid] < from) lo = mid + 1;
      else hi = mid;
    }
    return lo < list.length ? list[lo] : -1;
  }

  /** A new unit of work (opening, or drawing one page) gets a full budget. */
  resetBudget() {
    this.budget = MAX_DECODED_BYTES;
  }

  /** Charges decoded output against the current budget. */
  spend(bytes) {
    this.budget -= bytes;
    if (this.budget < 0) throw new PdfError('This PDF decompresses to more than can be shown safely.');
  }

  async #indexObjStream(num, stream) {
    try {
      const data = await decodeStream(this, stream);
      const n = this.get(stream.dict.get('N')) ?? 0;
      const first = this.get(stream.dict.get('First')) ?? 0;
      const lexer = new Lexer(data);
      const offsets = [];
      for (let i = 0; i < n; i++) {
        const objNum = lexer.read(false);
        const offset = lexer.read(false);
        if (typeof objNum !== 'number' || typeof offset !== 'number') break;
        offsets.push(first + offset);
        if (!this.#offsets.has(objNum) && !this.#inStreams.has(objNum))
          this.#inStreams.set(objNum, { stream: num, index: i });
      }
      this.#objStreams.set(num, { data, offsets });
    } catch {
      // A damaged object stream: its objects stay missing.
    }
  }

  #parseInStream(num) {
    const where = this.#inStreams.get(num);
    const holder = where && this.#objStreams.get(where.stream);
    if (!holder) return null;
    return new Lexer(holder.data, holder.offsets[where.index]).read();
  }

  /** Every page in order, with the attributes they inherit from the page tree. */
  pages() {
    const out = [];
    const seen = new Set();
    const walk = (node, inherited) => {
      if (!(node instanceof Map) || seen.has(node) || out.length > 5000) return;
      seen.add(node);
      const attrs = { ...inherited };
      for (const key of ['MediaBox', 'CropBox', 'Resources', 'Rotate'])
        if (node.has(key)) attrs[key] = this.get(node.get(key));
      const kids = this.get(node.get('Kids'));
      if (Array.isArray(kids)) {
        for (const kid of kids) walk(this.get(kid), attrs);
      } else {
        out.push({ dict: node, ...attrs });
      }
    };
    walk(this.get(this.catalog.get('Pages')), {});
    return out;
  }
}

export function nameOf(value) {
  return value instanceof Name ? value.name : undefined;
}

// ---------------------------------------------------------------------------
// Filters

/**
 * The decoded bytes of a stream. Image codecs (DCT, JPX, ...) stay encoded:
 * `stream.imageFilter` says which one is left.
 * @param {PdfFile} file  @param {Stream} stream
 */
export async function decodeStream(file, stream) {
  let data = stream.raw;
  let filters = file.get(stream.dict.get('Filter') ?? stream.dict.get('F'));
  let parms = file.get(stream.dict.get('DecodeParms') ?? stream.dict.get('DP'));
  if (!Array.isArray(filters)) filters = filters ? [filters] : [];
  if (!Array.isArray(parms)) parms = [parms];
  if (filters.length > MAX_FILTERS)
    throw new PdfError('This PDF stacks more compression filters than can be shown safely.');
  for (let i = 0; i < filters.length; i++) {
    const name = nameOf(file.get(filters[i]));
    const p = file.get(parms[i]);
    switch (name) {
      case 'FlateDecode':
      case 'Fl':
        data = predict(await inflate(data, file), p, file);
        break;
      case 'LZWDecode':
      case 'LZW':
        data = predict(lzw(data, p instanceof Map ? (file.get(p.get('EarlyChange')) ?? 1) : 1, file), p, file);
        break;
      case 'ASCIIHexDecode':
      case 'AHx':
        data = asciiHex(data);
        file.spend(data.length);
        break;
      case 'ASCII85Decode':
      case 'A85':
        data = ascii85(data);
        file.spend(data.length);
        break;
      case 'RunLengthDecode':
      case 'RL':
        data = runLength(data, file);
        break;
      default:
        // DCTDecode, JPXDecode, CCITTFaxDecode, JBIG2Decode: image codecs, left to the image code.
        stream.imageFilter = name;
        return data;
    }
  }
  return data;
}

/** zlib inflate with the browser's DecompressionStream; keeps what came out before any damage. */
async function inflate(data, file) {
  const chunks = [];
  let total = 0;
  let reader;
  try {
    reader = new Blob([data]).stream().pipeThrough(new DecompressionStream('deflate')).getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      total += value.length;
      // Stop a decompression bomb as it grows, not after.
      file.spend(value.length);
    }
  } catch (err) {
    if (err instanceof PdfError) {
      reader?.cancel().catch(() => {});
      throw err;
    }
    // Trailing garbage or a truncated stream: use what was inflated.
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

function predict(data, parms, file) {
  if (!(parms instanceof Map)) return data;
  const predictor = file.get(parms.get('Predictor')) ?? 1;
  if (predictor < 2) return data;
  const colors = file.get(parms.get('Colors')) ?? 1;
  const bpc = file.get(parms.get('BitsPerComponent')) ?? 8;
  const columns = file.get(parms.get('Columns')) ?? 1;
  // Bad parameters (zero or negative columns...) would loop forever below.
  const valid = (v, max) => Number.isInteger(v) && v >= 1 && v <= max;
  if (!valid(colors, 32) || ![1, 2, 4, 8, 16].includes(bpc) || !valid(columns, 1_000_000)) {
    throw new PdfError('This PDF has a damaged image or stream encoding.');
  }
  const bpp = Math.max(1, Math.ceil((colors * bpc) / 8));
  const rowLength = Math.ceil((colors * bpc * columns) / 8);
  if (predictor === 2) {
    if (bpc !== 8) return data;
    const out = Uint8Array.from(data);
    for (let row = 0; row + rowLength <= out.length; row += rowLength) {
      for (let i = bpp; i < rowLength; i++) out[row + i] = (out[row + i] + out[row + i - bpp]) & 0xff;
    }
    return out;
  }
  const rows = Math.floor(data.length / (rowLength + 1));
  const out = new Uint8Array(rows * rowLength);
  const prev = new Uint8Array(rowLength);
  for (let r = 0; r < rows; r++) {
    const type = data[r * (rowLength + 1)];
    const src = r * (rowLength + 1) + 1;
    const dst = r * rowLength;
    for (let i = 0; i < rowLength; i++) {
      const raw = data[src + i];
      const left = i >= bpp ? out[dst + i - bpp] : 0;
      const up = prev[i];
      const upLeft = i >= bpp ? prev[i - bpp] : 0;
      let v;
      switch (type) {
        case 1:
          v = raw + left;
          break;
        case 2:
          v = raw + up;
          break;
        case 3:
          v = raw + ((left + up) >> 1);
          break;
        case 4: {
          const p = left + up - upLeft;
          const pa = Math.abs(p - left);
          const pb = Math.abs(p - up);
          const pc = Math.abs(p - upLeft);
          v = raw + (pa <= pb && pa <= pc ? left : pb <= pc ? up : upLeft);
          break;
        }
        default:
          v = raw;
      }
      out[dst + i] = v & 0xff;
    }
    prev.set(out.subarray(dst, dst + rowLength));
  }
  return out;
}

/** A growing byte buffer whose growth is charged to the document's budget. */
class ByteSink {
  constructor(file) {
    this.file = file;
    this.bytes = new Uint8Array(4096);
    this.length = 0;
  }
  push(...values) {
    for (const v of values) {
      if (this.length === this.bytes.length) {
        this.file.spend(this.bytes.length);
        const bigger = new Uint8Array(this.bytes.length * 2);
        bigger.set(this.bytes);
        this.bytes = bigger;
      }
      this.bytes[this.length++] = v;
    }
  }
  result() {
    return this.bytes.subarray(0, this.length);
  }
}

/** LZW codes are at most 12 bits: the dictionary never grows past 4096 entries. */
const LZW_MAX_ENTRIES = 4096;

function lzw(data, earlyChange, file) {
  const out = new ByteSink(file);
  let dict = [];
  const reset = () => {
    dict = [];
    for (let i = 0; i < 256; i++) dict.push([i]);
    dict.push(null, null);
  };
  reset();
  let bits = 9;
  let buffer = 0;
  let count = 0;
  let prev = null;
  for (let i = 0; i < data.length; i++) {
    buffer = (buffer << 8) | data[i];
    count += 8;
    while (count >= bits) {
      const code = (buffer >> (count - bits)) & ((1 << bits) - 1);
      count -= bits;
      if (code === 256) {
        reset();
        bits = 9;
        prev = null;
        continue;
      }
      if (code === 257) return out.result();
      let entry = dict[code];
      if (!entry && prev) entry = [...prev, prev[0]];
      if (!entry) return out.result();
      out.push(...entry);
      if (prev && dict.length < LZW_MAX_ENTRIES) dict.push([...prev, entry[0]]);
      prev = entry;
      if (dict.length + earlyChange >= 1 << bits && bits < 12) bits++;
    }
  }
  return out.result();
}

function asciiHex(data) {
  const out = [];
  let hi = -1;
  for (const c of data) {
    if (c === 0x3e) break;
    const v = hexValue(c);
    if (v < 0) continue;
    if (hi < 0) hi = v;
    else {
      out.push(hi * 16 + v);
      hi = -1;
    }
  }
  if (hi >= 0) out.push(hi * 16);
  return Uint8Array.from(out);
}

function ascii85(data) {
  const out = [];
  let group = [];
  let i = 0;
  if (data[0] === 0x3c && data[1] === 0x7e) i = 2;
  const flush = (n) => {
    while (group.length < 5) group.push(84);
    let v = 0;
    for (const g of group) v = v * 85 + g;
    const bytes = [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
    out.push(...bytes.slice(0, n));
    group = [];
  };
  for (; i < data.length; i++) {
    const c = data[i];
    if (c === 0x7e) break;
    if (WS[c]) continue;
    if (c === 0x7a && group.length === 0) {
      out.push(0, 0, 0, 0);
      continue;
    }
    if (c < 0x21 || c > 0x75) continue;
    group.push(c - 0x21);
    if (group.length === 5) flush(4);
  }
  if (group.length > 1) flush(group.length - 1);
  return Uint8Array.from(out);
}

function runLength(data, file) {
  const out = new ByteSink(file);
  for (let i = 0; i < data.length;) {
    const n = data[i++];
    if (n === 128) break;
    if (n < 128) {
      for (let j = 0; j <= n && i < data.length; j++) out.push(data[i++]);
    } else {
      const v = data[i++];
      for (let j = 0; j < 257 - n; j++) out.push(v);
    }
  }
  return out.result();
}
