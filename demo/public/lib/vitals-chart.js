/**
 * A small trend line for one vital on a <canvas>: the last few minutes of
 * readings, scaled to their own range (with a minimum span so a steady
 * reading stays a flat line rather than noise blown up), with the newest
 * point marked. No chart library: a polyline is all a tile needs.
 */

/** Smallest vertical span per vital, in its unit, so ±1 does not fill the chart. */
const MIN_SPAN = {
  heartRate: 20,
  spo2: 6,
  respiratoryRate: 8,
  bodyTemperature: 1,
  bloodPressure: 30,
  bloodGlucose: 40,
};

/**
 * @param {HTMLCanvasElement} canvas
 * @param {{ t: number, v: number }[]} points  time (ms) and value, oldest first
 * @param {{ type: string, windowMs?: number, now?: number, alert?: boolean }} opts
 */
export function drawTrend(canvas, points, { type, windowMs = 120_000, now = Date.now(), alert = false }) {
  const ratio = window.devicePixelRatio || 1;
  const width = canvas.clientWidth || 96;
  const height = canvas.clientHeight || 28;
  if (canvas.width !== Math.round(width * ratio) || canvas.height !== Math.round(height * ratio)) {
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(height * ratio);
  }
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  ctx.clearRect(0, 0, width, height);
  const shown = points.filter((p) => p.t >= now - windowMs);
  canvas.dataset.points = String(shown.length);
  if (shown.length === 0) return;
  let lo = Math.min(...shown.map((p) => p.v));
  let hi = Math.max(...shown.map((p) => p.v));
  const minSpan = MIN_SPAN[type] ?? 10;
  if (hi - lo < minSpan) {
    const mid = (hi + lo) / 2;
    lo = mid - minSpan / 2;
    hi = mid + minSpan / 2;
  }
  const pad = 3;
  // Until there are `windowMs` of readings, the line spans what there is (at least 10 s).
  const start = Math.max(now - windowMs, Math.min(shown[0].t, now - 10_000));
  const span = Math.max(1, now - start);
  const x = (t) => pad + ((t - start) / span) * (width - 2 * pad);
  const y = (v) => height - pad - ((v - lo) / (hi - lo)) * (height - 2 * pad);
  const stroke = alert ? '#ff6b6b' : '#7fd1b9';
  ctx.strokeStyle = stroke;
  ctx.lineWidth = 1.5;
  ctx.lineJoin = 'round';
  ctx.beginPath();
  shown.forEach((p, i) => (i === 0 ? ctx.moveTo(x(p.t), y(p.v)) : ctx.lineTo(x(p.t), y(p.v))));
  ctx.stroke();
  const last = shown[shown.length - 1];
  ctx.fillStyle = stroke;
  ctx.beginPath();
  ctx.arc(x(last.t), y(last.v), 2.2, 0, Math.PI * 2);
  ctx.fill();
}

/**
 * A PPG strip: the newest window of the waveform, auto-scaled.
 * @param {HTMLCanvasElement} canvas  @param {number[]} samples
 */
export function drawWave(canvas, samples) {
  const ratio = window.devicePixelRatio || 1;
  const width = canvas.clientWidth || 96;
  const height = canvas.clientHeight || 28;
  canvas.width = Math.round(width * ratio);
  canvas.height = Math.round(height * ratio);
  const ctx = canvas.getContext('2d');
  if (!ctx || samples.length < 2) return;
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  const lo = Math.min(...samples);
  const hi = Math.max(...samples);
  const range = hi - lo || 1;
  ctx.strokeStyle = '#9ecbff';
  ctx.lineWidth = 1.2;
  ctx.beginPath();
  samples.forEach((v, i) => {
    const px = (i / (samples.length - 1)) * width;
    const py = height - 2 - ((v - lo) / range) * (height - 4);
    if (i === 0) ctx.moveTo(px, py);
    else ctx.lineTo(px, py);
  });
  ctx.stroke();
}
