/**
 * IEEE 11073-20601 medical floats as the Bluetooth SIG health profiles carry
 * them (GATT Specification Supplement, "medfloat16" = SFLOAT and "medfloat32"
 * = FLOAT), little-endian on the wire.
 *
 * SFLOAT: 16 bits, a 4-bit signed exponent (high nibble) and a 12-bit signed
 * mantissa, value = mantissa × 10^exponent. FLOAT: 32 bits, an 8-bit signed
 * exponent (high byte) and a 24-bit signed mantissa. Five words with exponent
 * 0 are reserved for special values (NaN, NRes = "not at this resolution",
 * ±INFINITY, and one reserved for future use).
 *
 * Hand-written: the formats are two shifts and a table, and no maintained npm
 * package decodes them without pulling in a whole BLE stack.
 */

export type MedFloatSpecial = 'NaN' | 'NRes' | '+INF' | '-INF' | 'reserved';

/** A decoded medical float: a finite `value`, or a special (value NaN or ±Infinity). */
export type MedFloat =
  | {
      /** The value. */
      value: number;
      /** null: a finite value. */
      special: null;
    }
  | {
      /** NaN or ±Infinity. */
      value: number;
      /** Which special value the device sent. */
      special: MedFloatSpecial;
    };

const SFLOAT_SPECIAL: ReadonlyMap<number, MedFloatSpecial> = new Map([
  [0x07ff, 'NaN'],
  [0x0800, 'NRes'],
  [0x07fe, '+INF'],
  [0x0802, '-INF'],
  [0x0801, 'reserved'],
]);

const FLOAT_SPECIAL: ReadonlyMap<number, MedFloatSpecial> = new Map([
  [0x007fffff, 'NaN'],
  [0x00800000, 'NRes'],
  [0x007ffffe, '+INF'],
  [0x00800002, '-INF'],
  [0x00800001, 'reserved'],
]);

function special(kind: MedFloatSpecial): MedFloat {
  const value = kind === '+INF' ? Number.POSITIVE_INFINITY : kind === '-INF' ? Number.NEGATIVE_INFINITY : Number.NaN;
  return { value, special: kind };
}

/** mantissa × 10^exponent, dividing for negative exponents so 365e-1 is exactly 36.5. */
function scale(mantissa: number, exponent: number): number {
  return exponent < 0 ? mantissa / 10 ** -exponent : mantissa * 10 ** exponent;
}

function signed(raw: number, bits: number): number {
  const sign = 1 << (bits - 1);
  return raw & sign ? raw - (1 << bits) : raw;
}

/** Decodes a 16-bit SFLOAT word (as an unsigned integer 0..0xFFFF). */
export function decodeSfloat(word: number): MedFloat {
  const raw = word & 0xffff;
  const kind = SFLOAT_SPECIAL.get(raw);
  if (kind) return special(kind);
  return { value: scale(signed(raw & 0x0fff, 12), signed(raw >> 12, 4)), special: null };
}

/** Decodes a 32-bit FLOAT word (as an unsigned integer 0..0xFFFFFFFF). */
export function decodeFloat(word: number): MedFloat {
  const raw = word >>> 0;
  const kind = FLOAT_SPECIAL.get(raw);
  if (kind) return special(kind);
  return { value: scale(signed(raw & 0x00ffffff, 24), signed(raw >>> 24, 8)), special: null };
}

/** Encodes an SFLOAT word from mantissa and exponent (for tests and simulated peripherals). */
export function encodeSfloat(mantissa: number, exponent: number): number {
  if (!Number.isInteger(mantissa) || mantissa < -2048 || mantissa > 2047) throw new RangeError('mantissa out of range');
  if (!Number.isInteger(exponent) || exponent < -8 || exponent > 7) throw new RangeError('exponent out of range');
  return ((exponent & 0x0f) << 12) | (mantissa & 0x0fff);
}

/** Encodes a FLOAT word from mantissa and exponent. */
export function encodeFloat(mantissa: number, exponent: number): number {
  if (!Number.isInteger(mantissa) || mantissa < -(2 ** 23) || mantissa >= 2 ** 23)
    throw new RangeError('mantissa out of range');
  if (!Number.isInteger(exponent) || exponent < -128 || exponent > 127) throw new RangeError('exponent out of range');
  return (((exponent & 0xff) << 24) | (mantissa & 0x00ffffff)) >>> 0;
}

export const SFLOAT_NAN = 0x07ff;
export const SFLOAT_NRES = 0x0800;
export const SFLOAT_POSITIVE_INFINITY = 0x07fe;
export const SFLOAT_NEGATIVE_INFINITY = 0x0802;
export const SFLOAT_RESERVED = 0x0801;
export const FLOAT_NAN = 0x007fffff;
export const FLOAT_NRES = 0x00800000;
export const FLOAT_POSITIVE_INFINITY = 0x007ffffe;
export const FLOAT_NEGATIVE_INFINITY = 0x00800002;
export const FLOAT_RESERVED = 0x00800001;
