/**
 * Wearable vitals in the consult (room.vitals).
 *
 * Patients and family get a "Vitals" tab: connect a Bluetooth sensor (when
 * the browser has Web Bluetooth), a simulated monitor (with an optional
 * desaturation episode, for demos and training), or type a reading in; they
 * see what is being sent. Doctors, specialists and nurses see each patient's
 * live numbers and trends on the patient's tile, and an alert banner when the
 * server raises a vitals alert. Interpreters and observers see neither (the
 * server does not send them vitals).
 *
 * Test hook: state.vitals = { devices, sent, latest: { identity: { type: value } }, alerts, error }.
 */
import {
  RoomEvent,
  bluetoothVitalsDevice,
  hasWebBluetooth,
  manualVitalsEntry,
  simulatedVitalsDevice,
} from '/sdk/huizhen-client.js';
import { el } from './dom.js';
import { isClinician } from './roles.js';
import { VitalsAlertBanner } from './vitals-alert.js';
import { VITAL_LABELS, VITAL_ORDER, unitText, valueText } from './vitals-format.js';
import { VitalsTileOverlay } from './vitals-tile.js';

/** Roles whose own vitals the consult carries (the server enforces the same). */
const PUBLISHER_ROLES = ['patient', 'family'];

/** What manual entry offers, with the unit the patient types in. */
const MANUAL_TYPES = [
  { type: 'bloodPressure', label: 'Blood pressure', unit: 'mmHg', placeholder: '120/80' },
  { type: 'bloodGlucose', label: 'Blood glucose', unit: 'mg/dL', placeholder: '100' },
  { type: 'bodyTemperature', label: 'Temperature', unit: '°C', placeholder: '36.8' },
  { type: 'heartRate', label: 'Heart rate', unit: '/min', placeholder: '72' },
  { type: 'spo2', label: 'SpO₂', unit: '%', placeholder: '97' },
  { type: 'respiratoryRate', label: 'Respiratory rate', unit: '/min', placeholder: '14' },
];

export function createVitalsState() {
  return {
    /** @type {{ id: string, name: string, kind: string, state: string }[]} devices this participant connected */
    devices: [],
    /** samples this participant handed to room.vitals */
    sent: 0,
    /** @type {Record<string, Record<string, string>>} identity → type → value as shown */
    latest: {},
    /** @type {{ identity: string, type: string, message: string }[]} raised alerts shown */
    alerts: [],
    /** @type {string | null} */
    error: null,
  };
}

/**
 * Sets up the vitals UI for this participant's role; returns it (dispose() on leaving) or null.
 * @param {any} room
 * @param {{ side: import('./panels.js').SidePanel, tiles: import('./tiles.js').TileGrid, stage: HTMLElement,
 *           state: ReturnType<typeof createVitalsState>, report(err: unknown, context: string): void }} deps
 */
export function startVitals(room, deps) {
  const role = room.localParticipant.role;
  if (PUBLISHER_ROLES.includes(role)) return new VitalsPublisherPanel(room, deps);
  if (isClinician(role)) return new VitalsMonitor(room, deps);
  return null;
}

/** The patient's side: connect a device, enter a reading, see what is sent. */
class VitalsPublisherPanel {
  #room;
  #deps;
  #off = [];
  #own;
  #deviceList;
  #message;
  /** @type {ReturnType<typeof manualVitalsEntry> | null} */
  #manual = null;

  constructor(room, deps) {
    this.#room = room;
    this.#deps = deps;
    const section = deps.side.add('vitals', 'Vitals');
    this.#message = el('p', { class: 'vitals-message', 'data-testid': 'vitals-message', role: 'status' });
    this.#deviceList = el('ul', { class: 'vitals-devices', 'data-testid': 'vitals-devices' });
    this.#own = new VitalsTileOverlay();
    const bluetooth = el('button', {
      type: 'button',
      class: 'primary small',
      text: 'Bluetooth device',
      'data-testid': 'vitals-connect-bluetooth',
      hidden: !hasWebBluetooth(),
    });
    const simulated = el('button', {
      type: 'button',
      class: 'small',
      text: 'Simulated device',
      'data-testid': 'vitals-connect-simulated',
    });
    const desaturate = el('input', { type: 'checkbox', 'data-testid': 'vitals-sim-desaturation' });
    bluetooth.addEventListener('click', () => void this.#connect(bluetoothVitalsDevice(), bluetooth));
    simulated.addEventListener('click', () => {
      const device = simulatedVitalsDevice({
        seed: `${room.name}/${room.localParticipant.identity}`,
        ppg: true,
        ...(desaturate.checked ? { desaturateAtSec: 20 } : {}),
      });
      void this.#connect(device, simulated);
    });
    section.append(
      el('h3', { class: 'panel-title', text: 'Connect a device' }),
      el('p', {
        class: 'muted small',
        text: hasWebBluetooth()
          ? 'Pulse oximeters, heart-rate straps, blood-pressure cuffs and thermometers with Bluetooth work in this browser.'
          : 'This browser has no Bluetooth access (use Chrome or Edge). You can use the simulated device or type a reading in.',
      }),
      el('div', { class: 'vitals-connect' }, [
        bluetooth,
        simulated,
        el('label', { class: 'check small' }, [desaturate, el('span', { text: 'with a desaturation episode' })]),
      ]),
      this.#deviceList,
      this.#manualForm(),
      this.#message,
      el('h3', { class: 'panel-title', text: 'What the care team sees' }),
      this.#own.root,
    );
    this.#on(RoomEvent.VitalsDeviceDisconnected, (device, error) => {
      this.#renderDevices();
      if (error) this.#say(`${device.info?.name ?? 'The device'} disconnected: ${error.message}`, true);
    });
    this.#on(RoomEvent.VitalsPublishFailed, (error, dropped) => {
      this.#say(
        dropped > 0 ? `Some readings could not be sent: ${error.message}` : `Sending… (${error.message})`,
        true,
      );
    });
  }

  #on(event, listener) {
    this.#room.on(event, listener);
    this.#off.push(() => this.#room.off(event, listener));
  }

  /** @param {any} device  @param {HTMLButtonElement} button */
  async #connect(device, button) {
    button.disabled = true;
    this.#say(null);
    device.on('sample', (sample) => this.#showOwn(sample));
    device.on('readingRejected', (error) => this.#say(`A reading was not sent: ${error.message}`, true));
    device.on('stateChanged', () => this.#renderDevices());
    try {
      await this.#room.vitals.connect(device);
      this.#say(`${device.info?.name ?? 'Device'} connected.`);
    } catch (err) {
      // Closing the Bluetooth chooser is a choice, not an error.
      if (err?.reason !== 'cancelled') this.#deps.report(err, 'Could not connect the device');
    } finally {
      button.disabled = false;
      this.#renderDevices();
    }
  }

  #manualForm() {
    const type = el(
      'select',
      { 'data-testid': 'vitals-manual-type', 'aria-label': 'Reading' },
      MANUAL_TYPES.map((m) => el('option', { value: m.type, text: `${m.label} (${m.unit})` })),
    );
    const value = el('input', {
      type: 'text',
      inputMode: 'decimal',
      autocomplete: 'off',
      placeholder: MANUAL_TYPES[0].placeholder,
      'data-testid': 'vitals-manual-value',
      'aria-label': 'Value',
    });
    type.addEventListener('change', () => {
      value.placeholder = MANUAL_TYPES.find((m) => m.type === type.value)?.placeholder ?? '';
    });
    const form = el('form', { class: 'vitals-manual', 'data-testid': 'vitals-manual' }, [
      el('h3', { class: 'panel-title', text: 'Enter a reading' }),
      type,
      value,
      el('button', { type: 'submit', class: 'small', text: 'Send', 'data-testid': 'vitals-manual-send' }),
    ]);
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      void this.#sendManual(type.value, value.value, value);
    });
    return form;
  }

  async #sendManual(type, text, input) {
    try {
      if (!this.#manual) {
        this.#manual = manualVitalsEntry();
        this.#manual.on('sample', (sample) => this.#showOwn(sample));
        await this.#room.vitals.connect(this.#manual);
      }
      const sample = this.#manual.record(type === 'bloodPressure' ? { type, reading: text } : { type, value: text });
      this.#say(`Sent: ${VITAL_LABELS[type]} ${valueText(sample)} ${unitText(sample.unit)}`);
      input.value = '';
    } catch (err) {
      this.#say(err instanceof Error ? err.message : String(err), true);
    }
  }

  #showOwn(sample) {
    this.#deps.state.sent++;
    const identity = this.#room.localParticipant.identity;
    this.#own.update(sample, this.#room.vitals.history(identity, sample.type));
    if (sample.type !== 'waveform') {
      const latest = (this.#deps.state.latest[identity] ??= {});
      latest[sample.type] = valueText(sample);
    }
  }

  #renderDevices() {
    const devices = this.#room.vitals.devices.filter((d) => d.info?.kind !== 'manual');
    this.#deps.state.devices = devices.map((d) => ({
      id: d.info?.id ?? '',
      name: d.info?.name ?? '',
      kind: d.info?.kind ?? '',
      state: d.state,
    }));
    this.#deviceList.replaceChildren(
      ...devices.map((d) => {
        const stop = el('button', {
          type: 'button',
          class: 'small',
          text: 'Disconnect',
          'data-testid': 'vitals-disconnect',
        });
        stop.addEventListener('click', () => void this.#room.vitals.disconnect(d));
        return el('li', { 'data-testid': 'vitals-device', 'data-state': d.state }, [
          el('span', { text: `${d.info?.name ?? 'Device'}${d.state === 'starting' ? ' (reconnecting…)' : ''}` }),
          stop,
        ]);
      }),
    );
  }

  /** @param {string | null} text  @param {boolean} [problem] */
  #say(text, problem = false) {
    this.#message.textContent = text ?? '';
    this.#message.dataset.problem = String(problem);
    this.#deps.state.error = problem ? text : null;
  }

  dispose() {
    for (const off of this.#off) off();
    void this.#room.vitals.disconnect();
  }
}

/** The clinician's side: live numbers and trends on each patient's tile, alert banner. */
class VitalsMonitor {
  #room;
  #deps;
  #off = [];
  /** @type {Map<string, VitalsTileOverlay>} */
  #overlays = new Map();
  #banner;
  #staleTimer;

  constructor(room, deps) {
    this.#room = room;
    this.#deps = deps;
    this.#banner = new VitalsAlertBanner(deps.stage);
    this.#on(RoomEvent.VitalsReceived, (sample, participant) => this.#show(sample, participant.identity));
    this.#on(RoomEvent.VitalsAlert, (alert, participant) => {
      const name = participant?.name || alert.identity;
      this.#banner.show(alert, name);
      this.#overlay(alert.identity).setAlert(alert.type, alert.state === 'raised');
      const alerts = deps.state.alerts.filter((a) => !(a.identity === alert.identity && a.type === alert.type));
      if (alert.state === 'raised') alerts.push({ identity: alert.identity, type: alert.type, message: alert.message });
      deps.state.alerts = alerts;
    });
    this.#on(RoomEvent.ParticipantLeft, (participant) => {
      deps.tiles.setOverlay(participant.identity, 'vitals', null);
      this.#overlays.delete(participant.identity);
    });
    // Readings already received (e.g. the panel restarted after a reconnect).
    for (const identity of room.vitals.identities) {
      const latest = room.vitals.latest(identity);
      for (const type of VITAL_ORDER) if (latest[type]) this.#show(latest[type], identity);
    }
    this.#staleTimer = setInterval(() => {
      for (const overlay of this.#overlays.values()) overlay.markStale();
    }, 5000);
  }

  #on(event, listener) {
    this.#room.on(event, listener);
    this.#off.push(() => this.#room.off(event, listener));
  }

  #overlay(identity) {
    let overlay = this.#overlays.get(identity);
    if (!overlay) {
      overlay = new VitalsTileOverlay();
      this.#overlays.set(identity, overlay);
      this.#deps.tiles.setOverlay(identity, 'vitals', overlay.root);
    }
    return overlay;
  }

  #show(sample, identity) {
    this.#overlay(identity).update(sample, this.#room.vitals.history(identity, sample.type));
    if (sample.type !== 'waveform') {
      const latest = (this.#deps.state.latest[identity] ??= {});
      latest[sample.type] = valueText(sample);
    }
  }

  dispose() {
    for (const off of this.#off) off();
    clearInterval(this.#staleTimer);
    for (const identity of this.#overlays.keys()) this.#deps.tiles.setOverlay(identity, 'vitals', null);
    this.#overlays.clear();
    this.#banner.dispose();
  }
}
