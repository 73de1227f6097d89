/** What ffprobe says of a media file: its streams and duration (validated, since it is another program's output). */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import * as z from 'zod/mini';

const run = promisify(execFile);

const probeSchema = z.object({
  streams: z.array(z.object({ codec_type: z.string(), codec_name: z.optional(z.string()) })),
  format: z.object({ duration: z.optional(z.string()) }),
});

export interface Probe {
  durationSec: number;
  streams: { kind: string; codec: string }[];
}

export async function ffprobe(ffprobePath: string, file: string): Promise<Probe> {
  const { stdout } = await run(
    ffprobePath,
    ['-v', 'error', '-print_format', 'json', '-show_streams', '-show_format', file],
    { maxBuffer: 4 * 1024 * 1024 },
  );
  const parsed = z.parse(probeSchema, JSON.parse(stdout));
  return {
    durationSec: Number(parsed.format.duration ?? 0) || 0,
    streams: parsed.streams.map((s) => ({ kind: s.codec_type, codec: s.codec_name ?? '' })),
  };
}

/** ffprobe lives next to ffmpeg in Debian's package. */
export function ffprobeBeside(ffmpegPath: string): string {
  return ffmpegPath.endsWith('ffmpeg') ? `${ffmpegPath.slice(0, -'ffmpeg'.length)}ffprobe` : 'ffprobe';
}
