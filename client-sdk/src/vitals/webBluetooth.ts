/**
 * The part of the Web Bluetooth API (https://webbluetoothcg.github.io/web-bluetooth/)
 * the vitals adapter uses, declared here because TypeScript's DOM library
 * does not ship it and the SDK takes no `@types` dependency for four interfaces.
 */

/** A GATT service: its 16-bit assigned number or a full UUID string. */
export type BluetoothServiceUUID = number | string;
/** A GATT characteristic: its 16-bit assigned number or a full UUID string. */
export type BluetoothCharacteristicUUID = number | string;

/** Which devices the browser's chooser offers. */
export interface BluetoothLEScanFilter {
  /** Devices advertising all of these services. */
  services?: BluetoothServiceUUID[];
  /** Devices of exactly this name. */
  name?: string;
  /** Devices whose name starts with this. */
  namePrefix?: string;
}

/** What `navigator.bluetooth.requestDevice` takes. */
export interface RequestDeviceOptions {
  /** Offer devices matching any of these filters. */
  filters?: BluetoothLEScanFilter[];
  /** Services the page may use besides those in the filters. */
  optionalServices?: BluetoothServiceUUID[];
  /** Offer every device (then `optionalServices` names the usable ones). */
  acceptAllDevices?: boolean;
}

/** One characteristic of a connected device's service. */
export interface BluetoothRemoteGATTCharacteristic extends EventTarget {
  /** Its UUID. */
  readonly uuid: string;
  /** The last value read or notified. */
  readonly value?: DataView | null;
  /** Whether it can notify, indicate and be read. */
  readonly properties: {
    /** Sends notifications. */
    readonly notify: boolean;
    /** Sends indications (acknowledged notifications). */
    readonly indicate: boolean;
    /** Can be read. */
    readonly read: boolean;
  };
  /** Starts `characteristicvaluechanged` events. */
  startNotifications(): Promise<BluetoothRemoteGATTCharacteristic>;
  /** Stops them. */
  stopNotifications(): Promise<BluetoothRemoteGATTCharacteristic>;
  /** Reads the current value. */
  readValue(): Promise<DataView>;
}

/** A primary service of a connected device. */
export interface BluetoothRemoteGATTService {
  /** Its UUID. */
  readonly uuid: string;
  /** One of its characteristics. */
  getCharacteristic(characteristic: BluetoothCharacteristicUUID): Promise<BluetoothRemoteGATTCharacteristic>;
}

/** A device's GATT server (the connection to it). */
export interface BluetoothRemoteGATTServer {
  /** Whether connected now. */
  readonly connected: boolean;
  /** Connects. */
  connect(): Promise<BluetoothRemoteGATTServer>;
  /** Disconnects. */
  disconnect(): void;
  /** One of the device's primary services. */
  getPrimaryService(service: BluetoothServiceUUID): Promise<BluetoothRemoteGATTService>;
}

/** A Bluetooth device the person chose. */
export interface BluetoothDevice extends EventTarget {
  /** The browser's id for it (stable per origin). */
  readonly id: string;
  /** Its advertised name. */
  readonly name?: string | null;
  /** Its GATT server, for Low Energy devices. */
  readonly gatt?: BluetoothRemoteGATTServer | null;
}

/** `navigator.bluetooth`. */
export interface Bluetooth {
  /** Shows the browser's device chooser (needs a user gesture). */
  requestDevice(options: RequestDeviceOptions): Promise<BluetoothDevice>;
  /** Whether the machine has a Bluetooth adapter. */
  getAvailability?(): Promise<boolean>;
}

/** `navigator.bluetooth` when this browser has it (Chromium on a secure origin), else undefined. */
export function browserBluetooth(): Bluetooth | undefined {
  const nav = (globalThis as { navigator?: { bluetooth?: Bluetooth } }).navigator;
  return nav?.bluetooth;
}
