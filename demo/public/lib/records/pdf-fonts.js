/**
 * PDF fonts for the record viewer: which characters a string shows and how
 * far each one advances. Glyph outlines embedded in the file are not read;
 * text is drawn with the closest standard browser font (serif, sans-serif or
 * monospace; bold and italic kept) at the positions and widths the PDF gives,
 * so the layout of a report holds even where the letter shapes differ.
 */
import { Name, Stream, decodeStream, latin1, nameOf } from './pdf-parse.js';

const ASCII_NAMES = (
  'space exclam quotedbl numbersign dollar percent ampersand quotesingle parenleft parenright asterisk plus comma hyphen period slash ' +
  'zero one two three four five six seven eight nine colon semicolon less equal greater question at ' +
  'A B C D E F G H I J K L M N O P Q R S T U V W X Y Z bracketleft backslash bracketright asciicircum underscore grave ' +
  'a b c d e f g h i j k l m n o p q r s t u v w x y z braceleft bar braceright asciitilde'
).split(' ');
const LATIN1_NAMES = (
  'space exclamdown cent sterling currency yen brokenbar section dieresis copyright ordfeminine guillemotleft logicalnot hyphen registered macron ' +
  'degree plusminus twosuperior threesuperior acute mu paragraph periodcentered cedilla onesuperior ordmasculine guillemotright onequarter onehalf threequarters questiondown ' +
  'Agrave Aacute Acircumflex Atilde Adieresis Aring AE Ccedilla Egrave Eacute Ecircumflex Edieresis Igrave Iacute Icircumflex Idieresis ' +
  'Eth Ntilde Ograve Oacute Ocircumflex Otilde Odieresis multiply Oslash Ugrave Uacute Ucircumflex Udieresis Yacute Thorn germandbls ' +
  'agrave aacute acircumflex atilde adieresis aring ae ccedilla egrave eacute ecircumflex edieresis igrave iacute icircumflex idieresis ' +
  'eth ntilde ograve oacute ocircumflex otilde odieresis divide oslash ugrave uacute ucircumflex udieresis yacute thorn ydieresis'
).split(' ');
const EXTRA_NAMES = {
  bullet: '•',
  endash: '–',
  emdash: '—',
  quoteleft: '‘',
  quoteright: '’',
  quotedblleft: '“',
  quotedblright: '”',
  quotesinglbase: '‚',
  quotedblbase: '„',
  ellipsis: '…',
  dagger: '†',
  daggerdbl: '‡',
  perthousand: '‰',
  trademark: '™',
  Euro: '€',
  florin: 'ƒ',
  fi: 'ﬁ',
  fl: 'ﬂ',
  ff: 'ﬀ',
  ffi: 'ﬃ',
  ffl: 'ﬄ',
  minus: '−',
  OE: 'Œ',
  oe: 'œ',
  Scaron: 'Š',
  scaron: 'š',
  Zcaron: 'Ž',
  zcaron: 'ž',
  Ydieresis: 'Ÿ',
  circumflex: 'ˆ',
  tilde: '˜',
  guilsinglleft: '‹',
  guilsinglright: '›',
  dotlessi: 'ı',
  Lslash: 'Ł',
  lslash: 'ł',
  fraction: '⁄',
  ring: '˚',
  caron: 'ˇ',
  breve: '˘',
  dotaccent: '˙',
  hungarumlaut: '˝',
  ogonek: '˛',
  nbspace: ' ',
  sfthyphen: '-',
  middot: '·',
  approxequal: '≈',
  notequal: '≠',
  lessequal: '≤',
  greaterequal: '≥',
  infinity: '∞',
  partialdiff: '∂',
  summation: '∑',
  product: '∏',
  pi: 'π',
  integral: '∫',
  Omega: 'Ω',
  radical: '√',
  lozenge: '◊',
  arrowright: '→',
  arrowleft: '←',
  arrowup: '↑',
  arrowdown: '↓',
  mu1: 'µ',
  micro: 'µ',
  alpha: 'α',
  beta: 'β',
  gamma: 'γ',
  delta: 'δ',
  epsilon: 'ε',
  lambda: 'λ',
  sigma: 'σ',
  omega: 'ω',
  checkmark: '✓',
  square: '■',
  filledbox: '■',
  H22073: '□',
  triagup: '▲',
  triagdn: '▼',
  copyrightsans: '©',
  registersans: '®',
};

/** Glyph name → text (Adobe glyph list naming: "eacute", "uni4E2D", "u1F600", "a.sc"). */
export function glyphText(name) {
  const base = name.split('.')[0].split('_')[0];
  const ascii = ASCII_NAMES.indexOf(base);
  if (ascii >= 0) return String.fromCharCode(0x20 + ascii);
  const latin = LATIN1_NAMES.indexOf(base);
  if (latin >= 0) return latin === 0 ? ' ' : String.fromCharCode(0xa0 + latin);
  if (Object.hasOwn(EXTRA_NAMES, base)) return EXTRA_NAMES[base];
  let m = /^uni([0-9A-Fa-f]{4,})$/.exec(base);
  if (m) {
    let out = '';
    for (let i = 0; i + 4 <= m[1].length; i += 4) out += String.fromCharCode(Number.parseInt(m[1].slice(i, i + 4), 16));
    return out;
  }
  m = /^u([0-9A-Fa-f]{4,6})$/.exec(base);
  if (m) return String.fromCodePoint(Number.parseInt(m[1], 16));
  return '';
}

function tableFrom(decoderLabel) {
  const table = new Array(256).fill('');
  const decoder = new TextDecoder(decoderLabel);
  for (let i = 32; i < 256; i++) table[i] = decoder.decode(Uint8Array.of(i));
  return table;
}

const WIN_ANSI = tableFrom('windows-1252');
for (const undefinedCode of [0x7f, 0x81, 0x8d, 0x8f, 0x90, 0x9d]) WIN_ANSI[undefinedCode] = '•';
WIN_ANSI[0xa0] = ' ';
WIN_ANSI[0xad] = '-';
const MAC_ROMAN = tableFrom('macintosh');
const STANDARD = (() => {
  const table = new Array(256).fill('');
  for (let i = 32; i < 127; i++) table[i] = String.fromCharCode(i);
  table[0x27] = '’';
  table[0x60] = '‘';
  const upper = {
    0xa1: '¡',
    0xa2: '¢',
    0xa3: '£',
    0xa4: '⁄',
    0xa5: '¥',
    0xa6: 'ƒ',
    0xa7: '§',
    0xa8: '¤',
    0xa9: "'",
    0xaa: '“',
    0xab: '«',
    0xac: '‹',
    0xad: '›',
    0xae: 'ﬁ',
    0xaf: 'ﬂ',
    0xb1: '–',
    0xb2: '†',
    0xb3: '‡',
    0xb4: '·',
    0xb6: '¶',
    0xb7: '•',
    0xb8: '‚',
    0xb9: '„',
    0xba: '”',
    0xbb: '»',
    0xbc: '…',
    0xbd: '‰',
    0xbf: '¿',
    0xc1: '`',
    0xc2: '´',
    0xc3: 'ˆ',
    0xc4: '˜',
    0xc5: '¯',
    0xc6: '˘',
    0xc7: '˙',
    0xc8: '¨',
    0xca: '˚',
    0xcb: '¸',
    0xcd: '˝',
    0xce: '˛',
    0xcf: 'ˇ',
    0xd0: '—',
    0xe1: 'Æ',
    0xe3: 'ª',
    0xe8: 'Ł',
    0xe9: 'Ø',
    0xea: 'Œ',
    0xeb: 'º',
    0xf1: 'æ',
    0xf5: 'ı',
    0xf8: 'ł',
    0xf9: 'ø',
    0xfa: 'œ',
    0xfb: 'ß',
  };
  for (const [code, text] of Object.entries(upper)) table[Number(code)] = text;
  return table;
})();
const BASE_ENCODINGS = {
  WinAnsiEncoding: WIN_ANSI,
  MacRomanEncoding: MAC_ROMAN,
  StandardEncoding: STANDARD,
  PDFDocEncoding: WIN_ANSI,
};

/** Predefined CJK CMaps (by name) the browser can decode as text, with how codes are split. */
const CJK_CMAPS = [
  { re: /UCS2|UTF16/, label: 'utf-16be', split: 'two' },
  { re: /UTF8/, label: 'utf-8', split: 'utf8' },
  { re: /^(GBK|GBpc|GB|GBT|GBK2K)-EUC|GBK-|GBK2K-|GBKp-/, label: 'gbk', split: 'lead81' },
  { re: /B5|Big5|ETen|HKscs/i, label: 'big5', split: 'lead81' },
  { re: /RKSJ/, label: 'shift_jis', split: 'sjis' },
  { re: /EUC-H|EUC-V/, label: 'euc-jp', split: 'lead81' },
  { re: /KSC|KSCms/, label: 'euc-kr', split: 'lead81' },
];

/**
 * A ToUnicode (or embedded encoding) CMap: code → text, and the byte lengths of codes.
 * @param {string} text
 */
/** Entries one font's code map may hold (a real CJK font needs tens of thousands). */
const MAX_CMAP_ENTRIES = 200_000;

/** Bytes per character code, 1–4 whatever the file says (0 would never advance). */
function codeBytes(hex) {
  const n = Math.round(hex.replace(/\s+/g, '').length / 2);
  return Math.min(4, Math.max(1, n));
}

export function parseCMap(text) {
  /** @type {Map<number, string>} */
  const map = new Map();
  const lengths = new Set();
  let entries = 0;
  const hexes = (s) => [...s.matchAll(/<([0-9A-Fa-f\s]*)>|\[([^\]]*)\]/g)];
  const utf16 = (hex) => {
    const clean = hex.replace(/\s+/g, '');
    let out = '';
    for (let i = 0; i + 4 <= clean.length; i += 4)
      out += String.fromCharCode(Number.parseInt(clean.slice(i, i + 4), 16));
    if (clean.length === 2) out = String.fromCharCode(Number.parseInt(clean, 16));
    return out;
  };
  for (const block of text.matchAll(/begincodespacerange([\s\S]*?)endcodespacerange/g)) {
    const items = hexes(block[1]);
    for (let i = 0; i + 1 < items.length; i += 2) lengths.add(codeBytes(items[i][1]));
  }
  for (const block of text.matchAll(/beginbfchar([\s\S]*?)endbfchar/g)) {
    const items = hexes(block[1]);
    for (let i = 0; i + 1 < items.length; i += 2) {
      const src = items[i][1].replace(/\s+/g, '');
      if (!lengths.size) lengths.add(codeBytes(src));
      if (++entries > MAX_CMAP_ENTRIES) break;
      map.set(Number.parseInt(src, 16), utf16(items[i + 1][1] ?? ''));
    }
  }
  for (const block of text.matchAll(/beginbfrange([\s\S]*?)endbfrange/g)) {
    const items = hexes(block[1]);
    for (let i = 0; i + 2 < items.length; i += 3) {
      const lo = Number.parseInt(items[i][1].replace(/\s+/g, ''), 16);
      const hi = Number.parseInt(items[i + 1][1].replace(/\s+/g, ''), 16);
      if (!(hi >= lo) || hi - lo > 65535) continue;
      // A font's map is bounded whatever its ranges claim.
      entries += hi - lo + 1;
      if (entries > MAX_CMAP_ENTRIES) break;
      const dst = items[i + 2];
      if (dst[2] !== undefined) {
        const list = [...dst[2].matchAll(/<([0-9A-Fa-f\s]*)>/g)].map((m) => utf16(m[1]));
        for (let c = lo; c <= hi; c++) map.set(c, list[c - lo] ?? '');
      } else {
        const start = utf16(dst[1]);
        if (!start) continue;
        const head = start.slice(0, -1);
        const last = start.charCodeAt(start.length - 1);
        for (let c = lo; c <= hi; c++) map.set(c, head + String.fromCharCode(last + (c - lo)));
      }
    }
  }
  return { map, lengths: [...lengths].sort((a, b) => a - b) };
}

const FAMILIES = {
  sans: '"Helvetica", "Arial", "Liberation Sans", "Noto Sans", "DejaVu Sans", "Noto Sans CJK SC", "Microsoft YaHei", "PingFang SC", sans-serif',
  serif:
    '"Times New Roman", "Times", "Liberation Serif", "Noto Serif", "DejaVu Serif", "Noto Serif CJK SC", "SimSun", "Songti SC", serif',
  mono: '"Courier New", "Courier", "Liberation Mono", "DejaVu Sans Mono", "Noto Sans Mono CJK SC", monospace',
};

/**
 * @typedef {{ code: number, text: string, width: number, space: boolean }} Glyph  width in 1/1000 of the font size
 * @typedef {{ css(px: number): string, glyphs(bytes: Uint8Array): Glyph[], type3: boolean, unmapped: number }} PdfFont
 */

/**
 * @param {import('./pdf-parse.js').PdfFile} file
 * @param {Map<string, any> | null} dict  the font dictionary
 * @param {(css: string, text: string) => number} measure  width of `text` in `css` (px), for fonts without widths
 * @returns {Promise<PdfFont>}
 */
export async function loadFont(file, dict, measure) {
  if (!(dict instanceof Map)) return fallbackFont(measure);
  const subtype = nameOf(file.get(dict.get('Subtype')));
  const baseFont = (nameOf(file.get(dict.get('BaseFont'))) ?? '').replace(/^[A-Z]{6}\+/, '');
  const composite = subtype === 'Type0';
  const descendant = composite ? file.get((file.get(dict.get('DescendantFonts')) ?? [])[0]) : null;
  const descriptor = file.get((descendant ?? dict).get?.('FontDescriptor'));
  const flags = descriptor instanceof Map ? Number(file.get(descriptor.get('Flags')) ?? 0) : 0;
  const weight = descriptor instanceof Map ? Number(file.get(descriptor.get('FontWeight')) ?? 0) : 0;
  // TeX's own names too: CMTT / LMMono (typewriter), CMR / LMRoman / Nimbus Roman (serif).
  const fixed = (flags & 1) !== 0 || /Courier|Mono|Consol|Fixed|CMTT|SFTT|Typewriter/i.test(baseFont);
  const serif =
    !fixed &&
    ((flags & 2) !== 0 ||
      /Times|Serif|Roman|Georgia|Garamond|Song|Ming|SimSun|NSimSun|FangSong|Kai|STSong|Symbol|^CM(R|BX|TI|SL|MI)\d|^SF(RM|BX|TI)\d|NimbusRom/i.test(
        baseFont,
      )) &&
    !/Sans|Hei|Arial|Helvet|^CMSS/i.test(baseFont);
  const bold = weight >= 600 || /Bold|Black|Heavy|Semibold|Demi|,B\b/i.test(baseFont) || (flags & 0x40000) !== 0;
  const italic = (flags & 64) !== 0 || /Italic|Oblique|,I\b/i.test(baseFont);
  const family = fixed ? FAMILIES.mono : serif ? FAMILIES.serif : FAMILIES.sans;
  const css = (px) => `${italic ? 'italic ' : ''}${bold ? 'bold ' : ''}${px}px ${family}`;

  let toUnicode = null;
  const tu = file.get(dict.get('ToUnicode'));
  if (tu instanceof Stream) {
    try {
      toUnicode = parseCMap(latin1(await decodeStream(file, tu)));
    } catch {
      toUnicode = null;
    }
  }
  const font = { css, type3: subtype === 'Type3', unmapped: 0, glyphs: (_bytes) => /** @type {Glyph[]} */ ([]) };
  /** @type {Map<string, number>} */
  const measured = new Map();
  const measureText = (text) => {
    if (!text) return 0;
    let w = measured.get(text);
    if (w === undefined) {
      w = measure(css(1000), text);
      measured.set(text, w);
    }
    return w;
  };

  if (composite) {
    const widths = new Map();
    const dw = descendant instanceof Map ? Number(file.get(descendant.get('DW')) ?? 1000) : 1000;
    const w = descendant instanceof Map ? file.get(descendant.get('W')) : null;
    if (Array.isArray(w)) {
      for (let i = 0; i < w.length && widths.size < MAX_CMAP_ENTRIES;) {
        const first = file.get(w[i]);
        const next = file.get(w[i + 1]);
        if (Array.isArray(next)) {
          next.forEach((v, j) => widths.set(first + j, Number(file.get(v))));
          i += 2;
        } else {
          const last = next;
          const value = Number(file.get(w[i + 2]));
          for (let c = first; c <= last && c - first < 65536 && widths.size < MAX_CMAP_ENTRIES; c++)
            widths.set(c, value);
          i += 3;
        }
      }
    }
    const encoding = file.get(dict.get('Encoding'));
    let codeLengths = toUnicode?.lengths.length ? toUnicode.lengths : [2];
    let decoder = null;
    let split = 'two';
    if (encoding instanceof Name) {
      const known = CJK_CMAPS.find((c) => c.re.test(encoding.name));
      if (known && !/Identity/.test(encoding.name)) {
        try {
          decoder = new TextDecoder(known.label);
          split = known.split;
        } catch {
          decoder = null;
        }
      }
    } else if (encoding instanceof Stream) {
      try {
        const embedded = parseCMap(latin1(await decodeStream(file, encoding)));
        if (embedded.lengths.length) codeLengths = embedded.lengths;
      } catch {
        // Keep two-byte codes.
      }
    }
    font.glyphs = (bytes) => {
      const out = [];
      for (let i = 0; i < bytes.length;) {
        let n;
        if (decoder) n = codeLength(split, bytes, i);
        else
          n =
            codeLengths.length === 1
              ? codeLengths[0]
              : bytes.length - i >= 2 && codeLengths.includes(2)
                ? codeLengths.includes(1) && bytes[i] < 0x80
                  ? 1
                  : 2
                : 1;
        // Whatever the font claims, every step consumes 1–4 bytes.
        n = Math.min(4, Math.max(1, Math.trunc(Number(n)) || 1));
        let code = 0;
        for (let j = 0; j < n && i + j < bytes.length; j++) code = code * 256 + bytes[i + j];
        let text = toUnicode?.map.get(code);
        if (text === undefined && decoder) text = decoder.decode(bytes.subarray(i, i + n));
        if (text === undefined) {
          text = '';
          font.unmapped++;
        }
        out.push({ code, text, width: widths.get(code) ?? dw, space: n === 1 && code === 32 });
        i += n;
      }
      return out;
    };
    return font;
  }

  // Simple fonts: one byte per code.
  let table = WIN_ANSI;
  const symbolic = (flags & 4) !== 0 && (flags & 32) === 0;
  if (/Symbol|Dingbats/i.test(baseFont)) table = STANDARD;
  const encoding = file.get(dict.get('Encoding'));
  const differences = new Map();
  if (encoding instanceof Name) {
    table = BASE_ENCODINGS[encoding.name] ?? table;
  } else if (encoding instanceof Map) {
    const base = nameOf(file.get(encoding.get('BaseEncoding')));
    if (base && BASE_ENCODINGS[base]) table = BASE_ENCODINGS[base];
    else if (symbolic) table = STANDARD;
    const diff = file.get(encoding.get('Differences'));
    if (Array.isArray(diff)) {
      let code = 0;
      for (const item of diff) {
        const v = file.get(item);
        if (typeof v === 'number') code = v;
        else if (v instanceof Name) differences.set(code++, glyphText(v.name));
      }
    }
  }
  const firstChar = Number(file.get(dict.get('FirstChar')) ?? 0);
  const widthList = file.get(dict.get('Widths'));
  const missingWidth = descriptor instanceof Map ? Number(file.get(descriptor.get('MissingWidth')) ?? 0) : 0;
  let unitsPerEm = 1;
  if (subtype === 'Type3') {
    const matrix = file.get(dict.get('FontMatrix'));
    if (Array.isArray(matrix)) unitsPerEm = Number(file.get(matrix[0])) * 1000 || 1;
  }
  font.glyphs = (bytes) => {
    const out = [];
    for (const code of bytes) {
      let text = toUnicode?.map.get(code);
      if (text === undefined) text = differences.get(code) ?? table[code] ?? '';
      if (!text && code >= 32) font.unmapped++;
      let width = Array.isArray(widthList) ? Number(file.get(widthList[code - firstChar])) : NaN;
      if (Number.isFinite(width)) width *= unitsPerEm;
      else width = missingWidth || measureText(text || ' ');
      out.push({ code, text, width, space: code === 32 });
    }
    return out;
  };
  return font;
}

function codeLength(split, bytes, i) {
  const b = bytes[i];
  switch (split) {
    case 'two':
      return 2;
    case 'utf8':
      return b < 0x80 ? 1 : b < 0xe0 ? 2 : b < 0xf0 ? 3 : 4;
    case 'sjis':
      return (b >= 0x81 && b <= 0x9f) || (b >= 0xe0 && b <= 0xfc) ? 2 : 1;
    default:
      return b >= 0x81 ? 2 : 1;
  }
}

/** For a font that cannot be found: sans-serif, Latin-1. */
export function fallbackFont(measure) {
  const css = (px) => `${px}px ${FAMILIES.sans}`;
  return {
    css,
    type3: false,
    unmapped: 0,
    glyphs: (bytes) =>
      [...bytes].map((code) => {
        const text = WIN_ANSI[code] ?? '';
        return { code, text, width: measure(css(1000), text || ' '), space: code === 32 };
      }),
  };
}
