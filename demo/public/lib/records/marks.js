/**
 * Drawing on the record: stored marks (freehand strokes, arrows, text notes),
 * the mark being drawn, and the pointers of the others. Coordinates are
 * record coordinates, 0..1 of the page's width and height, so marks land on
 * the same spot of the page at any zoom or rotation and on any screen.
 */

export const MARK_COLORS = Object.freeze(['#e11d48', '#2563eb', '#16a34a', '#d97706', '#7c3aed', '#0891b2']);

/** A stable colour per person, for their marks and pointer. @param {string} identity */
export function colorFor(identity) {
  let h = 0;
  for (const c of identity) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  return MARK_COLORS[h % MARK_COLORS.length];
}

/**
 * @typedef {{ x: number, y: number }} Point
 * @typedef {{ kind: 'stroke' | 'arrow' | 'text', points: Point[], text?: string, color?: string, author?: { identity: string, name: string } }} MarkLike
 * @typedef {{ identity: string, name: string, x: number, y: number, color: string }} PointerLike
 */

/**
 * Redraws the overlay.
 * @param {HTMLCanvasElement} canvas  sized width × height CSS px at `dpr`
 * @param {{ width: number, height: number, dpr: number, marks: MarkLike[], draft: MarkLike | null, pointers: PointerLike[], rotation: number }} scene
 */
export function drawOverlay(canvas, { width, height, dpr, marks, draft, pointers, rotation }) {
  const ctx = canvas.getContext('2d');
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  const at = (p) => [p.x * width, p.y * height];
  for (const mark of marks) drawMark(ctx, mark, at, rotation, width, height);
  if (draft) drawMark(ctx, draft, at, rotation, width, height);
  for (const pointer of pointers) drawPointer(ctx, pointer, at, rotation);
}

function drawMark(ctx, mark, at, rotation, width, height) {
  const color = mark.color ?? colorFor(mark.author?.identity ?? '');
  ctx.save();
  ctx.strokeStyle = color;
  ctx.fillStyle = color;
  ctx.lineWidth = 3;
  ctx.lineCap = 'round';
  ctx.lineJoin = 'round';
  if (mark.kind === 'stroke') {
    ctx.beginPath();
    mark.points.forEach((p, i) => (i === 0 ? ctx.moveTo(...at(p)) : ctx.lineTo(...at(p))));
    if (mark.points.length === 1) {
      const [x, y] = at(mark.points[0]);
      ctx.arc(x, y, 1.5, 0, Math.PI * 2);
    }
    ctx.stroke();
  } else if (mark.kind === 'arrow' && mark.points.length === 2) {
    const [x0, y0] = at(mark.points[0]);
    const [x1, y1] = at(mark.points[1]);
    const angle = Math.atan2(y1 - y0, x1 - x0);
    const head = 14;
    ctx.beginPath();
    ctx.moveTo(x0, y0);
    ctx.lineTo(x1 - Math.cos(angle) * head * 0.6, y1 - Math.sin(angle) * head * 0.6);
    ctx.stroke();
    ctx.beginPath();
    ctx.moveTo(x1, y1);
    ctx.lineTo(x1 - head * Math.cos(angle - 0.45), y1 - head * Math.sin(angle - 0.45));
    ctx.lineTo(x1 - head * Math.cos(angle + 0.45), y1 - head * Math.sin(angle + 0.45));
    ctx.closePath();
    ctx.fill();
  } else if (mark.kind === 'text' && mark.points.length >= 1) {
    const [x, y] = at(mark.points[0]);
    // Notes scale with the page, so they cover the same part of it on a phone and on a wall screen.
    const size = Math.max(9, Math.min(16, Math.min(width, height) * 0.025));
    ctx.font = `${size}px system-ui, sans-serif`;
    const lines = wrap(ctx, mark.text ?? '', Math.max(80, width * 0.35));
    const w = Math.max(...lines.map((l) => ctx.measureText(l).width)) + size * 0.9;
    const h = lines.length * size * 1.3 + size * 0.6;
    // Upright whatever the page's rotation; opens to the left / upwards near the right / bottom edge.
    ctx.translate(x, y);
    ctx.rotate((-rotation * Math.PI) / 180);
    const flipX = rotation === 0 && x + 6 + w > width ? -(w + 12) : 0;
    const flipY = rotation === 0 && y + 6 + h > height ? -(h + 12) : 0;
    ctx.beginPath();
    ctx.arc(0, 0, 4, 0, Math.PI * 2);
    ctx.fill();
    ctx.fillStyle = 'rgb(255 249 196 / 0.95)';
    ctx.fillRect(6 + flipX, 6 + flipY, w, h);
    ctx.lineWidth = 1.5;
    ctx.strokeRect(6 + flipX, 6 + flipY, w, h);
    ctx.fillStyle = '#1c2730';
    ctx.textBaseline = 'top';
    lines.forEach((line, i) => ctx.fillText(line, 6 + flipX + size * 0.45, 6 + flipY + size * 0.35 + i * size * 1.3));
  }
  ctx.restore();
}

function drawPointer(ctx, pointer, at, rotation) {
  const [x, y] = at(pointer);
  ctx.save();
  ctx.translate(x, y);
  ctx.rotate((-rotation * Math.PI) / 180);
  ctx.fillStyle = pointer.color;
  ctx.strokeStyle = '#ffffff';
  ctx.lineWidth = 2;
  ctx.beginPath();
  ctx.arc(0, 0, 7, 0, Math.PI * 2);
  ctx.fill();
  ctx.stroke();
  ctx.font = '600 12px system-ui, sans-serif';
  const label = pointer.name;
  const w = ctx.measureText(label).width + 10;
  ctx.fillRect(10, 8, w, 18);
  ctx.fillStyle = '#ffffff';
  ctx.textBaseline = 'middle';
  ctx.fillText(label, 15, 17);
  ctx.restore();
}

/** Splits text into lines no wider than `max` px (words, or characters for scripts without spaces). */
function wrap(ctx, text, max) {
  const lines = [];
  for (const paragraph of text.split('\n')) {
    let line = '';
    const tokens = /\s/.test(paragraph) ? paragraph.split(/(\s+)/) : Array.from(paragraph);
    for (const token of tokens) {
      const next = line + token;
      if (ctx.measureText(next).width > max && line.trim()) {
        lines.push(line.trimEnd());
        line = token.trimStart();
      } else {
        line = next;
      }
    }
    lines.push(line);
  }
  return lines.slice(0, 12);
}

/**
 * Thins a freehand path to at most `max` points, keeping its shape: drops
 * points closer than `minStep` to the last kept one. The protocol allows 2000
 * points per mark, but servers that check a request's envelope before the
 * method refuse arrays over 256 items, so strokes stay under that.
 * @param {Point[]} points
 */
export function simplify(points, max = 250, minStep = 0.002) {
  let step = minStep;
  let kept = points;
  while (kept.length > max || step === minStep) {
    const out = [points[0]];
    for (const p of points.slice(1)) {
      const last = out[out.length - 1];
      if (Math.hypot(p.x - last.x, p.y - last.y) >= step) out.push(p);
    }
    if (out[out.length - 1] !== points[points.length - 1] && points.length > 1) out.push(points[points.length - 1]);
    kept = out;
    if (kept.length <= max) break;
    step *= 2;
  }
  return kept.slice(0, max);
}
