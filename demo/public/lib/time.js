/** Times and durations as people read them, in the browser's own language. */

const clock = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const clockWithSeconds = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

/** "14:05" @param {number} ms */
export function formatClock(ms, { seconds = false } = {}) {
  return (seconds ? clockWithSeconds : clock).format(new Date(ms));
}

/** "25 Nov 2026, 14:05" @param {number} ms */
export function formatDateTime(ms) {
  return dateTime.format(new Date(ms));
}

/** "just now", "3 min", "1 h 12 min" @param {number} ms */
export function formatSince(ms, now = Date.now()) {
  const minutes = Math.floor(Math.max(0, now - ms) / 60_000);
  if (minutes < 1) return 'just now';
  return formatMinutes(minutes);
}

/** "45 s", "12 min", "1 h 05 min" @param {number} seconds */
export function formatDuration(seconds) {
  if (seconds < 60) return `${Math.round(seconds)} s`;
  return formatMinutes(Math.round(seconds / 60));
}

function formatMinutes(minutes) {
  if (minutes < 60) return `${minutes} min`;
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, '0')} min`;
}

/** "1.2 MB" @param {number} bytes */
export function formatBytes(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(0)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}
