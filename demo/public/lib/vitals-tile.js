/**
 * The vitals strip a clinician sees on a patient's tile: one cell per vital
 * with the latest number, its unit and a two-minute trend line, and a pleth
 * strip when the device sends PPG. A cell goes grey when its readings stop
 * (device off, out of range), and red while a server alert about it is raised.
 */
import { el } from './dom.js';
import { drawTrend, drawWave } from './vitals-chart.js';
import { VITAL_LABELS, VITAL_ORDER, sampleTime, trendValue, unitText, valueText } from './vitals-format.js';

/** A reading older than this is shown as stale (not for spot readings such as blood pressure). */
const STALE_MS = 15_000;
const SPOT_TYPES = new Set(['bloodPressure', 'bloodGlucose']);

export class VitalsTileOverlay {
  /** @type {Map<string, { cell: HTMLElement, value: HTMLElement, unit: HTMLElement, canvas: HTMLCanvasElement }>} */
  #cells = new Map();
  #grid;
  #wave;
  #waveCanvas;
  /** @type {Set<string>} vital types with a raised alert */
  #alerting = new Set();

  constructor() {
    this.#grid = el('div', { class: 'vital-grid' });
    this.#waveCanvas = el('canvas', { class: 'vital-wave', 'aria-hidden': 'true' });
    this.#wave = el('div', { class: 'vital-cell wave', 'data-testid': 'vital-waveform', hidden: true }, [
      el('span', { class: 'vital-label', text: VITAL_LABELS.waveform }),
      this.#waveCanvas,
    ]);
    this.root = el('div', { class: 'tile-vitals', 'data-testid': 'tile-vitals', 'aria-label': 'Vitals' }, [
      this.#grid,
      this.#wave,
    ]);
  }

  #cell(type) {
    let c = this.#cells.get(type);
    if (c) return c;
    const value = el('span', { class: 'vital-value', 'data-testid': 'vital-value' });
    const unit = el('span', { class: 'vital-unit' });
    const canvas = el('canvas', { class: 'vital-trend', 'data-testid': 'vital-trend', 'aria-hidden': 'true' });
    const cell = el('div', { class: 'vital-cell', 'data-testid': `vital-${type}`, 'data-type': type }, [
      el('span', { class: 'vital-label', text: VITAL_LABELS[type] ?? type }),
      el('span', { class: 'vital-reading' }, [value, unit]),
      canvas,
    ]);
    c = { cell, value, unit, canvas };
    this.#cells.set(type, c);
    // Keep a fixed order whatever arrives first.
    const after = VITAL_ORDER.slice(VITAL_ORDER.indexOf(type) + 1)
      .map((t) => this.#cells.get(t)?.cell)
      .find(Boolean);
    this.#grid.insertBefore(cell, after ?? null);
    return c;
  }

  /**
   * Shows the newest sample of a type, with the trend of `history`.
   * @param {any} sample  @param {readonly any[]} history
   */
  update(sample, history) {
    if (sample.type === 'waveform') {
      this.#wave.hidden = false;
      drawWave(this.#waveCanvas, sample.waveform.samples);
      return;
    }
    const c = this.#cell(sample.type);
    c.value.textContent = valueText(sample);
    c.unit.textContent = unitText(sample.unit);
    c.cell.dataset.value =
      sample.type === 'bloodPressure' ? `${sample.systolic}/${sample.diastolic}` : String(sample.value);
    c.cell.dataset.at = String(sampleTime(sample));
    c.cell.dataset.stale = 'false';
    drawTrend(
      c.canvas,
      history.map((s) => ({ t: sampleTime(s), v: trendValue(s) })),
      {
        type: sample.type,
        alert: this.#alerting.has(sample.type),
        // Cuff and glucose readings are a few a day: their trend is the day's, the others' the last two minutes.
        windowMs: SPOT_TYPES.has(sample.type) ? 86_400_000 : 120_000,
      },
    );
  }

  /** Marks a vital as alerting (red) or not. @param {string} type  @param {boolean} on */
  setAlert(type, on) {
    if (on) this.#alerting.add(type);
    else this.#alerting.delete(type);
    const c = this.#cells.get(type);
    if (c) c.cell.dataset.alert = String(on);
  }

  /** Greys out readings that stopped coming. */
  markStale(now = Date.now()) {
    for (const [type, c] of this.#cells) {
      if (SPOT_TYPES.has(type)) continue;
      const at = Number(c.cell.dataset.at ?? 0);
      c.cell.dataset.stale = String(now - at > STALE_MS);
    }
  }
}
