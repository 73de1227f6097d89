/**
 * Draws PDF pages onto a canvas for the record viewer: vector paths, colours,
 * text (in standard browser fonts, at the PDF's own positions and widths),
 * JPEG and uncompressed images, form XObjects and clipping. What it leaves
 * out — shadings and patterns, embedded glyph shapes, JPEG 2000 / fax / JBIG2
 * images — is reported per page so the viewer can say so instead of
 * pretending.
 */
import { loadFont } from './pdf-fonts.js';
import { Cmd, Lexer, Name, PdfError, PdfFile, PdfString, Stream, decodeStream, nameOf } from './pdf-parse.js';

export { PdfError };

/** @typedef {[number, number, number, number, number, number]} Matrix */

const IDENTITY = /** @type {Matrix} */ ([1, 0, 0, 1, 0, 0]);

/** m then n (PDF order: a point is transformed by m first). */
function mul(m, n) {
  return /** @type {Matrix} */ ([
    m[0] * n[0] + m[1] * n[2],
    m[0] * n[1] + m[1] * n[3],
    m[2] * n[0] + m[3] * n[2],
    m[2] * n[1] + m[3] * n[3],
    m[4] * n[0] + m[5] * n[2] + n[4],
    m[4] * n[1] + m[5] * n[3] + n[5],
  ]);
}

/**
 * Opens a PDF from its bytes.
 * @param {Uint8Array} bytes
 */
export async function openPdf(bytes) {
  const file = await new PdfFile(bytes).open();
  const pages = file.pages();
  if (pages.length === 0) throw new PdfError('The PDF has no pages.');
  return new PdfDocument(file, pages);
}

export class PdfDocument {
  #file;
  #pages;
  /** @type {Map<any, Promise<import('./pdf-fonts.js').PdfFont>>} */
  #fonts = new Map();
  #measureCtx = document.createElement('canvas').getContext('2d');

  constructor(file, pages) {
    this.#file = file;
    this.#pages = pages;
  }

  get pageCount() {
    return this.#pages.length;
  }

  /**
   * Size of a page as displayed (points, after the page's own /Rotate).
   * @param {number} n  1-based
   */
  pageSize(n) {
    const { box, rotate } = this.#geometry(n);
    const w = box[2] - box[0];
    const h = box[3] - box[1];
    return rotate % 180 === 0 ? { width: w, height: h } : { width: h, height: w };
  }

  /**
   * Draws page `n` onto `ctx` at `scale` canvas pixels per point, white
   * background included. Resolves with what could not be drawn.
   * @param {number} n  @param {CanvasRenderingContext2D} ctx  @param {number} scale
   * @param {{ cancelled?: () => boolean }} [opts]
   */
  async render(n, ctx, scale, { cancelled = () => false } = {}) {
    const page = this.#pages[n - 1];
    if (!page) throw new PdfError(`The PDF has no page ${n}.`);
    const { box, rotate } = this.#geometry(n);
    const base = baseMatrix(box, rotate, scale);
    const size = this.pageSize(n);
    ctx.save();
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.fillStyle = '#ffffff';
    ctx.fillRect(0, 0, Math.ceil(size.width * scale), Math.ceil(size.height * scale));
    ctx.restore();
    const file = this.#file;
    // Each page draw may decode up to the budget afresh (pages are decoded again when revisited).
    file.resetBudget();
    let contents = file.get(page.dict.get('Contents'));
    if (!Array.isArray(contents)) contents = contents ? [contents] : [];
    if (contents.length > 1000) contents = contents.slice(0, 1000);
    const parts = [];
    for (const c of contents) {
      const stream = file.get(c);
      if (stream instanceof Stream) parts.push(await decodeStream(file, stream));
    }
    const data = joinWithSpaces(parts);
    const painter = new Painter(file, ctx, base, (dict) => this.#font(dict), cancelled);
    await painter.run(data, page.Resources instanceof Map ? page.Resources : new Map());
    return { skipped: [...painter.skipped] };
  }

  #geometry(n) {
    const page = this.#pages[n - 1];
    const file = this.#file;
    const pick = (value) => {
      const arr = file.get(value);
      if (!Array.isArray(arr) || arr.length < 4) return null;
      const [x0, y0, x1, y1] = arr.map((v) => Number(file.get(v)));
      return [Math.min(x0, x1), Math.min(y0, y1), Math.max(x0, x1), Math.max(y0, y1)];
    };
    const box = pick(page?.CropBox) ?? pick(page?.MediaBox) ?? [0, 0, 612, 792];
    const rotate = (((Math.round(Number(page?.Rotate ?? 0) / 90) * 90) % 360) + 360) % 360;
    return { box, rotate };
  }

  #font(dictOrRef) {
    let loading = this.#fonts.get(dictOrRef);
    if (!loading) {
      const measure = (css, text) => {
        this.#measureCtx.font = css;
        return this.#measureCtx.measureText(text).width;
      };
      loading = loadFont(this.#file, this.#file.get(dictOrRef), measure);
      this.#fonts.set(dictOrRef, loading);
    }
    return loading;
  }
}

/** User space of the page → canvas pixels, with the page's own rotation (clockwise). */
function baseMatrix([x0, y0, x1, y1], rotate, s) {
  switch (rotate) {
    case 90:
      return /** @type {Matrix} */ ([0, s, s, 0, -y0 * s, -x0 * s]);
    case 180:
      return /** @type {Matrix} */ ([-s, 0, 0, s, x1 * s, -y0 * s]);
    case 270:
      return /** @type {Matrix} */ ([0, -s, -s, 0, y1 * s, x1 * s]);
    default:
      return /** @type {Matrix} */ ([s, 0, 0, -s, -x0 * s, y1 * s]);
  }
}

function joinWithSpaces(parts) {
  const total = parts.reduce((n, p) => n + p.length + 1, 0);
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
    out[at++] = 0x0a;
  }
  return out;
}

const cmykToRgb = (c, m, y, k) => [
  255 * (1 - Math.min(1, c + k)),
  255 * (1 - Math.min(1, m + k)),
  255 * (1 - Math.min(1, y + k)),
];
const rgbCss = ([r, g, b]) => `rgb(${Math.round(r)} ${Math.round(g)} ${Math.round(b)})`;

/** Drawing operators one page may run, nested forms included. */
const MAX_OPERATORS_PER_PAGE = 2_000_000;
/** Image pixels one page may decode. */
const MAX_PIXELS_PER_PAGE = 80_000_000;

class Painter {
  constructor(file, ctx, base, font, cancelled) {
    this.file = file;
    this.ctx = ctx;
    this.base = base;
    this.loadFont = font;
    this.cancelled = cancelled;
    /** @type {Set<string>} what this page uses that the viewer does not draw */
    this.skipped = new Set();
    this.depth = 0;
    /** Forms being drawn now: a form that draws itself would recurse without end. */
    this.activeForms = new Set();
    /** Operators drawn for this page in all (forms included); a hostile page is cut off. */
    this.operators = 0;
    this.lastYield = performance.now();
  }

  newState() {
    return {
      ctm: IDENTITY,
      fill: 'rgb(0 0 0)',
      stroke: 'rgb(0 0 0)',
      fillSpace: { n: 1, kind: 'gray' },
      strokeSpace: { n: 1, kind: 'gray' },
      lineWidth: 1,
      lineCap: 0,
      lineJoin: 0,
      miter: 10,
      dash: /** @type {number[]} */ ([]),
      dashPhase: 0,
      fillAlpha: 1,
      strokeAlpha: 1,
      font: null,
      fontSize: 12,
      charSpacing: 0,
      wordSpacing: 0,
      hScale: 1,
      leading: 0,
      rise: 0,
      render: 0,
    };
  }

  async run(data, resources) {
    this.state = this.newState();
    this.stack = [];
    await this.exec(data, resources);
    // Unbalanced q in the file: leave the canvas as it was given to us.
    while (this.stack.length) {
      this.stack.pop();
      this.ctx.restore();
    }
  }

  async exec(data, resources) {
    const lexer = new Lexer(data);
    const operands = [];
    let path = new Path2D();
    let pathEmpty = true;
    let clip = null;
    let tm = IDENTITY;
    let tlm = IDENTITY;
    let count = 0;
    const ctx = this.ctx;
    for (;;) {
      const token = lexer.read(false);
      if (token === undefined) break;
      if (!(token instanceof Cmd)) {
        operands.push(token);
        continue;
      }
      const op = token.cmd;
      const num = (i) => Number(operands[i]) || 0;
      const s = this.state;
      // Counted across nested forms, and by time: the call in this tab must stay responsive.
      if (++this.operators > MAX_OPERATORS_PER_PAGE) {
        this.skipped.add('the rest of this very complex page');
        return;
      }
      if ((++count & 255) === 0 && performance.now() - this.lastYield > 16) {
        if (this.cancelled()) return;
        await new Promise((resolve) => setTimeout(resolve, 0));
        this.lastYield = performance.now();
      }
      try {
        switch (op) {
          // --- graphics state
          case 'q':
            this.stack.push({ ...s });
            ctx.save();
            break;
          case 'Q':
            if (this.stack.length) {
              this.state = this.stack.pop();
              ctx.restore();
            }
            break;
          case 'cm':
            s.ctm = mul(/** @type {Matrix} */ ([num(0), num(1), num(2), num(3), num(4), num(5)]), s.ctm);
            break;
          case 'w':
            s.lineWidth = num(0);
            break;
          case 'J':
            s.lineCap = num(0);
            break;
          case 'j':
            s.lineJoin = num(0);
            break;
          case 'M':
            s.miter = num(0);
            break;
          case 'd':
            s.dash = Array.isArray(operands[0]) ? operands[0].map(Number) : [];
            s.dashPhase = num(1);
            break;
          case 'gs':
            this.extGState(resources, operands[0]);
            break;
          case 'ri':
          case 'i':
            break;
          // --- colour
          case 'g':
            s.fillSpace = { n: 1, kind: 'gray' };
            s.fill = rgbCss([num(0) * 255, num(0) * 255, num(0) * 255]);
            break;
          case 'G':
            s.strokeSpace = { n: 1, kind: 'gray' };
            s.stroke = rgbCss([num(0) * 255, num(0) * 255, num(0) * 255]);
            break;
          case 'rg':
            s.fillSpace = { n: 3, kind: 'rgb' };
            s.fill = rgbCss([num(0) * 255, num(1) * 255, num(2) * 255]);
            break;
          case 'RG':
            s.strokeSpace = { n: 3, kind: 'rgb' };
            s.stroke = rgbCss([num(0) * 255, num(1) * 255, num(2) * 255]);
            break;
          case 'k':
            s.fillSpace = { n: 4, kind: 'cmyk' };
            s.fill = rgbCss(cmykToRgb(num(0), num(1), num(2), num(3)));
            break;
          case 'K':
            s.strokeSpace = { n: 4, kind: 'cmyk' };
            s.stroke = rgbCss(cmykToRgb(num(0), num(1), num(2), num(3)));
            break;
          case 'cs':
            s.fillSpace = this.colorSpace(resources, operands[0]);
            s.fill = this.initialColor(s.fillSpace);
            break;
          case 'CS':
            s.strokeSpace = this.colorSpace(resources, operands[0]);
            s.stroke = this.initialColor(s.strokeSpace);
            break;
          case 'sc':
          case 'scn':
            s.fill = this.color(s.fillSpace, operands);
            break;
          case 'SC':
          case 'SCN':
            s.stroke = this.color(s.strokeSpace, operands);
            break;
          // --- paths
          case 'm':
            path.moveTo(num(0), num(1));
            pathEmpty = false;
            break;
          case 'l':
            path.lineTo(num(0), num(1));
            pathEmpty = false;
            break;
          case 'c':
            path.bezierCurveTo(num(0), num(1), num(2), num(3), num(4), num(5));
            pathEmpty = false;
            break;
          case 'v': {
            // The current point is the first control point; Path2D does not expose it, a quadratic is close enough.
            path.quadraticCurveTo(num(0), num(1), num(2), num(3));
            pathEmpty = false;
            break;
          }
          case 'y':
            path.bezierCurveTo(num(0), num(1), num(2), num(3), num(2), num(3));
            pathEmpty = false;
            break;
          case 'h':
            path.closePath();
            break;
          case 're':
            path.rect(num(0), num(1), num(2), num(3));
            pathEmpty = false;
            break;
          case 'S':
          case 's':
          case 'f':
          case 'F':
          case 'f*':
          case 'B':
          case 'B*':
          case 'b':
          case 'b*':
          case 'n': {
            if (op === 's' || op === 'b' || op === 'b*') path.closePath();
            const even = op.endsWith('*');
            if (!pathEmpty) {
              if (op !== 'S' && op !== 's' && op !== 'n') this.fillPath(path, even ? 'evenodd' : 'nonzero');
              if (op === 'S' || op === 's' || op === 'B' || op === 'B*' || op === 'b' || op === 'b*')
                this.strokePath(path);
              if (clip) {
                this.setDevice(s.ctm);
                ctx.clip(path, clip);
              }
            }
            clip = null;
            path = new Path2D();
            pathEmpty = true;
            break;
          }
          case 'W':
            clip = 'nonzero';
            break;
          case 'W*':
            clip = 'evenodd';
            break;
          // --- text
          case 'BT':
            tm = tlm = IDENTITY;
            break;
          case 'ET':
            break;
          case 'Tc':
            s.charSpacing = num(0);
            break;
          case 'Tw':
            s.wordSpacing = num(0);
            break;
          case 'Tz':
            s.hScale = num(0) / 100;
            break;
          case 'TL':
            s.leading = num(0);
            break;
          case 'Ts':
            s.rise = num(0);
            break;
          case 'Tr':
            s.render = num(0);
            break;
          case 'Tf': {
            const fonts = this.file.get(resources.get('Font'));
            const ref = fonts instanceof Map && operands[0] instanceof Name ? fonts.get(operands[0].name) : null;
            s.font = await this.loadFont(ref ?? null);
            s.fontSize = num(1);
            break;
          }
          case 'Td':
            tlm = mul(/** @type {Matrix} */ ([1, 0, 0, 1, num(0), num(1)]), tlm);
            tm = tlm;
            break;
          case 'TD':
            s.leading = -num(1);
            tlm = mul(/** @type {Matrix} */ ([1, 0, 0, 1, num(0), num(1)]), tlm);
            tm = tlm;
            break;
          case 'Tm':
            tlm = tm = /** @type {Matrix} */ ([num(0), num(1), num(2), num(3), num(4), num(5)]);
            break;
          case 'T*':
            tlm = mul(/** @type {Matrix} */ ([1, 0, 0, 1, 0, -s.leading]), tlm);
            tm = tlm;
            break;
          case 'Tj':
            tm = this.showText(operands[0], tm);
            break;
          case "'":
            tlm = mul(/** @type {Matrix} */ ([1, 0, 0, 1, 0, -s.leading]), tlm);
            tm = this.showText(operands[0], tlm);
            break;
          case '"':
            s.wordSpacing = num(0);
            s.charSpacing = num(1);
            tlm = mul(/** @type {Matrix} */ ([1, 0, 0, 1, 0, -s.leading]), tlm);
            tm = this.showText(operands[2], tlm);
            break;
          case 'TJ':
            for (const item of Array.isArray(operands[0]) ? operands[0] : []) {
              if (item instanceof PdfString) tm = this.showText(item, tm);
              else if (typeof item === 'number')
                tm = mul(/** @type {Matrix} */ ([1, 0, 0, 1, (-item / 1000) * s.fontSize * s.hScale, 0]), tm);
            }
            break;
          // --- XObjects, inline images, shadings
          case 'Do':
            await this.xobject(resources, operands[0]);
            break;
          case 'BI':
            this.skipInlineImage(lexer);
            this.skipped.add('inline images');
            break;
          case 'sh':
            this.skipped.add('colour gradients');
            break;
          case 'd0':
          case 'd1':
          case 'BMC':
          case 'BDC':
          case 'EMC':
          case 'MP':
          case 'DP':
          case 'BX':
          case 'EX':
            break;
          default:
            break;
        }
      } catch {
        // One bad operator must not lose the rest of the page.
      }
      operands.length = 0;
    }
  }

  setDevice(matrix) {
    const m = mul(matrix, this.base);
    this.ctx.setTransform(m[0], m[1], m[2], m[3], m[4], m[5]);
    return m;
  }

  fillPath(path, rule) {
    const s = this.state;
    if (s.fill === 'pattern') return;
    this.setDevice(s.ctm);
    this.ctx.globalAlpha = s.fillAlpha;
    this.ctx.fillStyle = s.fill;
    this.ctx.fill(path, rule);
  }

  strokePath(path) {
    const s = this.state;
    if (s.stroke === 'pattern') return;
    const m = this.setDevice(s.ctm);
    const ctx = this.ctx;
    const scale = Math.sqrt(Math.abs(m[0] * m[3] - m[1] * m[2])) || 1;
    // Width 0 means the thinnest line the device can show.
    ctx.lineWidth = s.lineWidth > 0 ? s.lineWidth : 1 / scale;
    if (ctx.lineWidth * scale < 0.75) ctx.lineWidth = 0.75 / scale;
    ctx.lineCap = ['butt', 'round', 'square'][s.lineCap] ?? 'butt';
    ctx.lineJoin = ['miter', 'round', 'bevel'][s.lineJoin] ?? 'miter';
    ctx.miterLimit = s.miter;
    ctx.setLineDash(s.dash.every((d) => d >= 0) && s.dash.some((d) => d > 0) ? s.dash : []);
    ctx.lineDashOffset = s.dashPhase;
    ctx.globalAlpha = s.strokeAlpha;
    ctx.strokeStyle = s.stroke;
    ctx.stroke(path);
  }

  extGState(resources, name) {
    const states = this.file.get(resources.get('ExtGState'));
    const gs = states instanceof Map && name instanceof Name ? this.file.get(states.get(name.name)) : null;
    if (!(gs instanceof Map)) return;
    const s = this.state;
    const get = (k) => this.file.get(gs.get(k));
    if (typeof get('ca') === 'number') s.fillAlpha = get('ca');
    if (typeof get('CA') === 'number') s.strokeAlpha = get('CA');
    if (typeof get('LW') === 'number') s.lineWidth = get('LW');
    if (typeof get('LC') === 'number') s.lineCap = get('LC');
    if (typeof get('LJ') === 'number') s.lineJoin = get('LJ');
    if (get('SMask') instanceof Map) this.skipped.add('soft masks');
  }

  /** A colour space by name or from the resources, reduced to what the viewer can paint. */
  colorSpace(resources, operand) {
    const file = this.file;
    const resolve = (cs, depth = 0) => {
      cs = file.get(cs);
      if (depth > 4) return { n: 1, kind: 'gray' };
      if (cs instanceof Name) {
        switch (cs.name) {
          case 'DeviceGray':
          case 'G':
          case 'CalGray':
            return { n: 1, kind: 'gray' };
          case 'DeviceRGB':
          case 'RGB':
          case 'CalRGB':
            return { n: 3, kind: 'rgb' };
          case 'DeviceCMYK':
          case 'CMYK':
            return { n: 4, kind: 'cmyk' };
          case 'Pattern':
            return { n: 0, kind: 'pattern' };
          default: {
            const spaces = file.get(resources.get('ColorSpace'));
            return spaces instanceof Map && spaces.has(cs.name)
              ? resolve(spaces.get(cs.name), depth + 1)
              : { n: 1, kind: 'gray' };
          }
        }
      }
      if (Array.isArray(cs)) {
        const family = nameOf(file.get(cs[0]));
        if (family === 'ICCBased') {
          const stream = file.get(cs[1]);
          const n = stream instanceof Stream ? Number(file.get(stream.dict.get('N')) ?? 3) : 3;
          return n === 1 ? { n: 1, kind: 'gray' } : n === 4 ? { n: 4, kind: 'cmyk' } : { n: 3, kind: 'rgb' };
        }
        if (family === 'CalRGB' || family === 'Lab') return { n: 3, kind: 'rgb' };
        if (family === 'CalGray') return { n: 1, kind: 'gray' };
        if (family === 'Indexed' || family === 'I') {
          const base = resolve(cs[1], depth + 1);
          let lookup = file.get(cs[3]);
          lookup =
            lookup instanceof PdfString ? lookup.bytes : lookup instanceof Stream ? lookup.raw : new Uint8Array(0);
          return { n: 1, kind: 'indexed', base, hival: Number(file.get(cs[2])) || 0, lookup };
        }
        if (family === 'Separation' || family === 'DeviceN') {
          const names = file.get(cs[1]);
          return { n: Array.isArray(names) ? names.length : 1, kind: 'tint' };
        }
        if (family === 'Pattern') return { n: 0, kind: 'pattern' };
      }
      return { n: 1, kind: 'gray' };
    };
    return resolve(operand);
  }

  initialColor(space) {
    if (space.kind === 'cmyk') return rgbCss([0, 0, 0]);
    if (space.kind === 'pattern') return 'pattern';
    if (space.kind === 'tint') return rgbCss([0, 0, 0]);
    return rgbCss([0, 0, 0]);
  }

  color(space, operands) {
    const nums = operands.filter((o) => typeof o === 'number');
    if (space.kind === 'pattern' || (operands.at(-1) instanceof Name && nums.length === 0)) {
      this.skipped.add('patterns');
      return 'pattern';
    }
    switch (space.kind) {
      case 'rgb':
        return rgbCss([nums[0] * 255, nums[1] * 255, nums[2] * 255]);
      case 'cmyk':
        return rgbCss(cmykToRgb(nums[0] ?? 0, nums[1] ?? 0, nums[2] ?? 0, nums[3] ?? 1));
      case 'indexed':
        return rgbCss(this.indexed(space, nums[0] ?? 0));
      case 'tint': {
        // A spot colour: shown as the darkness of its tint.
        const t = Math.max(...nums.map((v) => v ?? 0), 0);
        return rgbCss([255 * (1 - t), 255 * (1 - t), 255 * (1 - t)]);
      }
      default:
        return rgbCss([(nums[0] ?? 0) * 255, (nums[0] ?? 0) * 255, (nums[0] ?? 0) * 255]);
    }
  }

  indexed(space, index) {
    const i = Math.max(0, Math.min(space.hival, Math.round(index)));
    const n = space.base.n || 1;
    const at = i * n;
    const v = (k) => space.lookup[at + k] ?? 0;
    if (space.base.kind === 'cmyk') return cmykToRgb(v(0) / 255, v(1) / 255, v(2) / 255, v(3) / 255);
    if (n === 1) return [v(0), v(0), v(0)];
    return [v(0), v(1), v(2)];
  }

  /** Draws a string and returns the text matrix after it. */
  showText(str, tm) {
    const s = this.state;
    if (!(str instanceof PdfString) || !s.font) return tm;
    const font = s.font;
    const ctx = this.ctx;
    const glyphs = font.glyphs(str.bytes);
    const invisible = s.render === 3 || s.render === 7 || font.type3;
    if (font.type3) this.skipped.add('Type 3 fonts');
    const px = 100;
    if (!invisible) {
      ctx.font = font.css(px);
      ctx.textBaseline = 'alphabetic';
      ctx.textAlign = 'left';
      const strokeOnly = s.render === 1 || s.render === 5;
      if (strokeOnly) ctx.strokeStyle = s.stroke;
      else ctx.fillStyle = s.fill;
      ctx.globalAlpha = strokeOnly ? s.strokeAlpha : s.fillAlpha;
    }
    for (const g of glyphs) {
      if (!invisible && g.text && g.text.trim()) {
        // Glyph space (y up, 1 unit = font size) → device; the canvas font is `px` tall with y down.
        const trm = mul(/** @type {Matrix} */ ([s.fontSize * s.hScale, 0, 0, s.fontSize, 0, s.rise]), mul(tm, s.ctm));
        const device = mul(/** @type {Matrix} */ ([1 / px, 0, 0, -1 / px, 0, 0]), mul(trm, this.base));
        const natural = ctx.measureText(g.text).width;
        const wanted = (g.width / 1000) * px;
        // Keep the PDF's advance: squeeze a wider fallback glyph rather than let it overlap the next.
        const squeeze = natural > wanted * 1.05 && wanted > 0 ? Math.max(0.5, wanted / natural) : 1;
        ctx.setTransform(device[0] * squeeze, device[1] * squeeze, device[2], device[3], device[4], device[5]);
        if (s.render === 1 || s.render === 5) ctx.strokeText(g.text, 0, 0);
        else ctx.fillText(g.text, 0, 0);
      }
      const advance = ((g.width / 1000) * s.fontSize + s.charSpacing + (g.space ? s.wordSpacing : 0)) * s.hScale;
      tm = mul(/** @type {Matrix} */ ([1, 0, 0, 1, advance, 0]), tm);
    }
    return tm;
  }

  async xobject(resources, name) {
    const file = this.file;
    const xobjects = file.get(resources.get('XObject'));
    const stream = xobjects instanceof Map && name instanceof Name ? file.get(xobjects.get(name.name)) : null;
    if (!(stream instanceof Stream)) return;
    const subtype = nameOf(file.get(stream.dict.get('Subtype')));
    if (subtype === 'Image') {
      await this.image(stream);
      return;
    }
    // A form drawing itself (directly or through others) is drawn once, not recursively.
    if (subtype !== 'Form' || this.depth > 8 || this.activeForms.has(stream)) return;
    this.activeForms.add(stream);
    const s = this.state;
    this.stack.push({ ...s });
    this.ctx.save();
    this.depth++;
    try {
      const matrix = file.get(stream.dict.get('Matrix'));
      if (Array.isArray(matrix) && matrix.length === 6)
        s.ctm = mul(/** @type {Matrix} */ (matrix.map((v) => Number(file.get(v)))), s.ctm);
      const bbox = file.get(stream.dict.get('BBox'));
      if (Array.isArray(bbox) && bbox.length === 4) {
        const [x0, y0, x1, y1] = bbox.map((v) => Number(file.get(v)));
        const clip = new Path2D();
        clip.rect(x0, y0, x1 - x0, y1 - y0);
        this.setDevice(s.ctm);
        this.ctx.clip(clip);
      }
      const own = file.get(stream.dict.get('Resources'));
      const data = await decodeStream(file, stream);
      await this.exec(data, own instanceof Map ? own : resources);
    } finally {
      this.depth--;
      this.activeForms.delete(stream);
      this.state = this.stack.pop();
      this.ctx.restore();
    }
  }

  async image(stream) {
    const file = this.file;
    const dict = stream.dict;
    const get = (k, alt) => file.get(dict.get(k) ?? (alt ? dict.get(alt) : undefined));
    const width = Number(get('Width', 'W'));
    const height = Number(get('Height', 'H'));
    if (!(width > 0 && height > 0) || width * height > 40_000_000) return;
    // Images are charged to one budget per page, so repeating one cannot add up without end.
    this.pixels = (this.pixels ?? 0) + width * height;
    if (this.pixels > MAX_PIXELS_PER_PAGE) {
      this.skipped.add('some images (too many pixels)');
      return;
    }
    const imageMask = file.get(dict.get('ImageMask') ?? dict.get('IM')) === true;
    const bpc = Number(get('BitsPerComponent', 'BPC') ?? (imageMask ? 1 : 8));
    if (!stream.imageFilter && !imageMask && ![1, 2, 4, 8, 16].includes(bpc)) return;
    const data = await decodeStream(file, stream);
    let source;
    if (stream.imageFilter === 'DCTDecode' || stream.imageFilter === 'DCT') {
      source = await createImageBitmap(new Blob([data], { type: 'image/jpeg' }));
    } else if (stream.imageFilter) {
      this.skipped.add(`${stream.imageFilter.replace(/Decode$/, '')} images`);
      return;
    } else {
      const rgba = this.samples(dict, data, width, height);
      if (!rgba) return;
      const smask = file.get(dict.get('SMask'));
      if (smask instanceof Stream) {
        const alpha = await decodeStream(file, smask);
        const sw = Number(file.get(smask.dict.get('Width')));
        const sh = Number(file.get(smask.dict.get('Height')));
        if (sw === width && sh === height && !smask.imageFilter && alpha.length >= width * height) {
          for (let i = 0; i < width * height; i++) rgba[i * 4 + 3] = alpha[i];
        }
      }
      source = await createImageBitmap(new ImageData(rgba, width, height));
    }
    const s = this.state;
    // The image fills the unit square of user space, first row at the top.
    const m = mul(/** @type {Matrix} */ ([1 / width, 0, 0, -1 / height, 0, 1]), mul(s.ctm, this.base));
    const ctx = this.ctx;
    ctx.setTransform(m[0], m[1], m[2], m[3], m[4], m[5]);
    ctx.globalAlpha = s.fillAlpha;
    ctx.imageSmoothingEnabled = true;
    try {
      ctx.drawImage(source, 0, 0, width, height);
    } finally {
      source.close?.();
    }
  }

  /** Raw samples → RGBA for 1/2/4/8-bit gray, RGB, CMYK, indexed images and stencil masks. */
  samples(dict, data, width, height) {
    const file = this.file;
    const get = (k, alt) => file.get(dict.get(k) ?? (alt ? dict.get(alt) : undefined));
    const stencil = get('ImageMask', 'IM') === true;
    const bpc = stencil ? 1 : Number(get('BitsPerComponent', 'BPC') ?? 8);
    const space = stencil
      ? { n: 1, kind: 'gray' }
      : this.colorSpace(new Map(), get('ColorSpace', 'CS') ?? new Name('DeviceGray'));
    const n = space.kind === 'indexed' ? 1 : space.n || 1;
    const decode = get('Decode', 'D');
    const invert = Array.isArray(decode) && Number(file.get(decode[0])) === 1;
    const rowBits = width * n * bpc;
    const rowBytes = Math.ceil(rowBits / 8);
    if (data.length < rowBytes * height) return null;
    const out = new Uint8ClampedArray(width * height * 4);
    const max = (1 << bpc) - 1;
    const sample = (row, index) => {
      if (bpc === 8) return data[row * rowBytes + index];
      if (bpc === 16) return data[row * rowBytes + index * 2];
      const bit = index * bpc;
      const byte = data[row * rowBytes + (bit >> 3)];
      return (byte >> (8 - bpc - (bit & 7))) & max;
    };
    const to255 = (v) => (bpc === 8 || bpc === 16 ? v : Math.round((v * 255) / max));
    const fill = stencil ? parseRgb(this.state.fill) : null;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const o = (y * width + x) * 4;
        if (stencil) {
          const v = sample(y, x);
          const paint = invert ? v === 1 : v === 0;
          out[o] = fill[0];
          out[o + 1] = fill[1];
          out[o + 2] = fill[2];
          out[o + 3] = paint ? 255 : 0;
          continue;
        }
        let rgb;
        if (space.kind === 'indexed') rgb = this.indexed(space, sample(y, x));
        else if (n === 1) {
          let v = to255(sample(y, x));
          if (invert) v = 255 - v;
          rgb = [v, v, v];
        } else if (n === 4)
          rgb = cmykToRgb(
            to255(sample(y, x * 4)) / 255,
            to255(sample(y, x * 4 + 1)) / 255,
            to255(sample(y, x * 4 + 2)) / 255,
            to255(sample(y, x * 4 + 3)) / 255,
          );
        else rgb = [to255(sample(y, x * 3)), to255(sample(y, x * 3 + 1)), to255(sample(y, x * 3 + 2))];
        out[o] = rgb[0];
        out[o + 1] = rgb[1];
        out[o + 2] = rgb[2];
        out[o + 3] = 255;
      }
    }
    return out;
  }

  /** Moves the lexer past an inline image (BI ... ID <data> EI). */
  skipInlineImage(lexer) {
    const d = lexer.data;
    for (;;) {
      const t = lexer.read(false);
      if (t === undefined) return;
      if (t instanceof Cmd && t.cmd === 'ID') break;
    }
    lexer.pos++;
    for (let i = lexer.pos; i < d.length - 2; i++) {
      if (
        d[i] === 0x45 &&
        d[i + 1] === 0x49 &&
        (i === 0 || d[i - 1] <= 0x20) &&
        (i + 2 >= d.length || d[i + 2] <= 0x20)
      ) {
        lexer.pos = i + 2;
        return;
      }
    }
    lexer.pos = d.length;
  }
}

function parseRgb(css) {
  const m = /rgb\((\d+) (\d+) (\d+)\)/.exec(css);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : [0, 0, 0];
}
