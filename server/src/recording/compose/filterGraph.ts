/**
 * The ffmpeg filter graph that turns a recording's segments into one file:
 * per span, every video track in a cell of a grid (xstack; one track fills the
 * picture) and every audio track mixed (amix); the spans one after another
 * (concat), so time that was not consented to (paused, withdrawn) is absent.
 *
 * Alignment uses the wall-clock times the capture noted: within a span a
 * track that started late, or was restarted after a crash, is padded with
 * black / silence to its place, and each span lasts exactly as long as it was
 * consented to. Pure: the composer runs it.
 */
import type { RecordingMeta, SegmentMeta } from '../storage/metadata.js';

export const CANVAS = { width: 960, height: 540, fps: 15 } as const;

export interface GraphInput {
  segment: SegmentMeta;
  /** Where the decrypted file is. */
  file: string;
}

export interface Graph {
  /** Input files in the order of their `-i`. */
  inputs: string[];
  filter: string;
  /** Output pads to map. */
  video: string;
  audio: string;
  durationSec: number;
}

const sec = (ms: number) => (Math.max(0, ms) / 1000).toFixed(3);

/** Cell layout for n tiles on the canvas: columns, rows and an even cell size. */
export function gridFor(n: number): { cols: number; rows: number; width: number; height: number } {
  const cols = Math.ceil(Math.sqrt(n));
  const rows = Math.ceil(n / cols);
  const even = (v: number) => Math.floor(v / 2) * 2;
  return { cols, rows, width: even(CANVAS.width / cols), height: even(CANVAS.height / rows) };
}

interface Part {
  input: number;
  segment: SegmentMeta;
}

/** Each track's segments within one span, tracks ordered by when they started. */
function tracksOf(parts: Part[]): Part[][] {
  const byTrack = new Map<string, Part[]>();
  for (const p of [...parts].sort((a, b) => a.segment.startedAt - b.segment.startedAt)) {
    const list = byTrack.get(p.segment.track) ?? [];
    list.push(p);
    byTrack.set(p.segment.track, list);
  }
  return [...byTrack.values()];
}

/**
 * Windows for a track's segments in a span [start, end], back to back: segment
 * j's window runs from its own start (the span's start for the first) to the
 * next segment's start (the span's end for the last), and the segment sits at
 * its offset inside; the rest of the window is padding.
 */
function windows(parts: Part[], start: number, end: number): { part: Part; lead: number; length: number }[] {
  return parts.map((part, j) => {
    const a = j === 0 ? start : part.segment.startedAt;
    const b = j === parts.length - 1 ? end : parts[j + 1]!.segment.startedAt;
    const from = Math.min(Math.max(a, start), end);
    const to = Math.max(Math.min(b, end), from);
    return { part, lead: Math.max(0, part.segment.startedAt - from), length: to - from };
  });
}

export function buildGraph(meta: Pick<RecordingMeta, 'spans'>, available: readonly GraphInput[]): Graph {
  const inputs = available.map((a) => a.file);
  const chains: string[] = [];
  const spanPads: string[] = [];
  let total = 0;
  let label = 0;
  const next = (prefix: string) => `${prefix}${label++}`;

  meta.spans.forEach((span, s) => {
    if (span.endedAt === undefined || span.endedAt <= span.startedAt) return;
    const duration = sec(span.endedAt - span.startedAt);
    total += span.endedAt - span.startedAt;
    const parts: Part[] = available
      .map((a, input) => ({ input, segment: a.segment }))
      .filter((p) => p.segment.span === s);

    // --- video: one cell per track
    const videoTracks = tracksOf(parts.filter((p) => p.segment.kind === 'video'));
    const grid = gridFor(Math.max(1, videoTracks.length));
    const cells = videoTracks.map((track) => {
      const pieces = windows(track, span.startedAt, span.endedAt!).map(({ part, lead, length }) => {
        const out = next('v');
        chains.push(
          `[${part.input}:v]setpts=PTS-STARTPTS,fps=${CANVAS.fps},` +
            `scale=${grid.width}:${grid.height}:force_original_aspect_ratio=decrease,` +
            `pad=${grid.width}:${grid.height}:(ow-iw)/2:(oh-ih)/2:color=black,setsar=1,format=yuv420p,` +
            `tpad=start_duration=${sec(lead)}:stop=-1:color=black,trim=duration=${sec(length)},setpts=PTS-STARTPTS[${out}]`,
        );
        return out;
      });
      if (pieces.length === 1) return pieces[0]!;
      const out = next('c');
      chains.push(`${pieces.map((p) => `[${p}]`).join('')}concat=n=${pieces.length}:v=1:a=0[${out}]`);
      return out;
    });
    const spanVideo = next('sv');
    if (cells.length === 0) {
      chains.push(
        `color=c=black:s=${CANVAS.width}x${CANVAS.height}:r=${CANVAS.fps}:d=${duration},format=yuv420p[${spanVideo}]`,
      );
    } else if (cells.length === 1) {
      chains.push(
        `[${cells[0]}]scale=${CANVAS.width}:${CANVAS.height}:force_original_aspect_ratio=decrease,` +
          `pad=${CANVAS.width}:${CANVAS.height}:(ow-iw)/2:(oh-ih)/2:color=black,setsar=1,` +
          `trim=duration=${duration},setpts=PTS-STARTPTS[${spanVideo}]`,
      );
    } else {
      const layout = cells.map((_, i) => `${(i % grid.cols) * grid.width}_${Math.floor(i / grid.cols) * grid.height}`);
      chains.push(
        `${cells.map((c) => `[${c}]`).join('')}xstack=inputs=${cells.length}:layout=${layout.join('|')}:fill=black,` +
          `pad=${CANVAS.width}:${CANVAS.height}:0:0:color=black,setsar=1,` +
          `trim=duration=${duration},setpts=PTS-STARTPTS[${spanVideo}]`,
      );
    }

    // --- audio: every track mixed
    const audioTracks = tracksOf(parts.filter((p) => p.segment.kind === 'audio'));
    const voices = audioTracks.map((track) => {
      const pieces = windows(track, span.startedAt, span.endedAt!).map(({ part, lead, length }) => {
        const out = next('a');
        chains.push(
          `[${part.input}:a]aresample=48000:async=1,aformat=sample_fmts=fltp:channel_layouts=stereo,asetpts=PTS-STARTPTS,` +
            `adelay=delays=${Math.round(lead)}:all=1,apad,atrim=duration=${sec(length)},asetpts=PTS-STARTPTS[${out}]`,
        );
        return out;
      });
      if (pieces.length === 1) return pieces[0]!;
      const out = next('c');
      chains.push(`${pieces.map((p) => `[${p}]`).join('')}concat=n=${pieces.length}:v=0:a=1[${out}]`);
      return out;
    });
    const spanAudio = next('sa');
    if (voices.length === 0) {
      chains.push(`anullsrc=r=48000:cl=stereo,atrim=duration=${duration}[${spanAudio}]`);
    } else if (voices.length === 1) {
      chains.push(`[${voices[0]}]atrim=duration=${duration},asetpts=PTS-STARTPTS[${spanAudio}]`);
    } else {
      chains.push(
        `${voices.map((v) => `[${v}]`).join('')}amix=inputs=${voices.length}:duration=longest:normalize=0,` +
          `atrim=duration=${duration}[${spanAudio}]`,
      );
    }
    spanPads.push(`[${spanVideo}][${spanAudio}]`);
  });

  if (spanPads.length === 0) throw new Error('the recording has no finished span');
  chains.push(`${spanPads.join('')}concat=n=${spanPads.length}:v=1:a=1[vout][aout]`);
  return { inputs, filter: chains.join(';'), video: '[vout]', audio: '[aout]', durationSec: total / 1000 };
}
