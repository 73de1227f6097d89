/**
 * A little-endian cursor over one characteristic value, for the GATT
 * parsers. Every read is bounds-checked: a short or truncated notification
 * raises GattParseError instead of reading zeros or garbage.
 */
import { decodeFloat, decodeSfloat, type MedFloat } from './ieee11073.js';

/** A characteristic value does not match its Bluetooth SIG layout. */
export class GattParseError extends Error {
  /** The characteristic whose value was malformed. */
  readonly characteristic: string;
  constructor(characteristic: string, problem: string) {
    super(`${characteristic}: ${problem}`);
    this.name = 'GattParseError';
    this.characteristic = characteristic;
  }
}

/** Bluetooth SIG "Date Time" (0x2A08): fields of the device's local clock, 0 meaning "not known". */
export interface GattDateTime {
  /** Year (e.g. 2026); 0 when not known. */
  year: number;
  /** Month, 1–12; 0 when not known. */
  month: number;
  /** Day of the month, 1–31; 0 when not known. */
  day: number;
  /** Hours, 0–23. */
  hours: number;
  /** Minutes, 0–59. */
  minutes: number;
  /** Seconds, 0–59. */
  seconds: number;
}

export class GattReader {
  readonly #view: DataView;
  readonly #name: string;
  #offset = 0;

  constructor(value: DataView | ArrayBuffer | Uint8Array, characteristic: string) {
    this.#view =
      value instanceof DataView
        ? value
        : value instanceof Uint8Array
          ? new DataView(value.buffer, value.byteOffset, value.byteLength)
          : new DataView(value);
    this.#name = characteristic;
  }

  get remaining(): number {
    return this.#view.byteLength - this.#offset;
  }

  #take(bytes: number, field: string): number {
    if (this.remaining < bytes)
      throw new GattParseError(this.#name, `truncated: ${field} needs ${bytes} bytes at offset ${this.#offset}`);
    const at = this.#offset;
    this.#offset += bytes;
    return at;
  }

  uint8(field: string): number {
    return this.#view.getUint8(this.#take(1, field));
  }

  uint16(field: string): number {
    return this.#view.getUint16(this.#take(2, field), true);
  }

  uint24(field: string): number {
    const at = this.#take(3, field);
    return this.#view.getUint16(at, true) | (this.#view.getUint8(at + 2) << 16);
  }

  uint32(field: string): number {
    return this.#view.getUint32(this.#take(4, field), true);
  }

  sfloat(field: string): MedFloat {
    return decodeSfloat(this.uint16(field));
  }

  float(field: string): MedFloat {
    return decodeFloat(this.uint32(field));
  }

  /** Date Time, 7 bytes: year uint16, month, day, hours, minutes, seconds. */
  dateTime(field: string): GattDateTime {
    return {
      year: this.uint16(`${field}.year`),
      month: this.uint8(`${field}.month`),
      day: this.uint8(`${field}.day`),
      hours: this.uint8(`${field}.hours`),
      minutes: this.uint8(`${field}.minutes`),
      seconds: this.uint8(`${field}.seconds`),
    };
  }
}

/**
 * The instant a Date Time names, or null when it is incomplete or invalid.
 * The Bluetooth Date Time has no zone: it is the device's wall clock, which a
 * phone or PC sets to its local time, so it is read in this browser's zone.
 */
export function dateTimeToMs(dt: GattDateTime): number | null {
  const { year, month, day, hours, minutes, seconds } = dt;
  if (year < 1582 || year > 9999 || month < 1 || month > 12 || day < 1 || day > 31) return null;
  if (hours > 23 || minutes > 59 || seconds > 59) return null;
  const date = new Date(year, month - 1, day, hours, minutes, seconds);
  // Rejects 31 February and the like (Date rolls them over).
  if (date.getFullYear() !== year || date.getMonth() !== month - 1 || date.getDate() !== day) return null;
  return date.getTime();
}
