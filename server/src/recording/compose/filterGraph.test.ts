/** The composition graph's layout and alignment, checked on the text ffmpeg gets (ffmpeg itself runs in RoomRecorder.test.ts). */
import { describe, expect, it } from 'vitest';
import type { SegmentMeta } from '../storage/metadata.js';
import { buildGraph, gridFor } from './filterGraph.js';

const seg = (over: Partial<SegmentMeta>): SegmentMeta => ({
  id: 's',
  span: 0,
  track: 't',
  identity: 'p',
  source: 'camera',
  kind: 'video',
  codec: 'vp8',
  startedAt: 0,
  endedAt: 0,
  bytes: 1,
  ...over,
});

describe('gridFor', () => {
  it('fills the canvas with one track and tiles several', () => {
    expect(gridFor(1)).toEqual({ cols: 1, rows: 1, width: 960, height: 540 });
    expect(gridFor(2)).toMatchObject({ cols: 2, rows: 1 });
    expect(gridFor(3)).toMatchObject({ cols: 2, rows: 2, width: 480, height: 270 });
    expect(gridFor(5)).toMatchObject({ cols: 3, rows: 2 });
  });
});

describe('buildGraph', () => {
  const spans = [
    { startedAt: 10_000, endedAt: 14_000 },
    { startedAt: 20_000, endedAt: 23_000 },
  ];

  it('concatenates the spans only: the paused time between them is absent', () => {
    const g = buildGraph({ spans }, [
      { file: 'a', segment: seg({ id: 'a', span: 0, track: 'v1', startedAt: 10_000, endedAt: 14_000 }) },
      { file: 'b', segment: seg({ id: 'b', span: 1, track: 'v1', startedAt: 20_000, endedAt: 23_000 }) },
    ]);
    expect(g.durationSec).toBe(7);
    expect(g.inputs).toEqual(['a', 'b']);
    expect(g.filter).toMatch(/concat=n=2:v=1:a=1\[vout\]\[aout\]$/);
    // No audio track: silence of each span's length.
    expect(g.filter).toContain('anullsrc=r=48000:cl=stereo,atrim=duration=4.000');
    expect(g.filter).toContain('anullsrc=r=48000:cl=stereo,atrim=duration=3.000');
  });

  it('places a late track at its offset, grids the video and mixes the audio', () => {
    const g = buildGraph({ spans: [spans[0]!] }, [
      { file: 'v1', segment: seg({ id: 'v1', track: 'v1', startedAt: 10_000, endedAt: 14_000 }) },
      { file: 'v2', segment: seg({ id: 'v2', track: 'v2', startedAt: 11_500, endedAt: 14_000 }) },
      { file: 'a1', segment: seg({ id: 'a1', track: 'a1', kind: 'audio', startedAt: 10_200, endedAt: 14_000 }) },
      { file: 'a2', segment: seg({ id: 'a2', track: 'a2', kind: 'audio', startedAt: 12_000, endedAt: 13_000 }) },
    ]);
    expect(g.filter).toContain('[1:v]');
    expect(g.filter).toContain('tpad=start_duration=1.500');
    expect(g.filter).toContain('xstack=inputs=2:layout=0_0|480_0');
    expect(g.filter).toContain('adelay=delays=2000:all=1');
    expect(g.filter).toContain('amix=inputs=2');
  });

  it('joins a track restarted after a crash, each piece at its place', () => {
    const g = buildGraph({ spans: [spans[0]!] }, [
      { file: 'x', segment: seg({ id: 'x', track: 'v1', startedAt: 10_000, endedAt: 11_000 }) },
      { file: 'y', segment: seg({ id: 'y', track: 'v1', startedAt: 12_000, endedAt: 14_000 }) },
    ]);
    // The first piece covers up to the restart, the second from there to the span's end.
    expect(g.filter).toMatch(/\[0:v\][^;]*trim=duration=2\.000/);
    expect(g.filter).toMatch(/\[1:v\][^;]*tpad=start_duration=0\.000[^;]*trim=duration=2\.000/);
    expect(g.filter).toContain('concat=n=2:v=1:a=0');
  });

  it('refuses a recording without a finished span', () => {
    expect(() => buildGraph({ spans: [{ startedAt: 1 }] }, [])).toThrow(/no finished span/);
  });
});
