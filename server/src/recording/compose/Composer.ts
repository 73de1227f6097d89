/**
 * Composes one finished recording: decrypts its segments into a private
 * temporary folder, drops any that hold no usable stream, runs ffmpeg (under
 * `nice`) with the filter graph, encrypts the result into the store and
 * removes every plaintext file.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FfmpegProcess } from '../capture/FfmpegProcess.js';
import type { RecordingStore } from '../storage/RecordingStore.js';
import type { RecordingMeta } from '../storage/metadata.js';
import { buildGraph, type GraphInput } from './filterGraph.js';
import { ffprobe } from './ffprobe.js';

export interface ComposerOptions {
  store: RecordingStore;
  ffmpegPath: string;
  ffprobePath: string;
  niceness: number;
  tempDir?: string;
}

export interface Composed {
  bytes: number;
  durationSec: number;
}

export async function compose(meta: RecordingMeta, options: ComposerOptions): Promise<Composed> {
  const dir = await mkdtemp(join(options.tempDir ?? tmpdir(), 'huizhen-compose-'));
  try {
    const available: GraphInput[] = [];
    for (const segment of meta.segments) {
      const file = join(dir, `${segment.id}.mkv`);
      await options.store.getSegmentTo(meta.room, meta.id, segment.id, file);
      const probe = await ffprobe(options.ffprobePath, file).catch(() => undefined);
      if (probe?.streams.some((s) => s.kind === segment.kind)) available.push({ segment, file });
    }
    if (available.length === 0) throw new Error('no segment holds a usable stream');
    const graph = buildGraph(meta, available);
    const out = join(dir, 'composed.webm');
    const ffmpeg = new FfmpegProcess({
      ffmpegPath: options.ffmpegPath,
      niceness: options.niceness,
      args: [
        '-hide_banner',
        '-nostdin',
        '-loglevel',
        'error',
        ...graph.inputs.flatMap((f) => ['-i', f]),
        '-filter_complex',
        graph.filter,
        '-map',
        graph.video,
        '-map',
        graph.audio,
        '-c:v',
        'libvpx',
        '-deadline',
        'realtime',
        '-cpu-used',
        '8',
        '-b:v',
        '1M',
        '-c:a',
        'libopus',
        '-b:a',
        '64k',
        '-f',
        'webm',
        '-y',
        out,
      ],
    });
    const result = await new Promise<{ code: number | null; stderr: string }>((resolve) =>
      ffmpeg.once('exit', resolve),
    );
    if (result.code !== 0) throw new Error(`ffmpeg failed (code ${result.code ?? '-'}): ${result.stderr.slice(-600)}`);
    const probe = await ffprobe(options.ffprobePath, out);
    const bytes = await options.store.putComposed(meta.room, meta.id, out);
    return { bytes, durationSec: probe.durationSec };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
