/**
 * The part of the Web Bluetooth API (https://webbluetoothcg.github.io/web-bluetooth/)
 * the vitals adapter uses, declared here because TypeScript's DOM library
 * does not ship it and the SDK takes no `@types` dependency for four interfaces.
 */

export type BluetoothServiceUUID = number | string;
export type BluetoothCharacteristicUUID = number | string;

export interface BluetoothLEScanFilter {
  services?: BluetoothServiceUUID[];
  name?: string;
  namePrefix?: string;
}

export interface RequestDeviceOptions {
  filters?: BluetoothLEScanFilter[];
  optionalServices?: BluetoothServiceUUID[];
  acceptAllDevices?: boolean;
}

export interface BluetoothRemoteGATTCharacteristic extends EventTarget {
  readonly uuid: string;
  readonly value?: DataView | null;
  readonly properties: { readonly notify: boolean; readonly indicate: boolean; readonly read: boolean };
  startNotifications(): Promise<BluetoothRemoteGATTCharacteristic>;
  stopNotifications(): Promise<BluetoothRemoteGATTCharacteristic>;
  readValue(): Promise<DataView>;
}

export interface BluetoothRemoteGATTService {
  readonly uuid: string;
  getCharacteristic(characteristic: BluetoothCharacteristicUUID): Promise<BluetoothRemoteGATTCharacteristic>;
}

export interface BluetoothRemoteGATTServer {
  readonly connected: boolean;
  connect(): Promise<BluetoothRemoteGATTServer>;
  disconnect(): void;
  getPrimaryService(service: BluetoothServiceUUID): Promise<BluetoothRemoteGATTService>;
}

export interface BluetoothDevice extends EventTarget {
  readonly id: string;
  readonly name?: string | null;
  readonly gatt?: BluetoothRemoteGATTServer | null;
}

export interface Bluetooth {
  requestDevice(options: RequestDeviceOptions): Promise<BluetoothDevice>;
  getAvailability?(): Promise<boolean>;
}

/** `navigator.bluetooth` when this browser has it (Chromium on a secure origin), else undefined. */
export function browserBluetooth(): Bluetooth | undefined {
  const nav = (globalThis as { navigator?: { bluetooth?: Bluetooth } }).navigator;
  return nav?.bluetooth;
}
